"""PNAD tracker: Dagster project, CLI and Dagster-free helpers (``pipelines.lib``)."""
