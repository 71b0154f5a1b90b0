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

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import duckdb
from jinja2 import Environment
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from pipelines.common.formatting import size_fr
from pipelines.common.paths import PnadPaths
from pipelines.publishing import charts, maps, publications, svg_charts
from pipelines.publishing.database import PUBLISHED_TABLES
from pipelines.publishing.downloads import INDICATOR_VIEWS
from pipelines.publishing.site_data import (
    LISTED,
    SiteData,
    Territory,
    empty_row,
    load_site_data,
)
from pipelines.publishing.svg_projection import projection_svg
from pipelines.publishing.templating import page_environment
from pipelines.reference.outlines import load_outlines, outlines_path

SCOPES = {
    "all": "marchés et concessions — le chiffre de référence",
    "marches": "marchés seulement",
    "marches_hors_subsequents": "marchés, sans les marchés subséquents (comptés avec leur "
    "accord-cadre)",
    "oecp_basis": "marchés d'au moins 90 000 € HT (montant initial) : même définition que la "
    "série OECP 2019-2023, pas la même source",
    "hors_defense": "sans les marchés de défense ou de sécurité",
}


def _environment() -> Environment:
    env = page_environment(trim_blocks=True, lstrip_blocks=True)
    env.filters.update(size=size_fr, month=charts.month_fr)
    env.globals.update(
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
                data.national,
                "Part des contrats avec une considération, par année de notification",
                data.oecp,
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
                    data.year_row("departement", t.code) or empty_row(t)
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
