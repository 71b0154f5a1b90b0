"""Dagster-free helpers: plain functions the assets, the CLI and the tests call directly."""
