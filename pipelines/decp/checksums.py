"""SHA-256 of input files, read once: a file's checksum is kept in the working database under its
device, inode, size and modification time, and taken from there while none of them changes.

Landing a file given to ``pnad ingest`` and registering it under ``raw/`` both need its checksum;
a file hard-linked into ``raw/`` shares its inode with the given one, so the second costs a
lookup instead of reading the whole file again. Writing a file changes its modification time
(to the nanosecond), replacing it gives it another inode: either way it is read again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from pipelines.common.sql import insert_rows

COLUMNS = ("device", "inode", "size_bytes", "mtime_ns", "sha256")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


class ChecksumCache:
    """The checksums known to the working database ``con`` (none when ``con`` is None: every
    file is read); ``save()`` records those computed since."""

    def __init__(self, con: duckdb.DuckDBPyConnection | None) -> None:
        self._con = con
        self._known: dict[tuple[int, int, int, int], str] = {}
        self._new: list[tuple[int, int, int, int, str]] = []
        if con is not None:
            con.execute(
                "create table if not exists file_checksums (device ubigint, inode ubigint, "
                "size_bytes ubigint, mtime_ns bigint, sha256 varchar, "
                "primary key (device, inode, size_bytes, mtime_ns))"
            )
            rows = con.execute(f"select {', '.join(COLUMNS)} from file_checksums").fetchall()  # noqa: S608 - fixed names
            self._known = {tuple(row[:4]): row[4] for row in rows}

    def sha256(self, path: Path) -> str:
        key = self._key(path)
        if key not in self._known:
            self.remember(path, sha256_of(path))
        return self._known[key]

    def remember(self, path: Path, checksum: str) -> None:
        """Record the checksum of a file known otherwise (a copy of a file just read)."""
        key = self._key(path)
        if self._known.get(key) != checksum:
            self._known[key] = checksum
            self._new.append((*key, checksum))

    @staticmethod
    def _key(path: Path) -> tuple[int, int, int, int]:
        stat = path.stat()
        return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)

    def save(self) -> None:
        if self._con is None or not self._new:
            return
        new, self._new = self._new, []
        # through a temporary table: another cache on the same database may have saved a key
        self._con.execute(
            "create or replace temp table new_checksums as select * from file_checksums limit 0"
        )
        insert_rows(self._con, "new_checksums", COLUMNS, new)
        self._con.execute("insert or replace into file_checksums select * from new_checksums")
        self._con.execute("drop table new_checksums")
