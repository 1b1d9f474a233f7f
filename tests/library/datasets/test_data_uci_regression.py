"""load_uci_regression on the real files (the tests' data folder), against independent oracles:
`numpy.loadtxt` of each gzipped file, hashlib's sha256 against the values the data's provenance
publishes, numpy's formulas for the normalizations. No network (tests/library/datasets/conftest.py
points every download at a closed port and the cache at an empty folder)."""

import gzip
import hashlib
import json
import os
import shutil
import time
import urllib.error

import numpy as np
import pytest

from tf_overparam.datasets import (DATA_DIR_ENV_VAR, UCI_REGRESSION_SETS, ChecksumError,
                                   DataFormatError, DataNotFoundError, RegressionData, _sources,
                                   load_uci_regression, uci_regression)

#: Rows, inputs and sha256 of each file as the data's provenance lists them (an oracle written
#: out here, not read from the library's constant), with the target's minimum and maximum as
#: printed there (to the digits shown).
PUBLISHED = {
    "concrete": (1030, 8, "542c5d9a0d301bdb47550280398dcbbe2fb8404631fc945de1ea6df9ade741c6",
                 "-33.5", "46.8"),
    "wine": (1599, 11, "e2ca3346651ddb43fbc6a1355e70e74b7ce68f93059e04405e9cb749c219eae2",
             "-2.02", "4.48"),
    "parkinsons": (5875, 20, "d20ffd9c9e5053a03fff0b770e7b0e076bf856a34538198303c897b6cc6addde",
                   "-22.0", "26.0"),
    "pumadyn32nm": (8192, 32, "10d1698944e0f6e586f2781e4b62c17c05174d4c6cdb6fb824a3e5a1b3630ae4",
                    "-3.20", "3.26"),
}
NAMES = list(PUBLISHED)


def raw_table(path):
    """Independent oracle: numpy.loadtxt of the gzipped file."""
    return np.loadtxt(path, delimiter=",")


@pytest.fixture(scope="module")
def uci_folder(shared_data_dir):
    folder = shared_data_dir / "uci_regression"
    if not folder.is_dir():  # as shared_data_dir: a skip, except under CI, where a failure
        message = f"no uci_regression/ in the data folder {shared_data_dir}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return folder


def test_the_public_constant_lists_the_four_sets():
    assert list(UCI_REGRESSION_SETS) == NAMES
    for name, (rows, inputs, sha256, _, _) in PUBLISHED.items():
        spec = UCI_REGRESSION_SETS[name]
        assert (spec.name, spec.rows, spec.inputs, spec.sha256) == (name, rows, inputs, sha256)
        assert spec.filename == f"{name}.csv.gz"
        assert spec.url.endswith(f"/uci_datasets/{name}/data.csv.gz")
        assert spec.citation and spec.licence and spec.original.startswith("https://")


@pytest.mark.parametrize("name", NAMES)
def test_each_set_raw_equals_loadtxt_of_the_file(shared_data_dir, uci_folder, name):
    rows, inputs, sha256, target_min, target_max = PUBLISHED[name]
    path = uci_folder / f"{name}.csv.gz"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256
    data = load_uci_regression(name, shared_data_dir, feature_normalization="none",
                               target_normalization="none")
    assert isinstance(data, RegressionData)
    X, y, meta = data
    assert len(data) == 3 and data[0] is X and data[1] is y and data[-1] is meta  # as a tuple
    assert X.shape == (rows, inputs) and y.shape == (rows,)
    assert X.dtype == np.float64 and y.dtype == np.float64
    assert np.isfinite(X).all() and np.isfinite(y).all()
    table = raw_table(path)
    np.testing.assert_array_equal(X, table[:, :-1])
    np.testing.assert_array_equal(y, table[:, -1])
    # The provenance's checks: centred target, its range, no constant column.
    assert abs(y.mean()) < 1e-2 * y.std()
    for value, printed in ((y.min(), target_min), (y.max(), target_max)):
        assert f"{value:.{len(printed.split('.')[1])}f}" == printed
    assert (X.std(axis=0) > 0).all()
    assert meta["sha256"] == sha256 and meta["sha256_verified"] is True
    assert (meta["name"], meta["file"], meta["n_rows"], meta["n_features"]) == (
        name, f"{name}.csv.gz", rows, inputs)
    assert meta["source"] == "data_dir argument" and meta["partial"] is False
    assert meta["package"] == "treforevans/uci_datasets" and meta["package_licence"] == "MIT"
    assert meta["feature_mean"] is None and meta["target_std"] is None
    # The data by what it is, never by where it lay on this machine.
    text = json.dumps(meta)
    assert str(shared_data_dir) not in text and "uci_regression/" not in text


