"""Times as the people who read them expect: in Paris time (the service may run in UTC, its
readers are in France), without a time-zone suffix in tables and pages."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def paris_now() -> datetime:
    """Now, in Paris time (naive)."""
    return datetime.now(PARIS).replace(tzinfo=None)


def paris_time(timestamp: float | None) -> datetime | None:
    """A Unix timestamp in Paris time (naive)."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, PARIS).replace(tzinfo=None)
