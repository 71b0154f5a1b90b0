"""The project's Dagster definitions, one module per capability. This folder is the ``dg`` defs
folder (``[tool.dg.project] defs_module = "assets"``): every asset, check, job, schedule, sensor
and resource defined here is loaded by ``pipelines/definitions.py``, and ``dg scaffold defs``
writes new ones here. The logic lives in ``sql/`` and ``pipelines/``; these modules only wire
it (see README.md in this folder)."""
