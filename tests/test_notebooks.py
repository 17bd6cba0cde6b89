"""The chapters as files: in the table of contents, committed without outputs, and each
starting with the same Colab setup cell, which does nothing outside Colab."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

from book_layout import CONFIG, REPO, toc_pages

NOTEBOOKS = sorted((REPO / "chapters").glob("*.ipynb"))


def _code_cells(path: Path) -> list[str]:
    notebook = json.loads(path.read_text())
    return ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]


def test_every_page_in_the_table_of_contents_exists():
    for page in toc_pages():
        assert (REPO / f"{page}.ipynb").exists() or (REPO / f"{page}.md").exists(), page


def test_every_notebook_is_in_the_table_of_contents():
    pages = set(toc_pages())
    assert [path for path in NOTEBOOKS if str(path.relative_to(REPO).with_suffix("")) not in pages] == []
    assert len(NOTEBOOKS) >= 10  # the chapters and the conventions page


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_is_the_shared_colab_setup(path):
    first = _code_cells(path)[0]
    assert first == _code_cells(NOTEBOOKS[0])[0]
    assert f"git+{CONFIG['repository']['url']}" in first, "setup cell must install from _config.yml's repository"


def _run_setup_cell(monkeypatch, in_colab: bool) -> list[tuple]:
    calls: list[tuple] = []
    import subprocess

    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: calls.append(("pip", args, kwargs)))
    if in_colab:
        output = types.SimpleNamespace(enable_custom_widget_manager=lambda: calls.append(("widgets",)))
        colab = types.ModuleType("google.colab")
        colab.output = output
        google = types.ModuleType("google")
        google.colab = colab
        monkeypatch.setitem(sys.modules, "google", google)
        monkeypatch.setitem(sys.modules, "google.colab", colab)
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(_code_cells(NOTEBOOKS[0])[0], "setup-cell", "exec"), {})
    return calls


def test_colab_setup_cell_does_nothing_outside_colab(monkeypatch):
    assert _run_setup_cell(monkeypatch, in_colab=False) == []


def test_colab_setup_cell_installs_optim_lib_and_enables_widgets_in_colab(monkeypatch):
    calls = _run_setup_cell(monkeypatch, in_colab=True)
    assert [call[0] for call in calls] == ["pip", "widgets"]
    command = calls[0][1][0]
    assert command[1:4] == ["-m", "pip", "install"]
    # optim_lib with the oracles that chapters import (lion-pytorch, schedulefree), from the repository
    assert command[-1] == f"optim-lib[oracles] @ git+{CONFIG['repository']['url']}"
    import tomllib

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert {spec.split(">")[0].split("=")[0] for spec in extras["oracles"]} == {"lion-pytorch", "schedulefree"}
