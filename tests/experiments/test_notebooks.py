"""Every notebook in colab/ runs top to bottom (quick mode) and is committed without outputs."""

import nbformat
import pytest
from helpers import ROOT
from nbclient import NotebookClient

COLAB = ROOT / "colab"
NOTEBOOKS = sorted(COLAB.glob("*.ipynb"))


def test_the_three_notebooks_exist():
    names = {path.name for path in NOTEBOOKS}
    assert {"quickstart.ipynb", "reproduce_paper.ipynb", "depth_as_preconditioner.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_outputs_are_stripped(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: run `jupyter nbconvert --clear-output`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_runs_top_to_bottom(path, monkeypatch, shared_data_dir):
    monkeypatch.setenv("TF_OVERPARAM_QUICK", "1")
    monkeypatch.setenv("TF_OVERPARAM_DATA_DIR", str(shared_data_dir))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    # Raises CellExecutionError, with the failing cell and its traceback, on any error.
    NotebookClient(notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(COLAB)}}).execute()
    errors = [output for cell in notebook.cells for output in cell.get("outputs", []) if output.output_type == "error"]
    assert errors == []


def _install_cell(path):
    cells = [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    assert "Install tf-overparam" in cells[0].source, path.name
    return cells[0].source


def test_the_install_cell_is_the_same_in_every_notebook():
    assert len({_install_cell(path) for path in NOTEBOOKS}) == 1


@pytest.mark.parametrize("colab, wheel, expected", [
    (True, "", "git+https://github.com/tf-overparam/tf-overparam"),
    (True, "/content/tf_overparam-0.1.0-py3-none-any.whl", "/content/tf_overparam-0.1.0-py3-none-any.whl"),
    (False, "dist/tf_overparam-0.1.0-py3-none-any.whl", "dist/tf_overparam-0.1.0-py3-none-any.whl"),
    (False, "", None),  # tf_overparam importable here: nothing to install
])
def test_the_install_cell_installs_from_a_wheel_or_the_repository(colab, wheel, expected,
                                                                  monkeypatch):
    """The cell's pip command on Colab and off it, with and without a wheel (pip itself is not
    run; tests/library/test_packaging.py installs the built wheel for real)."""
    import subprocess
    import sys
    import types

    commands = []
    monkeypatch.setattr(subprocess, "run", lambda command, **kwargs: commands.append(command))
    monkeypatch.setenv("TF_OVERPARAM_WHEEL", wheel)
    if colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(_install_cell(NOTEBOOKS[0]), "install cell", "exec"), {})
    if expected is None:
        assert commands == []
    else:
        assert commands == [[sys.executable, "-m", "pip", "install", "-q", expected]]
