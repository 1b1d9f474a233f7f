"""`python -m reproduce conv_overparam --quick` on the real MNIST and Fashion-MNIST."""

import json
import os
import subprocess

import keras
import numpy as np
import pytest
from helpers import ROOT
from helpers import python_without_tensorflow

from reproduce import __main__ as cli
from reproduce.experiments import conv_overparam


def test_quick_run_writes_its_outputs_and_collapse_keeps_the_trained_model(shared_data_dir, tmp_path, capsys):
    if not (shared_data_dir / "fashion_mnist").is_dir():
        message = f"Fashion-MNIST not found under {shared_data_dir}/fashion_mnist"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    cli.main(["conv_overparam", "--quick", "--out", str(tmp_path), "--data-dir", str(shared_data_dir)])
    out = tmp_path / "conv_overparam"
    for name in ("conv_overparam.png", "conv_overparam.pdf", "conv_overparam.json"):
        assert (out / name).stat().st_size > 0
    summary = json.loads((out / "conv_overparam.json").read_text())
    config = summary["config"]
    assert config["quick"] and config["num_steps"] == 30 and config["seeds"] == [0]
    expected_params = {"original": 1_663_370, "dense": 1_925_614, "dense_conv": 1_925_614 + 625 + 4096}
    for dataset in ("mnist", "fashion"):
        for name, params in expected_params.items():
            entry = summary["results"][dataset][name]
            assert entry["parameters"] == params
            assert 0 <= entry["test_error_percent_median"] < 60, "30 steps must beat chance (90%)"
            record = json.loads((out / "runs" / dataset / f"{name}_seed0.json").read_text())
            assert len(record["cross_entropy"]) == 30 and record["eval_steps"] == [0, 15, 30]
            assert record["eval_errors_percent"][-1] < record["eval_errors_percent"][0]
            if name == "original":
                continue
            collapsed = entry["collapsed"]
            assert collapsed["parameters"] == [1_663_370]
            assert collapsed["identical_test_error"]
            assert collapsed["test_error_percent_per_seed"] == entry["test_error_percent_per_seed"]
            assert collapsed["max_abs_logit_difference"] < 1e-4
            assert record["collapsed"]["same_predictions"]
            assert record["collapsed"]["layers"] == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D",
                                                     "Flatten", "Dense", "Dropout", "Dense"]
    # A rerun finds every run finished and only redraws (resume after an interruption).
    capsys.readouterr()
    conv_overparam.run(out_dir=out, data_dir=str(shared_data_dir), quick=True)
    assert capsys.readouterr().out.count("complete, kept") == 6

    # A damaged record and one made with other settings are moved aside, never overwritten, and
    # only those two runs are trained again.
    runs = sorted((out / "runs").rglob("*_seed0.json"))
    damaged, stale = runs[0], runs[1]
    damaged.write_text('{"test_error_percent": 1.')
    other = json.loads(stale.read_text())
    other["config"] = dict(other["config"], num_steps=31)
    stale.write_text(json.dumps(other))
    kept_bytes = {damaged.name: damaged.read_bytes(), stale.name: stale.read_bytes()}
    capsys.readouterr()
    with pytest.warns(RuntimeWarning) as caught:
        conv_overparam.run(out_dir=out, data_dir=str(shared_data_dir), quick=True)
    messages = " ".join(str(w.message) for w in caught)
    assert "not a readable record" in messages and "made with other settings" in messages
    assert capsys.readouterr().out.count("complete, kept") == 4
    rejected = [path for path in (out / "runs").rglob("rejected/*")]
    assert sorted(path.read_bytes() for path in rejected) == sorted(kept_bytes.values())
    for path in (damaged, stale):
        assert json.loads(path.read_text())["config"] == config


#: One quick run of each model trained on one device and data-parallel on two host devices (JAX;
#: the device count is fixed when JAX starts, hence the subprocess), in float64.
DATA_PARALLEL = r"""
import json, sys
import keras
import numpy as np
keras.config.set_floatx("float64")
from reproduce.experiments import conv_overparam
config = conv_overparam.make_config(quick=True, settings={"num_steps": 20})
data = conv_overparam.load_data("mnist", sys.argv[1], config)
out = {}
for name in ("original", "dense_conv"):
    one = conv_overparam._train_one("mnist", name, 0, data, config)
    split = conv_overparam.train_one("mnist", name, 0, data, config)
    out[name] = {"one": one, "split": split}
json.dump(out, sys.stdout, default=lambda value: np.asarray(value).tolist())
"""


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="driven from the TensorFlow run of the suite (a JAX subprocess)")
def test_data_parallel_on_two_devices_gives_the_one_device_losses(shared_data_dir):
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3",
           "JAX_ENABLE_X64": "1",  # float64 is float32 on JAX without it
           "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    done = subprocess.run(python_without_tensorflow(DATA_PARALLEL, str(shared_data_dir)),
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    for name, runs in out.items():
        one, split = runs["one"], runs["split"]
        assert split["devices"] == 2 and "devices" not in one, name
        # The batch of 64 is split 32 + 32 and the gradient all-reduced: the same sums in
        # another order. In float64 that is ~1e-16 per step, and 20 steps of SGD with momentum
        # (the dropout masks are the same: JAX draws them for the whole batch) keep it far below
        # the records' 7 significant digits (measured: every recorded loss equal on a 2-core x86
        # CPU; in float32 the same runs drift apart by 1e-2). rtol=2e-7: one unit in the 7th
        # digit, where a rounding boundary may fall between the two.
        np.testing.assert_allclose(split["cross_entropy"], one["cross_entropy"], rtol=2e-7)
        np.testing.assert_allclose(split["total_loss"], one["total_loss"], rtol=2e-7)
        assert split["eval_errors_percent"] == one["eval_errors_percent"], name
        assert split["test_error_percent"] == one["test_error_percent"], name
