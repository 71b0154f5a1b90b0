"""What makes large inputs fast and bounded gives the same tables as the plain path: a large JSON
document split into parts, a tabular file read in parts, an incremental build of the contracts;
and the progress of long parses drawn on a terminal."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.common import progress, warehouse
from pipelines.common.paths import PnadPaths
from pipelines.common.sql import string_literal
from pipelines.decp import contracts as decp_contracts
from pipelines.decp import json_reading, landing, parsing, tabular
from pipelines.decp.contracts import build_contracts
from pipelines.decp.json_split import InvalidJson, NotSplittable, split_document
from pipelines.reference.tables import build_reference
from tests.conftest import build_warehouse, marche, write_decp_2022

TABLES = {
    "stg_decp_records": "select * replace (holders::varchar as holders, "
    "modifications::varchar as modifications) from stg_decp_records",
    "ingest_rejects": "select * from ingest_rejects",
    "contract_versions": "select * from contract_versions",
    "contract_modifications": "select * from contract_modifications",
    "contracts": "select * from contracts",
    "ingest_accounting": "select * from ingest_accounting",
    "schema_drift": "select * from schema_drift",
}


def tables(home: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(PnadPaths.resolve(home).work_db), read_only=True) as con:
        return {name: sorted(map(repr, con.execute(q).fetchall())) for name, q in TABLES.items()}


def concession(contract_id: str) -> dict:
    return {
        "id": contract_id,
        "autoriteConcedante": {"id": "21972209700016"},
        "nature": "Concession de service",
        "objet": "Restauration scolaire",
        "dateSignature": "2024-02-01",
        "datePublicationDonnees": "2024-02-10",
        "valeurGlobale": 2_000_000,
        "considerationsSociales": {"considerationSociale": ["Concession réservée"]},
    }


def large_document() -> dict:
    """Concessions before marchés, another root key, a null record and a number as a record."""
    marches = [
        marche(f"M{i}", social=["Clause sociale"] if i % 3 else ["NC"], amount=1000 + i)
        for i in range(40)
    ]
    marches[7]["modifications"] = [{"modification": {"id": 1, "montant": 5000}}]
    return {
        "meta": {"source": ["a", {"b": None}]},
        "marches": {
            "contrat-concession": [concession(f"K{i}") for i in range(5)],
            "autre": 3,
            "marche": [*marches, None, 7, {k: v for k, v in marche("X").items() if k != "id"}],
        },
    }


def test_large_json_split_into_parts_gives_the_same_tables(tmp_path, monkeypatch):
    document = json.dumps(large_document(), ensure_ascii=False, indent=1)
    homes = {}
    for name, large_bytes, batch_bytes in (("whole", 10**12, 48 << 20), ("parts", 1000, 3000)):
        paths = PnadPaths.resolve(tmp_path / name).ensure()
        (paths.raw / "big").mkdir(parents=True)
        (paths.raw / "big" / "big.json").write_text(document, encoding="utf-8")
        flat = json.dumps({"marches": [marche(f"F{i}") for i in range(30)]}).encode()
        (paths.raw / "big" / "big2.json.gz").write_bytes(gzip.compress(flat, mtime=0))
        monkeypatch.setattr(json_reading, "LARGE_JSON_BYTES", large_bytes)
        monkeypatch.setattr(parsing, "BATCH_BYTES", batch_bytes)
        monkeypatch.setattr(json_reading, "PART_BYTES", batch_bytes)
        build_warehouse(paths)
        homes[name] = tables(paths.home)
    assert homes["parts"] == homes["whole"]
    assert len(homes["whole"]["stg_decp_records"]) == 5 + 40 + 30
    assert len(homes["whole"]["ingest_rejects"]) == 3  # null, 7, and the record without an id


def test_split_document_keeps_each_record_as_written(tmp_path):
    source = tmp_path / "doc.json"
    source.write_text(
        '\ufeff{"x": [1, {"y": "]"}], "marches": {"contrat-concession": [{"id": "K1"}],'
        ' "marche": [{"id": "M1", "montant": 1.10},\n {"id": "M2", "v": NaN}, null]}}',
        encoding="utf-8",
    )
    document = split_document(source, tmp_path / "parts", part_chars=10)
    assert document.records == {"contrat-concession": 1, "marche": 3}
    parts = [(p.list_key, document.position_base(p), p.path.read_text()) for p in document.parts]
    assert parts == [
        ("contrat-concession", 3, '{"marches": {"contrat-concession": [{"id": "K1"}]}}'),
        ("marche", 0, '{"marches": {"marche": [{"id": "M1", "montant": 1.10}]}}'),
        ("marche", 1, '{"marches": {"marche": [{"id": "M2", "v": NaN}]}}'),
        ("marche", 2, '{"marches": {"marche": [null]}}'),
    ]


@pytest.mark.parametrize(
    ("content", "outcome"),
    [
        ('{"marches": null}', '{"marches": null}'),
        ('{"other": []}', "{}"),
        ('[{"marches": []}]', NotSplittable),
        ('{"marches": []} {"marches": []}', NotSplittable),
        ('{"marches": [], "marches": []}', NotSplittable),
        ('{"marches": {"marche": [{"id": "A"}, {"id": ', InvalidJson),
    ],
)
def test_split_document_unusual_shapes(tmp_path, content, outcome):
    source = tmp_path / "doc.json"
    source.write_text(content, encoding="utf-8")
    if isinstance(outcome, type):
        with pytest.raises(outcome):
            split_document(source, tmp_path / "parts", part_chars=10)
    else:
        (part,) = split_document(source, tmp_path / "parts", part_chars=10).parts
        assert part.path.read_text() == outcome


def test_a_record_duckdb_refuses_in_a_part_is_rejected_and_the_others_staged_once(
    pnad_paths, query, monkeypatch
):
    raw = pnad_paths.raw / "big"
    records = [marche(f"S{i}") for i in range(20)]
    text = json.dumps({"marches": {"marche": records}})
    # a lone surrogate: valid for the json module, refused by DuckDB, in the last part
    text = text.replace('"S19"', '"S19\\ud800"')
    raw.mkdir(parents=True)
    (raw / "big.json").write_text(text, encoding="utf-8")
    monkeypatch.setattr(json_reading, "LARGE_JSON_BYTES", 1000)
    monkeypatch.setattr(json_reading, "PART_BYTES", 3000)
    build_warehouse(pnad_paths)
    # the parts read before the refused one are removed, then the file is read record by
    # record: the refused record is rejected, the others are staged once (behaviour changed:
    # the whole file was quarantined for one record)
    (status,) = query("select status || ': ' || status_reason from ingest_files")
    assert status[0].startswith("parsed: JSON refusé d'un bloc")
    assert query("select count(*), count(distinct position) from stg_decp_records") == [(19, 19)]
    ((position, excerpt),) = query("select position, raw_excerpt from ingest_rejects")
    assert position == 20 and "enregistrement illisible" in excerpt


def test_tabular_file_read_in_parts_gives_the_same_tables(tmp_path, monkeypatch):
    rows = []
    for contract in range(30):
        for modification in range(contract % 3):
            for holder in ("11111111111111", "22222222222222"):
                rows.append((f"T{contract}", holder, modification, 1000.0 * (contract + 1)))
    rows.reverse()  # a contract's initial row after its modifications
    table = pa.table(
        {
            "id": [r[0] for r in rows] + ["T99"],
            "acheteur_id": ["21740056300011"] * (len(rows) + 1),
            "titulaire_id": [r[1] for r in rows] + [None],
            "modification_id": [r[2] for r in rows] + [0],
            "montant": [r[3] + r[2] for r in rows] + [5.0],
            "dateNotification": ["2024-04-01"] * (len(rows) + 1),
            "datePublicationDonnees": [f"2024-05-{1 + r[2]:02d}" for r in rows] + [None],
            "considerationsSociales": ["Clause sociale, Critère social"] * (len(rows) + 1),
        }
    )
    homes = {}
    # read in parts of rows, and folded into contracts in parts (a contract's rows together)
    for name, part_rows, fold_rows in (("whole", 500_000, 500_000), ("parts", 7, 11)):
        paths = PnadPaths.resolve(tmp_path / name).ensure()
        (paths.raw / "t").mkdir(parents=True)
        pq.write_table(table, paths.raw / "t" / "decp.parquet")
        monkeypatch.setattr(tabular, "TABULAR_PART_ROWS", part_rows)
        monkeypatch.setattr(tabular, "FOLD_PART_ROWS", fold_rows)
        build_warehouse(paths)
        homes[name] = tables(paths.home)
    assert homes["parts"] == homes["whole"]
    assert len(homes["whole"]["contracts"]) == 21  # 20 with a row 0, T99; 10 with no row 0 fold


def test_incremental_build_gives_the_tables_of_a_full_rebuild(pnad_paths, monkeypatch):
    monkeypatch.setattr(decp_contracts, "INCREMENT_MAX_SHARE", 1.0)
    raw = pnad_paths.raw / "daily"
    write_decp_2022(
        raw / "day1.json",
        [marche("A", amount=100_000), marche("B"), marche("L", amount=1), marche("L", amount=2)],
        [concession("K")],
    )
    assert build_warehouse(pnad_paths)["incremental"] == 0  # the first build is a full one
    write_decp_2022(
        raw / "day2.json",
        [
            marche("A", amount=105_000, published="2024-04-02"),  # republished, new amount
            marche("L", amount=3, notified="2024-03-16"),  # a third lot sharing the id
            marche("C", modifications=[{"id": 1, "montant": 7}, {"montant": 8}, {"montant": 9}]),
        ],
    )
    (raw / "broken.json").write_text('{"marches": [', encoding="utf-8")
    counts = build_warehouse(pnad_paths)
    assert (counts["incremental"], counts["contracts"]) == (1, 7)  # A B C K, three lots L
    incremental = tables(pnad_paths.home)
    assert build_warehouse(pnad_paths, force=True)["incremental"] == 0
    assert tables(pnad_paths.home) == incremental


def test_modifications_without_id_apply_in_the_order_written(pnad_paths, query):
    mods = [{"montant": 10}, {"montant": 30}, {"montant": 20}]
    write_decp_2022(pnad_paths.raw / "d" / "d.json", [marche("M", modifications=mods)])
    build_warehouse(pnad_paths)
    assert query("select current_amount, modifications from contracts") == [(20.0, 3)]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_of_long_parses_is_drawn_on_a_terminal_only(pnad_paths, monkeypatch):
    write_decp_2022(pnad_paths.raw / "d" / "d1.json", [marche("A")])
    write_decp_2022(pnad_paths.raw / "d" / "d2.json", [marche("B")])
    terminal, log = Terminal(), []
    progress.show_progress_in_terminal(terminal)
    try:
        with warehouse.connect(pnad_paths) as con:
            build_reference(con)
            landing.register_raw_files(con, pnad_paths)
            monkeypatch.setattr(parsing, "BATCH_BYTES", 10)  # one file per batch
            parsing.parse_pending_files(con, pnad_paths, log.append)
    finally:
        progress.show_progress_in_terminal(io.StringIO())  # not a terminal: off
    drawn = terminal.getvalue()
    assert "lecture des fichiers DECP" in drawn and "100 % |" in drawn
    assert drawn.rstrip(" ").endswith("\r")  # the bar is cleared when the parse is done
    assert log == ["1/2 fichier(s) decp-json lu(s)", "2/2 fichier(s) decp-json lu(s)"]


def test_download_progress_logs_tenths_and_draws_on_a_terminal(monkeypatch):
    terminal, log = Terminal(), []
    progress.show_progress_in_terminal(terminal)
    monkeypatch.setattr(progress, "DRAW_EVERY_S", 0)
    try:
        shown = progress.DownloadProgress("decp_consolide", log.append)
        for received in range(0, 200_000_001, 20_000_000):
            shown(received, 200_000_000)
        shown.finish()
        unknown_size = progress.DownloadProgress("autre", log.append)
        unknown_size(250_000_000, None)
    finally:
        progress.show_progress_in_terminal(io.StringIO())
    assert log[:2] == [
        "decp_consolide : 20 sur 200 Mo reçus",
        "decp_consolide : 40 sur 200 Mo reçus",
    ]
    assert len(log) == 11 and log[-1] == "autre : 250 Mo reçus"
    drawn = terminal.getvalue()
    assert "téléchargement de decp_consolide" in drawn and "100 % |" in drawn
    assert "200 sur 200 Mo" in drawn and "téléchargement de autre : 250 Mo" in drawn


def test_a_working_database_in_an_older_file_format_is_rewritten_once(pnad_paths):
    write_decp_2022(pnad_paths.raw / "daily" / "day1.json", [marche("A"), marche("B")])
    build_warehouse(pnad_paths)
    before = tables(pnad_paths.home)
    # the same database as an earlier release made it: DuckDB's default file format
    old = pnad_paths.work_db.with_name("old.duckdb")
    with duckdb.connect() as con:
        con.execute(f"attach {string_literal(str(pnad_paths.work_db))} as src (read_only)")
        con.execute(f"attach {string_literal(str(old))} as dst (storage_version 'v0.10.2')")
        con.execute("copy from database src to dst")
    old.replace(pnad_paths.work_db)
    with duckdb.connect(str(pnad_paths.work_db), read_only=True) as con:
        assert warehouse.storage_version(con) == "v1.0.0+"  # what DuckDB calls it

    with warehouse.connect(pnad_paths) as con:
        assert warehouse.storage_version(con) == f"{warehouse.WORK_DB_STORAGE_VERSION}+"
        assert landing.register_raw_files(con, pnad_paths).new_files == 0
        assert build_contracts(con)["rebuilt"] == 0  # the build state came along
    assert tables(pnad_paths.home) == before
    assert sorted(p.name for p in pnad_paths.work_db.parent.glob("*.duckdb*")) == [
        pnad_paths.work_db.name
    ]
