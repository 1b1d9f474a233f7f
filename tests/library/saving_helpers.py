"""The `.keras` round trip in a fresh Python process that only imports tf_overparam."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np

from tf_overparam import EndToEndSGD
from tf_overparam import LpLoss

# Runs in a fresh interpreter: only tf_overparam is imported, which must register every class.
LOAD_AND_CHECK = textwrap.dedent(
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


def round_trip_in_fresh_process(model, x, y, folder):
    """Save `model` to `folder`/model.keras, load it in a fresh process, predict and fit 2 epochs.

    Args:
        model: a compiled, trained Keras model.
        x, y: the data; its predictions for `x` are saved beside it for the comparison.
        folder: a `pathlib.Path` to write into (e.g. pytest's `tmp_path`).

    Returns:
        The fresh process's report (a dict, see `LOAD_AND_CHECK`); fails the test if it failed.
    """
    model_path, data_path = folder / "model.keras", folder / "data.npz"
    model.save(model_path)
    np.savez(data_path, x=x, y=y, predictions=model.predict(x, verbose=0))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", LOAD_AND_CHECK, str(model_path), str(data_path)],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def train_and_round_trip(make_layer, x, y, folder):
    """Train a one-layer model 3 full-batch epochs, then `round_trip_in_fresh_process` it.

    Args:
        make_layer: a function returning the layer; called after `set_random_seed(0)`.
        x, y: the training data.
        folder: as in `round_trip_in_fresh_process`.

    Returns:
        The fresh process's report.
    """
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(x.shape[1:]), make_layer()])
    model.compile(optimizer=EndToEndSGD(0.01, depth=2, weight_decay=1e-4), loss=LpLoss(4))
    model.fit(x, y, batch_size=len(x), epochs=3, verbose=0)
    return round_trip_in_fresh_process(model, x, y, folder)
