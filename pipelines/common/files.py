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
