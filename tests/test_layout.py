"""The layout shows the architecture: capabilities never import the ones above them, no module
grows past ~500 lines without saying why, no function past ~80 lines."""

from __future__ import annotations

import ast
from pathlib import Path

from pipelines.common.paths import PROJECT_ROOT

# What each capability of pipelines/ may import (besides itself); nothing imports assets/.
ALLOWED = {
    "common": set(),
    "reference": {"common"},
    "decp": {"common", "reference"},
    "indicators": {"common", "reference", "decp"},
    "facilitators": {"common", "reference", "decp"},
    "publishing": {"common", "reference", "decp", "indicators", "facilitators"},
    "demo": {"common", "reference", "decp", "facilitators"},
    "service": {"common"},
    "cli": {"common", "reference", "decp", "indicators", "facilitators", "publishing", "demo",
            "service", "definitions"},
}  # fmt: skip
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


def _modules() -> list[Path]:
    return sorted(
        path for folder in ("pipelines", "assets") for path in (PROJECT_ROOT / folder).rglob("*.py")
    )


def test_capabilities_only_import_the_ones_below_them():
    wrong = []
    for path in (PROJECT_ROOT / "pipelines").rglob("*.py"):
        parts = path.relative_to(PROJECT_ROOT / "pipelines").parts
        if len(parts) < 2:
            continue  # definitions.py, the package's __init__
        capability = parts[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not node.module:
                continue
            if node.module.split(".")[0] == "assets":
                wrong.append(f"{path}: imports {node.module}")
            elif node.module.startswith("pipelines."):
                target = node.module.split(".")[1]
                if target != capability and target not in ALLOWED[capability]:
                    wrong.append(f"{path}: {capability} imports {node.module}")
    assert wrong == []


def test_no_module_over_500_lines_without_a_reason():
    long = []
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if text.count("\n") > MAX_MODULE_LINES and "500 lines" not in docstring:
            long.append(f"{path}: {text.count(chr(10))} lines")
    assert long == []


def test_no_function_over_80_lines():
    long = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path}:{node.lineno} {node.name}: {lines} lines")
    assert long == []
