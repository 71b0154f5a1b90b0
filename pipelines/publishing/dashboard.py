"""The national dashboard: a static HTML site under ``PNAD_HOME/reports/`` built from the working
database — index.html (France), one page per région and per département, methode.html.

Every page is self-contained (nothing loaded from the network), opens from the file system,
links to the others by relative paths, shows a data table beside every chart and numbers in
French. Only index.html embeds plotly.js (4.8 MB: its maps and national charts); the région and
département pages draw their charts as inline SVG (svg_charts), so that a site of 121 pages
stays a few megabytes. Text from the data is escaped in the HTML (Jinja autoescape), in the
plotly figures (charts.plain) and in the SVG charts (svg_charts escapes every text it draws).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from pipelines.common.formatting import category_fr, number_fr, percent_fr, points_fr, trend_fr
from pipelines.common.paths import PnadPaths
from pipelines.publishing import charts, maps, publications, svg_charts
from pipelines.publishing.after_2025_sections import empty_sections, sections_by_territory
from pipelines.publishing.database import PUBLISHED_TABLES
from pipelines.publishing.downloads import INDICATOR_VIEWS
from pipelines.publishing.svg_projection import projection_svg
from pipelines.reference.outlines import load_outlines, outlines_path

TEMPLATES = Path(__file__).with_name("templates")
SMALL_SAMPLE = 30  # below this many contracts a share moves a lot with one contract: say so
LISTED = 100  # buyers and opportunities listed on a territory page
LISTED_FILES = 300  # files listed on the method page (all of them are in ingest_files)
# a territory code that can name a page file (codes come from the data: never trust them as paths)
PAGE_CODE = re.compile(r"^(?:\d{2,3}|2[AB])$")
LEVEL_FOLDERS = {"region": "regions", "departement": "departements"}
EMPTY_ROW_KEYS = tuple(
    f"{kind}_{measure}"
    for kind in ("social", "environmental")
    for measure in ("yes", "share", "share_declared", "completeness", "gap_points")
)
SCOPES = {
    "all": "marchés et concessions — le chiffre de référence",
    "marches": "marchés seulement",
    "marches_hors_subsequents": "marchés, sans les marchés subséquents (comptés avec leur "
    "accord-cadre)",
    "oecp_basis": "marchés d'au moins 90 000 € HT (montant initial) : même définition que la "
    "série OECP 2019-2023, pas la même source",
    "hors_defense": "sans les marchés de défense ou de sécurité",
}


def gap_fr(points: float | None) -> str:
    """The gap to a target: points still to go, or 'cible atteinte' when it is reached."""
    if points is not None and points <= 0:
        return "cible atteinte"
    return points_fr(points)


def date_fr(value: date | datetime | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "–"


def size_fr(size: int | None) -> str:
    if size is None:
        return "–"
    if size < 1_000_000:
        return f"{number_fr(size / 1000, 1)}\u202fko"
    return f"{number_fr(size / 1_000_000, 1)}\u202fMo"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        number=number_fr,
        percent=percent_fr,
        points=points_fr,
        gap=gap_fr,
        trend=trend_fr,
        date_fr=date_fr,
        size=size_fr,
        month=charts.month_fr,
        category=category_fr,
    )
    env.globals.update(
        SMALL_SAMPLE=SMALL_SAMPLE,
        LISTED=LISTED,
        SCOPES=SCOPES,
        # the downloads section: every published view, with its description
        PUBLISHED_VIEWS=[(name, text) for name, (_, text) in PUBLISHED_TABLES.items()],
        WORKBOOK_VIEWS=INDICATOR_VIEWS,
    )
    return env


@cache
def _plotly_js() -> Markup:
    # Markup once: the 4.8 MB script is then neither escaped nor copied for each page
    return Markup(get_plotlyjs())


def _rows(con: duckdb.DuckDBPyConnection, query: str, params: dict | None = None) -> list[dict]:
    cursor = con.execute(query, params or {})
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@dataclass(frozen=True)
class Territory:
    """A région or a département that gets its own page."""

    level: str  # region | departement
    code: str
    name: str
    region_code: str | None = None  # the région of a département

    @property
    def href(self) -> str:
        """The page, relative to the site root."""
        return f"{LEVEL_FOLDERS[self.level]}/{self.code}.html"


@dataclass(frozen=True)
class SiteData:
    national: list[dict]  # pnad_shares, scope all, by year
    monthly: list[dict]  # pnad_shares_monthly, national
    oecp: list[dict]
    reference_year: int | None
    shares: dict[tuple[str, str | None], list[dict]]  # (level, territory code) -> rows by year
    territories: dict[str, list[Territory]]  # level -> territories with a page, by code
    buyers: dict[tuple[str, str], list[dict]]  # (level, code) -> reference year's buyers
    opportunities: dict[tuple[str, str], list[dict]]
    quality: dict
    scopes: list[dict]  # national, reference year, every scope of pnad_shares
    downloads: list[dict]
    hours: list[dict]  # facilitator_hours, national, by year worked
    references: list[dict]  # reference_status: downloaded or built-in, and why
    file_sources: list[dict]
    files: list[dict]
    files_total: int
    links: dict[str, dict[str, str]] = field(default_factory=dict)  # level -> code -> href
    # (level, code) -> balance, 2026 obligations, publication gaps, projection (national: 'FR')
    after_2025: dict[tuple[str, str], dict] = field(default_factory=dict)
    rules: list[dict] = field(default_factory=list)  # ref_obligation_rules, with legal sources
    thresholds: list[dict] = field(default_factory=list)  # ref_eu_thresholds

    def table_rows(self, level: str) -> list[dict]:
        """The reference year's row of every territory of one level (an empty one for a
        territory without contracts), then the 'Non localisé' row."""
        rows = []
        for territory in self.territories[level]:
            found = self.year_row(level, territory.code)
            rows.append(found or _empty_row(territory))
        unplaced = self.year_row(level, None)
        return rows + ([unplaced] if unplaced else [])

    def sections(self, level: str, code: str | None) -> dict:
        """The after-2025 sections of a territory (empty ones when it has no row)."""
        return self.after_2025.get((level, code)) or empty_sections()

    def year_row(self, level: str, code: str | None) -> dict | None:
        return next(
            (r for r in self.shares.get((level, code), []) if r["year"] == self.reference_year),
            None,
        )


def _empty_row(territory: Territory) -> dict:
    """A territory without contracts in the year, shaped like a pnad_shares row."""
    return dict.fromkeys(EMPTY_ROW_KEYS) | {
        "territory_code": territory.code,
        "territory_name": territory.name,
        "contracts": 0,
        "is_provisional": False,
    }


def _by_territory(
    con: duckdb.DuckDBPyConnection, table: str, order: str, params: dict
) -> dict[tuple[str, str], list[dict]]:
    """The first LISTED rows of ``table`` per région and per département."""
    grouped: dict[tuple[str, str], list[dict]] = {}
    for level, column in (
        ("region", "buyer_region_code"),
        ("departement", "buyer_departement_code"),
    ):
        where = "year = $year and " if "year" in params else ""
        rows = _rows(
            con,
            # identifiers from the fixed lists above, values bound
            f"select * from {table} where {where}{column} is not null "  # noqa: S608
            f"qualify row_number() over (partition by {column} order by {order}) <= $listed "
            f"order by {column}, {order}",
            {**params, "listed": LISTED},
        )
        for row in rows:
            grouped.setdefault((level, row[column]), []).append(row)
    return grouped


def _territories(con: duckdb.DuckDBPyConnection, shares: dict) -> dict[str, list[Territory]]:
    """Every région and département of the reference tables, and any other territory (an overseas
    collectivity) that has contracts."""
    found: dict[str, dict[str, Territory]] = {"region": {}, "departement": {}}
    for code, name in con.execute(
        "select region_code, region_name from ref_regions where kind = 'region'"
    ).fetchall():
        found["region"][code] = Territory("region", code, name)
    for code, name, region in con.execute(
        "select departement_code, departement_name, region_code from ref_departements "
        "where kind = 'departement'"
    ).fetchall():
        found["departement"][code] = Territory("departement", code, name, region)
    parents = dict(
        con.execute("select departement_code, region_code from ref_departements").fetchall()
    )
    for (level, code), rows in shares.items():
        if level in found and code and code not in found[level]:
            region = parents.get(code) if level == "departement" else None
            found[level][code] = Territory(level, code, rows[-1]["territory_name"], region)
    return {
        level: sorted(
            (t for t in by_code.values() if PAGE_CODE.match(t.code)), key=lambda t: t.code
        )
        for level, by_code in found.items()
    }


QUALITY = """
    select
        (select count(*) from contracts) as contracts,
        (select count(*) from contracts where in_pnad_scope) as contracts_in_scope,
        (select count(*) from contracts where is_test_record) as test_records,
        (select count(*) from contracts where notification_date_suspicious) as suspicious_dates,
        (select count(*) from contracts where in_pnad_scope
            and buyer_territory_method = 'unplaced') as unplaced,
        (select count(*) from contract_versions where not is_kept) as duplicates,
        (select count(*) from contracts where in_pnad_scope
            and (social_contradictory or environmental_contradictory)) as contradictory,
        (select count(*) from contracts where in_pnad_scope
            and (len(social_unrecognised_values) > 0
                 or len(environmental_unrecognised_values) > 0)) as unrecognised,
        (select count(*) from contracts where in_pnad_scope
            and buyer_territory_method = 'place_of_execution') as placed_by_execution,
        (select count(*) from ingest_rejects) as rejects,
        (select count(*) from ingest_files) as files,
        (select count(*) from ingest_files where status <> 'parsed') as files_set_aside,
        (select max(publication_date) from contracts
            where publication_date <= current_date) as latest_publication
