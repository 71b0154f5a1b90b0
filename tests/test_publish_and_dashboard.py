"""Publication of the analysts' database and the dashboard site, on hand-written contracts."""

from __future__ import annotations

import csv
import re
import shutil
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import duckdb
import pytest
from markupsafe import escape

from pipelines.common import warehouse
from pipelines.common.paths import REFERENCE_DIR, PnadPaths
from pipelines.indicators.build import build_shares
from pipelines.publishing import dashboard, database, database_update, maps, svg_charts
from pipelines.publishing.database import (
    PublishRefusedError,
    data_dictionary,
    dictionary_rows,
    publish_database,
)
from pipelines.reference.outlines import outlines_path
from tests.conftest import build_warehouse, marche, sample_data_dir, write_decp_2022


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


def _store_tables(database: Path) -> dict[str, list[tuple]]:
    """Every table of the published file's store, its rows sorted (the order rows were written in
    is not part of a publication)."""
    with duckdb.connect(str(database), read_only=True) as con:
        names = [
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'store'"
            ).fetchall()
        ]
        return {
            name: sorted(map(repr, con.execute(f'from store."{name}"').fetchall()))  # noqa: S608
            for name in names
        }


def test_a_publication_updated_for_the_contracts_that_changed_holds_what_a_whole_write_holds(
    pnad_paths, monkeypatch, tmp_path
):
    day1 = [marche(f"M{n}", social=["Clause sociale"] if n % 2 else None) for n in range(10)]
    write_decp_2022(pnad_paths.raw / "t" / "day1.json", day1)
    build_warehouse(pnad_paths)
    with warehouse.connect(pnad_paths) as con:
        publish_database(con, pnad_paths, run_id="first")
    # day 2: M3 modified (published again, now with an environmental clause), M10 new
    changed = [
        marche("M3", environmental=["Clause environnementale"], published="2024-04-02"),
        marche("M10", notified="2024-05-01", published="2024-05-03"),
    ]
    write_decp_2022(pnad_paths.raw / "t" / "day2.json", changed)
    build_warehouse(pnad_paths)
    monkeypatch.setattr(database_update, "MAX_CHANGED_SHARE", 0.5)
    with warehouse.connect(pnad_paths) as con:
        publish_database(con, pnad_paths, run_id="second")
        whole = tmp_path / "whole.duckdb"
        database._write_database(con, whole, "whole", 11, "fingerprint")
    updated = _store_tables(pnad_paths.published_db)
    assert updated == _store_tables(whole)
    assert len(updated["contracts"]) == 11
    with duckdb.connect(str(pnad_paths.published_db), read_only=True) as reader:
        assert reader.execute("select updates_since_whole from publication").fetchone() == (1,)
        # the views and their comments are made again over the updated tables
        assert reader.execute(
            "select environmental_status from contracts where contract_id = 'M3'"
        ).fetchone() == ("yes",)
        assert reader.execute(
            "select count(*) from duckdb_views() where not internal and comment is not null"
        ).fetchone()[0] == len(database.PUBLISHED_TABLES)

    # a table whose columns changed is written whole; the rest is still updated
    monkeypatch.setitem(
        database.PUBLISHED_TABLES,
        "contracts",
        ("select *, 1 as added_column from contracts", database.PUBLISHED_TABLES["contracts"][1]),
    )
    with warehouse.connect(pnad_paths) as con:
        publish_database(con, pnad_paths, run_id="third", force=True)
    with duckdb.connect(str(pnad_paths.published_db), read_only=True) as reader:
        assert reader.execute("select updates_since_whole from publication").fetchone() == (2,)
        assert reader.execute("select count(added_column) from store.contracts").fetchone() == (11,)
    # after MAX_UPDATES updates in a row, the file is written whole
    monkeypatch.setattr(database_update, "MAX_UPDATES", 2)
    with warehouse.connect(pnad_paths) as con:
        publish_database(con, pnad_paths, run_id="fourth", force=True)
    with duckdb.connect(str(pnad_paths.published_db), read_only=True) as reader:
        assert reader.execute("select updates_since_whole from publication").fetchone() == (0,)


