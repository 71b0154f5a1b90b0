"""The national dashboard: one self-contained HTML page (plotly.js embedded once, French labels,
a data table beside every chart) built from the working database."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import plotly.graph_objects as go
from jinja2 import Environment, FileSystemLoader, select_autoescape
from plotly.offline import get_plotlyjs

from pipelines.lib.formatting import number_fr, percent_fr, points_fr
from pipelines.lib.paths import PROJECT_ROOT

TEMPLATES = PROJECT_ROOT / "pipelines" / "templates"
SOCIAL_COLOUR, ENVIRONMENTAL_COLOUR = "#b5476b", "#2e7d5b"
# No toolbar: it covered the titles, and every chart's data is in the table beside it.
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "displayModeBar": False}
SMALL_SAMPLE = 30  # below this many contracts a share moves a lot with one contract: say so


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
    )
    env.filters.update(number=number_fr, percent=percent_fr, points=points_fr, gap=gap_fr)
    env.globals["SMALL_SAMPLE"] = SMALL_SAMPLE
    return env


def gap_fr(points: float | None) -> str:
    """The gap to a target: points still to go, or 'cible atteinte' when it is reached."""
    if points is not None and points <= 0:
        return "cible atteinte"
    return points_fr(points)


def _rows(con: duckdb.DuckDBPyConnection, query: str, params: dict | None = None) -> list[dict]:
    cursor = con.execute(query, params or {})
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _layout(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0},
        separators=", ",  # French: decimal comma, space between thousands
        height=height,
        margin={"l": 60, "r": 30, "t": 60, "b": 90},
        legend={"orientation": "h", "y": -0.28},
        plot_bgcolor="white",
        font={"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"},
    )
    fig.update_yaxes(gridcolor="#e5e5e5")
    return fig


def national_trend_figure(national: list[dict], oecp: list[dict] | None = None) -> go.Figure:
    """Social and environmental shares by year, with the targets drawn and labelled; the OECP
    national series (2019-2023, another source and basis) as separate dotted lines, with the
    series break marked."""
    oecp = oecp or []
    years = [str(r["year"]) for r in national]
    fig = go.Figure()
    for key, name, colour, symbol in (
        ("social_share", "Série OECP sociale (marchés ≥ 90 k€)", SOCIAL_COLOUR, "circle-open"),
        (
            "environmental_share",
            "Série OECP environnementale (marchés ≥ 90 k€)",
            ENVIRONMENTAL_COLOUR,
            "diamond-open",
        ),
    ):
        points = [r for r in oecp if r[key] is not None]
        if points:
            fig.add_scatter(
                x=[str(r["year"]) for r in points],
                y=[100 * r[key] for r in points],
                name=name,
                mode="lines+markers",  # values in the table beside: labels would overlap
                line={"color": colour, "dash": "dot"},
                marker={"symbol": symbol, "size": 9},
                hovertemplate="%{x} : %{y:.1f} %<extra>" + name + "</extra>",
            )
    for key, name, colour, pattern in (
        ("social_share", "Considération sociale", SOCIAL_COLOUR, ""),
        ("environmental_share", "Considération environnementale", ENVIRONMENTAL_COLOUR, "/"),
    ):
        values = [100 * r[key] for r in national]
        fig.add_bar(
            x=years,
            y=values,
            name=name,
            # the current year is provisional: drawn lighter, and marked in the table
            marker={
                "color": colour,
                "pattern": {"shape": pattern},
                "opacity": [0.45 if r["is_provisional"] else 1.0 for r in national],
            },
            text=[percent_fr(r[key]) for r in national],
            textposition="outside",
            hovertemplate="%{x} : %{y:.1f} %<extra>" + name + "</extra>",
        )
    fig.add_hline(
        y=30,
        line_dash="dash",
        line_color=SOCIAL_COLOUR,
        annotation_text="Cible sociale 30 %",
        annotation_position="top left",
    )
    fig.add_hline(
        y=100,
        line_dash="dot",
        line_color=ENVIRONMENTAL_COLOUR,
        annotation_text="Cible environnementale 100 %",
        annotation_position="top left",
    )
    if oecp and national:
        fig.add_vline(
            x=len({str(r["year"]) for r in oecp}) - 0.5, line_dash="dash", line_color="#555"
        )
        fig.add_annotation(
            x=len({str(r["year"]) for r in oecp}) - 0.5,
            y=108,
            showarrow=False,
            text="rupture de série : OECP | DECP",
            font={"size": 11},
        )
    fig.update_yaxes(title="% des contrats notifiés", range=[0, 112], ticksuffix=" %")
    fig.update_xaxes(title="Année de notification", type="category")
    return _layout(fig, "Part des contrats avec une considération, par année")


def regional_figure(regions: list[dict], year: int) -> go.Figure:
    """Share of contracts with a social consideration by région (buyer territory)."""
    ordered = sorted(regions, key=lambda r: r["social_share"])
    labels = [r["territory_name"] for r in ordered]
    fig = go.Figure()
    fig.add_bar(
        y=labels,
        x=[100 * r["social_share"] for r in ordered],
        orientation="h",
        name="Considération sociale",
        marker={"color": SOCIAL_COLOUR},
        text=[percent_fr(r["social_share"]) for r in ordered],
        textposition="outside",
        hovertemplate="%{y} : %{x:.1f} %<extra></extra>",
    )
    fig.add_vline(
        x=30,
        line_dash="dash",
        line_color="#333",
        annotation_text="Cible 30 %",
        annotation_position="top",
    )
    fig.update_xaxes(
        title="% des contrats notifiés",
        ticksuffix=" %",
        range=[0, max([35] + [100 * r["social_share"] + 8 for r in ordered])],
    )
    return _layout(
        fig,
        f"Considération sociale par région de l'acheteur, {year}",
        height=max(380, 28 * len(ordered) + 120),
    )


@dataclass(frozen=True)
class DashboardData:
    national: list[dict]
    oecp: list[dict]
    regions: list[dict]
    departements: list[dict]
    reference_year: int | None
    quality: dict


def load_dashboard_data(con: duckdb.DuckDBPyConnection) -> DashboardData:
    national = _rows(
        con, "select * from pnad_shares where scope = 'all' and level = 'national' order by year"
    )
    complete = [r for r in national if not r["is_provisional"]]
    reference_year = (complete or national)[-1]["year"] if national else None
    regions = _rows(
        con,
        "select * from pnad_shares where scope = 'all' and level = 'region' and year = $year "
        "order by territory_code nulls last",
        {"year": reference_year},
    )
    departements = _rows(
        con,
        "select * from pnad_shares where scope = 'all' and level = 'departement' "
        "and year = $year "
        "order by territory_code nulls last",
        {"year": reference_year},
    )
    quality = _rows(
        con,
        """
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
        """,
    )[0]
    oecp = _rows(con, "select * from ref_oecp_series order by year")
    return DashboardData(national, oecp, regions, departements, reference_year, quality)


def render_dashboard(data: DashboardData, *, generated_at: datetime | None = None) -> str:
    """The dashboard page as one HTML string (no external resources)."""
    charts = {}
    if data.national:
        charts["national"] = national_trend_figure(data.national, data.oecp).to_html(
            full_html=False, include_plotlyjs=False, config=PLOTLY_CONFIG, div_id="chart-national"
        )
    placed_regions = [r for r in data.regions if r["territory_code"] is not None]
    if placed_regions:
        charts["regions"] = regional_figure(placed_regions, data.reference_year).to_html(
            full_html=False, include_plotlyjs=False, config=PLOTLY_CONFIG, div_id="chart-regions"
        )
    template = _environment().get_template("dashboard.html.j2")
    return template.render(
        data=data,
        charts=charts,
        plotly_js=get_plotlyjs(),
        generated_at=(generated_at or datetime.now()).strftime("%d/%m/%Y à %H:%M"),
        headline=next((r for r in data.national if r["year"] == data.reference_year), None),
    )


def write_dashboard(con: duckdb.DuckDBPyConnection, target: Path) -> Path:
    """Render and write the page atomically (a reader never sees half a page)."""
    html = render_dashboard(load_dashboard_data(con))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    partial.write_text(html, encoding="utf-8")
    os.replace(partial, target)
    return target