"""


def load_site_data(con: duckdb.DuckDBPyConnection) -> SiteData:
    national = _rows(
        con, "select * from pnad_shares where scope = 'all' and level = 'national' order by year"
    )
    complete = [r for r in national if not r["is_provisional"]]
    reference_year = (complete or national)[-1]["year"] if national else None
    shares: dict[tuple[str, str | None], list[dict]] = defaultdict(list)
    for row in _rows(
        con,
        "select * from pnad_shares where scope = 'all' and level in ('region', 'departement') "
        "order by level, territory_code, year",
    ):
        shares[(row["level"], row["territory_code"])].append(row)
    territories = _territories(con, shares)
    year = {"year": reference_year}
    return SiteData(
        national=national,
        monthly=_rows(
            con, "select * from pnad_shares_monthly where level = 'national' order by month"
        ),
        oecp=_rows(con, "select * from ref_oecp_series order by year"),
        reference_year=reference_year,
        shares=dict(shares),
        territories=territories,
        buyers=_by_territory(con, "buyer_shares", "contracts desc, buyer_siret", year),
        opportunities=_by_territory(
            con, "opportunities", "notification_date desc, current_amount desc, uid", {}
        ),
        quality=_rows(con, QUALITY)[0],
        scopes=_rows(
            con,
            "select * from pnad_shares where level = 'national' and year = $year",
            year,
        ),
        downloads=_rows(
            con,
            "select source, url, resource_id, checksum_type, checksum, sha256, size_bytes, "
            "fetched_at, http_status, outcome, reason, last_modified from download_manifest "
            "order by fetched_at desc limit 200",
        ),
        hours=_rows(
            con,
            "select year, hours_worked, etp, hours_planned, completion_rate, participants, "
            "work_contracts, marches, buyers, is_small_aggregate, is_provisional, "
            "(select count(*) from facilitator_decp_links) as linked, "
            "(select count(*) from facilitator_gap_underdeclared) as underdeclared "
            "from facilitator_hours where level = 'national' order by year",
        ),
        references=_rows(
            con,
            "select reference, origin, file, sha256, fetched_at, note from reference_status "
            "order by reference",
        ),
        file_sources=_rows(
            con,
            "select source, count(*) as files, sum(size_bytes) as size_bytes, "
            "count(*) filter (where status <> 'parsed') as set_aside, "
            "sum(records_read) as records_read, sum(records_rejected) as records_rejected, "
            "min(registered_at) as first_registered, max(registered_at) as last_registered "
            "from ingest_files group by source order by source",
        ),
        files=_rows(
            con,
            "select source, relative_path, original_name, format, size_bytes, registered_at, "
            "status, status_reason, records_read, records_rejected, file_id from ingest_files "
            "order by registered_at desc, ingest_seq desc limit $listed",
            {"listed": LISTED_FILES},
        ),
        files_total=con.execute("select count(*) from ingest_files").fetchone()[0],
        links={level: {t.code: t.href for t in listed} for level, listed in territories.items()},
        **_after_2025_data(con),
    )


def _after_2025_data(con: duckdb.DuckDBPyConnection) -> dict:
    """The after-2025 sections of France and of every territory with a page, and the 2026
    obligations' rules and thresholds with their legal sources (for the method page)."""
    return {
        "rules": _rows(con, "select * from ref_obligation_rules order by obligation, rule_id"),
        "thresholds": _rows(
            con, "select * from ref_eu_thresholds order by period_start, contract_type, amount_eur"
        ),
        "after_2025": sections_by_territory(con, LISTED),
    }


