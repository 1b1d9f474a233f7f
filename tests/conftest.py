"""Shared test fixtures, for tests/library/ and tests/experiments/: the real-data location.

Shared helpers live beside this file and are imported by name from every folder (this folder is
on `sys.path` once this conftest.py is loaded): `helpers` (subprocesses without TensorFlow,
`python -m reproduce`, the kill-and-rerun harness) and `numpy_oracles` (the paper's formulas in
numpy)."""

import os
import pathlib
import tempfile

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The numpy oracles compare in float64; JAX silently computes float64 inputs in float32 otherwise.
os.environ.setdefault("JAX_ENABLE_X64", "1")
# TFDS reads this once, at import: prepared data sets go to a private folder, not ~/tensorflow_datasets.
os.environ.setdefault("TFDS_DATA_DIR", tempfile.mkdtemp(prefix="tf_overparam_tfds_"))


@pytest.fixture(scope="session")
def shared_data_dir():
    """The real data root holding gas_sensor_drift/ and mnist/.

    $TF_OVERPARAM_DATA_DIR if set, else ../shared/data next to the checkout. Skips when absent,
    except under CI (CI=true), where missing data is a failure, not a skip.
    """
    env = os.environ.get("TF_OVERPARAM_DATA_DIR", "").strip()
    root = pathlib.Path(env) if env else (
        pathlib.Path(__file__).resolve().parents[1] / ".." / "shared" / "data").resolve()
    if (root / "gas_sensor_drift").is_dir() and (root / "mnist").is_dir():
        return root
    message = (f"real data not found at {root}: set TF_OVERPARAM_DATA_DIR to a folder holding "
               "gas_sensor_drift/ and mnist/")
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)
