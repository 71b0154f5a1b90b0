"""Which territories get a scheduled report, and when: ``pipelines/publishing/reports.toml``,
overridden by ``$PNAD_HOME/reports.toml`` (read into a typed model when the Dagster definitions
load: a small local file)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

from pipelines.common.paths import REFERENCE_DIR, PnadPaths
from pipelines.common.settings import SettingsError, load_settings

SHIPPED = Path(__file__).with_name("reports.toml")


class ReportConfigError(SettingsError):
    """reports.toml cannot be used (a key, a value, a code that does not exist)."""


@cache
def _codes(name: str, column: str) -> tuple[str, ...]:
    with (REFERENCE_DIR / name).open(encoding="utf-8") as handle:
        return tuple(
            row[column]
            for row in csv.DictReader(handle)
            if row["kind"] in ("region", "departement")
        )


class RegionalReportsSettings(BaseModel):
    """The ``[regional_reports]`` table of reports.toml."""

    model_config = ConfigDict(extra="forbid")

    regions: Literal["all"] | list[str] = "all"
    departements: list[str] = []
    cron: str = "0 7 3 * *"
    pdf: bool = True

    @field_validator("regions", "departements", mode="before")
    @classmethod
    def _codes_as_text(cls, value: object) -> object:
        # codes written as numbers (84) are the same codes as "84"
        if isinstance(value, list):
            return [str(code) if isinstance(code, int) else code for code in value]
        return value

    @field_validator("regions")
    @classmethod
    def _known_regions(cls, value: Literal["all"] | list[str]) -> Literal["all"] | list[str]:
        unknown = [c for c in value if c not in _codes("regions.csv", "region_code")]
        if value != "all" and unknown:
            raise ValueError(f"codes de région inconnus {unknown} (voir ref_regions)")
        return value

    @field_validator("departements")
    @classmethod
    def _known_departements(cls, value: list[str]) -> list[str]:
        unknown = [c for c in value if c not in _codes("departements.csv", "departement_code")]
        if unknown:
            raise ValueError(f"codes de département inconnus {unknown} (voir ref_departements)")
        return value

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from dagster._utils.schedules import is_valid_cron_string

        if not is_valid_cron_string(value):
            raise ValueError('n\'est pas une expression cron, par exemple "0 7 3 * *"')
        return value


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


def load_report_schedule(paths: PnadPaths | None = None) -> ReportSchedule:
    override = (paths or PnadPaths.resolve()).home / "reports.toml"
    try:
        settings = load_settings(RegionalReportsSettings, SHIPPED, override, "regional_reports")
    except SettingsError as error:
        raise ReportConfigError(str(error)) from None
    regions = (
        _codes("regions.csv", "region_code") if settings.regions == "all" else settings.regions
    )
    return ReportSchedule(
        regions=tuple(regions),
        departements=tuple(settings.departements),
        cron=settings.cron,
        pdf=settings.pdf,
    )