def _map_rows(data: SiteData, level: str) -> dict[str, dict]:
    return {
        r["territory_code"]: r
        for r in data.table_rows(level)
        if r["territory_code"] is not None and r["contracts"]
    }


def _index_charts(data: SiteData, outlines: dict | None) -> dict[str, str]:
    if not data.national:
        return {}
    year = data.reference_year
    found = {
        "national": charts.figure_html(
            charts.trend_figure(
                data.national, "Part des contrats avec une considération, par année", data.oecp
            ),
            "chart-national",
        )
    }
    if data.monthly:
        found["monthly"] = charts.figure_html(
            charts.monthly_figure(
                data.monthly, "Part des contrats avec une considération, par mois de notification"
            ),
            "chart-monthly",
        )
    for level, where in (("region", "par région"), ("departement", "par département")):
        rows = _map_rows(data, level)
        names = {t.code: t.name for t in data.territories[level]}
        for kind, name, _, _, _ in charts.SHARES:
            shading = maps.Shading(kind, rows, names, data.links[level])
            found[f"{level}-{kind}"] = charts.figure_html(
                maps.tile_map_figure(level, shading, f"{name} {where}, {year}"),
                f"chart-{level}-{kind}",
            )
            if level == "departement" and kind == "social" and outlines:
                found["departement-outlines"] = charts.figure_html(
                    maps.outline_map_figure(
                        outlines, shading, f"{name} par département (contours), {year}"
                    ),
                    "chart-departement-outlines",
                )
    return found


