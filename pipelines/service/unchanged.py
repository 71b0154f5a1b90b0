"""A refresh with nothing new stops before Dagster starts (issue 18: nothing new within 3 s).

The stamp of what a refresh reads, taken from the file system alone (no database opened, no
Dagster import): every file under ``raw/`` and the facilitators' drop folder (path, size,
modification time), the working database's file (whatever a command wrote in it: `pnad hours`,
an export withdrawn, a file retried, SIRENE answers, a run of the daemon), the data root's
settings, the project's code, SQL and reference tables, the day (provisional months and
projections follow it), the ``PNAD_*`` settings of the environment and the publication in use.

A ``pnad refresh`` that succeeded records its stamp in ``work/last_refresh.json``; the next one
with the same stamp has nothing to do and says so. The stamp is recorded only when no file
arrived under ``raw/`` or the drop folder while the run was going (a file copied in mid-run is
then read by the next refresh, not skipped).
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from pathlib import Path

from pipelines.common.clock import paris_now
from pipelines.common.paths import PROJECT_ROOT, PnadPaths

# What the figures are computed by (the derived steps' code_version hashes the contents; the
# stamp only needs to notice a change: size and modification time are enough)
CODE_FOLDERS = ("pipelines", "sql", "assets")


def file_listing(*places: Path) -> dict[str, tuple[int, int]]:
    """Every file at or under ``places``: its path -> (size, modification time in ns)."""
    files = [str(p) for p in places if p.is_file()]
    for folder in places:
        files += [os.path.join(d, name) for d, _, names in os.walk(folder) for name in names]
    listing: dict[str, tuple[int, int]] = {}
    for path in files:
        try:
            info = os.stat(path)
        except OSError:  # removed while listed
            continue
        listing[path] = (info.st_size, info.st_mtime_ns)
    return listing


def inputs_listing(paths: PnadPaths) -> dict[str, tuple[int, int]]:
    """The files a refresh reads its data from: raw/ and the facilitators' drop folder."""
    return file_listing(paths.raw, paths.facilitator_drop)


def stamp(paths: PnadPaths, listing: dict[str, tuple[int, int]] | None = None) -> str:
    digest = hashlib.sha256()

    def add(*parts: object) -> None:
        digest.update("\x1f".join(map(str, parts)).encode() + b"\x1e")

    for path, (size, mtime) in sorted((listing or inputs_listing(paths)).items()):
        add(path, size, mtime)
    code = file_listing(*(PROJECT_ROOT / folder for folder in CODE_FOLDERS))
    for path, (size, mtime) in sorted(code.items()):
        if "__pycache__" not in path:
            add(path, size, mtime)
    settings = file_listing(paths.mappings, paths.home / "ref")
    settings |= file_listing(*paths.home.glob("*.toml"))
    for path, (size, mtime) in sorted(settings.items()):
        add(path, size, mtime)
    for path in (paths.work_db, paths.work_db.with_name(paths.work_db.name + ".wal")):
        info = path.stat() if path.exists() else None
        add(path, info and info.st_size, info and info.st_mtime_ns)
    for name in sorted(k for k in os.environ if k.startswith("PNAD_")):
        add(name, os.environ[name])
    publication = paths.home / "publications" / "current"
    add(f"{paris_now():%Y-%m-%d}", os.readlink(publication) if publication.is_symlink() else None)
    return digest.hexdigest()


def _record_file(paths: PnadPaths) -> Path:
    return paths.work_db.parent / "last_refresh.json"


def last_unchanged(paths: PnadPaths) -> datetime | None:
    """When the last refresh with the same stamp as now finished, or None when something
    changed since (or none was recorded)."""
    try:
        recorded = json.loads(_record_file(paths).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if recorded.get("stamp") != stamp(paths) or not paths.published_db.exists():
        return None
    return datetime.fromisoformat(recorded["finished_at"])


def record(paths: PnadPaths, before: dict[str, tuple[int, int]]) -> bool:
    """Record the stamp after a successful refresh that started with ``before`` as its inputs;
    not when a file arrived or changed while it ran. Returns whether it was recorded."""
    after = inputs_listing(paths)
    target = _record_file(paths)
    if any(before.get(path) != info for path, info in after.items()):
        target.unlink(missing_ok=True)
        return False
    temporary = target.with_suffix(".tmp")
    temporary.write_text(
        json.dumps({"stamp": stamp(paths, after), "finished_at": paris_now().isoformat()}),
        encoding="utf-8",
    )
    temporary.replace(target)
    return True


def forget(paths: PnadPaths) -> None:
    _record_file(paths).unlink(missing_ok=True)
