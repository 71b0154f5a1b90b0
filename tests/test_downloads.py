"""The downloads of a publication, opened as a spreadsheet user or an analyst would: the CSV
(``;``, UTF-8 with BOM) equals its view, the workbook's sheets, the Table Schema lists every
column, every view column carries its dictionary text, the territory extracts, and the files
switch with the database."""

from __future__ import annotations

import csv
import io
import json

import duckdb
import pandas as pd
import pytest
from openpyxl import load_workbook

from pipelines.common import warehouse
from pipelines.publishing import downloads, publications
from pipelines.publishing.dashboard import write_site
from pipelines.publishing.database import dictionary_rows, publish_database
from tests.conftest import build_warehouse, marche, write_decp_2022

BUYER_74 = "21740056300011"  # Haute-Savoie, Auvergne-Rhône-Alpes (84)
BUYER_75 = "21750001600019"  # Paris, Île-de-France (11)


@pytest.fixture
def published(pnad_paths):
    write_decp_2022(
        pnad_paths.raw / "t" / "day1.json",
        [
            marche("A", social=["Clause sociale"], amount=123_456.78),
            marche("B", environmental=["Clause environnementale"]),
            marche("C; avec point-virgule", notified="2025-02-01", published="2025-02-10"),
            marche("D", buyer=BUYER_75, place=("75001", "Code postal"), notified="2025-06-01"),
        ],
    )
    build_warehouse(pnad_paths)
    with warehouse.connect(pnad_paths) as con:
        publish_database(con, pnad_paths, run_id="downloads")
        write_site(con, pnad_paths)  # new pages alone: they keep the database and its files
    return pnad_paths


def files(paths):
    return paths.reports / downloads.FOLDER


def test_every_view_column_carries_its_dictionary_text(published):
    expected = {(r["view_name"], r["column_name"]): r["description"] for r in dictionary_rows()}
    with duckdb.connect(str(published.published_db), read_only=True) as con:
        columns = con.execute(
            "select table_name, column_name, comment from duckdb_columns() "
            "where schema_name = 'main' and table_name in "
            "(select view_name from duckdb_views() where not internal)"
        ).fetchall()
    assert len(columns) > 500
    assert {(view, column): comment for view, column, comment in columns} == {
        key: expected[key] for key in ((v, c) for v, c, _ in columns)
    }
    assert all(comment for _, _, comment in columns)


def test_each_view_as_csv_opens_with_semicolons_and_bom_and_equals_the_view(published):
    with duckdb.connect(str(published.published_db), read_only=True) as con:
        views = [row[0] for row in con.execute("select view_name from duckdb_views() "
                                               "where not internal").fetchall()]  # fmt: skip
        for view in views:
            raw = (files(published) / f"{view}.csv").read_bytes()
            assert raw.startswith(b"\xef\xbb\xbf"), view
            frame = pd.read_csv(io.BytesIO(raw), sep=";", encoding="utf-8-sig", dtype=str)
            count = con.execute(f"select count(*) from {view}").fetchone()[0]  # noqa: S608
            names = [r[0] for r in con.execute(f"describe {view}").fetchall()]  # noqa: S608
            assert (len(frame), list(frame.columns)) == (count, names), view
            parquet = files(published) / f"{view}.parquet"
            if view != "contracts":
                assert pd.read_parquet(parquet).shape == (count, len(names)), view
        shares = con.execute(
            "select social_share from pnad_shares where level = 'national' and year = 2024 "
            "and scope = 'all'"
        ).fetchone()[0]
    contracts = pd.read_csv(files(published) / "contracts.csv", sep=";", encoding="utf-8-sig")
    assert sorted(contracts["contract_id"]) == ["A", "B", "C; avec point-virgule", "D"]
    assert contracts.loc[contracts["contract_id"] == "A", "initial_amount"].item() == 123_456.78
    national = pd.read_csv(files(published) / "pnad_shares.csv", sep=";", encoding="utf-8-sig")
    row = national[(national.level == "national") & (national.year == 2024)]
    assert row[row.scope == "all"]["social_share"].item() == pytest.approx(shares) == 0.5


def test_contracts_parquet_is_partitioned_by_notification_year(published):
    folder = files(published) / "contracts"
    assert sorted(p.name for p in folder.iterdir()) == [
        "notification_year=2024",
        "notification_year=2025",
    ]
    frame = pd.read_parquet(folder)
    assert len(frame) == 4
    assert frame.groupby("notification_year", observed=True).size().to_dict() == {
        2024: 2,
        2025: 2,
    }