def test_default_normalization_standardizes_features_and_target(shared_data_dir, uci_folder):
    table = raw_table(uci_folder / "wine.csv.gz")
    X, y, meta = load_uci_regression("wine", shared_data_dir)
    assert meta["feature_normalization"] == "standardize"
    assert meta["target_normalization"] == "standardize"
    mean, std = table[:, :-1].mean(axis=0), table[:, :-1].std(axis=0)
    np.testing.assert_allclose(X, (table[:, :-1] - mean) / std, atol=1e-12)
    np.testing.assert_allclose(meta["feature_mean"], mean, rtol=1e-12)
    np.testing.assert_allclose(meta["feature_std"], std, rtol=1e-12)
    t = table[:, -1]
    np.testing.assert_allclose(y, (t - t.mean()) / t.std(), atol=1e-12)
    assert meta["target_mean"] == pytest.approx(t.mean(), rel=1e-12)
    assert meta["target_std"] == pytest.approx(t.std(), rel=1e-12)
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1, rtol=1e-12)
    # Predictions map back to the file's units.
    data = load_uci_regression("wine", shared_data_dir)
    np.testing.assert_allclose(data.target_to_original(y), t, atol=1e-12)
    json.dumps(meta)


def test_minmax_features_and_centred_target(shared_data_dir, uci_folder):
    table = raw_table(uci_folder / "concrete.csv.gz")
    X, y, meta = load_uci_regression("concrete", shared_data_dir, feature_normalization="minmax",
                                     target_normalization="center")
    features, t = table[:, :-1], table[:, -1]
    low, high = features.min(axis=0), features.max(axis=0)
    np.testing.assert_allclose(X, (features - low) / (high - low), atol=1e-12)
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_allclose(meta["feature_mean"], low)
    np.testing.assert_allclose(meta["feature_std"], high - low)
    np.testing.assert_allclose(y, t - t.mean(), atol=1e-12)
    assert meta["target_mean"] == pytest.approx(t.mean()) and meta["target_std"] is None


def test_both_layouts_and_the_environment_variable(shared_data_dir, uci_folder, monkeypatch):
    """The data root (holding uci_regression/), the uci_regression folder itself, and
    $TF_OVERPARAM_DATA_DIR naming either: the same arrays."""
    X, y, _ = load_uci_regression("concrete", shared_data_dir)
    X2, y2, meta2 = load_uci_regression("concrete", uci_folder)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert meta2["source"] == "data_dir argument"
    for folder in (shared_data_dir, uci_folder):
        monkeypatch.setenv(DATA_DIR_ENV_VAR, str(folder))
        X3, _, meta3 = load_uci_regression("concrete")
        np.testing.assert_array_equal(X, X3)
        assert meta3["source"] == f"${DATA_DIR_ENV_VAR}"


@pytest.fixture
def concrete_copy(uci_folder, tmp_path):
    folder = tmp_path / "mine" / "uci_regression"
    folder.mkdir(parents=True)
    shutil.copy2(uci_folder / "concrete.csv.gz", folder)
    return folder


def tamper(path):
    """A still well-formed file with one value changed: only the checksum can tell."""
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    lines[0] = lines[0].replace("258.83", "258.84", 1)
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))


def test_a_tampered_file_is_refused_and_left_untouched(concrete_copy, snapshot):
    path = concrete_copy / "concrete.csv.gz"
    tamper(path)
    before = snapshot(concrete_copy.parent)
    assert list(before) == ["uci_regression/concrete.csv.gz"]
    with pytest.raises(ChecksumError) as info:
        load_uci_regression("concrete", concrete_copy.parent)
    message = str(info.value)
    assert "concrete.csv.gz" in message and "542c5d9a" in message
    assert "verify_checksums='warn'" in message and "left untouched" in message
    assert snapshot(concrete_copy.parent) == before  # bytes, size and mtime unchanged
    # Opt-in: loads with a warning, says so in the metadata, and still changes nothing.
    with pytest.warns(UserWarning, match="sha256"):
        X, _, meta = load_uci_regression("concrete", concrete_copy, verify_checksums="warn",
                                         feature_normalization="none")
    assert meta["sha256_verified"] is False and meta["sha256"] != PUBLISHED["concrete"][2]
    assert X[0, 0] == pytest.approx(258.84)
    assert snapshot(concrete_copy.parent) == before


