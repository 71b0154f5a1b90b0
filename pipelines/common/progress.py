"""Progress of long steps (downloads, parses): a bar redrawn in place on the terminal when the
command line asks for it (tqdm draws it), and progress lines in the log (the Dagster run's log)
either way."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from tqdm import tqdm

from pipelines.common.formatting import number_fr

# Where progress is drawn (set by the command line), or None: the log only.
_terminal: TextIO | None = None
DRAW_EVERY_S = 0.5
# The bar being drawn (one at a time: steps run one after the other in the command's process).
_bar: _FrenchBar | None = None
# French figures written by draw_bar (tqdm's own would read 1,234 for 1 234)
BAR_FORMAT = "{desc} {percentage:3.0f} % |{bar:30}| {french}"
COUNT_FORMAT = "{desc} : {french}"


class _FrenchBar(tqdm):
    """tqdm's bar with the figures written the French way by draw_bar (``{french}``)."""

    french = ""

    @property
    def format_dict(self) -> dict:
        return {**super().format_dict, "french": self.french}


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
    """Take the progress bar off the terminal, before a log line is written or when the step is
    done (the next draw starts a new one)."""
    global _bar
    if _bar is not None:
        _bar.close()
        _bar = None


def draw_bar(
    label: str, done: float, total: float | None, started: float, unit: str = "Mo"
) -> None:
    """Draw ``label  42 % |█████     | 12 sur 29 Mo, 5 s, reste environ 7 s`` on the terminal
    (``done`` and ``total`` in bytes; without a total, what is done so far)."""
    global _bar
    if _terminal is None:
        return
    if _bar is None or _bar.desc != label or _bar.total != (total / 1e6 if total else None):
        clear_line()
        _bar = _FrenchBar(
            total=total / 1e6 if total else None,
            desc=label,
            file=_terminal,
            bar_format=BAR_FORMAT if total else COUNT_FORMAT,
            leave=False,
            mininterval=0,
            dynamic_ncols=True,
        )
    elapsed = time.monotonic() - started
    text = f"{number_fr(done / 1e6)} {unit}"
    if total:
        share = min(done / total, 1.0)
        _bar.n = share * total / 1e6
        text = f"{number_fr(done / 1e6)} sur {number_fr(total / 1e6)} {unit}"
        if share > 0.02:
            text += f", reste environ {number_fr(elapsed * (1 - share) / share)} s"
    _bar.french = f"{text}, {number_fr(elapsed)} s écoulées"
    _bar.refresh()


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
        draw_bar(f"téléchargement de {self.label}", size, expected, self.started)
