"""The regression experiments on a user's own data (`--set data=PATH`): a table runs through the
same runner and gives, on the Ethanol rows written to a CSV, the built-in loader's numbers."""

import json

import keras
import numpy as np
import pytest

from reproduce import __main__ as cli
from tf_overparam.datasets import load_ethanol

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                                reason="the experiments run in the TensorFlow run of the suite")


def _results(path):
    return json.loads(path.read_text())["results"]


def test_the_ethanol_rows_as_a_csv_give_the_built_in_numbers(shared_data_dir, tmp_path):
    X, y, _ = load_ethanol(shared_data_dir, feature_normalization="none", target_normalization="none",
                           allow_partial=True)
    csv = tmp_path / "ethanol.csv"
    np.savetxt(csv, np.column_stack([X, y]), delimiter=",", fmt="%.17g")
    assert cli.main(["figure4_right", "--quick", "--out", str(tmp_path / "built_in"),
                     "--data-dir", str(shared_data_dir)]) == 0
    assert cli.main(["figure4_right", "--quick", "--set", f"data={csv}",
                     "--out", str(tmp_path / "table")]) == 0
    built_in = _results(tmp_path / "built_in" / "figure4_right" / "figure4_right.json")
    table = json.loads((tmp_path / "table" / "figure4_right" / "figure4_right.json").read_text())
    assert table["data"]["dataset"] == str(csv) and table["settings"] == {"data": str(csv)}
    assert table["results"] == built_in  # every number, from separate run stores


def test_a_small_synthetic_table_through_a_figure_and_the_atlas(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 5))
    y = X @ rng.normal(size=5) + 0.1 * rng.normal(size=120)
    csv = tmp_path / "synthetic.csv"
    np.savetxt(csv, np.column_stack([X, y]), delimiter=",", fmt="%.12g", header="a,b,c,d,e,y", comments="")
    out = tmp_path / "out"
    assert cli.main(["figure3", "--quick", "--set", f"data={csv}", "--out", str(out)]) == 0
    figure = json.loads((out / "figure3" / "figure3.json").read_text())
    assert figure["data"]["features"] == 5 and figure["data"]["rows"] == 120
    assert all(entry["learning_rate"] is not None for entry in figure["results"]["selected"].values())
    assert cli.main(["atlas", "--quick", "--set", f"data={csv}", "--out", str(out)]) == 0
    atlas = _results(out / "atlas" / "atlas.json")
    assert atlas["summary"] and {c["normalization"] for c in atlas["cells"]} == {"z-score", "min-max features"}


def test_the_atlas_refuses_per_batch_scaling_of_a_table(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["atlas", "--set", "data=my.csv", "--out", str(tmp_path / "out")])
    assert exit_.value.code == 2
    assert "need the Ethanol measurement batches" in capsys.readouterr().err
