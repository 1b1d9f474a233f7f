"""The full-batch trainer across Keras backends: TensorFlow and JAX agree, JAX runs with
TensorFlow not importable (as on the accelerator machine), PyTorch gets a clear error.

The JAX side runs in a subprocess because Keras fixes its backend per process; `tensorflow` is
made unimportable there (`sys.modules["tensorflow"] = None`)."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from helpers import ROOT
from helpers import python_without_tensorflow

#: Every rule on one small float64 problem, with each rule's losses recorded at every iteration.
CASES = r"""
import json, sys
import numpy as np
from tf_overparam import fullbatch
rng = np.random.default_rng(0)
X = rng.normal(size=(40, 5))
y = X @ rng.normal(size=5) * 0.5 + 0.3 * rng.normal(size=40)
out = {}
for name in sorted(fullbatch.RULES):
    for depth, p in ((1, 2), (3, 4)):
        lr = 0.5 if name == "adadelta" else 1e-2
        result = fullbatch.train(X, y, fullbatch.LinearNetwork(depth=depth, stddev=0.3), name,
                                 p=p, learning_rates=[lr, 2 * lr], seeds=[0, 1], steps=200,
                                 record_every=1, dtype="float64", loss_levels=[0.2])
        out[f"{name} depth {depth} p {p}"] = {
            "losses": result.losses.tolist(), "levels": result.level_steps.tolist(),
            "backend": result.backend}
"""


def _run_cases(backend, block_tensorflow):
    code = CASES + "json.dump(out, sys.stdout)\n"
    command = python_without_tensorflow(code) if block_tensorflow else [sys.executable, "-c", code]
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# slow: two fresh processes (TensorFlow, JAX), 14 cases of 200 steps each (about 17 s)
@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="driven from the TensorFlow run of the suite (both backends in "
                           "subprocesses)")
def test_tensorflow_and_jax_give_the_same_losses_for_every_rule():
    tensorflow = _run_cases("tensorflow", block_tensorflow=False)
    jax = _run_cases("jax", block_tensorflow=True)
    assert set(tensorflow) == set(jax) and len(jax) == 14
    for case in tensorflow:
        assert tensorflow[case]["backend"] == "tensorflow" and jax[case]["backend"] == "jax"
        np.testing.assert_allclose(jax[case]["losses"], tensorflow[case]["losses"], rtol=1e-9,
                                   err_msg=case)
        assert jax[case]["levels"] == tensorflow[case]["levels"], case


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="the PyTorch backend's error")
def test_torch_backend_is_refused_with_a_clear_message():
    from tf_overparam import fullbatch

    with pytest.raises(NotImplementedError, match="TensorFlow and JAX backends"):
        fullbatch.train(np.ones((4, 2)), np.ones(4), fullbatch.LinearNetwork(), "gd")