def test_publish_refuses_a_suspiciously_small_run(built):
    with warehouse.connect(built) as con:
        publish_database(con, built, run_id="big")
        con.execute("delete from contracts where uid <> '21740056300011A'")
        with pytest.raises(PublishRefusedError, match="publication refusée : 1 contrats"):
            publish_database(con, built, run_id="small", force=True)
    with duckdb.connect(str(built.published_db), read_only=True) as reader:
        assert reader.execute("select run_id, contracts from publication").fetchone() == ("big", 3)


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
            stored_types = dict(
                con.execute(
                    "select column_name, data_type from duckdb_columns() "
                    "where schema_name = 'store' and table_name = $t",
                    {"t": view},
                ).fetchall()
            )
            for row in dictionary_rows():
                if row["view_name"] == view:
                    assert stored_types[row["column_name"]] == row["column_type"], row
            assert con.execute(
                "select count(*) from duckdb_views() where view_name = $v and comment is not null",
                {"v": view},
            ).fetchone() == (1,)
        assert con.execute("select count(*) from data_dictionary").fetchone()[0] > 150
        # plain SQL, no quoting: the dictionary's columns are not reserved words
        assert (
            con.execute(
                "select column_type, description from data_dictionary "
                "where view_name = 'contracts' and column_name = 'social_status'"
            ).fetchone()[0]
            == "VARCHAR"
        )
    page = (built.reports / "dictionnaire_des_donnees.md").read_text(encoding="utf-8")
    assert "## `contracts`" in page and "| `social_status` |" in page


# --- the dashboard site ---------------------------------------------------------------------

# Markup a DECP publisher could put in a buyer's name or a contract's object: shown as text,
# it must never run (the browser tests check window.__pwned stays undefined).
MARKUP = '<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=1">'
COMMUNE_74, DEPARTEMENT_74 = "21740056300011", "22740001700015"  # Haute-Savoie (région 84)
COMMUNE_69, COMMUNE_972 = "21690123100011", "21972209700016"  # Rhône (84), Martinique (02)
THIN = "\u202f"


def build_site_warehouse(paths: PnadPaths) -> None:
    """A small warehouse for the site: Haute-Savoie 2024 has 7 contracts, 1 with a social
    consideration (14,3 %); France 2024 has 8 (25,0 % social); a buyer whose name and object
    carry markup, in 2024 and 2025 (its 2025 works contract is an opportunity)."""
    with_markup = {"objet": f"Travaux {MARKUP}", "acheteur": {"id": DEPARTEMENT_74,
                   "nom": f"Acheteur {MARKUP}"}}  # fmt: skip
    write_decp_2022(
        paths.raw / "site" / "2024.json",
        [
            marche(
                f"S{i}",
                COMMUNE_74,
                social=["Clause sociale"] if i == 1 else None,
                environmental=["Clause environnementale"] if i <= 2 else None,
            )
            for i in range(1, 7)
        ]
        + [
            marche("X0", DEPARTEMENT_74, **with_markup),
            marche("L1", COMMUNE_69, social=["Critère social"]),
        ],
    )
    write_decp_2022(
        paths.raw / "site" / "2025.json",
        [
            marche(
                "M1",
                COMMUNE_972,
                environmental=["Critère environnemental"],
                notified="2025-03-01",
                published="2025-03-05",
            ),
            marche("T1", COMMUNE_74, notified="2025-04-01", published="2025-04-03"),
            marche(
                "X1",
                DEPARTEMENT_74,
                notified="2025-06-01",
                published="2025-06-05",
                amount=150_000,
                **with_markup,
            ),
        ],  # fmt: skip
    )
    build_warehouse(paths)


def write_site(paths: PnadPaths, outlines: Path | None = None) -> dashboard.SiteResult:
    """Build the site, with the département outlines copied where the site looks for them."""
    if outlines:
        outlines_path(paths).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(outlines, outlines_path(paths))
    with warehouse.connect(paths) as con:
        return dashboard.write_site(con, paths)


def sample_outlines() -> Path:
    """The real département outlines of the shared sample data (skips without them)."""
    return sample_data_dir() / "ref" / "decp.info_departements-1000m.geojson"


