"""`scripts/gpu_reproduce.sh run --quick` (the accelerator run) rehearsed on the CPU: JAX,
`import tensorflow` failing as on the device machine, the data passed with --data-dir (no
`fetch`), two variants × two seeds × two steps of Figure 5-right and the quick Figure 4-right,
packed as the device tool would bring them back."""

import json
import os
import subprocess
import sys
import tarfile

import keras
import pytest
from helpers import ROOT

from reproduce import __main__ as cli


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="driven from the TensorFlow run of the suite, like test_reproduce_on_jax")
def test_gpu_script_quick_run_on_jax_without_tensorflow(tmp_path, shared_data_dir):
    env = {**os.environ, "GPU_REPRODUCE_BLOCK_TF": "1", "PYTHON": sys.executable, "OUT": str(tmp_path / "out")}
    env.pop("KERAS_BACKEND", None)  # --backend jax says it
    results = tmp_path / "results"
    done = subprocess.run(["bash", "scripts/gpu_reproduce.sh", "run", "--quick",
                           "--set", "figure5_right:seeds=2", "--set", "figure5_right:num_steps=2",
                           "--set", 'figure5_right:models=["original", "emulated"]',
                           "--data-dir", str(shared_data_dir), "--out", str(results)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads((results / "command.json").read_text())
    assert record["versions"]["keras_backend"] == "jax"
    assert record["device"]["backend"] == "jax"
    assert set(record["parts"]) == {"figure5_right", "figure4_right"}
    assert all(part["status"] == "done" and part["seconds"] > 0 for part in record["parts"].values())
    assert "--backend jax" in record["command"]

    document = json.loads((results / "figure5_right" / "figure5_right.json").read_text())
    figure5 = document["results"]
    assert document["config"]["seeds"] == 2 and document["config"]["num_steps"] == 2
    assert document["settings"] == {"seeds": 2, "num_steps": 2, "models": ["original", "emulated"]}
    assert document["versions"]["keras_backend"] == "jax"
    for name in ("original", "emulated"):
        assert list(figure5["by_seed"][name]) == ["66478", "66479"]
        assert figure5["over_seeds"][name]["test_error_percent"]["n"] == 2
        assert (results / "figure5_right" / f"{name}_seed1" / "losses.csv").exists()
    ratio = figure5["over_seeds"]["emulated"]["smoothed_ratio_to_original_by_range"]["cross_entropy"]["0-2"]
    assert ratio["min"] <= ratio["median"] <= ratio["max"] and ratio["n"] == 2
    figure4 = json.loads((results / "figure4_right" / "figure4_right.json").read_text())
    assert figure4["quick"] and figure4["versions"]["keras_backend"] == "jax" and figure4["results"]
    assert figure4["settings"] == {}

    with tarfile.open(tmp_path / "out" / "results.tar.gz") as archive:
        names = archive.getnames()
    assert "results/command.json" in names
    assert "results/figure5_right/emulated_seed1/losses.csv" in names
    assert not any("checkpoint" in n for n in names)


@pytest.mark.parametrize("argv, message", [
    (["figure5_right", "--set", "seeds=0"], "setting 'seeds' must be a count"),
    (["figure5_right", "--set", "num_steps=-5"], "setting 'num_steps' must be an integer >= 1"),
    (["figure5_right", "--set", 'models=["original", "deeper"]'], "setting 'models' must be"),
    (["figure5_right", "figure4_right", "--set", "figure9:seeds=2"], "'figure9' is not among"),
    (["figure5_right", "--set", "epochs=2"], "no setting 'epochs'; settings: "),
    (["figure5_right", "--set", "num_steps"], "--set wants KEY=VALUE"),
])
def test_bad_settings_are_refused_before_any_work(tmp_path, capsys, argv, message):
    root = tmp_path / "results"
    with pytest.raises(SystemExit) as error:
        cli.main(argv + ["--out", str(root), "--data-dir", str(tmp_path)])
    assert error.value.code == 2
    assert message in capsys.readouterr().err
    assert not root.exists()
