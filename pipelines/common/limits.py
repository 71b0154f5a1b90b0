"""Bounds on what one input may cost: decompressed size, download time and size, the wait for
Retry-After, the wait for the writer lock, the memory of a file read alone. Each is an
environment setting with a default (documented in the README, « Limites »); a wrong value is
said in French with the setting's name."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
UNITS |= {"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}
SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$")


class SettingError(ValueError):
    """An environment setting with a value that cannot be used (French message)."""


def parse_size(text: str, name: str) -> int:
    """'8GB', '500 MiB', '1048576' -> bytes."""
    match = SIZE.match(text.lower())
    if not match or match.group(2) not in UNITS:
        raise SettingError(
            f"{name} = {text!r} : une taille est attendue, par exemple 8GB, 500MB ou 1048576"
        )
    return int(float(match.group(1)) * UNITS[match.group(2)])


def size_setting(name: str, default: str) -> int:
    return parse_size(os.environ.get(name) or default, name)


def seconds_setting(name: str, default: float) -> float:
    text = os.environ.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0:
        raise SettingError(f"{name} = {text!r} : un nombre de secondes positif est attendu")
    return value


@dataclass(frozen=True)
class Limits:
    """The bounds in force (read from the environment when asked, so a test or a run can set
    them)."""

    # decompressed content of one input file; a gzip file whose content is larger is set aside
    max_content_bytes: int
    # content over compressed size above which a gzip file is a decompression bomb (real DECP
    # JSON compresses 10 to 30 times; a bomb of blanks 1 000 times)
    max_compression_ratio: int
    download_seconds: float
    download_bytes: int
    retry_after_seconds: float
    writer_wait_seconds: float
    # memory of the child process that reads alone a file that stopped the process before
    child_memory_bytes: int
    child_seconds: float


def limits() -> Limits:
    return Limits(
        max_content_bytes=size_setting("PNAD_MAX_CONTENT_BYTES", "16GB"),
        max_compression_ratio=int(seconds_setting("PNAD_MAX_COMPRESSION_RATIO", 200)),
        download_seconds=seconds_setting("PNAD_DOWNLOAD_MAX_SECONDS", 3600),
        download_bytes=size_setting("PNAD_DOWNLOAD_MAX_BYTES", "8GB"),
        retry_after_seconds=seconds_setting("PNAD_RETRY_AFTER_MAX", 120),
        writer_wait_seconds=seconds_setting("PNAD_WRITER_WAIT", 600),
        child_memory_bytes=size_setting("PNAD_CHILD_MEMORY", "6GB"),
        child_seconds=seconds_setting("PNAD_CHILD_MAX_SECONDS", 3600),
    )
