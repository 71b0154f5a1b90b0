"""Chart labels never collide: on the trend chart, no value label's box crosses a series' line,
a target line or another label, whatever the values (a share just under its target, two series
crossing, two series at the same value); two series at the same value stay distinguishable."""

from __future__ import annotations

import re

import pytest

from pipelines.publishing.label_placement import Box, collisions, place_labels, text_box
from pipelines.publishing.svg_charts import SERIES, TREND_SHARES, trend_svg


def row(year, social, environmental, completeness=1.0, provisional=False):
    return {
        "year": year,
        "social_share": social,
        "environmental_share": environmental,
        "social_completeness": completeness,
        "environmental_completeness": completeness,
        "is_provisional": provisional,
    }


CASES = {
    # the index's "26,8 %" drawn on the 30 % line
    "just under the target": [row(2024, 0.21, 0.52), row(2025, 0.268, 0.61), row(2026, 0.30, 1.0)],
    # the département charts' "25,5 %" and "36,0 %" on crossing lines
    "crossing series": [row(2024, 0.255, 0.36), row(2025, 0.36, 0.255), row(2026, 0.255, 0.36)],
    "same value": [row(2024, 0.40, 0.40), row(2025, 0.40, 0.40, provisional=True)],
    "on the targets": [row(2024, 0.30, 1.0), row(2025, 0.295, 0.985), row(2026, 0.305, 0.97)],
    "one year": [row(2026, 0.268, 0.301)],
}


def numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", text)]


def drawn(svg: str) -> tuple[list[Box], list[tuple]]:
    """The label boxes (white rectangles) and the lines of the shares panel (series polylines
    and target lines) of a trend chart."""
    boxes = [
        Box(x, y, x + w, y + h)
        for x, y, w, h in (
            numbers(" ".join(m))
            for m in re.findall(
                r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" rx="2" '
                r'fill="#ffffff"',
                svg,
            )
        )
    ]
    segments = []
    for points in re.findall(r'<polyline points="([^"]+)"', svg):
        xy = [tuple(map(float, p.split(","))) for p in points.split()]
        if all(TREND_SHARES.top <= y <= TREND_SHARES.bottom for _, y in xy):
            segments += list(zip(xy, xy[1:], strict=False))
    for x1, y1, x2, y2 in re.findall(
        r'<line x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="([\d.]+)" stroke="[^"]+" '
        r'stroke-width="1.5" stroke-dasharray="2 3"',
        svg,
    ):
        if float(x1) == TREND_SHARES.left:
            segments.append(((float(x1), float(y1)), (float(x2), float(y2))))
    return boxes, segments


@pytest.mark.parametrize("case", CASES)
def test_no_label_crosses_a_line_a_target_or_another_label(case):
    rows = CASES[case]
    svg = str(trend_svg(rows, "Essai"))
    boxes, segments = drawn(svg)
    assert len(boxes) == 2 * len(rows)
    assert len([s for s in segments if s[0][1] == s[1][1] and s[0][0] == TREND_SHARES.left]) >= 2
    for index, box in enumerate(boxes):
        assert not any(box.crosses(segment) for segment in segments), (case, index, box)
        others = boxes[:index] + boxes[index + 1 :]
        assert not any(box.overlaps(other) for other in others), (case, index)
        assert box.inside(Box(0, 60, 800, TREND_SHARES.bottom + 4)), (case, index, box)


def test_two_series_at_the_same_value_stay_distinguishable():
    svg = str(trend_svg(CASES["same value"], "Essai"))
    widths = {
        colour: sorted({float(w) for w in re.findall(
            rf'stroke="{colour}" stroke-width="([\d.]+)"(?: stroke-dasharray="7 4")?/>', svg)})
        for colour in (SERIES[0].colour, SERIES[1].colour)
    }  # fmt: skip
    # the environmental line (drawn first) is wider: the social one shows inside it
    assert widths[SERIES[1].colour][0] > widths[SERIES[0].colour][0]
    assert svg.index(f'stroke="{SERIES[1].colour}" stroke-width="4.5"') < svg.index(
        f'stroke="{SERIES[0].colour}" stroke-width="2.5"'
    )


def test_placement_takes_the_first_free_side():
    bounds = Box(0, 0, 400, 200)
    target = ((0.0, 100.0), (400.0, 100.0))
    # beside its point, the label would sit on the line: it goes above it
    (spot,) = place_labels([((200.0, 98.0), "26,8 %", True)], [target], [], bounds)
    assert spot.box.bottom < 98 and spot.anchor == "end"  # above, still on its preferred side
    assert collisions(spot.box, [target], [], bounds) == 0
    # a label already there pushes the next one aside
    first = text_box(191, 54, "36,0 %", "end", 12)
    (spot,) = place_labels([((200.0, 50.0), "36,0 %", True)], [], [first], bounds)
    assert not spot.box.overlaps(first)
