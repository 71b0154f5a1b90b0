"""The columns of the tabular DECP files (decp-processing's decp.parquet and decp.csv, the
data.economie.gouv.fr exports): which column names each staging field accepts."""

from __future__ import annotations

# Tabular exports: staging field -> accepted column names (decp-processing, data.economie.gouv.fr).
# Identifiers put into SQL come from this fixed list only, never from the file.
TABULAR_COLUMNS: dict[str, tuple[str, ...]] = {
    "contract_id": ("id",),
    "buyer_id": ("acheteur_id", "acheteur.id"),
    "buyer_name": ("acheteur_nom", "acheteur.nom"),
    "nature": ("nature",),
    "objet": ("objet",),
    "cpv_code": ("codeCPV",),
    "procedure": ("procedure",),
    "duration_months": ("dureeMois",),
    "notification_date": ("dateNotification",),
    "publication_date": ("datePublicationDonnees",),
    "amount": ("montant",),
    "place_code": ("lieuExecution_code", "lieuExecution.code"),
    "place_type_code": ("lieuExecution_typeCode", "lieuExecution.typeCode"),
    "framework_id": ("idAccordCadre",),
    "social": ("considerationsSociales",),
    "environmental": ("considerationsEnvironnementales",),
    # data.economie.gouv.fr 2019 exports name them in the singular
    "techniques": ("techniques", "technique"),
    "execution_modalities": ("modalitesExecution", "modaliteExecution"),
    # the feed a row came from: decp-processing's sourceDataset, an export's source
    "publisher": ("sourceDataset", "source"),
    # (the dotted spellings, "titulaire.id", are those of flattened JSON: read alike)
    "holder_id": ("titulaire_id", "titulaire_id_1", "titulaire.id"),
    "holder_type": (
        "titulaire_typeIdentifiant",
        "titulaire_typeIdentifiant_1",
        "titulaire.typeIdentifiant",
    ),
    # decp-processing: titulaire_nom; data.economie.gouv.fr: titulaire_denominationSociale_N
    "holder_name": (
        "titulaire_nom",
        "titulaire_denominationSociale_1",
        "titulaire.nom",
        "titulaire.denominationSociale",
    ),
    # data.economie.gouv.fr exports name up to three holders on one row
    "holder_id_2": ("titulaire_id_2",),
    "holder_type_2": ("titulaire_typeIdentifiant_2",),
    "holder_name_2": ("titulaire_denominationSociale_2",),
    "holder_id_3": ("titulaire_id_3",),
    "holder_type_3": ("titulaire_typeIdentifiant_3",),
    "holder_name_3": ("titulaire_denominationSociale_3",),
    "modification_id": ("modification_id", "idModification"),
    # data.economie.gouv.fr exports give a contract's modification on its own row, beside the
    # initial values (idModification often empty); the 2022 exports double "Modification"
    "modification_amount": ("montantModification",),
    "modification_duration": ("dureeMoisModification",),
    "modification_date": (
        "dateNotificationModification",
        "dateNotificationModificationModification",
    ),
    "modification_publication_date": (
        "datePublicationDonneesModification",
        "datePublicationDonneesModificationModification",
    ),
    # ... and the holder that modification names (2022 exports)
    "modification_holder_id": ("idTitulaireModification",),
    "modification_holder_type": ("typeIdentifiantTitulaireModification",),
    # data.economie.gouv.fr 2022 exports: one acte de sous-traitance per row
    "act_id": ("idActeSousTraitance",),
    "act_duration": ("dureeMoisActeSousTraitance",),
    "act_date": ("dateNotificationActeSousTraitance",),
    "act_publication_date": ("datePublicationDonneesActeSousTraitance",),
    "act_amount": ("montantActeSousTraitance",),
    "act_price_variation": ("variationPrixActeSousTraitance",),
    "subcontractor_id": ("idSousTraitant",),
    "subcontractor_type": ("typeIdentifiantSousTraitant",),
}


# Columns that, beside a uid, make a CSV an extract of DECP data (lower case).
DECP_EXTRACT_COLUMNS = {
    name.lower().encode()
    for names in TABULAR_COLUMNS.values()
    for name in names
    # words a facilitator's table may use
    if name not in ("id", "nature", "objet", "procedure", "techniques", "technique", "source")
}
