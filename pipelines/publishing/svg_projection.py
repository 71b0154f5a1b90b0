"""The current year's trajectory as an inline SVG chart: for each consideration, the share
observed so far (a solid marker) and the projection to 31 December (a hollow marker with its
90 % interval as a bar), against the 30 % / 100 % targets. The projection is drawn apart from
the observed value, hollow, and labelled as a projection, in the picture and in its description.
Shapes, patterns and labels come from svg_charts (accessible, escaped, never colour alone)."""

from __future__ import annotations

from markupsafe import Markup

from pipelines.common.formatting import percent_fr
from pipelines.publishing.svg_charts import (
    MUTED,
    SERIES,
    TARGET_DASH,
    Frame,
    _element,
    _heading,
    _label,
    _marker,
    _n,
    _percent_tick,
    _svg,
    _text,
)

FRAME = Frame(left=150, top=92, width=560, height=150)
ROW = 75  # height of one consideration's band


def projection_svg(rows: list[dict], title: str, chart_id: str = "chart-projection") -> Markup:
    """``rows``: pnad_share_projection rows of one territory (one per consideration)."""
    by_kind = {row["consideration"]: row for row in rows}
    parts = [_heading(title)]
    parts.append(_marker(SERIES[0], 8, 44, 5, False, "observé"))
    parts.append(_text(20, 48, "observé depuis janvier (plein)"))
    parts.append(_marker(SERIES[0], 250, 44, 5, True, "projection"))
    parts.append(_text(262, 48, "projection au 31 décembre (creux), barre : intervalle à 90 %"))
    parts.append(_element("line", x1="0", y1="66", x2="28", y2="66", stroke=MUTED,
                          stroke_width=1.5, stroke_dasharray=TARGET_DASH))  # fmt: skip
    parts.append(_text(34, 70, "cibles (pointillés)"))
    for tick in range(0, 101, 20):
        x = FRAME.x(tick)
        parts.append(_element("line", x1=_n(x), y1=_n(FRAME.top), x2=_n(x), y2=_n(FRAME.bottom),
                              stroke="#e5e5e5", stroke_width=1))  # fmt: skip
        parts.append(_text(x, FRAME.bottom + 16, _percent_tick(tick), text_anchor="middle",
                           fill=MUTED, font_size=11))  # fmt: skip
    sentences = []
    for index, series in enumerate(SERIES):
        row = by_kind.get(series.kind)
        middle = FRAME.top + ROW * index + ROW / 2
        name = series.short.capitalize()
        parts.append(_text(FRAME.left - 10, middle + 4, name, text_anchor="end"))
        target = FRAME.x(series.target)
        parts.append(_element("line", x1=_n(target), y1=_n(middle - 22), x2=_n(target),
                              y2=_n(middle + 22), stroke=series.colour, stroke_width=1.5,
                              stroke_dasharray=TARGET_DASH))  # fmt: skip
        if row is None:
            continue
        observed, projected = row["observed_share"], row["projected_share"]
        low, high = row["projected_low"], row["projected_high"]
        y_obs, y_proj = middle - 10, middle + 10
        parts.append(_element("line", x1=_n(FRAME.x(100 * low)), y1=_n(y_proj),
                              x2=_n(FRAME.x(100 * high)), y2=_n(y_proj), stroke=series.colour,
                              stroke_width=3, stroke_opacity=0.45))  # fmt: skip
        parts.append(_marker(series, FRAME.x(100 * observed), y_obs, 5, False,
                             f"{series.label}, observé : {percent_fr(observed)}"))  # fmt: skip
        parts.append(_marker(series, FRAME.x(100 * projected), y_proj, 5, True,
                             f"{series.label}, projection : {percent_fr(projected)}"))  # fmt: skip
        parts.append(_label(FRAME.x(100 * observed) + 9, y_obs + 4,
                            f"observé {percent_fr(observed)}", font_size=11,
                            fill=series.colour))  # fmt: skip
        parts.append(_label(FRAME.x(100 * high) + 9, y_proj + 4,
                            f"projection {percent_fr(projected)}", font_size=11,
                            fill=series.colour, font_style="italic"))  # fmt: skip
        sentences.append(
            f"{series.label} : observé depuis janvier {percent_fr(observed)} ; projection au "
            f"31 décembre {percent_fr(projected)} (intervalle à 90 % de {percent_fr(low)} à "
            f"{percent_fr(high)}), cible {series.target} %."
        )
    description = " ".join(
        ["Projection, pas une observation : marqueur plein pour la part observée, creux pour la "
         "projection, barre pour son intervalle."]
        + sentences
        + ["Les valeurs et la méthode sont aussi dans le tableau qui suit le graphique."]
    )  # fmt: skip
    return _svg(chart_id, FRAME.bottom + 30, title, description, parts)
