"""Steps a refresh skips when nothing they are built from has changed (issue 18: a refresh costs
what changed).

A derived step's fingerprint is everything its tables can depend on: the files read and the
SIRENE answers (``inputs_fingerprint``), the facilitators' exports, the day (projections,
provisional months, the plausibility of dates read today), the project's code, SQL, templates and
settings, the data root's own settings files, when the contract model was last built (a rebuild
with the same inputs, after an interrupted one, still counts as new), and the step's own
configuration. A step built from the same fingerprint keeps its tables as they are.
"""

from __future__ import annotations

import functools
import hashlib

import duckdb

from pipelines.common.clock import paris_now
from pipelines.common.paths import PROJECT_ROOT, PnadPaths
from pipelines.common.warehouse import (
    facilitator_fingerprint,
    inputs_fingerprint,
    is_built_from,
    mark_built,
)

# What the derived tables and pages are computed by (the SQL and reference CSVs are in
# inputs_fingerprint already, through logic_version)
CODE_PATTERNS = ("pipelines/**/*.py", "pipelines/**/*.toml", "pipelines/**/templates/**/*")


@functools.cache
def code_version() -> str:
    digest = hashlib.sha256()
    for pattern in CODE_PATTERNS:
        for path in sorted(PROJECT_ROOT.glob(pattern)):
            if path.is_file():
                digest.update(path.as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def settings_version(paths: PnadPaths) -> str:
    """The data root's own settings and reference files (its *.toml, mappings/, ref/ with the
    outline map): name, size and modification time."""
    files = sorted(paths.home.glob("*.toml"))
    for folder in ("mappings", "ref"):
        if paths.home.joinpath(folder).is_dir():
            files += sorted(p for p in paths.home.joinpath(folder).rglob("*") if p.is_file())
    return ";".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files)


def derived_fingerprint(con: duckdb.DuckDBPyConnection, paths: PnadPaths, *extra: object) -> str:
    built = con.execute(
        "select coalesce(max(built_at)::varchar, '') from build_state where step = 'contracts'"
    ).fetchone()[0]
    # every download attempt is shown on methode.html, even of an unchanged file; a reference
    # table downloaded again (the COG) changes places and names
    downloads = _if_table(con, "download_manifest", "select count(*) from download_manifest")
    references = _if_table(
        con,
        "reference_status",
        "select md5(string_agg(concat_ws('|', reference, origin, sha256, note), ',' "
        "order by reference)) from reference_status",
    )
    return ":".join(
        [
            inputs_fingerprint(con),
            facilitator_fingerprint(con),
            f"{paris_now():%Y-%m-%d}",
            code_version(),
            settings_version(paths),
            built,
            str(downloads),
            str(references),
            *map(str, extra),
        ]
    )


def _if_table(con: duckdb.DuckDBPyConnection, table: str, query: str) -> object:
    """``query``'s value, or None when ``table`` does not exist yet."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where table_name = $table", {"table": table}
    ).fetchone()[0]
    return con.execute(query).fetchone()[0] if exists else None


def changed(
    con: duckdb.DuckDBPyConnection, paths: PnadPaths, step: str, *extra: object
) -> str | None:
    """The fingerprint to record once ``step`` is built, or None when it was last built from the
    same one (nothing to do)."""
    fingerprint = derived_fingerprint(con, paths, *extra)
    return None if is_built_from(con, f"derived:{step}", fingerprint) else fingerprint


def mark_done(con: duckdb.DuckDBPyConnection, step: str, fingerprint: str) -> None:
    mark_built(con, f"derived:{step}", fingerprint)


def forget(con: duckdb.DuckDBPyConnection, step: str) -> None:
    con.execute("delete from build_state where step = $step", {"step": f"derived:{step}"})
