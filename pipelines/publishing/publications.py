"""A publication is one folder, ``$PNAD_HOME/publications/<version>/``, holding the dashboard
pages and the analysts' database together. ``publications/current`` points to the one readers
see, and ``$PNAD_HOME/reports`` and ``$PNAD_HOME/pnad.duckdb`` point through it: switching to a
new publication is one rename, so the database and the site change together or not at all, and a
kill at any moment leaves readers the previous publication, whole.

A publication is first written under a hidden partial name (``.partial-<version>-<pid>``),
renamed to its version when complete, then made current. The regional reports live beside them
(``publications/regionaux/``, reached from each publication). The two latest publications are
kept (a reader may still have a page of the previous one open); partial folders of dead
processes are removed.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import datetime
from pathlib import Path

from pipelines.common.clock import paris_now
from pipelines.common.paths import PnadPaths

KEEP = 2
CURRENT = "current"
REGIONAL_REPORTS = "regionaux"
DATABASE = "pnad.duckdb"
DOWNLOADS = "telechargements"  # the database's views as files (downloads.py)
# The database, what documents it and its files: published together, kept when new pages are
# published alone.
DATABASE_FILES = (DATABASE, "dictionnaire_des_donnees.md", DOWNLOADS)
PARTIAL = re.compile(r"^\.partial-(?P<version>[\w.-]+)-(?P<pid>\d+)$")


def root(paths: PnadPaths) -> Path:
    return paths.home / "publications"


def _run_tag(run_id: str | None) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", run_id or "")[:8] or "manual"


def new_version(run_id: str | None, now: datetime | None = None) -> str:
    """A publication's name: when (Paris time) and which run (``20261206T061203-1a2b3c4d``)."""
    return f"{(now or paris_now()):%Y%m%dT%H%M%S}-{_run_tag(run_id)}"


def start(paths: PnadPaths, version: str) -> Path:
    """A new partial publication folder, with its link to the shared regional reports."""
    _clean(paths)
    folder = root(paths) / f".partial-{version}-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (root(paths) / REGIONAL_REPORTS).mkdir(exist_ok=True)
    (folder / REGIONAL_REPORTS).symlink_to(Path("..") / REGIONAL_REPORTS)
    return folder


def staged(paths: PnadPaths, run_id: str) -> Path | None:
    """The partial publication this process started for this run (its dashboard), if any."""
    for folder in sorted(root(paths).glob(f".partial-*-{_run_tag(run_id)}-{os.getpid()}")):
        return folder
    return None


def discard(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def current(paths: PnadPaths) -> Path | None:
    """The publication readers see (None before the first one)."""
    link = root(paths) / CURRENT
    return link.resolve() if link.is_symlink() else None


def copy_current_site(paths: PnadPaths, folder: Path) -> None:
    """Hard-link the current publication's pages into ``folder`` (everything but the database
    and the regional reports' link): a new database published alone keeps the pages."""
    source = current(paths)
    if source is None:
        return
    for path in source.rglob("*"):
        relative = path.relative_to(source)
        if relative.parts[0] in (*DATABASE_FILES, REGIONAL_REPORTS) or path.is_dir():
            continue
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            os.link(path, target)


def copy_current_database(paths: PnadPaths, folder: Path) -> None:
    """Hard-link the current publication's database, its dictionary and its downloads into
    ``folder`` (new pages published alone keep them)."""
    source = current(paths)
    if source is None:
        return
    for name in DATABASE_FILES:
        if (source / name).is_file() and not (folder / name).exists():
            os.link(source / name, folder / name)
        elif (source / name).is_dir() and not (folder / name).exists():
            shutil.copytree(source / name, folder / name, copy_function=os.link)


def switch(paths: PnadPaths, folder: Path) -> Path:
    """Finish the partial publication ``folder`` and make it the current one (one rename);
    returns its final folder. The fixed links ``reports`` and ``pnad.duckdb`` are made once."""
    match = PARTIAL.match(folder.name)
    final = root(paths) / (match["version"] if match else folder.name)
    number = 1
    while final != folder and final.exists():  # two publications within one second
        number += 1
        final = root(paths) / f"{match['version'] if match else folder.name}.{number}"
    if final != folder:
        os.replace(folder, final)
    link = root(paths) / f".{CURRENT}-{os.getpid()}"
    link.unlink(missing_ok=True)
    link.symlink_to(final.name)
    _install_fixed_links(paths)
    os.replace(link, root(paths) / CURRENT)  # the one decision: readers now see this one
    _prune(paths, final)
    return final


def _install_fixed_links(paths: PnadPaths) -> None:
    """``reports -> publications/current`` and ``pnad.duckdb -> publications/current/
    pnad.duckdb``; a data root of an earlier release (a real folder and file) is moved into a
    first publication."""
    reports, database = paths.reports, paths.published_db
    if reports.is_symlink() and database.is_symlink():
        return
    legacy = root(paths) / "0-avant-les-publications"
    if reports.is_dir() and not reports.is_symlink():
        if (reports / REGIONAL_REPORTS).is_dir():
            shutil.rmtree(root(paths) / REGIONAL_REPORTS, ignore_errors=True)
            os.replace(reports / REGIONAL_REPORTS, root(paths) / REGIONAL_REPORTS)
        for partial in reports.glob(".site-partial-*"):
            shutil.rmtree(partial, ignore_errors=True)
        os.replace(reports, legacy)
    if database.is_file() and not database.is_symlink():
        legacy.mkdir(exist_ok=True)
        os.replace(database, legacy / DATABASE)
    for stale in paths.home.glob(f".{DATABASE}.partial-*"):
        stale.unlink(missing_ok=True)
    if not reports.is_symlink():
        reports.symlink_to(Path("publications") / CURRENT)
    if not database.is_symlink():
        database.symlink_to(Path("publications") / CURRENT / DATABASE)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean(paths: PnadPaths) -> None:
    """Partial publications of processes that are gone (a kill mid-way)."""
    if not root(paths).is_dir():
        return
    for folder in root(paths).iterdir():
        match = PARTIAL.match(folder.name)
        if match and not _alive(int(match["pid"])):
            shutil.rmtree(folder, ignore_errors=True)
        elif folder.name.startswith(f".{CURRENT}-") and not _alive(int(folder.name.split("-")[-1])):
            folder.unlink(missing_ok=True)


def _prune(paths: PnadPaths, keep_folder: Path) -> None:
    """Keep the KEEP latest publications (the current one always)."""
    versions = sorted(
        (
            folder
            for folder in root(paths).iterdir()
            if folder.is_dir()
            and not folder.is_symlink()
            and not folder.name.startswith(".")
            and folder.name != REGIONAL_REPORTS
        ),
        key=lambda folder: folder.name,
        reverse=True,
    )
    for folder in versions[KEEP:]:
        if folder != keep_folder:
            shutil.rmtree(folder, ignore_errors=True)
