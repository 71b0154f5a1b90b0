"""Reference tables: the built-in ones (territories, vocabularies, national series, from
``pipelines/reference/*.csv``), and the INSEE communes and La Poste postal codes when they were
downloaded, with ``reference_status`` saying which was used and why. SQL: ``sql/reference/``."""

from __future__ import annotations

import hashlib
from datetime import datetime

import duckdb

from pipelines.common.paths import REFERENCE_DIR, PnadPaths
from pipelines.common.sql import run_sql, table_count

# Built-in reference tables: SQL file under sql/reference/ -> CSV under pipelines/reference/.
REFERENCE_TABLES = {
    "ref_departements": "departements.csv",
    "ref_regions": "regions.csv",
    "consideration_vocabulary": "consideration_vocabulary.csv",
    "decp_enum_values": "decp_enum_values.csv",
    "decp_record_keys": "decp_record_keys.csv",
    "ref_oecp_series": "oecp_national_series.csv",
    "ref_labour_intensive_cpv": "labour_intensive_cpv.csv",
    "ref_postal_code_exceptions": "postal_code_exceptions.csv",
    "facilitator_vocabulary": "facilitator_vocabulary.csv",
    "ref_obligation_rules": "obligation_rules.csv",
    "ref_eu_thresholds": "eu_thresholds.csv",
    "ref_threshold_buyer_types": "threshold_buyer_types.csv",
}


def build_reference(
    con: duckdb.DuckDBPyConnection, paths: PnadPaths | None = None
) -> dict[str, int]:
    """Load the reference tables: the built-in ones (territories, vocabularies, national
    series), then the INSEE communes and the La Poste postal codes when they were downloaded
    (reference_downloads) — else the built-in postal-code exceptions stay, and
    reference_status says which was used and why."""
    for table, csv_name in REFERENCE_TABLES.items():
        run_sql(con, f"reference/{table}", {"path": str(REFERENCE_DIR / csv_name)})
    run_sql(con, "reference/reference_status")
    landed = downloaded_references(con, paths) if paths else {}
    communes = landed.get("cog_communes")
    postal = landed.get("laposte_postal_codes")
    _use_reference(
        con,
        "ref_communes",
        "reference/ref_communes",
        communes,
        "reference/ref_communes_empty",
        "table des communes non téléchargée : les territoires viennent des départements "
        "intégrés au projet",
    )
    _use_reference(
        con,
        "ref_postal_code_exceptions",
        "reference/ref_postal_code_exceptions_laposte",
        postal,
        None,
        "table de La Poste non téléchargée : exceptions intégrées au projet utilisées "
        "(La Poste 2023-12 × COG INSEE 2025)",
    )
    _record_outlines(con, paths)
    return {table: table_count(con, table) for table in (*REFERENCE_TABLES, "ref_communes")}


def _record_outlines(con: duckdb.DuckDBPyConnection, paths: PnadPaths | None) -> None:
    """The dashboard's map: real outlines when a file is installed, else the tile grid."""
    target = paths.home / "ref" / "departements.geojson" if paths else None
    if target is not None and target.is_file():
        con.execute(
            "insert into reference_status values ('departement_outlines', 'downloaded', "
            "'ref/departements.geojson', $sha, $at, null, null)",
            {
                "sha": hashlib.sha256(target.read_bytes()).hexdigest(),
                "at": datetime.fromtimestamp(target.stat().st_mtime),
            },
        )
        return
    con.execute(
        "insert into reference_status values ('departement_outlines', 'built-in', null, null, "
        "null, null, 'contours des départements non téléchargés : le tableau de bord dessine "
        "une grille de tuiles')"
    )


def downloaded_references(con: duckdb.DuckDBPyConnection, paths: PnadPaths) -> dict[str, dict]:
    """The latest landed file of each reference source that is still on disk."""
    rows = con.execute(
        "select source, relative_path, sha256, fetched_at from download_manifest "
        "where relative_path like 'ref/%' and outcome in ('downloaded', 'unchanged') "
        "qualify row_number() over (partition by source order by fetched_at desc) = 1"
    ).fetchall()
    return {
        source: {"path": paths.home / relative, "file": relative, "sha256": sha, "at": at}
        for source, relative, sha, at in rows
        if (paths.home / relative).is_file()
    }


def _use_reference(
    con: duckdb.DuckDBPyConnection,
    table: str,
    sql_name: str,
    landed: dict | None,
    fallback_sql: str | None,
    fallback_note: str,
) -> None:
    """Build ``table`` from the downloaded file; on a missing or unreadable file keep (or
    build) the built-in one; record which in reference_status."""
    problem = fallback_note
    if landed:
        try:
            run_sql(con, sql_name, {"path": str(landed["path"])})
            rows = table_count(con, table)
            if rows:
                con.execute(
                    "insert into reference_status values ($table, 'downloaded', $file, $sha, "
                    "$at, $rows, null)",
                    {
                        "table": table,
                        "file": landed["file"],
                        "sha": landed["sha256"],
                        "at": landed["at"],
                        "rows": rows,
                    },
                )
                return
            problem = (
                f"le fichier téléchargé {landed['file']} ne donne aucune ligne : table intégrée "
                "au projet utilisée"
            )
        except duckdb.Error as error:
            problem = (
                f"fichier téléchargé {landed['file']} illisible "
                f"({str(error).splitlines()[0][:160]}) : table intégrée au projet utilisée"
            )
        csv_name = REFERENCE_TABLES.get(table)
        if csv_name:  # put the built-in table back
            run_sql(con, f"reference/{table}", {"path": str(REFERENCE_DIR / csv_name)})
    if fallback_sql:
        run_sql(con, fallback_sql)
    con.execute(
        "insert into reference_status values ($table, 'built-in', null, null, null, $rows, $note)",
        {"table": table, "rows": table_count(con, table), "note": problem},
    )
