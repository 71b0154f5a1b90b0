"""The dashboard's plotly figures (French labels and number separators), and how one is embedded
in a page: a div and its script, plotly.js itself being included once by the page. Only the index
page draws plotly figures; the région and département pages draw SVG (svg_charts).

Figures are built from plain dicts and validated once (``go.Figure(data, layout)``): plotly's
incremental helpers (add_hline, add_shape...) re-validate the whole figure at each call, which
made a site of a hundred pages slow to build.
"""

from __future__ import annotations

import html
from datetime import date

import plotly.graph_objects as go

from pipelines.common.formatting import percent_fr

SOCIAL_COLOUR, ENVIRONMENTAL_COLOUR = "#b5476b", "#2e7d5b"
# No toolbar: it covered the titles, and every chart's data is in the table beside it.
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "displayModeBar": False}
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
MONTHS_FR = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)
# kind (column prefix), label, colour, target in %, bar pattern (meaning not by colour alone)
SHARES = (
    ("social", "Considération sociale", SOCIAL_COLOUR, 30, ""),
    ("environmental", "Considération environnementale", ENVIRONMENTAL_COLOUR, 100, "/"),
)
PERCENT_AXIS = {
    "title": "% des contrats notifiés",
    "range": [0, 112],
    "ticksuffix": " %",
    "gridcolor": "#e5e5e5",
}


def plain(text: object) -> str:
    """Text from the data made safe for a figure: plotly renders a subset of HTML in labels and
    hover boxes, so markup is escaped (plotly shows the entities as the characters)."""
    return html.escape("" if text is None else str(text), quote=False)


def month_fr(month: date) -> str:
    return f"{MONTHS_FR[month.month - 1]} {month.year}"


def figure_html(fig: go.Figure, div_id: str) -> str:
    """The figure's div and script, without plotly.js (the page embeds it once)."""
    return fig.to_html(full_html=False, include_plotlyjs=False, config=PLOTLY_CONFIG, div_id=div_id)


def base_layout(title: str, height: int, **more: object) -> dict:
    return {
        "title": {"text": title, "x": 0},
        "separators": ", ",  # French: decimal comma, space between thousands
        "height": height,
        "margin": {"l": 60, "r": 30, "t": 60, "b": 90},
        "legend": {"orientation": "h", "y": -0.28},
        "plot_bgcolor": "white",
        "font": {"family": FONT},
        **more,
    }


def target_lines(axis: str = "y", yref: str = "y") -> tuple[list[dict], list[dict]]:
    """The 30 % and 100 % targets as (shapes, annotations) across the plot: horizontal lines
    on ``yref`` when ``axis`` is y, vertical ones on x otherwise."""
    shapes, annotations = [], []
    for _, label, colour, target, _ in SHARES:
        text = f"Cible {label.split()[-1]} {target} %"
        line = {"color": colour, "dash": "dash" if target == 30 else "dot", "width": 2}
        if axis == "y":
            shapes.append(
                {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": yref, "y0": target,
                 "y1": target, "line": line}
            )  # fmt: skip
            annotations.append(  # on white: readable where a line crosses it (a phone)
                {"xref": "paper", "x": 0, "yref": yref, "y": target, "text": text,
                 "showarrow": False, "xanchor": "left", "yanchor": "bottom",
                 "bgcolor": "rgba(255, 255, 255, 0.85)"}
            )  # fmt: skip
        else:
            shapes.append(
                {"type": "line", "yref": "paper", "y0": 0, "y1": 1, "xref": "x", "x0": target,
                 "x1": target, "line": line}
            )  # fmt: skip
            annotations.append(
                {"yref": "paper", "y": 1, "x": target, "text": text, "showarrow": False,
                 "yanchor": "bottom"}
            )  # fmt: skip
    return shapes, annotations


def _hover(name: str, value: str = "%{y:.1f} %") -> str:
    return "%{x} : " + value + "<extra>" + name + "</extra>"


