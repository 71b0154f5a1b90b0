"""Maps of the régions and départements for the dashboard.

Two kinds: a built-in tile grid (``pipelines/reference/tile_grid.csv``: each territory a square
at a fixed row and column, roughly where it lies, overseas in the lower-left corner) that works
offline and writes the value on every tile, so meaning is never carried by colour alone; and,
when a GeoJSON of département outlines is cached under ``PNAD_HOME/ref/``, a map of the real
outlines (overseas départements in insets). The département grid was laid out once from the
outlines' centroids (metropolitan France on 13 x 13 cells), then adjusted by hand (Alsace,
Corsica, overseas).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache

import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from pipelines.common.formatting import number_fr, percent_fr
from pipelines.common.paths import REFERENCE_DIR
from pipelines.publishing.charts import FONT, SHARES, plain

TILE_GRID = REFERENCE_DIR / "tile_grid.csv"
OVERSEAS_DEPARTEMENTS = ("971", "972", "973", "974", "976")
OVERSEAS_REGIONS = ("01", "02", "03", "04", "06")
NO_DATA_FILL, INK = "#ffffff", "#1f2328"
# light to dark of each series' colour (sequential, so also readable in grey)
COLOUR_SCALES = {
    "social": [[0.0, "#f7e8ee"], [0.5, "#d27a98"], [1.0, "#7a1f40"]],
    "environmental": [[0.0, "#e4f2ea"], [0.5, "#5fae88"], [1.0, "#16503a"]],
}


@dataclass(frozen=True)
class Tile:
    code: str
    label: str
    row: int
    col: int


@cache
def tile_grid(level: str) -> tuple[Tile, ...]:
    """The tiles of one level (region | departement), from the reference CSV."""
    with TILE_GRID.open(encoding="utf-8", newline="") as handle:
        return tuple(
            Tile(r["code"], r["label"], int(r["row"]), int(r["col"]))
            for r in csv.DictReader(handle)
            if r["level"] == level
        )


def _scale(kind: str) -> tuple[list, float]:
    target = next(target for k, _, _, target, _ in SHARES if k == kind)
    return COLOUR_SCALES[kind], float(target)


def _hover(code: str, name: str, row: dict | None, kind: str) -> str:
    title = f"{plain(name)} ({plain(code)})"
    if row is None:
        return f"{title}<br>aucun contrat"
    label = next(label for k, label, _, _, _ in SHARES if k == kind)
    return (
        f"{title}<br>{label} : {percent_fr(row[f'{kind}_share'])}"
        f"<br>complétude : {percent_fr(row[f'{kind}_completeness'])}"
        f"<br>{number_fr(row['contracts'])} contrats"
    )


def _colourbar(kind: str) -> dict:
    scale, target = _scale(kind)
    return {
        "colorscale": scale,
        "cmin": 0,
        "cmax": target,
        "colorbar": {
            "title": {"text": "part"},
            # labels under their ticks: the top one ("≥ 30 %") clear of the bar's title
            "ticklabelposition": "outside bottom",
            "len": 0.6,
            "thickness": 12,
            "tickvals": [0, target / 2, target],
            "ticktext": [f"{v:g} %" for v in (0, target / 2)] + [f"≥ {target:g} %"],
        },
    }


def _layout(title: str, height: int, **more: object) -> dict:
    return {
        "title": {"text": title, "x": 0},
        "separators": ", ",
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 60, "b": 10},
        "plot_bgcolor": "white",
        "font": {"family": FONT},
        **more,
    }


@dataclass(frozen=True)
class Shading:
    """What a map shows: the share of ``kind`` (social | environmental) of each territory."""

    kind: str
    rows: dict[str, dict]  # territory code -> its pnad_shares row (territories with contracts)
    names: dict[str, str]  # territory code -> name, for every territory drawn
    links: dict[str, str]  # territory code -> its page (the page opens it on click)

    def hover(self, code: str) -> str:
        return _hover(code, self.names.get(code, code), self.rows.get(code), self.kind)

    def share(self, code: str) -> float | None:
        row = self.rows.get(code)
        return None if row is None else row[f"{self.kind}_share"]


def tile_map_figure(level: str, shading: Shading, title: str) -> go.Figure:
    """One square per territory at its grid position, shaded by its share up to the target and
    labelled with the code and the value; a territory without contracts is a white tile marked
    '–'. The links go into the points' customdata."""
    tiles = tile_grid(level)
    kind = shading.kind
    scale, target = _scale(kind)
    shapes, inks, texts = [], [], []
    for tile in tiles:
        share = shading.share(tile.code)
        if share is None:
            fill, ink, value = NO_DATA_FILL, INK, "–"
        else:
            position = min(1.0, 100 * share / target)
            fill = sample_colorscale(scale, [position])[0]
            ink = "#ffffff" if position > 0.55 else INK
            value = percent_fr(share)
        shapes.append(
            {"type": "rect", "x0": tile.col - 0.47, "x1": tile.col + 0.47, "y0": tile.row - 0.47,
             "y1": tile.row + 0.47, "fillcolor": fill, "line": {"color": "#8c959f", "width": 1},
             "layer": "below"}
        )  # fmt: skip
        inks.append(ink)
        texts.append(f"<b>{plain(tile.label)}</b><br>{value}")
    traces = [
        {"type": "scatter", "mode": "text", "x": [t.col for t in tiles],
         "y": [t.row for t in tiles], "text": texts,
         "textfont": {"color": inks, "size": 10 if level == "departement" else 12},
         "hovertext": [shading.hover(t.code) for t in tiles],
         "hovertemplate": "%{hovertext}<extra></extra>",
         "customdata": [shading.links.get(t.code, "") for t in tiles], "showlegend": False},
        # an invisible point that only carries the colour bar (tiles are shapes)
        {"type": "scatter", "mode": "markers", "x": [tiles[0].col], "y": [tiles[0].row],
         "hoverinfo": "skip", "showlegend": False,
         "marker": {"color": [0], "opacity": 0, "showscale": True, **_colourbar(kind)}},
    ]  # fmt: skip
    annotations = []
    overseas_codes = OVERSEAS_DEPARTEMENTS if level == "departement" else OVERSEAS_REGIONS
    overseas = [t for t in tiles if t.code in overseas_codes]
    if overseas:
        top, left = min(t.row for t in overseas), min(t.col for t in overseas)
        shapes.append(
            {"type": "rect", "x0": left - 0.55, "x1": max(t.col for t in overseas) + 0.55,
             "y0": top - 0.55, "y1": max(t.row for t in overseas) + 0.55,
             "line": {"color": "#59636e", "width": 1, "dash": "dot"}}
        )  # fmt: skip
        annotations.append(
            {"x": left - 0.5, "y": top - 0.6, "text": "Outre-mer", "showarrow": False,
             "xanchor": "left", "yanchor": "bottom", "font": {"size": 11, "color": "#59636e"}}
        )  # fmt: skip
    rows_count = max(t.row for t in tiles) + 1
    cols_count = max(t.col for t in tiles) + 1
    layout = _layout(
        title,
        560 if level == "departement" else 400,
        shapes=shapes,
        annotations=annotations,
        xaxis={"visible": False, "range": [-0.6, cols_count - 0.4]},
        # row 0 at the top; square tiles
        yaxis={"visible": False, "range": [rows_count - 0.4, -0.9], "scaleanchor": "x",
               "constrain": "domain"},
    )  # fmt: skip
    return go.Figure(data=traces, layout=layout)