class PageStructure(HTMLParser):
    """What the site tests look at in a page: element ids, links, plotly charts, SVG charts
    (with what names them), and which chart blocks hold a table."""

    VOID = {"meta", "link", "br", "img", "input", "hr", "source", "wbr"}

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, int | None]] = []  # tag, chart block it opens
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.charts: list[tuple[str, int | None]] = []  # chart id, enclosing chart block
        self.svg_charts: list[tuple[str, int | None]] = []  # the same, for <svg role="img">
        self.svg_labels: dict[str, list[str]] = {}  # svg chart id -> its aria-labelledby ids
        self.blocks_with_table: set[int] = set()
        self.blocks = 0
        self.feed(text)
        self.close()

    def _block(self) -> int | None:
        return next((b for _, b in reversed(self.open) if b is not None), None)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        for name in ("href", "src"):
            if attrs.get(name) is not None:
                self.links.append(attrs[name])
        if tag == "table" and self._block() is not None:
            self.blocks_with_table.add(self._block())
        if "plotly-graph-div" in classes:
            self.charts.append((attrs["id"], self._block()))
        if tag == "svg" and attrs.get("role") == "img":
            self.svg_charts.append((attrs["id"], self._block()))
            self.svg_labels[attrs["id"]] = (attrs.get("aria-labelledby") or "").split()
        block = None
        if "chart-block" in classes:
            block, self.blocks = self.blocks, self.blocks + 1
        if tag not in self.VOID:
            self.open.append((tag, block))

    def handle_endtag(self, tag: str) -> None:
        while self.open and self.open.pop()[0] != tag:
            pass


def site_pages(reports: Path) -> dict[str, str]:
    return {
        p.relative_to(reports).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(reports.rglob("*.html"))
    }


@pytest.fixture
def site(pnad_paths) -> PnadPaths:
    build_site_warehouse(pnad_paths)
    result = write_site(pnad_paths)
    assert result.index == pnad_paths.dashboard_html and not result.outlines
    return pnad_paths


def test_tile_grid_places_every_territory_once():
    with (REFERENCE_DIR / "departements.csv").open(encoding="utf-8") as handle:
        departements = {r["departement_code"] for r in csv.DictReader(handle)
                        if r["kind"] == "departement"}  # fmt: skip
    with (REFERENCE_DIR / "regions.csv").open(encoding="utf-8") as handle:
        regions = {r["region_code"] for r in csv.DictReader(handle) if r["kind"] == "region"}
    for level, expected in (("departement", departements), ("region", regions)):
        tiles = maps.tile_grid(level)
        assert len(departements) == 101 and len(regions) == 18
        assert sorted(t.code for t in tiles) == sorted(expected), level
        assert len({(t.row, t.col) for t in tiles}) == len(tiles), f"{level}: two tiles, one cell"


