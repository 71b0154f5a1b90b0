"""One data root, one Dagster instance: the instance state (runs, logs, schedules, sensors) of a
data root lives in ``$PNAD_HOME/dagster/``, configured by the project's ``dagster.yaml``."""

from __future__ import annotations

import os
from pathlib import Path

from pipelines.common.paths import PROJECT_ROOT, PnadPaths

INSTANCE_SETTINGS = PROJECT_ROOT / "dagster.yaml"


def install_instance(paths: PnadPaths) -> Path:
    """The data root's instance folder, with the project's dagster.yaml in it (rewritten when
    the project's changed)."""
    folder = paths.home / "dagster"
    folder.mkdir(parents=True, exist_ok=True)
    settings = INSTANCE_SETTINGS.read_text(encoding="utf-8")
    target = folder / "dagster.yaml"
    if not target.is_file() or target.read_text(encoding="utf-8") != settings:
        partial = target.with_name(f".dagster.yaml.partial-{os.getpid()}")
        partial.write_text(settings, encoding="utf-8")
        os.replace(partial, target)
    return folder


def dagster_environment(paths: PnadPaths, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment Dagster runs in for this data root: PNAD_HOME, and DAGSTER_HOME at its
    own instance."""
    environ = dict(os.environ if environ is None else environ)
    environ["PNAD_HOME"] = str(paths.home)
    environ["DAGSTER_HOME"] = str(install_instance(paths))
    return environ
