"""Downloads written for what changed (issue 18): a file of the previous publication whose content
is unchanged is hard-linked into the new one instead of being written again.

Each group of download files (a view's CSV and Parquet, one notification year of the partitioned
``contracts``, one territory's extract, the workbook) is written from a content fingerprint: the
row count and the sum of the row hashes of what it holds, salted with the writer's code, DuckDB's
version and the download settings. The fingerprints are saved beside the files
(``telechargements/.empreintes.json``); the next publication computes them again from its own
database (one scan per view, one grouped scan per partitioning) and links the groups whose
fingerprint and files are there. A file never changes once written, so two publications sharing
it by a hard link is safe; the pruning of the older one leaves the newer one whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import duckdb

from pipelines.common.sql import quoted_identifier as _quoted

FINGERPRINTS = ".empreintes.json"
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"  # DuckDB's folder name for a null partition value


def content(
    con: duckdb.DuckDBPyConnection, view: str, columns: list[str], by: str | None = None
) -> dict[str | None, str]:
    """``count:sum of row hashes`` of ``view``: whole (key None), or per value of column ``by``
    (as text; None for null). Names come from the database's own catalogue."""
    row = f"hash({', '.join(map(_quoted, columns))})"
    if by is None:
        count, total = con.execute(
            f"select count(*), coalesce(sum({row}), 0) from {_quoted(view)}"  # noqa: S608
        ).fetchone()
        return {None: f"{count}:{total}"}
    return {
        value: f"{count}:{total}"
        for value, count, total in con.execute(
            f"select {_quoted(by)}::varchar, count(*), sum({row}) "  # noqa: S608
            f"from {_quoted(view)} group by all"
        ).fetchall()
    }


def rows_of(fingerprint: str) -> int:
    return int(fingerprint.rsplit("|", 1)[-1].split(":", 1)[0])


class DownloadReuse:
    """The previous publication's download files and the fingerprints they were written from."""

    def __init__(self, previous: Path | None, target: Path, salt: str) -> None:
        self.source = previous
        self.target = target
        self.salt = salt
        self.before: dict[str, str] = {}
        self.now: dict[str, str] = {}
        self.linked: list[str] = []
        if previous is not None:
            try:
                self.before = json.loads((previous / FINGERPRINTS).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.before = {}

    def fingerprint(self, value: str) -> str:
        return f"{self.salt}|{value}"

    def take(self, key: str, fingerprint: str, relative: list[str]) -> bool:
        """Link the files (or folders) ``relative`` from the previous publication when ``key`` was
        written from the same fingerprint and they are all there; records the fingerprint."""
        self.now[key] = fingerprint
        if self.source is None or self.before.get(key) != fingerprint:
            return False
        if not all((self.source / name).exists() for name in relative):
            return False
        for name in relative:
            link_tree(self.source / name, self.target / name)
        self.linked.append(key)
        return True

    def save(self) -> None:
        (self.target / FINGERPRINTS).write_text(
            json.dumps(self.now, indent=0, sort_keys=True), encoding="utf-8"
        )


def link_tree(source: Path, target: Path) -> None:
    """Hard-link a file, or every file of a folder, at ``target`` (a copy where links fail)."""
    files = [source] if source.is_file() else [p for p in source.rglob("*") if p.is_file()]
    for file in files:
        destination = target / file.relative_to(source) if source.is_dir() else target
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(file, destination)
        except OSError:
            shutil.copy2(file, destination)


def writer_salt(*parts: object) -> str:
    """What the files' bytes depend on besides the data: the writer's code, DuckDB's version
    and the settings."""
    code = hashlib.sha256(Path(__file__).with_name("downloads.py").read_bytes()).hexdigest()
    return ":".join([code[:12], duckdb.__version__, *map(str, parts)])
