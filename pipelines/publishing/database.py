"""Publish the analysts' database: copy the stable tables into a new file, then rename it over
``PNAD_HOME/pnad.duckdb`` in one atomic step.

A reader who has the old file open keeps reading it; nobody ever sees a half-written file; a failed
run leaves the previous publication in place.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import duckdb

from pipelines.common.clock import paris_now
from pipelines.common.formatting import number_fr, percent_fr
from pipelines.common.paths import REFERENCE_DIR, PnadPaths
from pipelines.common.sql import string_literal
from pipelines.common.warehouse import facilitator_fingerprint, inputs_fingerprint
from pipelines.publishing import database_update, downloads, publications

# Published table -> (query on the working database, description). Fixed list: identifiers never
# come from data.
PUBLISHED_TABLES: dict[str, tuple[str, str]] = {
    "contracts": (
        "select * from contracts",
        "Un contrat par ligne (marché ou concession, uid = SIRET acheteur + id), version retenue, "
        "valeurs courantes, statut social/environnemental (yes/no/unknown), territoire, qualité.",
    ),
    "pnad_shares": (
        "select * from pnad_shares",
        "Parts PNAD par année x niveau (national, region, departement) x territoire, avec la "
        "complétude et l'écart à la cible (30 % social, 100 % environnemental).",
    ),
    "pnad_shares_monthly": (
        "select * from pnad_shares_monthly",
        "Parts PNAD par mois de notification et territoire (tous contrats) ; les trois derniers "
        "mois sont provisoires.",
    ),
    "pnad_breakdowns": (
        "select * from pnad_breakdowns",
        "Parts PNAD par type de marché, catégorie d'acheteur et procédure, à chaque niveau "
        "territorial (les catégories s'additionnent au total de pnad_shares).",
    ),
    "buyer_shares": (
        "select * from buyer_shares",
        "Par acheteur et par année : contrats, parts, complétude, écart à la cible, tendance.",
    ),
    "opportunities": (
        "select * from opportunities",
        "Contrats récents à forte intensité de main-d'oeuvre (travaux, nettoyage, espaces verts, "
        "déchets, restauration) notifiés sans considération sociale, au-dessus du seuil configuré.",
    ),
    "ref_oecp_series": (
        "select * from ref_oecp_series",
        "Série nationale officielle OECP 2019-2023 (marchés >= 90 000 EUR HT, en nombre) : "
        "source et définition différentes, à montrer comme une série distincte (rupture).",
    ),
    "contract_sources": (
        "select v.uid, v.base_uid, v.shared_id_group, v.file_id, v.position, v.source, "
        "r.publisher, f.original_name, v.publication_date, v.is_kept, v.kept_rule, "
        "v.versions_seen, v.identity_rule from contract_versions as v "
        "join stg_decp_records as r using (file_id, position) "
        "join ingest_files as f using (file_id)",
        "Chaque publication lue d'un contrat (une ligne par enregistrement), ce qui l'a "
        "rattachée à son contrat, et la règle qui a choisi la version retenue.",
    ),
    "contract_modifications": (
        # new_holders (JSON as published) is read into contract_holders
        "select * exclude (new_holders) from contract_modifications",
        "Modifications de la version retenue de chaque contrat (valeurs absolues, dans l'ordre).",
    ),
    "contract_holders": (
        "select * from contract_holders",
        "Titulaires (marchés) et concessionnaires (concessions) de la version retenue de chaque "
        "contrat : ceux de la notification et ceux que donne chaque modification ; is_current "
        "marque ceux en place.",
    ),
    "contract_subcontracting": (
        "select * from contract_subcontracting",
        "Actes de sous-traitance de la version retenue de chaque contrat : sous-traitant, montant, "
        "durée, dates, variation des prix.",
    ),
    "ingest_files": (
        "select * from ingest_files",
        "Fichiers reçus (par empreinte SHA-256) : source, format détecté, statut, enregistrements "
        "lus et rejetés.",
    ),
    "ingest_accounting": (
        "select * from ingest_accounting",
        "Bilan par fichier : lus = chargés + doublons fusionnés + rejetés (colonne balanced).",
    ),
    "download_manifest": (
        "select * from download_manifest",
        "Chaque téléchargement tenté d'une source configurée : URL, empreinte publiée et reçue, "
        "statut HTTP, résultat (downloaded, unchanged, not_modified, quarantined, failed).",
    ),
    "source_releases": (
        "select * from source_releases",
        "Chaque publication reçue d'une source qui republie tout (instantané : decp.parquet, "
        "exports data.economie) : enregistrements, contrats, contrats ajoutés et retirés par "
        "rapport à la précédente, en usage, remplacée ou mise de côté (avec la raison).",
    ),
    "schema_drift": (
        "select * from schema_drift",
        "Ce que les fichiers contiennent hors des schémas DECP (clés inconnues, valeurs inconnues "
        "ou orthographiées autrement, considérations non reconnues), avec le nombre d'occurrences.",
    ),
    "ingest_rejects": (
        # a record's text is shown only for a file read as DECP data (one record used at
        # least): a file taken for DECP by mistake may hold anything, personal data included
        "select r.* replace (case when r.file_id in (select file_id from stg_decp_records) "
        "then r.raw_excerpt end as raw_excerpt) from ingest_rejects as r",
        "Enregistrements ou fichiers écartés, avec leur position et la raison (l'extrait "
        "seulement pour un fichier dont au moins un enregistrement a été lu comme DECP).",
    ),
    "ref_departements": (
        "select * from ref_departements",
        "Départements (101) et collectivités d'outre-mer, avec leur région (COG INSEE 2025).",
    ),
    "ref_regions": ("select * from ref_regions", "Régions (18) et collectivités d'outre-mer."),
    "ref_communes": (
        "select * from ref_communes",
        "Communes du Code officiel géographique de l'INSEE téléchargé (vide quand le "
        "téléchargement n'a pas pu se faire : voir reference_status).",
    ),
    "reference_status": (
        "select * from reference_status",
        "Origine de chaque table de référence pour ce run : téléchargée (date, SHA-256) ou "
        "intégrée au projet (avec la raison).",
    ),
    # Facilitators' data: aggregates and marchés only. Participants' pseudonyms stay in the
    # working database; counts of people below the small-aggregate threshold are blanked.
    "facilitator_hours": (
        "select * replace ("
        "case when is_small_aggregate then null else participants end as participants, "
        "case when is_small_aggregate then null else work_contracts end as work_contracts, "
        "case when is_small_aggregate then null else companies end as companies) "
        "from facilitator_hours",
        "Heures d'insertion des exports des facilitateurs (ABC Clauses, tableurs) par année "
        "travaillée et territoire : ETP (heures / 1 600), heures prévues et taux de réalisation, "
        "personnes, contrats de travail, marchés, maîtres d'ouvrage, entreprises, évolution.",
    ),
    "facilitator_hours_breakdowns": (
        "select * replace ("
        "case when is_small_aggregate then null else participants end as participants, "
        "case when is_small_aggregate then null else work_contracts end as work_contracts) "
        "from facilitator_hours_breakdowns",
        "Heures d'insertion par type de maître d'ouvrage, type de marché, secteur, catégorie de "
        "clause, modalité, type de contrat et public (publics non exclusifs).",
    ),
    "facilitator_files": (
        "select * from facilitator_files",
        "Exports des facilitateurs chargés : facilitateur, période, lignes lues = chargées + "
        "rejetées, statut (active ou replaced par un export corrigé).",
    ),
    "facilitator_rejects": (
        "select * from facilitator_rejects",
        "Lignes des exports des facilitateurs écartées, avec leur numéro et la raison.",
    ),
    "facilitator_unrecognised_values": (
        "select * from facilitator_unrecognised_values",
        "Valeurs codées des exports qu'aucun vocabulaire ne connaît (type de marché, catégorie "
        "de clause, type de maître d'ouvrage, public) : la ligne est gardée, pas la valeur.",
    ),
    "facilitator_followed_marches": (
        "select * from facilitator_followed_marches",
        "Marchés suivis par les facilitateurs (dernier export), avec heures prévues et territoire.",
    ),
    "facilitator_decp_links": (
        "select * from facilitator_decp_links",
        "Rapprochement marché suivi -> contrat DECP, avec la méthode et la confiance.",
    ),
    "facilitator_gap_underdeclared": (
        "select * from facilitator_gap_underdeclared",
        "Sous-déclaration : marchés suivis par un facilitateur dont le contrat DECP ne déclare "
        "pas de considération sociale.",
    ),
    "facilitator_gap_unfollowed": (
        "select * from facilitator_gap_unfollowed",
        "Contrats DECP déclarant une clause sociale (ou une réservation) qu'aucun facilitateur ne "
        "suit, chez les acheteurs que les facilitateurs suivent.",
    ),
}


# The tables of the after-2025 step (pipelines/indicators/after_2025.py): the final balance of
# the PNAD 2022-2025, the 2026 obligations, silent buyers and late publications, the projection.
AFTER_2025_PUBLISHED: dict[str, tuple[str, str]] = {
    "pnad_final_balance": (
        "select * from pnad_final_balance",
        "Bilan final du PNAD 2022-2025 par territoire : parts 2025 face aux cibles (30 % / 100 %), "
        "atteinte, écart, progrès depuis 2024, complétude, et date à partir de laquelle 2025 est "
        "définitif.",
    ),
    "contract_obligations": (
        "select * from contract_obligations",
        "Pour chaque contrat : soumis ou non aux obligations en vigueur depuis le 21 août 2026 "
        "(environnementale, sociale), indéterminé quand on ne peut le dire, avec la règle qui "
        "a décidé, sa certitude, et la conformité.",
    ),
    "obligation_compliance": (
        "select * from obligation_compliance",
        "Conformité aux obligations de 2026 par mois, territoire, catégorie d'acheteur et type "
        "de marché, avec le nombre de contrats indéterminés à côté.",
    ),
    "obligation_buyer_compliance": (
        "select * from obligation_buyer_compliance",
        "Conformité aux obligations de 2026 par acheteur.",
    ),
    "obligation_noncompliant": (
        "select * from obligation_noncompliant",
        "Contrats soumis à une obligation de 2026 qui ne montrent pas qu'ils la remplissent : "
        "la liste à examiner des coordinateurs (pas une infraction constatée).",
    ),
    "silent_buyers": (
        "select * from silent_buyers",
        "Acheteurs qui ont publié une année et rien depuis, avec leur dernière publication.",
    ),
    "buyer_publication_delays": (
        "select * from buyer_publication_delays",
        "Par acheteur et année de notification : contrats publiés plus de deux mois après leur "
        "notification (délai de publication), délais médian et maximum.",
    ),
    "publication_weaknesses": (
        "select * from publication_weaknesses",
        "Ce qui affaiblit les parts d'un territoire : publications tardives et acheteurs "
        "silencieux, par année.",
    ),
    "pnad_share_projection": (
        "select * from pnad_share_projection",
        "Projection des parts de l'année en cours au 31 décembre, par territoire, avec sa "
        "méthode et son intervalle à 90 % : une projection, pas une observation.",
    ),
    "ref_obligation_rules": (
        "select * from ref_obligation_rules",
        "Règles des obligations de 2026 (entrée en vigueur, champ, exclusions, considérations "
        "qui les remplissent), chacune avec sa source juridique.",
    ),
    "ref_eu_thresholds": (
        "select * from ref_eu_thresholds",
        "Seuils européens par période, type d'acheteur et type de contrat, avec leur source.",
    ),
    "ref_threshold_buyer_types": (
        "select * from ref_threshold_buyer_types",
        "Types d'acheteur (pour les seuils) que peut être chaque catégorie d'acheteur.",
    ),
}


PUBLISHED_TABLES |= AFTER_2025_PUBLISHED  # every entry is an asset of the definitions

DATA_DICTIONARY = REFERENCE_DIR / "data_dictionary.csv"


def dictionary_rows() -> list[dict[str, str]]:
    """The data dictionary, one row per published column: view_name, column_name, column_type
    (DuckDB's name for it), description (French)."""
    with DATA_DICTIONARY.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def data_dictionary() -> dict[str, list[str]]:
    """Published view -> its columns, in order, from pipelines/reference/data_dictionary.csv."""
    views: dict[str, list[str]] = {}
    with DATA_DICTIONARY.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if not re.fullmatch(r"[a-z_][a-z0-9_]*", row["view_name"] + row["column_name"]):
                raise ValueError(f"not an identifier in the data dictionary: {row}")
            views.setdefault(row["view_name"], []).append(row["column_name"])
    return views


def write_dictionary_markdown(target: Path) -> Path:
    """The data dictionary as a Markdown page (one section per view), written atomically."""
    lines = ["# Dictionnaire des données de la base publiée (pnad.duckdb)", ""]
    with DATA_DICTIONARY.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    descriptions = {name: text for name, (_, text) in PUBLISHED_TABLES.items()}
    for view in dict.fromkeys(row["view_name"] for row in rows):
        lines += [
            f"## `{view}`",
            "",
            descriptions.get(view, ""),
            "",
            "| colonne | type | sens |",
            "|---|---|---|",
        ]
        lines += [
            f"| `{r['column_name']}` | {r['column_type']} | {r['description']} |"
            for r in rows
            if r["view_name"] == view
        ]
        lines.append("")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    partial.write_text("\n".join(lines), encoding="utf-8")
    os.replace(partial, target)
    return target


class PublishRefusedError(RuntimeError):
    """The new run looks broken (far fewer contracts than the last publication)."""


def _publication(path: Path, column: str) -> object | None:
    if not path.exists():
        return None
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            return con.execute(f"select {column} from publication").fetchone()[0]  # noqa: S608
    except duckdb.Error:
        return None


def published_contract_count(path: Path) -> int | None:
    return _publication(path, "contracts")


def published_fingerprint(path: Path) -> str | None:
    return _publication(path, "fingerprint")


def publish_database(
    work: duckdb.DuckDBPyConnection,
    paths: PnadPaths,
    *,
    run_id: str | None = None,
    allow_shrink: bool = False,
    min_ratio: float = 0.5,
    force: bool = False,
    site: Path | None = None,
) -> dict[str, int]:
    """Publish the database (and the dashboard staged in ``site`` by the same run) as one new
    publication, made current in one rename (``publications.py``): readers see the previous
    publication, whole, until then; a refused or failed run changes nothing they see.

    The database is not written again when it was made from the same inputs the same day (a
    no-op run stays fast): the new pages are then published with the current database.
    """
    # the day is part of it: the projection and the provisional months follow today's date
    fingerprint = (
        f"{inputs_fingerprint(work)}:{facilitator_fingerprint(work)}:{paris_now():%Y-%m-%d}"
    )
    if not force and published_fingerprint(paths.published_db) == fingerprint:
        if site is not None:
            publications.copy_current_database(paths, site)
            publications.switch(paths, site)
        return {"skipped": 1}
    contracts = work.execute("select count(*) from contracts").fetchone()[0]
    previous = published_contract_count(paths.published_db)
    if not allow_shrink and previous and contracts < min_ratio * previous:
        if site is not None:
            publications.discard(site)
        raise PublishRefusedError(
            f"publication refusée : {number_fr(contracts)} contrats, contre {number_fr(previous)} "
            f"à la dernière publication (moins de {percent_fr(min_ratio, 0)}) ; vérifiez "
            "l'exécution, ou publiez avec --allow-shrink"
        )
    folder = site
    if folder is None:  # the database alone: the current pages stay
        folder = publications.start(paths, publications.new_version(run_id))
        publications.copy_current_site(paths, folder)
    try:
        in_use = publications.current(paths)
        counts = _write_database(
            work,
            folder / publications.DATABASE,
            run_id,
            contracts,
            fingerprint,
            previous=in_use / publications.DATABASE if in_use else None,
        )
        write_dictionary_markdown(folder / "dictionnaire_des_donnees.md")
        downloads.write_downloads(
            folder / publications.DATABASE,
            folder,
            downloads.load_download_settings(paths.home),
            previous=publications.current(paths),  # its unchanged files are linked, not written
        )
        publications.switch(paths, folder)
    except BaseException:
        publications.discard(folder)
        raise
    return counts


def _write_database(
    work: duckdb.DuckDBPyConnection,
    target: Path,
    run_id: str | None,
    contracts: int,
    fingerprint: str,
    previous: Path | None = None,
) -> dict[str, int]:
    """The published tables and their views (columns exactly those of the data dictionary) in a
    new database file ``target``.

    The tables are copied by the working connection itself into the new file, attached: DuckDB
    to DuckDB, in parallel, with no conversion on the way (0.8 of the time of reading them out
    through Arrow into a second connection). With ``previous`` (the publication in use), the
    new file starts as a copy of it and the tables of UPDATED_BY_CONTRACT are updated for the
    contracts that changed (``database_update.py``); the result holds the same rows as a file
    written whole."""
    updates = database_update.start_from(previous, target)
    alias = "publication_target"
    work.execute(f"attach {string_literal(str(target))} as {alias}")
    try:
        # Data in schema "store"; analysts use the views of the main schema, whose columns are
        # exactly those of the data dictionary: a stable, documented interface.
        work.execute(f"create schema if not exists {alias}.store")
        for table, (query, _) in PUBLISHED_TABLES.items():
            if updates and table in database_update.UPDATED_BY_CONTRACT:
                if database_update.update_by_contract(work, alias, table, query):
                    continue
            work.execute(f"create or replace table {alias}.store.{table} as {query}")  # noqa: S608
        database_update.drop_the_rest(work, alias, list(PUBLISHED_TABLES))
    finally:
        work.execute(f"detach {alias}")
    counts = {}
    dictionary = data_dictionary()
    with duckdb.connect(str(target)) as out:
        for table, (_, description) in PUBLISHED_TABLES.items():
            columns = ", ".join(dictionary[table])
            out.execute(f"create view {table} as select {columns} from store.{table}")  # noqa: S608
            # COMMENT takes no bound parameter; the text is the project's own constant.
            out.execute(f"comment on view {table} is {string_literal(description)}")
            counts[table] = out.execute(f"select count(*) from store.{table}").fetchone()[0]  # noqa: S608
        downloads.comment_columns(out, dictionary_rows())
        out.execute(
            "create table data_dictionary as select * from read_csv($path, header = true, "
            "all_varchar = true)",
            {"path": str(DATA_DICTIONARY)},
        )
        out.execute(
            "create table publication as select $published_at::timestamp as published_at, "
            "$run_id as run_id, $contracts::bigint as contracts, $fingerprint as fingerprint, "
            "$updates::integer as updates_since_whole",
            {
                "published_at": paris_now(),  # Paris time, whatever the host's zone
                "run_id": run_id or "",
                "contracts": contracts,
                "fingerprint": fingerprint,
                "updates": updates or 0,
            },
        )
        out.execute("checkpoint")
    with target.open("rb+") as handle:
        os.fsync(handle.fileno())
    return counts
