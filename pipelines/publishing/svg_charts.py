"""Charts drawn as inline SVG in Python, for pages that must stay small (no plotly.js): the
shares of a territory by year with their completeness, and the shares of a list of territories.

Each chart is one ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that states every value
(a screen reader reads those), direct value labels in French format, marker shapes, dash patterns
and a hatch that tell the series apart without colour, a legend in text, and the 30 % / 100 %
targets drawn and named. Every text from the data goes through ``markupsafe.escape``: markup in a
territory name is drawn as text. Coordinates have one decimal, so a test can compute them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from markupsafe import Markup, escape

from pipelines.common.formatting import THIN_SPACE, number_fr, percent_fr
from pipelines.publishing.label_placement import Box, place_labels

SOCIAL_COLOUR, ENVIRONMENTAL_COLOUR = "#b5476b", "#2e7d5b"  # the site's --social and --env
INK, MUTED, GRID = "#1f2328", "#59636e", "#e5e5e5"
WIDTH = 800  # of the viewBox; the page scales the chart down on a narrow screen


@dataclass(frozen=True)
class Series:
    """How one consideration is drawn: never by its colour alone."""

    kind: str  # the column prefix: social | environmental
    label: str
    short: str  # in sentences: "sociale", "environnementale"
    colour: str
    target: int  # in %
    marker: str  # circle | diamond
    dash: str  # stroke-dasharray of its line ("" = solid)
    dash_name: str  # the dash pattern in words, for the legend and the description

    @property
    def marker_name(self) -> str:
        return "ronds" if self.marker == "circle" else "losanges"


SERIES = (
    Series("social", "Considération sociale", "sociale", SOCIAL_COLOUR, 30, "circle", "",
           "trait plein"),
    Series("environmental", "Considération environnementale", "environnementale",
           ENVIRONMENTAL_COLOUR, 100, "diamond", "7 4", "tirets"),
)  # fmt: skip
TARGET_DASH = "2 3"
CHART_ID = re.compile(r"^[a-z][a-z0-9-]*$")


@dataclass(frozen=True)
class Frame:
    """A plotting area in viewBox units; y runs from 100 % (top) to 0 % (bottom)."""

    left: float
    top: float
    width: float
    height: float

    @property
    def bottom(self) -> float:
        return self.top + self.height

    @property
    def right(self) -> float:
        return self.left + self.width

    def y(self, percent: float) -> float:
        return self.top + self.height * (1 - _clamp(percent) / 100)

    def x(self, percent: float) -> float:
        return self.left + self.width * _clamp(percent) / 100

    def slot(self, index: int, count: int) -> float:
        """The centre of the index-th of count evenly spaced categories (one: the middle)."""
        return self.left + self.width * (index + 0.5) / count


# The trend chart: shares by year (top), completeness of the declarations (below).
TREND_SHARES = Frame(left=64, top=84, width=580, height=220)
TREND_COMPLETENESS = Frame(left=64, top=372, width=580, height=64)
TREND_HEIGHT = 486
# The ranking chart: a group of two bars per territory.
RANKING_TOP, RANKING_GROUP, RANKING_BAR, RANKING_RIGHT = 104, 38, 13, 64
NAME_LIMIT = 40  # characters of a territory's name on the ranking's axis


def _clamp(percent: float) -> float:
    return min(100.0, max(0.0, percent))


def _n(value: float) -> str:
    """A coordinate: one decimal, so that tests can state exact positions."""
    return f"{value:.1f}"


def _attrs(attrs: dict[str, object]) -> str:
    """XML attributes, escaped; a trailing underscore or an underscore in a name is a dash
    (``class_`` -> class, ``stroke_width`` -> stroke-width)."""
    return "".join(
        f' {name.rstrip("_").replace("_", "-")}="{escape(value)}"'
        for name, value in attrs.items()
        if value is not None
    )


def _element(tag: str, content: object = None, **attrs: object) -> str:
    if content is None:
        return f"<{tag}{_attrs(attrs)}/>"
    return f"<{tag}{_attrs(attrs)}>{content}</{tag}>"


def _text(x: float, y: float, content: str, **attrs: object) -> str:
    """A text element; its content escaped here (never put raw data into the SVG)."""
    return _element("text", escape(content), x=_n(x), y=_n(y), **attrs)


def _label(x: float, y: float, content: str, font_size: float = 12, **attrs: object) -> str:
    """A value label on a white box (its width estimated from the text), readable where a line
    crosses it."""
    width = len(content) * 0.6 * font_size + 4
    anchor = attrs.get("text_anchor", "start")
    left = {"start": x - 2, "end": x - width + 2, "middle": x - width / 2}[anchor]
    box = _element("rect", x=_n(left), y=_n(y - font_size + 1), width=_n(width),
                   height=_n(font_size + 3), rx=2, fill="#ffffff", fill_opacity=0.85)  # fmt: skip
    return box + _text(x, y, content, font_size=font_size, **attrs)


def _percent_tick(percent: float) -> str:
    return f"{number_fr(percent)}{THIN_SPACE}%"


def _marker(series: Series, x: float, y: float, size: float, hollow: bool, tip: str) -> str:
    """A point: a circle (social) or a diamond (environmental), hollow when provisional; its
    value as a tooltip."""
    fill = "#ffffff" if hollow else series.colour
    style = {"fill": fill, "stroke": series.colour, "stroke_width": 2}
    tooltip = _element("title", escape(tip))
    if series.marker == "circle":
        return _element("circle", tooltip, cx=_n(x), cy=_n(y), r=_n(size), **style)
    d = size * 1.3
    points = f"{_n(x)},{_n(y - d)} {_n(x + d)},{_n(y)} {_n(x)},{_n(y + d)} {_n(x - d)},{_n(y)}"
    return _element("polygon", tooltip, points=points, **style)


def _lines(series: Series, points: list[tuple[float, float] | None], width: float) -> str:
    """The series' polyline; a missing value breaks it."""
    runs: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            runs.append([])
        else:
            runs[-1].append(point)
    return "".join(
        _element("polyline", points=" ".join(f"{_n(x)},{_n(y)}" for x, y in run), fill="none",
                 stroke=series.colour, stroke_width=width, stroke_dasharray=series.dash or None)
        for run in runs
        if len(run) > 1
    )  # fmt: skip


