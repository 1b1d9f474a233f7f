"""The regression experiments on the four UCI sets (`--set data=concrete`, …): a figure runs on
the set through the same runner, and its JSON names the data by what it is."""

import json
import os

import keras
import numpy as np
import pytest

from reproduce import __main__ as cli
from reproduce.lab import provenance
from tf_overparam.datasets import load_uci_regression

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                                reason="the experiments run in the TensorFlow run of the suite")

CONCRETE_SHA256 = "542c5d9a0d301bdb47550280398dcbbe2fb8404631fc945de1ea6df9ade741c6"


@pytest.fixture(scope="module")
def uci_root(shared_data_dir):
    if not (shared_data_dir / "uci_regression" / "concrete.csv.gz").is_file():
        message = f"no uci_regression/concrete.csv.gz in the data folder {shared_data_dir}"
        if os.environ.get("CI", "").lower() == "true":  # as shared_data_dir: missing data fails CI
            pytest.fail(message)
        pytest.skip(message)
    return shared_data_dir


def test_figure3_quick_on_concrete_records_the_data_by_name(uci_root, tmp_path):
    out = tmp_path / "out"
    assert cli.main(["figure3", "--quick", "--set", "data=concrete", "--data-dir", str(uci_root),
                     "--out", str(out)]) == 0
    figure = json.loads((out / "figure3" / "figure3.json").read_text())
    assert figure["settings"] == {"data": "concrete"} and figure["config"]["data"] == "concrete"
    data = figure["data"]
    assert data["name"] == "concrete" and "Concrete Compressive Strength" in data["dataset"]
    assert data["file"] == "concrete.csv.gz" and data["sha256"] == CONCRETE_SHA256
    assert data["sha256_verified"] is True and data["package"] == "treforevans/uci_datasets"
    assert (data["rows"], data["features"], data["partial"]) == (1030, 8, False)
    assert data["loader"].startswith("tf_overparam.datasets.load_uci_regression('concrete'")
    assert str(uci_root) not in json.dumps(data)  # by what it is, not where it lay
    # The fingerprint is that of the loader's default arrays: the runs were made on this data.
    X, y, _ = load_uci_regression("concrete", uci_root)
    assert data["fingerprint"] == provenance.data_fingerprint(X, y)
    # Every (loss, depth) of the figure chose a rate, and the optima are those of 8 features.
    selected = figure["results"]["selected"]
    assert set(selected) == {f"l{p} depth {d}" for p in (2, 4) for d in (1, 2, 3)}
    assert all(entry["learning_rate"] is not None for entry in selected.values())
    l2 = figure["optimal_losses"]["l2"]
    weights, *_ = np.linalg.lstsq(X, y, rcond=None)  # ℓ2 optimum (no bias), by numpy
    assert l2["loss"] == pytest.approx(np.mean((X @ weights - y) ** 2) / 2, rel=1e-6)
    assert 0 < l2["loss"] < l2["zero_predictor_loss"]


def test_each_set_name_resolves_to_its_loader(uci_root):
    for name, rows, features in [("wine", 1599, 11), ("parkinsons", 5875, 20),
                                 ("pumadyn32nm", 8192, 32)]:
        X, y, data = provenance.load_problem(name, uci_root)
        assert X.shape == (rows, features) and data["name"] == name and data["rows"] == rows
        np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-10)  # the figures' z-score


def test_the_atlas_asks_for_normalizations_without_per_batch_scaling(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["atlas", "--set", "data=concrete", "--out", str(tmp_path / "out")])
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert "need the Ethanol measurement batches" in error and "'concrete' has none" in error
    assert "--set 'normalizations=" in error and "min-max features" in error
    assert not (tmp_path / "out").exists()  # a usage error: nothing run or written
