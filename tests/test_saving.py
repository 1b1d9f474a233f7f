"""`.keras` save, then load in a fresh Python process that only imports tf_overparam."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from tf_overparam import Balanced
from tf_overparam import EndToEndSGD
from tf_overparam import LpLoss
from tf_overparam import OverparamDense

# Runs in a fresh interpreter: only tf_overparam is imported, which must register every class.
_LOAD_AND_CHECK = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import keras
    import tf_overparam  # registers OverparamDense, EndToEndSGD, LpLoss, initializers

    model_path, data_path = sys.argv[1], sys.argv[2]
    data = np.load(data_path)
    model = keras.saving.load_model(model_path)
    predictions = model.predict(data["x"], verbose=0)
    iterations = int(model.optimizer.iterations.numpy())
    history = model.fit(data["x"], data["y"], batch_size=len(data["x"]), epochs=2, verbose=0)
    print(json.dumps({
        "max_abs_prediction_difference": float(np.abs(predictions - data["predictions"]).max()),
        "optimizer": type(model.optimizer).__name__,
        "depth": model.optimizer.depth,
        "iterations_after_load": iterations,
        "iterations_after_fit": int(model.optimizer.iterations.numpy()),
        "loss_name": type(model.loss).__name__,
        "losses": history.history["loss"],
        "layer": type(model.layers[0]).__name__,
    }))
    """
)


@pytest.mark.parametrize("initializer", ["near_zero", Balanced(stddev=0.3, seed=1)])
def test_save_and_load_in_a_fresh_process(tmp_path, initializer):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 6)).astype("float32")
    y = (x @ rng.normal(size=(6, 2))).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), OverparamDense(2, depth=3, hidden_units=4, kernel_initializer=initializer)])
    model.compile(optimizer=EndToEndSGD(0.01, depth=2, weight_decay=1e-4), loss=LpLoss(4))
    model.fit(x, y, batch_size=32, epochs=3, verbose=0)
    model_path, data_path = tmp_path / "model.keras", tmp_path / "data.npz"
    model.save(model_path)
    np.savez(data_path, x=x, y=y, predictions=model.predict(x, verbose=0))

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", _LOAD_AND_CHECK, str(model_path), str(data_path)],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["max_abs_prediction_difference"] == 0.0
    assert report["layer"] == "OverparamDense"
    assert report["optimizer"] == "EndToEndSGD" and report["depth"] == 2
    assert report["iterations_after_load"] == 3, "optimizer state must survive the round trip"
    assert report["iterations_after_fit"] == 5
    assert report["loss_name"] == "LpLoss"
    assert all(np.isfinite(report["losses"])) and report["losses"][1] < report["losses"][0]
