"""Dagster asset definitions, one module per layer: reference, raw, staging, core, indicators,
reports, publish. The logic lives in ``sql/`` and ``pipelines.lib``; these modules only wire it."""