def _svg(chart_id: str, height: float, title: str, description: str, body: Iterable[str]) -> Markup:
    """The accessible wrapper: role img, named by its title and described by its desc."""
    if not CHART_ID.match(chart_id):
        raise ValueError(f"not a usable chart id: {chart_id!r}")
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{chart_id}" class="svg-chart" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" viewBox="0 0 {WIDTH} {_n(height)}" '
        f'width="{WIDTH}" height="{_n(height)}" font-size="12" fill="{INK}">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")


def _shorten(text: str, limit: int) -> str:
    """A drawn text cut to fit (the whole text stays in the title, desc and table)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _heading(title: str) -> str:
    return _text(0, 20, _shorten(title, 88), font_size=15, font_weight=600)


def _legend_line(x: float, y: float, series: Series) -> str:
    """A legend sample: a stretch of the series' line with its marker."""
    line = _element("line", x1=_n(x), y1=_n(y), x2=_n(x + 28), y2=_n(y), stroke=series.colour,
                    stroke_width=2, stroke_dasharray=series.dash or None)  # fmt: skip
    return line + _marker(series, x + 14, y, 4.5, False, series.label)


def _y_axis(frame: Frame, ticks: Iterable[int], title: str | None) -> list[str]:
    parts = []
    for tick in ticks:
        y = frame.y(tick)
        parts.append(_element("line", x1=_n(frame.left), y1=_n(y), x2=_n(frame.right), y2=_n(y),
                              stroke=GRID if tick else MUTED, stroke_width=1))  # fmt: skip
        parts.append(_text(frame.left - 6, y + 4, _percent_tick(tick), text_anchor="end",
                           fill=MUTED, font_size=11))  # fmt: skip
    if title:
        middle = frame.top + frame.height / 2
        parts.append(_text(14, middle, title, text_anchor="middle", fill=MUTED, font_size=11,
                           transform=f"rotate(-90 14 {_n(middle)})"))  # fmt: skip
    return parts


