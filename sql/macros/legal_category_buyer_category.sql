-- legal_category_buyer_category(code): the buyer category given by the INSEE legal category
-- (catégorie juridique, 4 digits, from SIRENE), or NULL when it says nothing more than the SIREN.
-- 7210 commune; 7220 département; 7230 région; 734x/735x EPCI, syndicats and other groupings;
-- 7364 établissement d'hospitalisation (public hospital); 71xx État and its services.
create or replace macro legal_category_buyer_category(code) as (
    case
        when code = '7210' then 'commune'
        when code = '7220' then 'departement'
        when code = '7230' then 'region'
        when left(code, 3) in ('734', '735') then 'intercommunalite'
        when code = '7364' then 'hopital'
        when left(code, 2) = '71' then 'etat'
    end
);
