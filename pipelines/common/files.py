"""Writing files so that a reader never sees half of one: a copy under a hidden partial name,
then one rename."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def copy_atomically(source: Path, target: Path) -> None:
    """Copy under a hidden partial name, then rename: a reader never sees half a file."""
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    shutil.copyfile(source, partial)
    os.replace(partial, target)


def link_or_copy(source: Path, target: Path) -> None:
    """Hard-link ``source`` as ``target`` (no copy, no second read); copy it when the two are on
    different file systems or the link is refused. A partial name, then a rename, either way."""
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        os.link(source, partial)
    except OSError:
        shutil.copyfile(source, partial)
    os.replace(partial, target)


def printable(text: str) -> str:
    """A file name as it can be stored and shown: bytes that are not UTF-8 in a name (the
    system gives them as surrogates, which DuckDB and the terminal refuse) become U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
