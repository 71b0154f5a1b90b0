"""Département outlines for the dashboard's outline map: an optional GeoJSON under
``PNAD_HOME/ref/`` (downloaded by a [reference.*] source, or placed there by hand); without a
usable one the dashboard draws its built-in tile grid and says so."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from pipelines.common.files import copy_atomically
from pipelines.common.paths import PnadPaths


def outlines_path(paths: PnadPaths) -> Path:
    """Where a GeoJSON of département outlines is looked for (FeatureCollection whose features
    carry ``properties.code``, as etalab's contours-administratifs ``departements-1000m``)."""
    return paths.home / "ref" / "departements.geojson"


def load_outlines(path: Path) -> dict | None:
    """The outlines as a FeatureCollection, or None when the file is absent or not usable."""
    try:
        collection = json.loads(path.read_text(encoding="utf-8"))
        features = [
            f
            for f in collection["features"]
            if isinstance(f.get("properties", {}).get("code"), str) and f.get("geometry")
        ]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return {"type": "FeatureCollection", "features": features} if features else None


def install_departement_outlines(con: duckdb.DuckDBPyConnection, paths: PnadPaths) -> Path | None:
    """Put the latest downloaded département outlines where the dashboard reads them
    (PNAD_HOME/ref/departements.geojson), when they are a usable FeatureCollection; else leave
    what is there (the dashboard then draws its built-in tile grid, and says so)."""
    row = con.execute(
        "select relative_path from download_manifest where source = 'departement_outlines' "
        "and outcome in ('downloaded', 'unchanged') and relative_path is not null "
        "order by fetched_at desc limit 1"
    ).fetchone()
    landed = paths.home / row[0] if row else None
    if landed is None or not landed.is_file() or load_outlines(landed) is None:
        return None
    target = outlines_path(paths)
    copy_atomically(landed, target)
    return target
