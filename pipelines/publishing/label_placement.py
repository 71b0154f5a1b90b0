"""Where a chart's value labels go: beside their point, on the first side where the label's box
(estimated from its text) crosses no line, target, marker nor other label, and stays inside the
chart. Pure geometry in viewBox units, so that a test can check every box."""

from __future__ import annotations

from dataclasses import dataclass

Point = tuple[float, float]
Segment = tuple[Point, Point]


@dataclass(frozen=True)
class Box:
    left: float
    top: float
    right: float
    bottom: float

    def overlaps(self, other: Box) -> bool:
        return (
            self.left < other.right
            and other.left < self.right
            and self.top < other.bottom
            and other.top < self.bottom
        )

    def crosses(self, segment: Segment) -> bool:
        """Whether a straight segment passes through the box (clipped to its width, the
        segment's height range there meets the box's)."""
        (x1, y1), (x2, y2) = sorted(segment)
        left, right = max(self.left, x1), min(self.right, x2)
        if x1 == x2:
            return (
                self.left <= x1 <= self.right
                and min(y1, y2) < self.bottom
                and (max(y1, y2) > self.top)
            )
        if left > right:
            return False
        slope = (y2 - y1) / (x2 - x1)
        at_left, at_right = y1 + slope * (left - x1), y1 + slope * (right - x1)
        return min(at_left, at_right) < self.bottom and max(at_left, at_right) > self.top

    def inside(self, bounds: Box) -> bool:
        return (
            self.left >= bounds.left
            and self.right <= bounds.right
            and self.top >= bounds.top
            and self.bottom <= bounds.bottom
        )


def text_box(x: float, y: float, content: str, anchor: str, font_size: float) -> Box:
    """The box a label's white background covers (text width estimated: 0.6 em a character)."""
    width = len(content) * 0.6 * font_size + 4
    left = {"start": x - 2, "end": x - width + 2, "middle": x - width / 2}[anchor]
    top = y - font_size + 1
    return Box(left, top, left + width, top + font_size + 3)


# Offsets (dx, dy of the text's baseline, anchor) around a point, preferred first.
LEFT = ((-9, 4, "end"), (-9, -9, "end"), (-9, 17, "end"))
RIGHT = ((9, 4, "start"), (9, -9, "start"), (9, 17, "start"))
ABOVE_BELOW = ((0, -11, "middle"), (0, 23, "middle"))


@dataclass(frozen=True)
class Placed:
    x: float
    y: float
    anchor: str
    box: Box


def place_labels(
    requests: list[tuple[Point, str, bool]],
    segments: list[Segment],
    obstacles: list[Box],
    bounds: Box,
    font_size: float = 12,
) -> list[Placed]:
    """A place for each label (its point, its text, whether it prefers the point's left): the
    first free one, else the one with the fewest collisions. Labels are placed in order, each
    avoiding those placed before it."""
    placed: list[Placed] = []
    for point, content, prefer_left in requests:
        sides = (LEFT, RIGHT) if prefer_left else (RIGHT, LEFT)
        options = (*sides[0], *ABOVE_BELOW, *sides[1])
        best: tuple[int, Placed] | None = None
        for dx, dy, anchor in options:
            x, y = point[0] + dx, point[1] + dy
            box = text_box(x, y, content, anchor, font_size)
            hits = collisions(box, segments, [*obstacles, *(p.box for p in placed)], bounds)
            if best is None or hits < best[0]:
                best = (hits, Placed(x, y, anchor, box))
            if hits == 0:
                break
        placed.append(best[1])
    return placed


def collisions(box: Box, segments: list[Segment], obstacles: list[Box], bounds: Box) -> int:
    """How badly a label's box collides: a line it crosses counts 1 (a line is as wide as its
    stroke, 2 units either side; the label's white background keeps it readable), a marker or
    another label it covers 5 (both unreadable), leaving the chart 10."""
    padded = Box(box.left - 2, box.top - 2, box.right + 2, box.bottom + 2)
    hits = sum(padded.crosses(segment) for segment in segments)
    hits += 5 * sum(box.overlaps(other) for other in obstacles)
    return hits + (0 if box.inside(bounds) else 10)