def _year_labels(frame: Frame, rows: list[dict]) -> list[str]:
    parts = []
    for i, row in enumerate(rows):
        x = frame.slot(i, len(rows))
        parts.append(_text(x, frame.bottom + 17, str(row["year"]), text_anchor="middle"))
        if row.get("is_provisional"):
            parts.append(_text(x, frame.bottom + 30, "provisoire", text_anchor="middle",
                               fill=MUTED, font_size=10, font_style="italic"))  # fmt: skip
    return parts


def _value(row: dict, column: str) -> float | None:
    value = row.get(column)
    return None if value is None else 100 * float(value)


def _point(
    frame: Frame, index: int, count: int, percent: float | None
) -> tuple[float, float] | None:
    return None if percent is None else (frame.slot(index, count), frame.y(percent))


def _series_sentence(series: Series, rows: list[dict], column: str, lead: str) -> str:
    values = ", ".join(
        f"{row['year']} {percent_fr(row.get(column))}"
        + (" (provisoire)" if row.get("is_provisional") else "")
        for row in rows
    )
    return f"{lead} : {values}."


def _trend_legend(provisional: bool) -> list[str]:
    """The legend, in words and samples: the two series, the targets, hollow markers."""
    parts = []
    x = 0.0
    for series in SERIES:
        parts.append(_legend_line(x, 44, series))
        text = f"{series.label} ({series.dash_name}, {series.marker_name})"
        parts.append(_text(x + 34, 48, text))
        x += 34 + 6.3 * len(text) + 18
    parts += [
        _element("line", x1="0", y1="64", x2="28", y2="64", stroke=MUTED, stroke_width=1.5,
                 stroke_dasharray=TARGET_DASH),
        _text(34, 68, "cibles PNAD 2025 (pointillés)"),
    ]  # fmt: skip
    if provisional:
        parts.append(_marker(SERIES[0], 240, 64, 4.5, True, "année provisoire"))
        parts.append(_text(250, 68, "marqueur creux : année provisoire"))
    return parts


def _target_lines(shares: Frame) -> list[str]:
    """The 30 % and 100 % targets across the shares frame, named and valued at its right."""
    parts = []
    for series in SERIES:
        y = shares.y(series.target)
        parts.append(_element("line", x1=_n(shares.left), y1=_n(y), x2=_n(shares.right), y2=_n(y),
                              stroke=series.colour, stroke_width=1.5,
                              stroke_dasharray=TARGET_DASH))  # fmt: skip
        parts.append(_text(shares.right + 8, y - 2, f"Cible {series.short}", fill=series.colour,
                           font_size=11))  # fmt: skip
        parts.append(_text(shares.right + 8, y + 11, _percent_tick(series.target),
                           fill=series.colour, font_size=11, font_weight=600))  # fmt: skip
    return parts


def _share_labels(shares: Frame, requests: list[tuple]) -> list[str]:
    """The value labels of the shares panel (series, point, text, the series' points), each
    where it crosses no line, target, marker nor other label (label_placement.py); social to
    the left of its point first, environmental to the right."""
    segments = [((shares.left, shares.y(s.target)), (shares.right, shares.y(s.target)))
                for s in SERIES]  # fmt: skip
    for points in {id(r[3]): r[3] for r in requests}.values():
        drawn = [p for p in points if p is not None]
        segments += list(zip(drawn, drawn[1:], strict=False))
    markers = [Box(x - 7, y - 7, x + 7, y + 7) for _, (x, y), _, _ in requests]
    bounds = Box(shares.left, shares.top - 10, shares.right + 4, shares.bottom + 2)
    placed = place_labels(
        [(point, text, series is SERIES[0]) for series, point, text, _ in requests],
        segments,
        markers,
        bounds,
    )
    return [
        _label(spot.x, spot.y, text, text_anchor=spot.anchor, fill=series.colour,
               font_weight=600)
        for (series, _, text, _), spot in zip(requests, placed, strict=True)
    ]  # fmt: skip


