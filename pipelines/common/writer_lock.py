"""One writer at a time on a data root: a lock file (``$PNAD_HOME/work/.writer.lock``, fcntl)
that every command that writes and every pipeline run takes before it opens the working
database. A second writer waits, saying so in French, up to ``PNAD_WRITER_WAIT`` seconds, then
gives up with a French message; DuckDB's own « Could not set lock on file » is never what a
person reads.

The lock is re-entrant within a process: ``pnad ingest`` holds it for the whole command, and
the Dagster run it starts in the same process opens the database under it.
"""

from __future__ import annotations

import fcntl
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from pipelines.common.limits import limits
from pipelines.common.paths import PnadPaths

_held: dict[str, list[int]] = {}  # lock file -> [descriptor, depth] in this process
_guard = threading.Lock()


class WriterBusyError(RuntimeError):
    """Another process kept the data root's writer lock past the wait allowed (French)."""


def _say_on_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def lock_path(paths: PnadPaths):
    return paths.work_db.parent / ".writer.lock"


def _holder(descriptor: int) -> str:
    """Who holds the lock, as its holder wrote it in the file."""
    try:
        return os.pread(descriptor, 300, 0).decode("utf-8", "replace").strip() or "inconnu"
    except OSError:
        return "inconnu"


def _acquire(descriptor: int, paths: PnadPaths, wait: float, say: Callable[[str], None]) -> None:
    deadline = time.monotonic() + wait
    told = False
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            holder = _holder(descriptor)
            if time.monotonic() >= deadline:
                raise WriterBusyError(
                    f"la base de travail de {paths.home} est toujours occupée par une autre "
                    f"commande ({holder}) après {wait:.0f} s d'attente : réessayez quand elle "
                    "aura fini (PNAD_WRITER_WAIT règle l'attente)"
                ) from None
            if not told:
                say(
                    f"une autre commande écrit dans {paths.home} ({holder}) : attente de sa "
                    f"fin, au plus {wait:.0f} s (PNAD_WRITER_WAIT)"
                )
                told = True
            time.sleep(0.2)


@contextmanager
def writer_lock(
    paths: PnadPaths,
    what: str,
    *,
    wait: float | None = None,
    say: Callable[[str], None] = _say_on_stderr,
) -> Iterator[None]:
    """Hold the data root's writer lock for the block (``what`` names the holder for whoever
    waits); raises WriterBusyError when it is still held by another process after ``wait``
    seconds (default PNAD_WRITER_WAIT)."""
    path = lock_path(paths)
    key = str(path)
    with _guard:
        if key in _held:
            _held[key][1] += 1
            descriptor = None
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    if descriptor is not None:
        try:
            _acquire(descriptor, paths, limits().writer_wait_seconds if wait is None else wait, say)
        except BaseException:
            os.close(descriptor)
            raise
        stamp = datetime.now().strftime("%d/%m/%Y %H:%M:%S")
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{what}, processus {os.getpid()}, depuis le {stamp}".encode(), 0)
        with _guard:
            _held[key] = [descriptor, 1]
    try:
        yield
    finally:
        with _guard:
            _held[key][1] -= 1
            if _held[key][1] == 0:
                descriptor = _held.pop(key)[0]
                os.ftruncate(descriptor, 0)
                fcntl.flock(descriptor, fcntl.LOCK_UN)
                os.close(descriptor)
