"""What a run shows on the terminal: the project's own messages (French), not Dagster's
console lines (English, timestamped, about steps and events)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from pipelines.common.progress import clear_line


class ProjectMessages(logging.Handler):
    """Writes on standard error, one per line, the messages the assets log themselves
    (``context.log``); Dagster's own events (step started, materialized, failed…) are left to
    the run's log, which the UI shows."""

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None)
        if not isinstance(meta, dict) or meta.get("dagster_event") is not None:
            return
        clear_line()
        print(f"  {meta.get('orig_message', record.getMessage())}", file=sys.stderr)


@contextmanager
def french_console(instance, quiet: bool) -> Iterator[dict]:
    """Within the block, runs of ``instance`` write the project's messages (warnings only when
    ``quiet``) and not Dagster's console; yields the run config's ``loggers`` section.

    The handler joins the instance's handlers (every run's log manager asks the instance for
    them): the logger definitions of the jobs stay untouched, so the UI and the daemon keep
    Dagster's usual console."""
    handler = ProjectMessages(level=logging.WARNING if quiet else logging.INFO)
    own_handlers = instance.get_handlers
    instance.get_handlers = lambda: [*own_handlers(), handler]
    try:
        yield {"console": {"config": {"log_level": "CRITICAL"}}}
    finally:
        del instance.get_handlers  # back to the class's method