def trend_svg(rows: list[dict], title: str, chart_id: str = "chart-trend") -> Markup:
    """A territory's social and environmental shares by year (pnad_shares rows, in year order)
    against the 30 % and 100 % targets, each point labelled; below, the completeness of the
    declarations on its own 0-100 % scale (so that it never hides the 100 % target). A
    provisional year has hollow markers and says so under its label."""
    rows = list(rows)
    shares, completeness = TREND_SHARES, TREND_COMPLETENESS
    provisional = any(r.get("is_provisional") for r in rows)
    parts = [_heading(title), *_trend_legend(provisional)]
    parts += _y_axis(shares, range(0, 101, 20), "% des contrats notifiés")
    parts += _target_lines(shares)
    parts += _year_labels(shares, rows)
    # completeness panel
    parts.append(_text(0, completeness.top - 14, "Complétude des déclarations (contrats ayant "
                       "déclaré « oui » ou « non »)", fill=MUTED, font_size=11))  # fmt: skip
    parts += _y_axis(completeness, (0, 50, 100), None)
    parts += _year_labels(completeness, rows)
    lines, markers, requests = [], [], []
    # environmental drawn first, its line wider: where both series have the same value, the
    # social line shows inside the environmental one and the social circle inside the diamond
    for index, series in reversed(list(enumerate(SERIES))):
        for frame, column, size, width in (
            (shares, f"{series.kind}_share", 5, 2.5 + 2 * index),
            (completeness, f"{series.kind}_completeness", 3.5, 1.5 + 2 * index),
        ):
            points = [
                _point(frame, i, len(rows), _value(row, column)) for i, row in enumerate(rows)
            ]
            lines.append(_lines(series, points, width))
            what = "part" if frame is shares else "complétude"
            for row, point in zip(rows, points, strict=True):
                if point is None:
                    continue
                text = percent_fr(row[column])
                tip = f"{series.label}, {what} {row['year']} : {text}"
                markers.append(_marker(series, *point, size, bool(row.get("is_provisional")), tip))
                if frame is shares:
                    requests.append((series, point, text, points))
    # labels last, over every line and marker
    parts += lines + markers + _share_labels(shares, requests)
    description = " ".join(
        ["Graphique en courbes par année de notification, de 0 à 100 %."]
        + [
            _series_sentence(
                s, rows, f"{s.kind}_share",
                f"{s.label} ({s.dash_name}, {s.marker_name}, "
                f"cible {s.target} %)",
            )
            for s in SERIES
        ]
        + [_series_sentence(s, rows, f"{s.kind}_completeness", f"Complétude {s.short}")
           for s in SERIES]
        + ["Les valeurs sont aussi dans le tableau qui suit le graphique."]
    )  # fmt: skip
    return _svg(chart_id, TREND_HEIGHT, title, description, parts)


def _hatch(chart_id: str, series: Series) -> str:
    """Diagonal white stripes over the series' colour: the environmental bars are told from the
    social ones without colour (and print that way)."""
    return (
        f'<defs><pattern id="{chart_id}-hatch" patternUnits="userSpaceOnUse" width="6" height="6" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="{series.colour}"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="#ffffff" stroke-width="2.5"/></pattern></defs>'
    )


