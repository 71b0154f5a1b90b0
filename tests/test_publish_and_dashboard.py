"""Publication of the analysts' database and the dashboard page, on hand-written contracts."""

from __future__ import annotations

import re

import duckdb
import pytest

from pipelines.lib import dashboard, warehouse
from pipelines.lib.publish import PublishRefusedError, data_dictionary, publish_database
from tests.conftest import build_warehouse, marche, write_decp_2022


@pytest.fixture
def built(pnad_paths):
    write_decp_2022(
        pnad_paths.raw / "t" / "day1.json",
        [
            marche("A", social=["Clause sociale"]),
            marche("B", environmental=["Clause environnementale"]),
            marche(
                "C",
                notified="2025-02-01",
                published="2025-02-10",
                objet='<script>alert("x")</script> & <img src=x onerror=alert(1)>',
            ),
        ],
    )
    build_warehouse(pnad_paths)
    return pnad_paths


def test_publish_replaces_the_file_atomically_while_a_reader_has_it_open(built):
    with warehouse.connect(built) as con:
        publish_database(con, built, run_id="first")
    reader = duckdb.connect(str(built.published_db), read_only=True)
    assert reader.execute("select count(*) from contracts").fetchone()[0] == 3
    with warehouse.connect(built) as con:
        assert publish_database(con, built, run_id="unchanged") == {"skipped": 1}
        publish_database(con, built, run_id="second", force=True)
    # the open reader still sees a whole database; a new reader sees the new publication
    assert reader.execute("select run_id from publication").fetchone()[0] == "first"
    reader.close()
    with duckdb.connect(str(built.published_db), read_only=True) as fresh:
        assert fresh.execute("select run_id from publication").fetchone()[0] == "second"
        comments = dict(
            fresh.execute(
                "select view_name, comment from duckdb_views() where comment is not null"
            ).fetchall()
        )
    assert {"contracts", "pnad_shares", "ingest_rejects"} <= set(comments)
    assert not list(built.home.glob(".*partial*"))


def test_publish_refuses_a_suspiciously_small_run(built):
    with warehouse.connect(built) as con:
        publish_database(con, built, run_id="big")
        con.execute("delete from contracts where uid <> '21740056300011A'")
        with pytest.raises(PublishRefusedError, match="refusing to publish 1 contracts"):
            publish_database(con, built, run_id="small", force=True)
    with duckdb.connect(str(built.published_db), read_only=True) as reader:
        assert reader.execute("select run_id, contracts from publication").fetchone() == ("big", 3)


def test_dashboard_page_structure_and_french_numbers(built):
    with warehouse.connect(built) as con:
        page = dashboard.write_dashboard(con, built.dashboard_html).read_text(encoding="utf-8")
    # plotly.js embedded exactly once (its licence header), nothing loaded from outside
    assert len(re.findall(r"\* plotly\.js v\d", page)) == 1
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=[\"']?https?:", page)
    # every chart has its data table beside it
    assert 'id="chart-national"' in page and 'id="table-national"' in page
    assert 'id="chart-regions"' in page and 'id="table-regions"' in page
    # 2024: 1 social yes out of 2 contracts -> 50,0 %; 2025 is provisional (current year data)
    assert "50,0\u202f%" in page
    assert '<html lang="fr">' in page


def test_text_from_data_is_escaped_in_html(built):
    with warehouse.connect(built) as con:
        con.execute(
            "update ref_departements set departement_name = '<img src=x onerror=alert(1)>' "
            "where departement_code = '74'"
        )
        warehouse.build_shares(con, force=True)
        page = dashboard.render_dashboard(dashboard.load_dashboard_data(con))
    assert "<img src=x onerror=alert(1)>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_published_views_are_exactly_the_documented_columns(built):
    with warehouse.connect(built) as con:
        publish_database(con, built, run_id="doc")
    documented = data_dictionary()
    with duckdb.connect(str(built.published_db), read_only=True) as con:
        for view, columns in documented.items():
            if view == "publication":
                continue
            stored = [
                r[0]
                for r in con.execute(
                    "select column_name from duckdb_columns() where schema_name = 'store' "
                    "and table_name = $t order by column_index",
                    {"t": view},
                ).fetchall()
            ]
            assert stored == columns, f"{view}: document new columns in data_dictionary.csv"
            assert con.execute(
                "select count(*) from duckdb_views() where view_name = $v and comment is not null",
                {"v": view},
            ).fetchone() == (1,)
        assert con.execute("select count(*) from data_dictionary").fetchone()[0] > 150
    page = (built.reports / "dictionnaire_des_donnees.md").read_text(encoding="utf-8")
    assert "## `contracts`" in page and "| `social_status` |" in page
