"""Progress of long steps (downloads, parses): a line redrawn in place on the terminal when the
command line asks for it, and progress lines in the log (the Dagster run's log) either way."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from pipelines.common.formatting import number_fr

# Where progress is drawn (set by the command line), or None: the log only.
_terminal: TextIO | None = None
DRAW_EVERY_S = 0.5


def show_progress_in_terminal(stream: TextIO | None = None) -> None:
    """Draw progress on a line of ``stream`` (standard error by default) rewritten in place, when
    it is a terminal. Called by the command line; Dagster runs elsewhere (the UI, the daemon)
    keep to the log."""
    global _terminal
    stream = stream or sys.stderr
    _terminal = stream if stream.isatty() else None


def terminal() -> TextIO | None:
    return _terminal


def clear_line() -> None:
    """Clear the progress line, before a log line is written or when the step is done."""
    if _terminal is not None:
        _terminal.write("\r\033[K")
        _terminal.flush()


def draw_bar(label: str, done: float, total: float, started: float, unit: str = "Mo") -> None:
    """Draw ``label [#####     ] 42 % (done of total MB, elapsed, time left)`` on the terminal."""
    if _terminal is None:
        return
    share = min(done / total, 1.0) if total else 0.0
    elapsed = time.monotonic() - started
    left = f", encore {number_fr(elapsed * (1 - share) / share)} s environ" if share > 0.02 else ""
    _terminal.write(
        f"\r{label} [{'#' * int(30 * share):<30}] {100 * share:3.0f} % "
        f"({number_fr(done / 1e6)} sur {number_fr(total / 1e6)} {unit}, "
        f"{number_fr(elapsed)} s{left})\033[K"
    )
    _terminal.flush()


class ProgressLine:
    """What long steps share: log lines that do not land on the progress line, and a line drawn
    at most every DRAW_EVERY_S seconds."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self.log_to = log
        self.started = self.drawn = time.monotonic()

    def log(self, message: str) -> None:
        clear_line()
        self.log_to(message)

    def due(self, *, force: bool = False) -> bool:
        """Whether to draw now (on a terminal, and not drawn in the last DRAW_EVERY_S)."""
        now = time.monotonic()
        if _terminal is None or (not force and now - self.drawn < DRAW_EVERY_S):
            return False
        self.drawn = now
        return True

    def finish(self) -> None:
        clear_line()


class DownloadProgress(ProgressLine):
    """Called with (bytes received, expected size or None) as a download streams: a bar on the
    terminal and a log line at every tenth (every 100 MB when the size is unknown)."""

    def __init__(self, label: str, log: Callable[[str], None]) -> None:
        super().__init__(log)
        self.label = label
        self.logged_step = 0

    def __call__(self, size: int, expected: int | None) -> None:
        step = int(10 * size / expected) if expected else size // 100_000_000
        if step > self.logged_step:
            self.logged_step = step
            of = f" sur {number_fr(expected / 1e6)}" if expected else ""
            self.log(f"{self.label} : {number_fr(size / 1e6)}{of} Mo reçus")
        if not self.due():
            return
        if expected:
            draw_bar(f"téléchargement de {self.label}", size, expected, self.started)
        else:
            _terminal.write(f"\rtéléchargement de {self.label} : {number_fr(size / 1e6)} Mo\033[K")
            _terminal.flush()