def test_site_has_every_page_french_numbers_and_plotly_only_on_the_index(site):
    pages = site_pages(site.reports)
    # France, the method notes, 18 régions, 101 départements (with or without contracts)
    assert Counter(path.split("/")[0] for path in pages if "/" in path) == {
        "regions": 18,
        "departements": 101,
    }
    assert {"index.html", "methode.html"} <= set(pages)
    # the method notes say where the territory tables came from (offline here: built in)
    assert "Tables de référence" in pages["methode.html"]
    assert "table de La Poste non téléchargée" in pages["methode.html"]
    for path, page in pages.items():
        assert page.startswith("<!DOCTYPE html>") and '<html lang="fr">' in page, path
        structure = PageStructure(page)
        # plotly.js (its licence header) exactly once in the index, nowhere else, never fetched
        assert len(re.findall(r"\* plotly\.js v\d", page)) == (path == "index.html"), path
        assert not re.search(r"<(script|link|img)[^>]+(src|href)=[\"']?(https?:)?//", page)
        if path != "index.html":
            # no plotly figure left where there is no plotly.js to draw it; a small page
            assert structure.charts == [] and "Plotly.newPlot" not in page, path
            assert len(page.encode()) < 200_000, path
        # every SVG chart named by its title and described by its desc, both in the page
        for chart, labels in structure.svg_labels.items():
            assert labels == [f"{chart}-title", f"{chart}-desc"], path
            assert set(labels) <= structure.ids, path
    index = pages["index.html"]
    # France 2024: 2 of 8 contracts with a social consideration; Haute-Savoie 2024: 1 of 7
    assert f"25,0{THIN}%" in index and "<td>2024" in index
    assert f"14,3{THIN}%" in pages["departements/74.html"]
    assert f"15,7{THIN}pts" in pages["departements/74.html"]  # 2024 social gap: 30 - 14,3
    assert "cible atteinte" in pages["departements/69.html"]  # 1 of 1 social: 100 %
    assert f"150{THIN}000" in pages["departements/74.html"]  # the opportunity's amount
    # every chart of every page in a block that holds its data table: plotly on the index,
    # inline SVG on the territory pages
    expected = {
        "index.html": ({"chart-national", "chart-monthly", "chart-region-social",
                        "chart-region-environmental", "chart-departement-social",
                        "chart-departement-environmental"}, set()),
        "regions/84.html": (set(), {"chart-trend", "chart-departements"}),
        "departements/74.html": (set(), {"chart-trend"}),
        "methode.html": (set(), set()),
    }  # fmt: skip
    for name, (plotly_ids, svg_ids) in expected.items():
        structure = PageStructure(pages[name])
        assert {c for c, _ in structure.charts} == plotly_ids, name
        assert {c for c, _ in structure.svg_charts} == svg_ids, name
        for chart, block in structure.charts + structure.svg_charts:
            assert block in structure.blocks_with_table, f"{name}: {chart} has no table"
    # the SVG trend of Haute-Savoie labels its points: 2024 social 14,3 %, environmental 28,6 %
    trend = re.search(r'<svg[^>]+id="chart-trend".*?</svg>', pages["departements/74.html"], re.S)
    assert f">14,3{THIN}%</text>" in trend.group() and f">28,6{THIN}%</text>" in trend.group()
    # a département without contracts: a page that says so, no chart
    assert "Aucun contrat du champ PNAD" in pages["departements/2A.html"]
    assert not PageStructure(pages["departements/2A.html"]).svg_charts
    # tables sortable in the browser, readable without it (plain rows, values in cells)
    assert 'id="table-departements" class="sortable"' in index
    assert "Carte des contours des départements non disponible" in index


SVG = "{http://www.w3.org/2000/svg}"


def svg_tree(markup: str) -> ElementTree.Element:
    """An SVG chart parsed as XML: it must be well-formed (escaped text, closed elements)."""
    return ElementTree.fromstring(str(markup))


def share_row(year: int, social: float, environmental: float, **more: object) -> dict:
    """A pnad_shares row as the charts read it."""
    return {
        "year": year,
        "social_share": social,
        "environmental_share": environmental,
        "social_completeness": 1.0,
        "environmental_completeness": 0.5,
        "is_provisional": False,
        **more,
    }


def test_svg_trend_places_each_share_exactly_with_french_labels_and_escaped_title():
    rows = [share_row(2024, 1 / 7, 2 / 7), share_row(2025, 0.25, 1.0, is_provisional=True)]
    markup = svg_charts.trend_svg(rows, f"Haute-Savoie {MARKUP}", "chart-trend")
    svg = svg_tree(markup)
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "chart-trend-title chart-trend-desc"
    # the title from the data: escaped in the markup, the same text once parsed
    assert "<script>" not in markup and "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in markup
    assert svg.find(f"{SVG}title").text == f"Haute-Savoie {MARKUP}"
    assert f"2024 14,3{THIN}%" in svg.find(f"{SVG}desc").text
    assert "2025 100,0" in svg.find(f"{SVG}desc").text and "(provisoire)" in markup
    # the shares panel is 580 wide from x 64 and 220 high from y 84 (100 %) to 304 (0 %); two
    # years sit at the centres of two halves: x 209 and 499. Social 1/7 (14,3 %):
    # y = 84 + 220 * (1 - 0.142857) = 272.6. Environmental 100 % in 2025: y = 84.
    circles = [(c.get("cx"), c.get("cy"), c.get("fill")) for c in svg.iter(f"{SVG}circle")]
    assert ("209.0", "272.6", svg_charts.SOCIAL_COLOUR) in circles
    assert ("499.0", "249.0", "#ffffff") in circles  # 25 % in the provisional year: hollow
    diamonds = [d.get("points") for d in svg.iter(f"{SVG}polygon")]
    assert "499.0,77.5 505.5,84.0 499.0,90.5 492.5,84.0" in diamonds  # 100 %, hollow
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    for label in ("14,3", "28,6", "25,0", "100,0"):
        assert f"{label}{THIN}%" in texts
    # the targets drawn at 30 % (y 238) and 100 % (y 84), named in words
    lines = {(ln.get("y1"), ln.get("stroke")) for ln in svg.iter(f"{SVG}line")}
    assert ("238.0", svg_charts.SOCIAL_COLOUR) in lines
    assert ("84.0", svg_charts.ENVIRONMENTAL_COLOUR) in lines
    assert {"Cible sociale", "Cible environnementale", f"30{THIN}%", f"100{THIN}%"} <= set(texts)
    assert "provisoire" in texts and "marqueur creux : année provisoire" in texts
    # series told apart without colour: solid and dashed lines, circles and diamonds, in words
    dashes = {p.get("stroke-dasharray") for p in svg.iter(f"{SVG}polyline")}
    assert dashes == {None, "7 4"}
    assert "Considération sociale (trait plein, ronds)" in texts


