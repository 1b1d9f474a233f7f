"""`scripts/gpu_reproduce.sh run --quick` (issue 13's accelerator run) rehearsed on the CPU: JAX,
`import tensorflow` failing as on the device machine, the data passed with --data-dir (no
`fetch`), two variants × two seeds × two steps of Figure 5-right and the quick Figure 4-right."""

import json
import os
import pathlib
import subprocess
import sys
import tarfile

import keras
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="driven from the TensorFlow run of the suite, like test_reproduce_on_jax")
def test_gpu_script_quick_run_on_jax_without_tensorflow(tmp_path, shared_data_dir):
    env = {**os.environ, "GPU_REPRODUCE_BLOCK_TF": "1", "PYTHON": sys.executable, "OUT": str(tmp_path / "out")}
    env.pop("KERAS_BACKEND", None)  # the script sets jax
    done = subprocess.run(["bash", "scripts/gpu_reproduce.sh", "run", "--quick", "--seeds", "2", "--steps", "2",
                           "--models", "original,emulated", "--data-dir", str(shared_data_dir),
                           "--out-root", str(tmp_path / "results")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    results = tmp_path / "results"
    record = json.loads((results / "gpu_run.json").read_text())
    assert record["keras_backend"] == "jax" and record["versions"]["keras_backend"] == "jax"
    assert record["device"]["backend"] == "jax" and record["device"]["type"] in ("CPU", "GPU")
    assert set(record["wall_seconds"]) == {"figure5_right", "figure4_right"}
    assert all(seconds > 0 for seconds in record["wall_seconds"].values())

    figure5 = json.loads((results / "figure5_right_gpu" / "figure5_right.json").read_text())
    assert figure5["config"]["seeds"] == 2 and figure5["config"]["num_steps"] == 2
    assert figure5["versions"]["keras_backend"] == "jax"
    for name in ("original", "emulated"):
        assert list(figure5["by_seed"][name]) == ["66478", "66479"]
        assert figure5["over_seeds"][name]["test_error_percent"]["n"] == 2
        assert (results / "figure5_right_gpu" / f"{name}_seed1" / "losses.csv").exists()
    ratio = figure5["over_seeds"]["emulated"]["smoothed_ratio_to_original_by_range"]["cross_entropy"]["0-2"]
    assert ratio["min"] <= ratio["median"] <= ratio["max"] and ratio["n"] == 2
    figure4 = json.loads((results / "figure4_right_gpu" / "figure4_right.json").read_text())
    assert figure4["quick"] and figure4["versions"]["keras_backend"] == "jax" and figure4["results"]

    with tarfile.open(tmp_path / "out" / "gpu_results.tar.gz") as archive:
        names = archive.getnames()
    assert any(n.endswith("gpu_run.json") for n in names)
    assert any(n.endswith("figure5_right_gpu/emulated_seed1/losses.csv") for n in names)
    assert not any("checkpoint" in n for n in names)


@pytest.mark.parametrize("argv, option", [
    (["--seeds", "0"], "--seeds"), (["--steps", "-5"], "--steps"), (["--models", "original,deeper"], "--models"),
    (["--parts", "figure5_right,figure9"], "--parts"), (["--parts", ","], "--parts"),
])
def test_gpu_run_refuses_bad_options_before_any_work(tmp_path, argv, option):
    from reproduce import gpu_run

    root = tmp_path / "results"
    with pytest.raises(SystemExit) as error:
        gpu_run.main(argv + ["--out-root", str(root), "--data-dir", str(tmp_path / "no_data")])
    assert option in str(error.value) and "got" in str(error.value)
    assert not root.exists()