def ranking_svg(rows: list[dict], title: str, chart_id: str = "chart-departements") -> Markup:
    """Both shares of each territory of a list (pnad_shares rows of one year), one group of two
    bars per territory, highest social share first; solid bars social, hatched bars
    environmental, each labelled with its value; the targets as dotted vertical lines."""
    ordered = sorted(rows, key=lambda r: (-(r.get("social_share") or 0), r["territory_name"]))
    if any(r.get("is_provisional") for r in ordered):
        title = f"{title} (provisoire)"
    names = [f"{r['territory_name']} ({r['territory_code']})" for r in ordered]
    # axis labels cut at NAME_LIMIT characters, the margin sized to the longest
    axis_names = [_shorten(n, NAME_LIMIT) for n in names]
    left = max(120.0, 6.6 * max((len(n) for n in axis_names), default=0) + 16)
    frame = Frame(left, RANKING_TOP, WIDTH - left - RANKING_RIGHT, RANKING_GROUP * len(ordered))
    social, environmental = SERIES
    fills = {social.kind: social.colour, environmental.kind: f"url(#{chart_id}-hatch)"}
    parts = [_hatch(chart_id, environmental), _heading(title)]
    x = 0.0
    for series in SERIES:
        shape = {"fill": fills[series.kind], "stroke": series.colour}
        parts.append(_element("rect", x=_n(x), y="36", width="22", height="12", **shape))
        text = f"{series.label} ({'barre pleine' if series is social else 'barre hachurée'})"
        parts.append(_text(x + 28, 46, text))
        x += 28 + 6.3 * len(text) + 18
    parts.append(_element("line", x1="0", y1="64", x2="28", y2="64", stroke=MUTED,
                          stroke_width=1.5, stroke_dasharray=TARGET_DASH))  # fmt: skip
    parts.append(_text(34, 68, "cibles PNAD 2025 (pointillés verticaux)"))
    for tick in range(0, 101, 20):
        x = frame.x(tick)
        parts.append(_element("line", x1=_n(x), y1=_n(frame.top), x2=_n(x), y2=_n(frame.bottom),
                              stroke=GRID if tick else MUTED, stroke_width=1))  # fmt: skip
        parts.append(_text(x, frame.bottom + 16, _percent_tick(tick), text_anchor="middle",
                           fill=MUTED, font_size=11))  # fmt: skip
    parts.append(_text(frame.left + frame.width / 2, frame.bottom + 34, "% des contrats notifiés",
                       text_anchor="middle", fill=MUTED, font_size=11))  # fmt: skip
    for series in SERIES:
        x = frame.x(series.target)
        parts.append(_element("line", x1=_n(x), y1=_n(frame.top - 6), x2=_n(x),
                              y2=_n(frame.bottom), stroke=series.colour, stroke_width=1.5,
                              stroke_dasharray=TARGET_DASH))  # fmt: skip
        target = f"Cible {series.short} {_percent_tick(series.target)}"
        parts.append(_text(x, frame.top - 10, target, fill=series.colour, font_size=11,
                           text_anchor="end" if series.target == 100 else "middle",
                           font_weight=600))  # fmt: skip
    for i, (row, name) in enumerate(zip(ordered, names, strict=True)):
        top = frame.top + i * RANKING_GROUP
        axis_name = _element("title", escape(name)) + str(escape(_shorten(name, NAME_LIMIT)))
        parts.append(_element("text", axis_name, x=_n(frame.left - 8),
                              y=_n(top + RANKING_GROUP / 2 + 4), text_anchor="end"))  # fmt: skip
        for j, series in enumerate(SERIES):
            value = _value(row, f"{series.kind}_share")
            y = top + 5 + j * (RANKING_BAR + 2)
            text = percent_fr(row.get(f"{series.kind}_share"))
            tip = _element("title", escape(f"{name}, {series.label.lower()} : {text}"))
            if value is not None:
                parts.append(_element("rect", tip, x=_n(frame.left), y=_n(y),
                                      width=_n(frame.x(value) - frame.left),
                                      height=_n(RANKING_BAR), fill=fills[series.kind],
                                      stroke=series.colour))  # fmt: skip
            end = frame.x(value or 0)
            parts.append(_label(end + 5, y + RANKING_BAR - 2, text, fill=series.colour,
                                font_size=11, font_weight=600))  # fmt: skip
    description = (
        f"Graphique en barres horizontales, de 0 à 100 %, une paire de barres par territoire "
        f"(barre pleine : considération sociale, cible {social.target} % ; barre hachurée : "
        f"considération environnementale, cible {environmental.target} %). "
        + " ; ".join(
            f"{name} : sociale {percent_fr(r.get('social_share'))}, environnementale "
            f"{percent_fr(r.get('environmental_share'))}"
            for r, name in zip(ordered, names, strict=True)
        )
        + ". Les valeurs sont aussi dans le tableau qui suit le graphique."
    )
    return _svg(chart_id, frame.bottom + 44, title, description, parts)
