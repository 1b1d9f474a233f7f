"""Source resolution, downloads (from file:// URLs only) and offline behaviour. No network."""

import hashlib
import io
import shutil
import threading
import time
import urllib.error
import zipfile

import pytest

from tf_overparam.datasets import (DATA_DIR_ENV_VAR, ChecksumError, DataNotFoundError,
                                   PartialDataWarning, _sources, ethanol, load_ethanol, load_mnist,
                                   mnist)

LOADERS = [load_ethanol, load_mnist]


@pytest.mark.parametrize("loader, argument, value", [
    (load_ethanol, "feature_normalization", "zscore"),
    (load_ethanol, "target_normalization", "minmax"),
    (load_ethanol, "target_normalization", None),
    (load_ethanol, "verify_checksums", "off"),
    (load_mnist, "verify_checksums", True),
    (load_mnist, "file_format", "png"),
])
def test_bad_argument_named_before_any_work(tmp_path, loader, argument, value):
    # The folder does not exist: a ValueError (not FileNotFoundError) proves the check comes first.
    with pytest.raises(ValueError, match=rf"{argument} must be one of '") as info:
        loader(tmp_path / "missing", **{argument: value})
    assert repr(value) in str(info.value)
    assert not isinstance(info.value, FileNotFoundError)


@pytest.mark.parametrize("loader", LOADERS)
def test_offline_with_nothing_local_fails_fast(loader, monkeypatch, offline_and_private_cache):
    # Real fetch against a closed local port (set by the autouse fixture), empty cache, no env.
    monkeypatch.delenv(DATA_DIR_ENV_VAR, raising=False)
    start = time.monotonic()
    with pytest.raises(DataNotFoundError) as info:
        loader()
    assert time.monotonic() - start < 5.0
    message = str(info.value)
    assert str(offline_and_private_cache / "tf_overparam") in message  # where it looked
    assert "http://127.0.0.1:9/" in message and "failed" in message   # the download it tried
    assert "data_dir=" in message and "--data-dir" in message and DATA_DIR_ENV_VAR in message
    assert not offline_and_private_cache.exists() or not any(
        p.is_file() for p in offline_and_private_cache.rglob("*"))  # nothing half-written


@pytest.mark.parametrize("loader", LOADERS)
def test_offline_with_patched_fetch_and_download_off(loader, monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV_VAR, raising=False)

    def no_network(url, destination, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(_sources, "fetch", no_network)
    with pytest.raises(DataNotFoundError, match="name resolution"):
        loader()
    with pytest.raises(DataNotFoundError, match="download: disabled"):
        loader(download=False)


def test_fetch_gives_up_on_a_silent_server(monkeypatch, tmp_path):
    # A DNS lookup or server that never answers: the deadline, not the socket, ends the wait.
    release = threading.Event()
    monkeypatch.setattr(_sources.urllib.request, "urlopen",
                        lambda url, timeout: release.wait(30))
    start = time.monotonic()
    try:
        with pytest.raises(urllib.error.URLError, match="no answer within 0.5 s"):
            _sources.fetch("http://example.invalid/x", tmp_path / "x", sha256="0",
                           connect_timeout=0.5)
    finally:
        release.set()
    assert time.monotonic() - start < 5.0  # the bound for failing offline
    assert list(tmp_path.iterdir()) == []


def test_fetch_is_atomic_and_checksummed(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(b"payload" * 1000)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    out = tmp_path / "out"
    with pytest.raises(ChecksumError, match="discarded"):
        _sources.fetch(source.as_uri(), out / "file.bin", sha256="0" * 64)
    assert list(out.iterdir()) == []  # no partial file left behind
    _sources.fetch(source.as_uri(), out / "file.bin", sha256=digest)
    assert (out / "file.bin").read_bytes() == source.read_bytes()
    assert [p.name for p in out.iterdir()] == ["file.bin"]


def fake_uci_archive(shared_data_dir, path):
    """A zip with batch4.dat at top level and batch5.dat inside a nested zip."""
    gas = shared_data_dir / "gas_sensor_drift"
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.write(gas / "batch5.dat", "Dataset/batch5.dat")
    with zipfile.ZipFile(path, "w") as z:
        z.write(gas / "batch4.dat", "Dataset/batch4.dat")
        z.writestr("Dataset.zip", inner.getvalue())
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_ethanol_download_into_cache(shared_data_dir, tmp_path, monkeypatch,
                                     offline_and_private_cache):
    monkeypatch.delenv(DATA_DIR_ENV_VAR, raising=False)
    archive = tmp_path / "uci.zip"
    digest = fake_uci_archive(shared_data_dir, archive)
    monkeypatch.setattr(ethanol, "UCI_ARCHIVE_URL", archive.as_uri())
    cache = offline_and_private_cache / "tf_overparam"

    # Wrong archive checksum: refused, nothing kept.
    with pytest.raises(DataNotFoundError, match="sha256"):
        load_ethanol(allow_partial=True)
    assert not any(p.is_file() for p in cache.rglob("*"))

    monkeypatch.setattr(ethanol, "UCI_ARCHIVE_SHA256", digest)
    with pytest.warns(PartialDataWarning):
        X, _, meta = load_ethanol(allow_partial=True)
    assert meta["source"] == "download" and meta["batches_used"] == [4, 5]
    assert X.shape == (64 + 28, 128) and meta["sha256_verified"] is True
    assert sorted(p.name for p in (cache / "gas_sensor_drift").iterdir()) == [
        "batch4.dat", "batch5.dat"]

    # Now served from the cache, with the network gone.
    monkeypatch.setattr(ethanol, "UCI_ARCHIVE_URL", "http://127.0.0.1:9/uci.zip")
    shutil.rmtree(cache / "downloads")
    with pytest.warns(PartialDataWarning):
        _, _, meta = load_ethanol(allow_partial=True)
    assert meta["source"] == "cache" and meta["rows_per_batch"] == {4: 64, 5: 28}
    with pytest.raises(DataNotFoundError, match=r"batch1\.dat.*download failed"):
        load_ethanol()


def test_mnist_download_into_cache(shared_data_dir, monkeypatch, offline_and_private_cache):
    monkeypatch.delenv(DATA_DIR_ENV_VAR, raising=False)
    npz = shared_data_dir / "mnist" / "mnist.npz"
    monkeypatch.setattr(mnist, "MNIST_NPZ_URL", npz.as_uri())
    monkeypatch.setattr(mnist, "MNIST_NPZ_SHA256", _sources.sha256_file(npz))
    (x_train, _), _ = load_mnist()
    cached = offline_and_private_cache / "tf_overparam" / "mnist" / "mnist.npz"
    assert cached.is_file() and x_train.shape == (60000, 28, 28)
    monkeypatch.setattr(mnist, "MNIST_NPZ_URL", "http://127.0.0.1:9/mnist.npz")
    (_, y_train), _ = load_mnist()  # from the cache
    assert y_train[:5].tolist() == [5, 0, 4, 1, 9]


@pytest.mark.parametrize("loader", LOADERS)
def test_env_var_names_missing_folder(loader, monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_DIR_ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(DataNotFoundError, match=rf"nowhere \(from the \${DATA_DIR_ENV_VAR}\) "
                                                "does not exist"):
        loader()


def test_default_cache_root(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert _sources.default_cache_root() == tmp_path / "tf_overparam"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _sources.default_cache_root() == tmp_path / "home" / ".cache" / "tf_overparam"
