"""Consecutive daily releases made from the demo data, for the soak test and benchmark: a
snapshot source republishing a whole consolidation every day (contracts added, corrected,
republished and withdrawn from one day to the next) beside an incremental source adding a few
daily files each day.

Day ``d``'s snapshot is computed from one demo ``decp.parquet`` (the base) in DuckDB: a tenth of
the contracts appear on a day of their own, one in fifty is withdrawn on a day of its own, and
each contract's amount steps up by 10 % every 60 days from a day of its own (a third of them
declaring a social clause from their first step). Same base and day, same file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from pipelines.demo.generator import generate_demo

# Contracts whose content depends on the day; every other column is the base's.
RELEASE_OF_DAY = """
with base as (
    select *,
        hash(uid || ':born') % 10 = 0 as born_later,
        1 + hash(uid || ':born day') % 60 as born_on,
        hash(uid || ':withdrawn') % 50 = 0 as withdrawn_later,
        1 + hash(uid || ':withdrawn day') % 60 as withdrawn_on,
        ($day + hash(uid || ':step') % 60) // 60 as steps
    from read_parquet($base)
)
select * exclude (born_later, born_on, withdrawn_later, withdrawn_on, steps) replace (
    round(montant * (1 + 0.1 * steps), 2) as montant,
    case when steps > 0 and hash(uid || ':social') % 3 = 0 then 'Clause sociale'
         else considerationsSociales end as considerationsSociales
)
from base
where (not born_later or born_on <= $day) and (not withdrawn_later or withdrawn_on > $day)
order by uid
"""


@dataclass(frozen=True)
class DailyReleases:
    """The base of the snapshot releases and the incremental daily files, day by day."""

    base: Path
    daily_files: list[list[Path]]  # day -> the incremental files it adds

    @property
    def days(self) -> int:
        return len(self.daily_files)

    def write_snapshot(self, day: int, target: Path) -> int:
        """Write day ``day``'s whole consolidation to ``target``; returns its rows."""
        with duckdb.connect() as con:
            table = con.execute(
                RELEASE_OF_DAY, {"base": str(self.base), "day": day}
            ).to_arrow_table()
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        pq.write_table(table, partial)
        partial.replace(target)
        return table.num_rows


def prepare_daily_releases(
    folder: Path,
    days: int,
    snapshot_contracts: int,
    daily_contracts: int,
    *,
    seed: int = 7,
    today: date = date(2026, 12, 1),
) -> DailyReleases:
    """Generate the demo inputs under ``folder``: the base consolidation (``snapshot_contracts``
    marchés) and daily 2022-format files (``daily_contracts`` contracts) spread over ``days``."""
    base = generate_demo(
        folder / "base", snapshot_contracts, seed, shape="decp_processing_parquet", today=today
    )
    daily = generate_demo(folder / "daily", daily_contracts, seed + 1, today=today)
    files = sorted(daily.files)
    per_day = math.ceil(len(files) / days)
    return DailyReleases(
        base=base.files[0],
        daily_files=[files[d * per_day : (d + 1) * per_day] for d in range(days)],
    )