def trend_figure(rows: list[dict], title: str, oecp: list[dict] | None = None) -> go.Figure:
    """Social and environmental shares by year, with the targets drawn and labelled; the OECP
    national series (2019-2023, another source and basis), when given, as separate dotted lines
    with the series break marked."""
    traces = []
    for (kind, label, colour, _, _), symbol in zip(
        SHARES, ("circle-open", "diamond-open"), strict=True
    ):
        points = [r for r in oecp or [] if r[f"{kind}_share"] is not None]
        name = f"Série OECP {label.split()[-1]} (marchés ≥ 90 k€)"
        if points:  # no value labels: they would overlap (values in the table beside)
            traces.append(
                {"type": "scatter", "name": name, "mode": "lines+markers",
                 "x": [str(r["year"]) for r in points],
                 "y": [100 * r[f"{kind}_share"] for r in points],
                 "line": {"color": colour, "dash": "dot"},
                 "marker": {"symbol": symbol, "size": 9},
                 "hovertemplate": _hover(name)}
            )  # fmt: skip
    for kind, label, colour, _, pattern in SHARES:
        traces.append(
            {"type": "bar", "name": label, "x": [str(r["year"]) for r in rows],
             "y": [100 * r[f"{kind}_share"] for r in rows],
             # the current year is provisional: drawn lighter, and marked in the table
             "marker": {"color": colour, "pattern": {"shape": pattern},
                        "opacity": [0.45 if r["is_provisional"] else 1.0 for r in rows]},
             "text": [percent_fr(r[f"{kind}_share"]) for r in rows],
             "textposition": "outside", "hovertemplate": _hover(label)}
        )  # fmt: skip
    shapes, annotations = target_lines()
    if oecp and rows:
        series_break = len({str(r["year"]) for r in oecp}) - 0.5
        shapes.append(
            {"type": "line", "xref": "x", "x0": series_break, "x1": series_break,
             "yref": "paper", "y0": 0, "y1": 1, "line": {"dash": "dash", "color": "#555"}}
        )  # fmt: skip
        annotations.append(  # above the plot: clear of the 100 % target's label on a phone
            {"x": series_break, "yref": "paper", "y": 1, "yanchor": "bottom", "showarrow": False,
             "font": {"size": 11}, "text": "rupture de série : OECP | DECP"}
        )  # fmt: skip
    layout = base_layout(
        title,
        380,
        shapes=shapes,
        annotations=annotations,
        yaxis=PERCENT_AXIS,
        # the year is named in the chart's title: an axis title ran into the legend on a phone
        xaxis={"type": "category"},
        # a value too small to read on a narrow bar is left out (it is in the table beside)
        uniformtext={"minsize": 9, "mode": "hide"},
    )
    return go.Figure(data=traces, layout=layout)


def monthly_figure(rows: list[dict], title: str) -> go.Figure:
    """Shares by month of notification (top, targets drawn) and their completeness (below, on
    its own axis so that a 100 % completeness does not hide the 100 % target); provisional
    months drawn with open markers."""
    months = [month_fr(r["month"]) for r in rows]
    traces = []
    for kind, label, colour, _, _ in SHARES:
        traces.append(
            {"type": "scatter", "name": label, "x": months,
             "y": [100 * r[f"{kind}_share"] for r in rows], "mode": "lines+markers",
             "line": {"color": colour, "dash": "solid" if kind == "social" else "dashdot"},
             "marker": {"color": colour, "size": 8, "symbol": [
                 ("circle" if kind == "social" else "diamond")
                 + ("-open" if r["is_provisional"] else "") for r in rows]},
             "hovertemplate": _hover(label), "xaxis": "x", "yaxis": "y"}
        )  # fmt: skip
        completeness = f"Complétude – {label.lower()}"
        traces.append(
            {"type": "scatter", "name": completeness, "x": months,
             "y": [100 * r[f"{kind}_completeness"] for r in rows], "mode": "lines",
             "line": {"color": colour, "dash": "dot", "width": 1.5},
             "hovertemplate": _hover(completeness), "xaxis": "x", "yaxis": "y2"}
        )  # fmt: skip
    shapes, annotations = target_lines()
    layout = base_layout(
        title,
        520,
        shapes=shapes,
        annotations=annotations,
        yaxis={**PERCENT_AXIS, "domain": [0.36, 1], "title": "part des contrats"},
        # its labels above their ticks: "0 %" clear of the months standing upright on a phone
        yaxis2={
            **PERCENT_AXIS,
            "domain": [0, 0.24],
            "title": "complétude",
            "ticklabelposition": "outside top",
        },
        # no axis title: the chart's title says "par mois de notification", and on a phone the
        # title of an axis whose month labels stand upright ran into the legend
        xaxis={"type": "category", "anchor": "y2"},
        legend={"orientation": "h", "y": -0.32},
        margin={"l": 60, "r": 30, "t": 60, "b": 120},
    )
    return go.Figure(data=traces, layout=layout)