def test_a_malformed_file_is_named(concrete_copy):
    path = concrete_copy / "concrete.csv.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.warns(UserWarning, match="sha256"), pytest.raises(DataFormatError,
                                                                  match="concrete.csv.gz"):
        load_uci_regression("concrete", concrete_copy, verify_checksums="warn")
    path.write_bytes(gzip.compress(b"1,2,3\n4,5,6\n"))
    with pytest.warns(UserWarning), pytest.raises(DataFormatError, match=r"expected 1030 rows"):
        load_uci_regression("concrete", concrete_copy, verify_checksums="warn")


def test_missing_file_offline_fails_fast_naming_where_to_put_it(monkeypatch,
                                                                 offline_and_private_cache):
    # The real fetch against a closed local port (the autouse fixture), empty cache, no env.
    monkeypatch.delenv(DATA_DIR_ENV_VAR, raising=False)
    start = time.monotonic()
    with pytest.raises(DataNotFoundError) as info:
        load_uci_regression("parkinsons")
    assert time.monotonic() - start < 5.0
    message = str(info.value)
    cache = offline_and_private_cache / "tf_overparam" / "uci_regression"
    assert "parkinsons.csv.gz" in message
    assert "<folder>/uci_regression/parkinsons.csv.gz" in message  # where to put the file
    assert str(cache / "parkinsons.csv.gz") in message                 # or into the cache
    assert "http://127.0.0.1:9/uci_datasets/parkinsons/data.csv.gz" in message
    assert "failed" in message
    assert "data_dir=" in message and "--data-dir" in message and DATA_DIR_ENV_VAR in message
    assert not offline_and_private_cache.exists() or not any(
        p.is_file() for p in offline_and_private_cache.rglob("*"))  # nothing half-written
    with pytest.raises(DataNotFoundError, match="download: disabled"):
        load_uci_regression("parkinsons", download=False)


def test_a_named_folder_without_the_file_is_not_a_download(tmp_path, monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV_VAR, raising=False)

    def no_download(*args, **kwargs):
        raise AssertionError("a folder the user named must not turn into a download")

    monkeypatch.setattr(_sources, "fetch", no_download)
    (tmp_path / "uci_regression").mkdir()
    with pytest.raises(DataNotFoundError) as info:
        load_uci_regression("wine", tmp_path)
    assert "wine.csv.gz" in str(info.value) and str(tmp_path / "uci_regression") in str(info.value)


def test_download_into_the_cache_then_offline_from_it(uci_folder, monkeypatch,
                                                      offline_and_private_cache):
    """The download (from a file:// copy of the package's layout), checksummed, into the cache."""
    monkeypatch.delenv(DATA_DIR_ENV_VAR, raising=False)
    mirror = offline_and_private_cache.parent / "mirror"
    (mirror / "wine").mkdir(parents=True)
    shutil.copy(uci_folder / "wine.csv.gz", mirror / "wine" / "data.csv.gz")
    monkeypatch.setattr(uci_regression, "UCI_REGRESSION_BASE_URL", mirror.as_uri() + "/")
    X, _, meta = load_uci_regression("wine")
    cached = offline_and_private_cache / "tf_overparam" / "uci_regression" / "wine.csv.gz"
    assert meta["source"] == "download" and cached.is_file() and X.shape == (1599, 11)
    assert meta["url"] == (mirror / "wine" / "data.csv.gz").as_uri()
    monkeypatch.setattr(uci_regression, "UCI_REGRESSION_BASE_URL", "http://127.0.0.1:9/")
    X2, _, meta2 = load_uci_regression("wine")
    assert meta2["source"] == "cache"
    np.testing.assert_array_equal(X, X2)
    # A download whose bytes are not the published file is discarded: nothing lands in the cache.
    (mirror / "concrete").mkdir()
    (mirror / "concrete" / "data.csv.gz").write_bytes(gzip.compress(b"1,2\n"))
    monkeypatch.setattr(uci_regression, "UCI_REGRESSION_BASE_URL", mirror.as_uri() + "/")
    with pytest.raises(DataNotFoundError, match="sha256"):
        load_uci_regression("concrete")
    assert sorted(p.name for p in cached.parent.iterdir()) == ["wine.csv.gz"]


