"""`.keras` save, then load in a fresh Python process that only imports tf_overparam."""

import numpy as np
import pytest
from saving_helpers import train_and_round_trip

from tf_overparam import Balanced
from tf_overparam import OverparamDense


@pytest.mark.parametrize("initializer", ["near_zero", Balanced(stddev=0.3, seed=1)])
def test_save_and_load_in_a_fresh_process(tmp_path, initializer):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 6)).astype("float32")
    y = (x @ rng.normal(size=(6, 2))).astype("float32")
    report = train_and_round_trip(
        lambda: OverparamDense(2, depth=3, hidden_units=4, kernel_initializer=initializer), x, y, tmp_path
    )
    assert report["max_abs_prediction_difference"] == 0.0
    assert report["layer"] == "OverparamDense"
    assert report["optimizer"] == "EndToEndSGD" and report["depth"] == 2
    assert report["iterations_after_load"] == 3, "optimizer state must survive the round trip"
    assert report["iterations_after_fit"] == 5
    assert report["loss_name"] == "LpLoss"
    assert all(np.isfinite(report["losses"])) and report["losses"][1] < report["losses"][0]
