-- buyer_category(siret): the kind of public buyer its SIREN announces, or 'autre'.
-- 21 commune; 22 département; 23 région; 24 and 25 intercommunalité (EPCI, syndicats);
-- 26, 27, 28 établissement public local (hôpitaux publics included: telling them apart needs
-- the SIRENE legal category); 1... État and its établissements. Other prefixes (200... bodies
-- created after 2000, private-law buyers) are 'autre' until the SIRENE lookup classifies them.
create or replace macro buyer_category(siret) as (
    case
        when siret[1:2] = '21' then 'commune'
        when siret[1:2] = '22' then 'departement'
        when siret[1:2] = '23' then 'region'
        when siret[1:2] in ('24', '25') then 'intercommunalite'
        when siret[1:2] in ('26', '27', '28') then 'etablissement_public_local'
        when siret[1:1] = '1' then 'etat'
        else 'autre'
    end
);
