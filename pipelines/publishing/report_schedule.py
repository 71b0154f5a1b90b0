"""Which territories get a scheduled report, and when: pipelines/publishing/reports.toml,
overridden by $PNAD_HOME/reports.toml. Read when the Dagster definitions load (a small local
file)."""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pipelines.common.paths import REFERENCE_DIR, PnadPaths

SHIPPED = Path(__file__).with_name("reports.toml")


class ReportConfigError(ValueError):
    """reports.toml names something that does not exist."""


@dataclass(frozen=True)
class ReportSchedule:
    regions: tuple[str, ...]
    departements: tuple[str, ...]
    cron: str
    pdf: bool

    @property
    def partition_keys(self) -> list[str]:
        """region-84, ..., departement-74: one Dagster partition per scheduled report."""
        return [f"region-{c}" for c in self.regions] + [
            f"departement-{c}" for c in self.departements
        ]


def _codes(name: str, column: str) -> list[str]:
    with (REFERENCE_DIR / name).open(encoding="utf-8") as handle:
        return [
            row[column]
            for row in csv.DictReader(handle)
            if row["kind"] in ("region", "departement")
        ]


def load_report_schedule(paths: PnadPaths | None = None) -> ReportSchedule:
    settings = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))["regional_reports"]
    override = (paths or PnadPaths.resolve()).home / "reports.toml"
    if override.exists():
        try:
            settings |= tomllib.loads(override.read_text(encoding="utf-8")).get(
                "regional_reports", {}
            )
        except tomllib.TOMLDecodeError as error:
            raise ReportConfigError(f"{override}: {error}") from error
    regions = _codes("regions.csv", "region_code")
    departements = _codes("departements.csv", "departement_code")
    chosen = regions if settings["regions"] == "all" else [str(c) for c in settings["regions"]]
    unknown = [c for c in chosen if c not in regions] + [
        str(c) for c in settings["departements"] if str(c) not in departements
    ]
    if unknown:
        raise ReportConfigError(f"reports.toml: unknown région or département codes {unknown}")
    return ReportSchedule(
        regions=tuple(chosen),
        departements=tuple(str(c) for c in settings["departements"]),
        cron=settings["cron"],
        pdf=bool(settings["pdf"]),
    )
