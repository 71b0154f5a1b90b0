"""Shared fixtures: a fresh data root per test, the real sample data when CI provides it, and
helpers to build the warehouse from hand-written DECP files."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.common import warehouse
from pipelines.common.paths import PROJECT_ROOT, PnadPaths
from pipelines.decp import landing, parsing
from pipelines.decp.contracts import build_contracts
from pipelines.facilitators import build
from pipelines.indicators.after_2025 import build_after_2025
from pipelines.indicators.build import build_indicator, build_shares
from pipelines.reference.tables import build_reference

PROJECT_STATE = pytest.StashKey[dict]()


def _project_state() -> dict[str, float]:
    """Every file of the project's own data root and legacy instance folder, with its mtime."""
    state = {}
    for folder in (PROJECT_ROOT / "data", PROJECT_ROOT / ".dagster_home"):
        if folder.exists():
            for path in folder.rglob("*"):
                state[str(path)] = path.stat().st_mtime
    return state


def pytest_configure(config: pytest.Config) -> None:
    """The suite never touches the user's data root or instance: whatever a test does not set
    explicitly resolves to a throw-away data root (and its own Dagster instance under it)."""
    os.environ["PNAD_HOME"] = tempfile.mkdtemp(prefix="pnad-tests-")
    os.environ.pop("DAGSTER_HOME", None)
    # The tests' `pnad` subprocesses write bytecode and reuse it, even where the shell sets
    # PYTHONDONTWRITEBYTECODE (as on the CI machine): each would otherwise compile dagster and
    # pandas from source, seconds per command. (uv's compile-bytecode setting did it at install
    # but made every `uv run` compile the whole environment again: uv issue 12202.)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    config.stash[PROJECT_STATE] = _project_state()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before = session.config.stash.get(PROJECT_STATE, None)
    if before is not None and _project_state() != before:
        session.exitstatus = 1
        print("\nthe test suite wrote into the project's data/ or .dagster_home/", file=sys.stderr)


@pytest.fixture
def pnad_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PnadPaths:
    home = tmp_path / "pnad_home"
    monkeypatch.setenv("PNAD_HOME", str(home))
    return PnadPaths.resolve(home).ensure()


def sample_data_dir() -> Path:
    """The real DECP samples (../shared/data), found through PNAD_SAMPLE_DATA as .ci/run sets it;
    skips the calling test with the reason when they are not available."""
    location = os.environ.get("PNAD_SAMPLE_DATA")
    if not location or not Path(location, "decp").is_dir():
        pytest.skip(
            "PNAD_SAMPLE_DATA is not set to the shared sample data folder (.ci/run sets it)"
        )
    return Path(location).resolve()  # landed files are named by their resolved path


@pytest.fixture
def sample_data() -> Path:
    return sample_data_dir()


def write_decp_2022(path: Path, marches: list[dict], concessions: list[dict] | None = None) -> Path:
    """A 2022-format DECP file with wrapped lists, as platforms publish them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"marches": {"marche": marches, "contrat-concession": concessions or []}}
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    return path


def marche(
    contract_id: str,
    buyer: str = "21740056300011",
    *,
    social: list[str] | None = None,
    environmental: list[str] | None = None,
    notified: str = "2024-03-15",
    published: str = "2024-03-20",
    amount: float | str = 100_000,
    place: tuple[str, str] = ("74000", "Code postal"),
    modifications: list[dict] | None = None,
    cpv: str = "45000000",
    **extra: object,
) -> dict:
    """One 2022-format marché with sensible defaults; lists wrapped as in real files."""
    record = {
        "id": contract_id,
        "acheteur": {"id": buyer},
        "nature": "Marché",
        "objet": f"Travaux {contract_id}",
        "codeCPV": cpv,
        "procedure": "Appel d'offres ouvert",
        "lieuExecution": {"code": place[0], "typeCode": place[1]},
        "dureeMois": 12,
        "dateNotification": notified,
        "datePublicationDonnees": published,
        "montant": amount,
        "titulaires": [{"titulaire": {"typeIdentifiant": "SIRET", "id": "82747808200023"}}],
        "considerationsSociales": {
            "considerationSociale": social
            if social is not None
            else ["Pas de considération sociale"]
        },
        "considerationsEnvironnementales": {
            "considerationEnvironnementale": environmental
            if environmental is not None
            else ["Pas de considération environnementale"]
        },
    }
    if modifications:
        record["modifications"] = [{"modification": m} for m in modifications]
    record.update(extra)
    return record


def build_warehouse(paths: PnadPaths, *, force: bool = False) -> dict[str, int]:
    """Register, parse and build contracts and shares from whatever is under raw/."""
    with warehouse.connect(paths) as con:
        build_reference(con)
        landing.register_raw_files(con, paths)
        parsing.parse_pending_files(con, paths)
        counts = build_contracts(con, force=force)
        build_shares(con, force=force)
        for indicator in ("pnad_shares_monthly", "pnad_breakdowns", "buyer_shares"):
            build_indicator(con, indicator)
        # the opportunities asset's defaults: 90 000 EUR, 12 months
        build_indicator(con, "opportunities", {"min_amount": 90_000, "months": 12})
        # the facilitator layer, from whatever exports are loaded (none unless a test loads one)
        build.build_facilitator_links(con)
        build.build_facilitator_hours(con)
        # the balance, the 2026 obligations, publication gaps, the projection
        build_after_2025(con, paths)
    return counts


def build_and_publish(paths: PnadPaths, run_id: str) -> Path:
    """build_warehouse, then the published database (returned) as a run would write it."""
    from pipelines.publishing.database import publish_database

    build_warehouse(paths)
    with warehouse.connect(paths) as con:
        publish_database(con, paths, run_id=run_id)
    return paths.published_db


@pytest.fixture
def query(pnad_paths: PnadPaths) -> Iterator:
    """Run a read query on the working database: query(sql, params) -> list of tuples."""

    def run(sql: str, params: dict | None = None) -> list[tuple]:
        with duckdb.connect(str(pnad_paths.work_db), read_only=True) as con:
            return con.execute(sql, params or {}).fetchall()

    yield run


def texts_found_in_database(database: Path, texts: list[str]) -> list[str]:
    """Every 'schema.table.column' of a DuckDB file holding one of the texts as a word (any
    type, lists and structs included, cast to text): for checks that personal data never
    reached a database. Reading through SQL sees compressed strings a byte search would miss."""
    found = []
    with duckdb.connect(str(database), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_schema not in ('information_schema', 'pg_catalog')"
        ).fetchall()
        for schema, table, column in columns:
            hits = con.execute(
                f'select count(*) from "{schema}"."{table}" '  # noqa: S608 - catalogue names
                f'where list_has_any(regexp_extract_all(cast("{column}" as varchar), '
                "'[[:alnum:]/-]+'), $texts)",
                {"texts": texts},
            ).fetchone()[0]
            if hits:
                found.append(f"{schema}.{table}.{column}")
    return found
