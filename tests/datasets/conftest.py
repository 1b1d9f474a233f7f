"""Fixtures for the data-loader tests: the real data root, and isolation from network and cache.

No test here may touch the internet: every test runs with the download URLs pointed at a closed
local port and with a private, empty cache folder.
"""

import hashlib
import os
import pathlib

import pytest

from tf_overparam.datasets import ethanol, mnist

# Port 9 (discard) on the loopback interface: nothing listens there, so a connection is refused
# at once. Used instead of the real mirrors so that no test can reach the network.
UNREACHABLE = "http://127.0.0.1:9/"


@pytest.fixture(scope="session")
def shared_data_dir():
    """The real data root holding gas_sensor_drift/ and mnist/.

    $TF_OVERPARAM_DATA_DIR if set, else ../shared/data next to the checkout. Skips when absent,
    except under CI (CI=true), where missing data is a failure, not a skip.
    """
    env = os.environ.get("TF_OVERPARAM_DATA_DIR", "").strip()
    root = pathlib.Path(env) if env else (
        pathlib.Path(__file__).resolve().parents[2] / ".." / "shared" / "data").resolve()
    if (root / "gas_sensor_drift").is_dir() and (root / "mnist").is_dir():
        return root
    message = (f"real data not found at {root}: set TF_OVERPARAM_DATA_DIR to a folder holding "
               "gas_sensor_drift/ and mnist/")
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def offline_and_private_cache(monkeypatch, tmp_path):
    """Point downloads at a closed port and the cache at an empty folder, for every test."""
    monkeypatch.setattr(ethanol, "UCI_ARCHIVE_URL", UNREACHABLE + "uci.zip")
    monkeypatch.setattr(mnist, "MNIST_NPZ_URL", UNREACHABLE + "mnist.npz")
    cache_home = tmp_path / "xdg_cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    return cache_home


@pytest.fixture
def snapshot():
    """snapshot(folder) -> {name: (sha256, size, mtime_ns)}, to prove no file was touched."""

    def take(folder):
        state = {}
        for path in sorted(pathlib.Path(folder).rglob("*")):
            if path.is_file():
                stat = path.stat()
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                state[str(path.relative_to(folder))] = (digest, stat.st_size, stat.st_mtime_ns)
        return state

    return take
