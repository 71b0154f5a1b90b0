"""What the dashboard's pages and the coordinators' reports share when they are rendered: the
French filters and the rule that flags a small count ("faible effectif"), so that a share reads
the same with the same warning on a page and in a report."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from pipelines.common.formatting import (
    category_fr,
    date_fr,
    gap_fr,
    number_fr,
    percent_fr,
    points_fr,
    trend_fr,
)

TEMPLATES = Path(__file__).with_name("templates")
SMALL_SAMPLE = 30  # below this many contracts a share moves a lot with one contract: say so


def is_small_count(contracts: int | None) -> bool:
    """Whether a share counted on ``contracts`` contracts gets the "faible effectif" warning
    (none for a territory without contracts: there is no share to warn about)."""
    return bool(contracts) and contracts < SMALL_SAMPLE


def page_environment(**options: object) -> Environment:
    """A Jinja environment on the templates folder, text from the data escaped, with the
    filters and the small-count test (``r.contracts is small_count``) every page uses; callers
    add their own filters and globals."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
        **options,
    )
    env.filters.update(
        number=number_fr,
        percent=percent_fr,
        points=points_fr,
        gap=gap_fr,
        trend=trend_fr,
        date_fr=date_fr,
        category=category_fr,
    )
    env.tests["small_count"] = is_small_count
    env.globals["SMALL_SAMPLE"] = SMALL_SAMPLE
    return env