def test_download_errors_are_reported(monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV_VAR, raising=False)

    def no_network(url, destination, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(_sources, "fetch", no_network)
    with pytest.raises(DataNotFoundError, match="name resolution"):
        load_uci_regression("pumadyn32nm")


@pytest.mark.parametrize("name", ["Concrete", "gas", "", None, "concrete.csv.gz"])
def test_a_bad_name_is_a_value_error_listing_the_names(tmp_path, name):
    with pytest.raises(ValueError) as info:
        load_uci_regression(name, tmp_path / "missing")  # the folder does not exist either
    message = str(info.value)
    assert not isinstance(info.value, FileNotFoundError)  # checked before any file is looked at
    assert message.startswith("name must be one of ") and repr(name) in message
    assert all(repr(n) in message for n in NAMES)


@pytest.mark.parametrize("argument, value", [
    ("feature_normalization", "standardize_per_batch"),  # Ethanol's batches: none here
    ("target_normalization", "minmax"),
    ("verify_checksums", True),
])
def test_bad_arguments_are_named_before_any_work(tmp_path, argument, value):
    with pytest.raises(ValueError, match=rf"{argument} must be one of '") as info:
        load_uci_regression("concrete", tmp_path / "missing", **{argument: value})
    assert repr(value) in str(info.value)


def test_find_local_data_counts_the_sets(shared_data_dir, uci_folder):
    from tf_overparam.datasets import find_local_data

    found = find_local_data(shared_data_dir)["UCI regression"]
    assert found.startswith(str(uci_folder))
    assert found.endswith("4 of 4 sets (concrete, wine, parkinsons, pumadyn32nm)")


# ---- the tensorflow-datasets builder `uci_regression` (one config per set) --------------------


@pytest.fixture(scope="module")
def tfds():
    module = pytest.importorskip("tensorflow_datasets")  # a dependency: present in CI
    import tf_overparam.datasets.tfds  # noqa: F401  (registers the builders)

    return module


def load_uci_tfds(tfds, name, manual_dir, data_dir):
    config = tfds.download.DownloadConfig(manual_dir=str(manual_dir))
    return tfds.load(f"uci_regression/{name}", split="train", data_dir=str(data_dir),
                     batch_size=-1, with_info=True,
                     download_and_prepare_kwargs={"download_config": config})


@pytest.mark.parametrize("name", NAMES)
def test_tfds_config_is_the_raw_file(tfds, shared_data_dir, uci_folder, tmp_path, name):
    examples, info = load_uci_tfds(tfds, name, shared_data_dir, tmp_path / "tfds")
    examples = tfds.as_numpy(examples)
    rows, inputs, sha256, _, _ = PUBLISHED[name]
    table = raw_table(uci_folder / f"{name}.csv.gz")
    assert examples["features"].shape == (rows, inputs)
    assert examples["features"].dtype == np.float64
    np.testing.assert_array_equal(examples["features"], table[:, :-1])  # same order, exact
    np.testing.assert_array_equal(examples["target"], table[:, -1])
    assert info.supervised_keys == ("features", "target")
    assert info.splits["train"].num_examples == rows
    assert info.metadata["sha256"] == sha256 and info.metadata["file"] == f"{name}.csv.gz"
    assert str(shared_data_dir) not in json.dumps(dict(info.metadata))


def test_tfds_refuses_a_tampered_file_and_keeps_it(tfds, concrete_copy, tmp_path, snapshot):
    tamper(concrete_copy / "concrete.csv.gz")
    before = snapshot(concrete_copy)
    with pytest.raises(ChecksumError, match="concrete.csv.gz"):
        load_uci_tfds(tfds, "concrete", concrete_copy, tmp_path / "tfds")
    assert snapshot(concrete_copy) == before
    assert not list((tmp_path / "tfds").rglob("*.tfrecord*"))  # no prepared data left behind


def test_tfds_names_a_manual_dir_that_is_not_a_folder(tfds, tmp_path):
    with pytest.raises(DataNotFoundError, match=r"nowhere.*is not a folder(.|\n)*uci_regression/"):
        load_uci_tfds(tfds, "wine", tmp_path / "nowhere", tmp_path / "tfds")
