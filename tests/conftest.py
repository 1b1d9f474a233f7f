"""Shared test fixtures: the real-data location (oracles live in numpy_oracles.py)."""

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
    """The real data root (gas_sensor_drift/, mnist/): $TF_OVERPARAM_DATA_DIR or ../shared/data."""
    candidates = [os.environ.get("TF_OVERPARAM_DATA_DIR")]
    candidates.append(pathlib.Path(__file__).resolve().parents[2] / "shared" / "data")
    for candidate in candidates:
        if candidate and pathlib.Path(candidate).is_dir():
            return pathlib.Path(candidate)
    if os.environ.get("CI") == "true":
        pytest.fail("real data not found under CI: set TF_OVERPARAM_DATA_DIR or provide ../shared/data")
    pytest.skip("real data not found: set TF_OVERPARAM_DATA_DIR to a folder with gas_sensor_drift/ and mnist/")
