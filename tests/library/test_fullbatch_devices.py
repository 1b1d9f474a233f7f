"""The full-batch trainer's configuration axis split over several JAX devices gives the numbers
of one device.

JAX fixes its device count when it starts, so the JAX side runs in a subprocess with three host
devices (`XLA_FLAGS=--xla_force_host_platform_device_count=3`), as three GPUs would be used.
Each case trains 10 configurations, some of which diverge and leave the compiled loop, on 1, 2
and 3 devices: 10 configurations on 3 devices are padded to 12, and after the drops the split
is redone (fewer devices when fewer than two configurations per device would remain).
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from helpers import ROOT
from helpers import python_without_tensorflow

#: Every configuration computed on 1, 2 and 3 devices; float64, every loss recorded.
CASES = r"""
import json, sys
import jax
import numpy as np
from tf_overparam import fullbatch
rng = np.random.default_rng(0)
X = rng.normal(size=(300, 12))
y = X @ rng.normal(size=12) * 0.5 + 0.3 * rng.normal(size=300)
cases = {
    "gd depth 3 l4": ("gd", 3, 4, None, [1e-3, 1e-2, 0.1, 3.0, 30.0]),
    "end_to_end depth 3 l4": ("end_to_end", 3, 4, None, [1e-3, 1e-2, 0.1, 3.0, 30.0]),
    "momentum depth 1 l2 gram": ("momentum", 1, 2, True, [1e-3, 1e-2, 0.1, 0.5, 30.0]),
    "adam depth 2 l2 gram": ("adam", 2, 2, True, [1e-4, 1e-3, 3e-3, 1e-2, 30.0]),
    "adam depth 2 l4": ("adam", 2, 4, False, [1e-4, 1e-3, 3e-3, 1e-2, 30.0]),
}
out = {"local_devices": jax.local_device_count()}
for name, (rule, depth, p, gram, lrs) in cases.items():
    for devices in (1, 2, 3):
        result = fullbatch.train(X, y, fullbatch.LinearNetwork(depth=depth, stddev=0.3), rule,
                                 p=p, learning_rates=lrs, seeds=[0, 1], steps=3000,
                                 record_every=1, dtype="float64", gram=gram,
                                 loss_levels=[0.3, 0.1], devices=devices)
        out[f"{name} on {devices}"] = {
            "losses": np.nan_to_num(result.losses, nan=-1.0).tolist(),
            "diverged_at": result.diverged_at.tolist(), "levels": result.level_steps.tolist(),
            "factors": [f.tolist() for f in result.factors], "device": result.device}
errors = {}
for devices in (0, 4, 2.0):
    try:
        fullbatch.train(X, y, devices=devices)
    except ValueError as error:
        errors[repr(devices)] = str(error)
out["errors"] = errors
"""


@pytest.fixture(scope="module")
def on_devices():
    code = CASES + "json.dump(out, sys.stdout)\n"
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3",
           "XLA_FLAGS": "--xla_force_host_platform_device_count=3"}
    done = subprocess.run(python_without_tensorflow(code), cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


CASE_NAMES = ("gd depth 3 l4", "end_to_end depth 3 l4", "momentum depth 1 l2 gram",
              "adam depth 2 l2 gram", "adam depth 2 l4")

pytestmark = [
    pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                       reason="driven from the TensorFlow run of the suite (a JAX subprocess)"),
    # slow: one fresh JAX process, 15 trainings of 3,000 steps (about 40 s)
    pytest.mark.slow,
]


@pytest.mark.parametrize("name", CASE_NAMES)
@pytest.mark.parametrize("devices", [2, 3])
def test_split_over_devices_gives_the_one_device_numbers(on_devices, name, devices):
    assert on_devices["local_devices"] == 3
    one, split = on_devices[f"{name} on 1"], on_devices[f"{name} on {devices}"]
    # The split was used: the final factors lived on `devices` devices (on one device only
    # when every configuration diverged, which no case does).
    assert split["device"] == ", ".join(f"cpu:{i}" for i in range(devices))
    assert one["device"] == "cpu:0"
    # Divergence and level crossings are decided per iteration: exactly the same.
    assert split["diverged_at"] == one["diverged_at"]
    assert split["levels"] == one["levels"]
    assert any(step >= 0 for step in one["diverged_at"])  # configurations did leave the loop
    assert any(step < 0 for step in one["diverged_at"])
    # Every configuration is computed from its own rows, so only the matrix kernels' summation
    # order can differ with the share size: float64 round-off (~1e-16 per iteration), which these
    # convergent configurations do not amplify; 1e-9 relative after 3,000 iterations leaves
    # 10^5x. (Measured on a 2-core x86 CPU: bit-identical for GD, end-to-end and momentum,
    # 5e-15 for Adam.) Chaotic configurations (Adam at learning rates that never settle)
    # amplify any round-off, as configurations leaving the batch already do on one device, so
    # the cases use none.
    np.testing.assert_allclose(split["losses"], one["losses"], rtol=1e-9, atol=0)
    for a, b in zip(split["factors"], one["factors"]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_bad_device_counts_are_named(on_devices):
    errors = on_devices["errors"]
    assert set(errors) == {"0", "4", "2.0"}
    assert "`devices` must be None (every local device) or an integer >= 1, got 0" in errors["0"]
    assert "`devices` must be None" in errors["2.0"]
    assert "`devices=4`, but the jax backend has 3 local device(s)" in errors["4"]


def test_tensorflow_has_one_device_for_the_configurations():
    from tf_overparam import fullbatch

    X = np.ones((4, 2))
    with pytest.raises(ValueError, match=r"`devices=2`, but the tensorflow backend has 1"):
        fullbatch.train(X, np.ones(4), devices=2)
    assert fullbatch.train(X, np.ones(4), steps=3, devices=1).losses.shape == (1, 4)