def outline_map_figure(outlines: dict, shading: Shading, title: str) -> go.Figure:
    """The départements' real outlines shaded by their share: metropolitan France in the main
    frame, each overseas département in its own inset on the left. Without contracts a
    département is drawn white. No base map: nothing is fetched from the network."""
    features = {f["properties"]["code"]: f for f in outlines["features"]}
    overseas = [code for code in OVERSEAS_DEPARTEMENTS if code in features]
    groups = [("geo", [c for c in features if len(c) == 2])] + [
        (f"geo{i}", [code]) for i, code in enumerate(overseas, start=2)
    ]
    traces = []
    for geo, codes in groups:
        common = {
            "type": "choropleth",
            "geojson": {"type": "FeatureCollection", "features": [features[c] for c in codes]},
            "featureidkey": "properties.code",
            "geo": geo,
            "marker": {"line": {"color": "#8c959f", "width": 0.6}},
        }
        # every département drawn white first: one without contracts still has its outline
        traces.append(
            {**common, "locations": codes, "z": [0] * len(codes), "showscale": False,
             "colorscale": [[0, NO_DATA_FILL], [1, NO_DATA_FILL]], "hoverinfo": "skip"}
        )  # fmt: skip
        shaded = [c for c in codes if shading.share(c) is not None]
        colours = _colourbar(shading.kind)
        traces.append(
            {**common, "locations": shaded,
             "z": [min(100 * shading.share(c), colours["cmax"]) for c in shaded],
             "zmin": 0, "zmax": colours["cmax"], "colorscale": colours["colorscale"],
             "colorbar": colours["colorbar"], "showscale": geo == "geo",
             "hovertext": [shading.hover(c) for c in shaded],
             "hovertemplate": "%{hovertext}<extra></extra>",
             "customdata": [shading.links.get(c, "") for c in shaded]}
        )  # fmt: skip
    # geo.visible False: no base map, so plotly.js fetches no topojson from its CDN
    geo = {"fitbounds": "locations", "visible": False, "bgcolor": "white"}
    layout = _layout(title, 620, geo={**geo, "domain": {"x": [0.2, 1], "y": [0, 1]}})
    annotations = []
    for i, code in enumerate(overseas):
        top = 1 - i / len(overseas)
        layout[f"geo{i + 2}"] = {
            **geo,
            "domain": {"x": [0, 0.17], "y": [top - 1 / len(overseas) + 0.02, top - 0.05]},
        }
        annotations.append(
            {"x": 0.085, "y": top, "xref": "paper", "yref": "paper", "showarrow": False,
             "yanchor": "top", "text": plain(shading.names.get(code, code)),
             "font": {"size": 10, "color": "#59636e"}}
        )  # fmt: skip
    layout["annotations"] = annotations
    return go.Figure(data=traces, layout=layout)
