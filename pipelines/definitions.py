"""The code location: every Dagster object of the defs folder ``assets/`` (the layout ``dg``
expects, see ``[tool.dg.project]`` in pyproject.toml), each asset linked to the Python function
and the SQL files behind it."""

import warnings

import dagster as dg

from pipelines.common.paths import PROJECT_ROOT


@dg.definitions
def defs() -> dg.Definitions:
    with warnings.catch_warnings():
        # code references are a beta API: shown in the UI, no warning on every command
        warnings.simplefilter("ignore", dg.BetaWarning)
        loaded = dg.load_from_defs_folder(path_within_project=PROJECT_ROOT)
        # the SQL files are referenced by each spec (assets/_wiring.py); add the Python function
        assets = dg.with_source_code_references(loaded.assets or [])
    return dg.Definitions.merge(
        dg.Definitions(assets=assets),
        dg.Definitions(
            asset_checks=loaded.asset_checks,
            jobs=loaded.jobs,
            schedules=loaded.schedules,
            sensors=loaded.sensors,
            resources=loaded.resources,
            executor=loaded.executor,
        ),
    )
