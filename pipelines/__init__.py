"""PNAD tracker: plain functions by capability (common, reference, decp, indicators,
facilitators, publishing, demo, service), the ``pnad`` command, and the Dagster code location
(``definitions.py``, which loads the ``assets/`` defs folder)."""