def test_svg_trend_of_a_single_year_sits_in_the_middle_on_the_full_scale():
    svg = svg_tree(svg_charts.trend_svg([share_row(2024, 0.0, 1.0)], "Un an"))
    shares_panel = [c for c in svg.iter(f"{SVG}circle") if c.get("r") == "5.0"]
    assert [(c.get("cx"), c.get("cy")) for c in shares_panel] == [("354.0", "304.0")]  # 0 %
    assert "354.0,77.5 360.5,84.0 354.0,90.5 347.5,84.0" in [
        d.get("points") for d in svg.iter(f"{SVG}polygon")
    ]  # 100 %
    assert list(svg.iter(f"{SVG}polyline")) == []  # one point: no line
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert f"0{THIN}%" in texts and f"100{THIN}%" in texts and "provisoire" not in texts
    assert f"0,0{THIN}%" in texts and f"100,0{THIN}%" in texts


def test_svg_ranking_bars_are_to_scale_hatched_and_names_escaped():
    rows = [
        {"territory_name": f"Savoie {MARKUP}", "territory_code": "73", "social_share": 1.0,
         "environmental_share": 0.5, "is_provisional": False},
        {"territory_name": "Haute-Savoie", "territory_code": "74", "social_share": 1 / 7,
         "environmental_share": 0.0, "is_provisional": False},
    ]  # fmt: skip
    markup = svg_charts.ranking_svg(rows, "Départements", "chart-departements")
    svg = svg_tree(markup)
    assert "<script>" not in markup and "<img" not in markup
    # names on the axis, highest social share first; a long one cut (whole in its tooltip)
    names = [(t.find(f"{SVG}title"), t) for t in svg.iter(f"{SVG}text")]
    names = [(title.text, title.tail) for title, _ in names if title is not None]
    assert names == [
        (f"Savoie {MARKUP} (73)", f"Savoie {MARKUP}"[:39].rstrip() + "…"),
        ("Haute-Savoie (74)", "Haute-Savoie (74)"),
    ]
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert {f"14,3{THIN}%", f"100,0{THIN}%", f"50,0{THIN}%", f"0,0{THIN}%"} <= set(texts)
    bars = [r for r in svg.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    widths = {r.find(f"{SVG}title").text: float(r.get("width")) for r in bars}
    full = widths[f"Savoie {MARKUP} (73), considération sociale : 100,0{THIN}%"]
    assert widths[f"Haute-Savoie (74), considération sociale : 14,3{THIN}%"] == pytest.approx(
        full / 7, abs=0.1
    )
    fills = {r.get("fill") for r in bars}
    assert fills == {svg_charts.SOCIAL_COLOUR, "url(#chart-departements-hatch)"}
    with pytest.raises(ValueError, match="chart id"):
        svg_charts.ranking_svg(rows, "x", 'x" onload="alert(1)')


def test_every_relative_link_of_every_page_resolves(site):
    with warehouse.connect(site) as con:  # the database, and its downloads the pages link to
        publish_database(con, site, run_id="links")
    pages = site_pages(site.reports)
    structures = {path: PageStructure(page) for path, page in pages.items()}
    checked = 0
    for path, structure in structures.items():
        for link in structure.links:
            assert not re.match(r"^[a-z][a-z0-9+.-]*:", link, re.I), f"{path}: absolute {link}"
            target, _, fragment = link.partition("#")
            resolved = (site.reports / path).parent / target if target else site.reports / path
            relative = resolved.resolve().relative_to(site.reports.resolve()).as_posix()
            if relative.startswith("telechargements/"):
                assert resolved.exists(), f"{path}: {link} leads nowhere"
                checked += 1
                continue
            assert relative in pages, f"{path}: {link} leads nowhere"
            if fragment:
                assert fragment in structures[relative].ids, f"{path}: {link} has no anchor"
            checked += 1
    assert checked > 500
    # each page is linked from the site: régions and départements from the index tables
    index_links = set(structures["index.html"].links)
    assert "departements/74.html" in index_links and "regions/84.html" in index_links
    assert "../regions/84.html" in structures["departements/74.html"].links


def test_text_from_data_is_escaped_in_pages_and_figures(site):
    pages = site_pages(site.reports)
    for path, page in pages.items():
        assert "<script>window.__pwned" not in page and "<img src=x" not in page, path
    departement = pages["departements/74.html"]
    # the buyers table and the opportunities list show the markup as text
    assert departement.count(str(escape(f"Acheteur {MARKUP}"))) >= 2
    assert str(escape(f"Travaux {MARKUP}")) in departement
    # a name from the data drawn in a figure (map hover, ranking axis) is escaped there too
    with warehouse.connect(site) as con:
        con.execute(
            "update ref_departements set departement_name = $name where departement_code = '74'",
            {"name": MARKUP},
        )
        build_shares(con, force=True)
        data = dashboard.load_site_data(con)
    for path, chunks in dashboard.render_site(data):
        page = "".join(chunks)
        assert "<script>window.__pwned" not in page and "<img src=x" not in page, path
        if path == "index.html":
            # in the maps' JSON (hover; plotly writes / as \u002f): escaped by charts.plain
            assert "window.__pwned=1&lt;\\u002fscript&gt;" in page, path
            assert "\\u003cscript\\u003ewindow.__pwned" not in page, path
        if path in ("regions/84.html", "departements/74.html"):
            # in the SVG charts (the région's bars, the département's title): escaped text
            for chart in re.findall(r"<svg.*?</svg>", page, re.S):
                assert "<script" not in chart and "<img" not in chart, path
            charts_text = "".join(re.findall(r"<svg.*?</svg>", page, re.S))
            assert str(escape(MARKUP)) in charts_text, path


def test_site_is_published_whole_and_stale_pages_go(site):
    """A new site is a new publication made current in one rename: the old one stays whole for
    whoever has it open, pages of territories that are gone disappear, the database and its
    dictionary are kept beside the new pages."""
    first = site.reports.resolve()
    stale = site.reports / "departements" / "999.html"
    stale.write_text("old", encoding="utf-8")
    (site.reports / "dictionnaire_des_donnees.md").write_text("kept", encoding="utf-8")
    result = write_site(site)
    assert result.pages == 121
    assert site.reports.is_symlink() and site.reports.resolve() != first
    assert not (site.reports / "departements" / "999.html").exists()
    assert (first / "departements" / "999.html").exists()  # the previous publication, untouched
    assert (site.reports / "dictionnaire_des_donnees.md").read_text(encoding="utf-8") == "kept"
    assert not [p for p in site.reports.iterdir() if p.name.startswith(".")]
    assert not [p for p in (site.home / "publications").iterdir() if p.name.startswith(".")]


def test_site_draws_the_real_outlines_when_they_are_cached(pnad_paths):
    outlines = sample_outlines()
    build_site_warehouse(pnad_paths)
    assert write_site(pnad_paths, outlines).outlines
    index = pnad_paths.dashboard_html.read_text(encoding="utf-8")
    structure = PageStructure(index)
    assert any(
        chart == "chart-departement-outlines" and block in structure.blocks_with_table
        for chart, block in structure.charts
    )
    assert "Carte des contours des départements non disponible" not in index
    # an unreadable outlines file: back to the tile grid alone, with the note
    outlines_path(pnad_paths).write_text("<html>erreur</html>", encoding="utf-8")
    assert not write_site(pnad_paths).outlines
    assert "non disponible" in pnad_paths.dashboard_html.read_text(encoding="utf-8")
