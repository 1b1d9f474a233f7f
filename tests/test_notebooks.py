"""Every notebook in colab/ runs top to bottom (quick mode) and is committed without outputs."""

import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

COLAB = pathlib.Path(__file__).resolve().parents[1] / "colab"
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