def test_french_decimals_by_setting(pnad_paths, published):
    (pnad_paths.home / "downloads.toml").write_text(
        "[downloads]\ndecimal_comma = true\n", encoding="utf-8"
    )
    settings = downloads.load_download_settings(pnad_paths.home)
    out = pnad_paths.home / "again"
    downloads.write_downloads(pnad_paths.published_db, out, settings)
    text = (out / downloads.FOLDER / "contracts.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert {r["contract_id"]: r["initial_amount"] for r in rows}["A"] == "123456,78"
    # the territories' extracts are written with the same setting
    extract = (out / downloads.FOLDER / "departements" / "74_contrats.csv").read_text("utf-8-sig")
    amounts = {
        r["contract_id"]: r["initial_amount"]
        for r in csv.DictReader(io.StringIO(extract), delimiter=";")
    }
    assert amounts["A"] == "123456,78"
    package = json.loads((out / downloads.FOLDER / downloads.DATAPACKAGE).read_text())
    amount = next(
        f
        for r in package["resources"]
        if r["name"] == "contracts"
        for f in r["schema"]["fields"]
        if f["name"] == "initial_amount"
    )
    assert amount == {**amount, "type": "number", "decimalChar": ","}


def test_a_wrong_setting_is_refused_in_french(pnad_paths):
    (pnad_paths.home / "downloads.toml").write_text(
        '[downloads]\ndecimal_comma = "oui"\n', encoding="utf-8"
    )
    with pytest.raises(ValueError, match="decimal_comma : doit valoir true ou false"):
        downloads.load_download_settings(pnad_paths.home)


def test_the_workbook_has_a_readme_and_a_sheet_per_indicator_view(published):
    workbook = load_workbook(files(published) / downloads.WORKBOOK, read_only=True)
    assert workbook.sheetnames[0] == "Lisez-moi"
    assert set(workbook.sheetnames[1:]) == set(downloads.INDICATOR_VIEWS)
    readme = [row for row in workbook["Lisez-moi"].iter_rows(values_only=True)]
    definitions = {(r[0], r[1]): r[3] for r in readme[4:] if r[1]}
    assert definitions[("pnad_shares", "social_share")] == next(
        r["description"]
        for r in dictionary_rows()
        if (r["view_name"], r["column_name"]) == ("pnad_shares", "social_share")
    )
    with duckdb.connect(str(published.published_db), read_only=True) as con:
        for view in downloads.INDICATOR_VIEWS:
            sheet = list(workbook[view].iter_rows(values_only=True))
            names = [r[0] for r in con.execute(f"describe {view}").fetchall()]  # noqa: S608
            count = con.execute(f"select count(*) from {view}").fetchone()[0]  # noqa: S608
            assert (list(sheet[0]), len(sheet) - 1) == (names, count), view
    frame = pd.read_excel(files(published) / downloads.WORKBOOK, sheet_name="pnad_shares")
    national = frame[(frame.level == "national") & (frame.year == 2024) & (frame.scope == "all")]
    assert national["contracts"].item() == 2


def test_the_table_schema_lists_every_column_with_its_definition(published):
    package = json.loads((files(published) / downloads.DATAPACKAGE).read_text(encoding="utf-8"))
    described = {
        (resource["name"], field["name"]): field
        for resource in package["resources"]
        for field in resource["schema"]["fields"]
    }
    dictionary = {(r["view_name"], r["column_name"]): r for r in dictionary_rows()}
    views = {resource["name"] for resource in package["resources"]}
    assert {key for key in dictionary if key[0] in views} == set(described)
    assert all(f["description"] == dictionary[k]["description"] for k, f in described.items())
    assert described[("contracts", "notification_date")]["type"] == "date"
    assert described[("contracts", "techniques")]["type"] == "array"
    assert described[("pnad_shares", "contracts")]["type"] == "integer"
    resource = next(r for r in package["resources"] if r["name"] == "contracts")
    assert resource["dialect"]["delimiter"] == ";" and resource["path"] == "contracts.csv"


def test_each_territory_has_its_own_extract(published):
    folder = files(published)
    haute_savoie = pd.read_csv(folder / "departements" / "74_contrats.csv", sep=";", dtype=str,
                               encoding="utf-8-sig")  # fmt: skip
    assert sorted(haute_savoie["contract_id"]) == ["A", "B", "C; avec point-virgule"]
    paris = pd.read_csv(folder / "regions" / "11_contrats.csv", sep=";", encoding="utf-8-sig")
    assert list(paris["contract_id"]) == ["D"]
    buyers = pd.read_csv(folder / "regions" / "84_acheteurs.csv", sep=";", dtype=str,
                         encoding="utf-8-sig")  # fmt: skip
    assert set(buyers["buyer_siret"]) == {BUYER_74}
    page = (published.reports / "departements" / "74.html").read_text(encoding="utf-8")
    assert "../telechargements/departements/74_contrats.csv" in page
    index = (published.reports / "index.html").read_text(encoding="utf-8")
    assert 'href="telechargements/pnad_shares.csv"' in index


def test_downloads_switch_with_the_database(published):
    first = publications.current(published)
    assert (first / downloads.FOLDER / "contracts.csv").is_file()
    with warehouse.connect(published) as con:
        # the same inputs: the database is kept, and its files with it
        assert publish_database(con, published, run_id="same") == {"skipped": 1}
        publish_database(con, published, run_id="again", force=True)
    second = publications.current(published)
    assert second != first
    text = (second / downloads.FOLDER / "contracts.csv").read_text(encoding="utf-8-sig")
    assert text.count("\n") == 5  # header + 4 contracts


def test_a_share_without_contracts_is_an_empty_cell(tmp_path):
    database = tmp_path / "small.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute(
            "create table t as select * from (values (2024, 'national', 0.25), "
            "(2025, 'national', 'nan'::double), (2026, 'national', 'inf'::double)) "
            "as v(year, level, social_share)"
        )
        con.execute("create view pnad_shares as select * from t")
        con.execute("comment on column pnad_shares.social_share is 'Part sociale'")
    downloads.write_downloads(database, tmp_path, downloads.DownloadSettings())
    sheet = load_workbook(tmp_path / downloads.FOLDER / downloads.WORKBOOK)["pnad_shares"]
    assert [row for row in sheet.iter_rows(values_only=True)] == [
        ("year", "level", "social_share"),
        (2024, "national", 0.25),
        (2025, "national", None),
        (2026, "national", None),
    ]


