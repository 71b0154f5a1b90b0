"""Where everything lives: one data root (``PNAD_HOME``) and the project's own folders.

Nothing here depends on the current directory: the project root is found from this file and the
data root from the environment (default ``<project>/data``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = PROJECT_ROOT / "sql"
REFERENCE_DIR = PROJECT_ROOT / "pipelines" / "reference"


@dataclass(frozen=True)
class PnadPaths:
    """The layout of one data root. Every path the pipeline writes is under ``home``."""

    home: Path

    @classmethod
    def resolve(cls, home: str | os.PathLike[str] | None = None) -> PnadPaths:
        """Data root from the argument, else ``$PNAD_HOME``, else ``<project>/data``."""
        chosen = home or os.environ.get("PNAD_HOME") or PROJECT_ROOT / "data"
        return cls(Path(chosen).expanduser().resolve())

    @property
    def raw(self) -> Path:
        """Landing zone: immutable input files, one folder per source."""
        return self.home / "raw"

    @property
    def work_db(self) -> Path:
        """The pipeline's working DuckDB database (single writer: the running pipeline)."""
        return self.home / "work" / "pnad_work.duckdb"

    @property
    def published_db(self) -> Path:
        """The database analysts open; replaced atomically at the end of each successful run."""
        return self.home / "pnad.duckdb"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    @property
    def dashboard_html(self) -> Path:
        return self.reports / "index.html"

    @property
    def facilitator_drop(self) -> Path:
        """Drop folder for facilitators' exports (ABC Clauses, spreadsheets), watched by a
        sensor."""
        return self.home / "facilitateurs"

    @property
    def mappings(self) -> Path:
        """Column mappings written by users for new export layouts (and templates to fill in)."""
        return self.home / "mappings"

    @property
    def pseudonym_secret(self) -> Path:
        """The per-installation secret that keys participant pseudonyms (never published)."""
        return self.home / ".pnad_secret"

    def ensure(self) -> PnadPaths:
        # reports/ is made by the first publication (a link to the current one)
        for folder in (self.raw, self.work_db.parent):
            folder.mkdir(parents=True, exist_ok=True)
        return self
