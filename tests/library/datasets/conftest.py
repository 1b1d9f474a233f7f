"""Fixtures for the data-loader tests: isolation from network and cache (the real data root,
`shared_data_dir`, comes from tests/conftest.py).

No test here may touch the internet: every test runs with the download URLs pointed at a closed
local port and with a private, empty cache folder.
"""

import hashlib
import pathlib

import pytest

from tf_overparam.datasets import ethanol, mnist, uci_regression

# Port 9 (discard) on the loopback interface: nothing listens there, so a connection is refused
# at once. Used instead of the real mirrors so that no test can reach the network.
UNREACHABLE = "http://127.0.0.1:9/"


@pytest.fixture(autouse=True)
def offline_and_private_cache(monkeypatch, tmp_path):
    """Point downloads at a closed port and the cache at an empty folder, for every test."""
    monkeypatch.setattr(ethanol, "UCI_ARCHIVE_URL", UNREACHABLE + "uci.zip")
    monkeypatch.setattr(mnist, "MNIST_NPZ_URL", UNREACHABLE + "mnist.npz")
    monkeypatch.setattr(uci_regression, "UCI_REGRESSION_BASE_URL", UNREACHABLE + "uci_datasets/")
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