def test_a_new_publication_writes_only_what_changed_and_equals_a_fresh_write(published, tmp_path):
    """Issue 18: one more contract in Paris rewrites Paris's files, the 2025 contracts and what
    counts everything; the rest is the previous publication's files, linked. Every file equals
    what a fresh write of the same database gives."""
    first = publications.current(published) / downloads.FOLDER
    write_decp_2022(
        published.raw / "t" / "day2.json",
        [marche("E", buyer=BUYER_75, place=("75001", "Code postal"), notified="2025-07-01")],
    )
    build_warehouse(published)
    with warehouse.connect(published) as con:
        publish_database(con, published, run_id="second")
    second = publications.current(published) / downloads.FOLDER
    assert second != first

    def linked(name: str) -> bool:
        return (first / name).stat().st_ino == (second / name).stat().st_ino

    for name in (
        "regions/84_contrats.csv",
        "departements/74_contrats.csv",
        "regions/84_acheteurs.csv",
        "contracts/notification_year=2024/data_0.parquet",
        "ref_oecp_series.csv",
    ):
        assert linked(name), name
    for name in (
        "regions/11_contrats.csv",
        "departements/75_contrats.csv",
        "contracts/notification_year=2025/data_0.parquet",
        "contracts.csv",
        "pnad_shares.parquet",
        downloads.WORKBOOK,
    ):
        assert not linked(name), name
    assert (second / "regions/11_contrats.csv").read_text(encoding="utf-8-sig").count("\n") == 3
    fresh = tmp_path / "fresh"
    downloads.write_downloads(published.published_db, fresh, downloads.DownloadSettings())
    fresh_files = sorted(p.relative_to(fresh / downloads.FOLDER) for p in fresh.rglob("*.*"))
    assert sorted(p.relative_to(second) for p in second.rglob("*.*")) == fresh_files
    for name in fresh_files:
        if name.suffix == ".parquet":
            assert pd.read_parquet(second / name).equals(
                pd.read_parquet(fresh / "telechargements" / name)
            ), name
        elif name.suffix != ".xlsx":
            assert (second / name).read_bytes() == (fresh / downloads.FOLDER / name).read_bytes(), (
                name
            )
