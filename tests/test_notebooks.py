"""The analysts' notebooks run top to bottom on a published database, and only on it."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from pipelines.common.paths import PROJECT_ROOT
from tests.test_cli import pnad

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def published_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("notebooks") / "pnad_home"
    result = pnad("demo", "--size", "1500", "--seed", "3", "--quiet", home=home)
    assert result.returncode == 0, result.stderr[-2000:]
    # the notebooks must need nothing but the published file
    shutil.rmtree(home / "work")
    shutil.rmtree(home / "raw")
    return home


def outputs_text(notebook) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.extend(str(v) for v in output.get("data", {}).values())
    return "\n".join(parts)


def test_three_notebooks_are_committed_without_outputs():
    assert [p.name for p in NOTEBOOKS] == [
        "01_parts_pnad_de_mon_territoire.ipynb",
        "02_profil_acheteur.ipynb",
        "03_heures_facilitateurs_et_decp.ipynb",
    ]
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        assert all(not cell.get("outputs") for cell in notebook.cells), path.name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("01_parts_pnad_de_mon_territoire.ipynb", "Auvergne-Rhône-Alpes"),
        ("02_profil_acheteur.ipynb", "acheteur "),
        ("03_heures_facilitateurs_et_decp.ipynb", "hours_worked"),
    ],
)
def test_notebook_runs_on_the_published_database(published_home, monkeypatch, name, expected):
    monkeypatch.setenv("PNAD_HOME", str(published_home))
    notebook = nbformat.read(PROJECT_ROOT / "notebooks" / name, as_version=4)
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(PROJECT_ROOT / "notebooks")}},
    ).execute()
    text = outputs_text(notebook)
    assert expected in text
    assert "Aucun" not in text  # every part found data in the demo publication