def _territory_charts(data: SiteData, territory: Territory, children: list[dict]) -> dict:
    """The SVG charts of a territory page (names passed raw: svg_charts escapes them)."""
    found = {}
    rows = data.shares.get((territory.level, territory.code), [])
    if rows:
        found["trend"] = svg_charts.trend_svg(
            rows, f"{territory.name} : part des contrats avec une considération", "chart-trend"
        )
    projection = data.sections(territory.level, territory.code)["projection"]
    if projection:
        found["projection"] = projection_svg(
            projection, f"{territory.name} : trajectoire {projection[0]['year']}"
        )
    with_contracts = [c for c in children if c["contracts"]]
    if with_contracts:
        found["departements"] = svg_charts.ranking_svg(
            with_contracts,
            f"Départements de la région {territory.name}, {data.reference_year}",
            "chart-departements",
        )
    return found


Page = tuple[str, Iterator[str]]  # path relative to the site root, the HTML in chunks


def render_site(
    data: SiteData, *, outlines: dict | None = None, generated_at: datetime | None = None
) -> Iterator[Page]:
    """Every page, index.html last; each page's HTML comes in chunks, written as they come
    (index.html holds plotly.js: 4.8 MB)."""
    env = _environment()
    stamp = (generated_at or datetime.now()).strftime("%d/%m/%Y à %H:%M")

    def page(
        template: str, path: str, found_charts: dict, *, plotly: bool = False, **context: object
    ) -> Page:
        chunks = env.get_template(template).generate(
            root="../" * path.count("/"),
            charts=found_charts,
            # plotly.js only where plotly figures are drawn (the index): the SVG charts need none
            plotly_js=_plotly_js() if plotly and found_charts else None,
            generated_at=stamp,
            data=data,
            **context,
        )
        return path, chunks

    regions = {t.code: t for t in data.territories["region"]}
    for level in ("region", "departement"):
        for territory in data.territories[level]:
            children = []
            if level == "region":
                children = [
                    data.year_row("departement", t.code) or _empty_row(t)
                    for t in data.territories["departement"]
                    if t.region_code == territory.code
                ]
            yield page(
                "territory.html.j2",
                territory.href,
                _territory_charts(data, territory, children),
                territory=territory,
                parent=regions.get(territory.region_code or ""),
                rows=data.shares.get((level, territory.code), []),
                headline=data.year_row(level, territory.code),
                children=children,
                buyers=data.buyers.get((level, territory.code), []),
                after=data.sections(level, territory.code),
                opportunities=data.opportunities.get((level, territory.code), []),
            )
    yield page("methode.html.j2", "methode.html", {}, rules=data.rules, thresholds=data.thresholds)
    national = data.sections("national", "FR")
    index_charts = _index_charts(data, outlines)
    if national.get("projection"):
        index_charts["projection"] = projection_svg(
            national["projection"], f"France : trajectoire {national['projection'][0]['year']}"
        )
    yield page(
        "index.html.j2",
        "index.html",
        index_charts,
        plotly=True,
        after=national,
        headline=next((r for r in data.national if r["year"] == data.reference_year), None),
        has_outlines=outlines is not None,
    )


@dataclass(frozen=True)
class SiteResult:
    index: Path
    pages: int
    outlines: bool  # whether the département outlines map is in


def write_site(
    con: duckdb.DuckDBPyConnection,
    paths: PnadPaths,
    *,
    generated_at: datetime | None = None,
    folder: Path | None = None,
) -> SiteResult:
    """Render the site into ``folder``, a partial publication of this run that the publication
    step makes current together with the database (``publications.py``). Without a folder, the
    pages alone are published at once, beside the current database."""
    standalone = folder is None
    if standalone:
        folder = publications.start(paths, publications.new_version(None))
    outlines = load_outlines(outlines_path(paths))
    data = load_site_data(con)
    pages = 0
    try:
        for relative, chunks in render_site(data, outlines=outlines, generated_at=generated_at):
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            with (folder / relative).open("w", encoding="utf-8") as out:
                out.writelines(chunks)
            pages += 1
        if standalone:
            publications.copy_current_database(paths, folder)
            publications.switch(paths, folder)
    except BaseException:
        publications.discard(folder)
        raise
    index = paths.reports / "index.html" if standalone else folder / "index.html"
    return SiteResult(index, pages, outlines is not None)
