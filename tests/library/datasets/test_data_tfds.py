"""tensorflow-datasets access (tf_overparam.datasets.tfds) against the loaders' own arrays.

The oracle is the file loaders (`load_ethanol`, `load_mnist(source="files")`), themselves checked
against the published checksums. Everything runs offline: the gas-sensor builder reads the shared
files through TFDS's manual_dir; the MNIST TFDS data folders are prepared here from the shared IDX
files (TFDS's own MNIST builder, with its download step handed those files, because their
gzip wrappers differ from the mirror's byte for byte and TFDS checks the .gz sha256).
"""

import gzip
import json
import shutil
import subprocess
import sys
from unittest import mock

import numpy as np
import pytest

tfds = pytest.importorskip("tensorflow_datasets")  # a dependency: present in CI

from tf_overparam.datasets import (ChecksumError, DataNotFoundError, load_ethanol,  # noqa: E402
                                   load_mnist)
from tf_overparam.datasets import tfds as overparam_tfds  # noqa: E402  (registers the builder)

RECONSTRUCTED = "gas_sensor_drift_reconstructed/ethanol_batch7_batch10.csv"


def load_gas_sensor(root, data_dir):
    config = tfds.download.DownloadConfig(manual_dir=str(root))
    return tfds.load("gas_sensor_drift/ethanol", split="train", data_dir=str(data_dir),
                     batch_size=-1, with_info=True,
                     download_and_prepare_kwargs={"download_config": config})


def test_gas_sensor_drift_ethanol_is_load_ethanol_raw(shared_data_dir, tmp_path):
    examples, info = load_gas_sensor(shared_data_dir, tmp_path / "tfds")
    examples = tfds.as_numpy(examples)
    X, y, meta = load_ethanol(shared_data_dir, feature_normalization="none",
                              target_normalization="none")
    assert examples["features"].shape == (2565, 128) and examples["features"].dtype == np.float64
    np.testing.assert_array_equal(examples["features"], X)  # same rows, same order, exact
    np.testing.assert_array_equal(examples["concentration"], y)
    batches, counts = np.unique(examples["batch"], return_counts=True)
    assert dict(zip(batches.tolist(), counts.tolist())) == meta["rows_per_batch"]
    assert examples["reconstructed"].sum() == 1249
    assert set(examples["batch"][examples["reconstructed"]]) == {7, 10}
    # PROVENANCE.md 1b: concentration mean 114.950, std 86.637 (n − 1) over the 2,565 rows.
    assert examples["concentration"].mean() == pytest.approx(114.950, abs=5e-4)
    assert examples["concentration"].std(ddof=1) == pytest.approx(86.637, abs=5e-4)
    assert list(info.splits) == ["train"] and info.splits["train"].num_examples == 2565
    assert info.supervised_keys == ("features", "concentration")
    assert info.metadata["batches_reconstructed"] == [7, 10]
    assert info.metadata["reconstructed"]["sha256"].startswith("7edeed59")
    json.dumps(dict(info.metadata))


def test_gas_sensor_drift_as_supervised_feeds_a_keras_model(shared_data_dir, tmp_path):
    import keras

    import tf_overparam

    config = tfds.download.DownloadConfig(manual_dir=str(shared_data_dir))
    ds = tfds.load("gas_sensor_drift/ethanol", split="train", data_dir=str(tmp_path / "tfds"),
                   as_supervised=True, download_and_prepare_kwargs={"download_config": config})
    features = ds.map(lambda x, y: x)
    normalize = keras.layers.Normalization()
    normalize.adapt(features.batch(512))
    model = keras.Sequential([keras.Input((128,)), normalize,
                              tf_overparam.OverparamDense(1, depth=3)])
    model.compile(optimizer=keras.optimizers.SGD(1e-3), loss=tf_overparam.LpLoss(2))
    history = model.fit(ds.map(lambda x, y: (x, y / 100.0)).batch(2565), epochs=3, verbose=0,
                        shuffle=False)
    losses = history.history["loss"]
    assert len(losses) == 3 and np.all(np.isfinite(losses)) and losses[-1] < losses[0]


def test_gas_sensor_drift_refuses_a_modified_reconstruction(shared_data_dir, tmp_path, snapshot):
    root = tmp_path / "data"
    shutil.copytree(shared_data_dir / "gas_sensor_drift", root / "gas_sensor_drift")
    (root / "gas_sensor_drift_reconstructed").mkdir()
    text = (shared_data_dir / RECONSTRUCTED).read_text()
    (root / RECONSTRUCTED).write_text(text.replace("2.500000", "2.600000", 1))
    before = snapshot(root)
    with pytest.raises(ChecksumError, match="ethanol_batch7_batch10.csv"):
        load_gas_sensor(root, tmp_path / "tfds")
    assert snapshot(root) == before  # refused, never fixed or deleted
    prepared = tmp_path / "tfds" / "gas_sensor_drift" / "ethanol" / "1.0.0"
    assert not (prepared / "dataset_info.json").exists()  # nothing usable half-written


def test_gas_sensor_drift_refuses_missing_batches(shared_data_dir, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(shared_data_dir / "gas_sensor_drift", root / "gas_sensor_drift")
    with pytest.raises(DataNotFoundError, match="batch7.dat"):  # 1,316 rows are not the set
        load_gas_sensor(root, tmp_path / "tfds")


def test_gas_sensor_drift_names_a_manual_dir_that_does_not_exist(tmp_path):
    missing = tmp_path / "no_such_folder"
    with pytest.raises(DataNotFoundError, match=f"manual_dir '{missing}'.* is not a folder"):
        load_gas_sensor(missing, tmp_path / "tfds")
    assert not (tmp_path / "tfds" / "gas_sensor_drift").exists()  # refused before any work


def test_core_library_does_not_import_tensorflow_datasets():
    code = ("import sys, tf_overparam, tf_overparam.datasets; "
            "print('tensorflow_datasets' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip().splitlines()[-1] == "False"


# --- MNIST through tfds.load --------------------------------------------------------------------

IDX_NAMES = {"train_data": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
             "test_data": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}


def prepare_tfds_from_idx(name, idx_folder, data_dir, work):
    """Run TFDS's own builder `name` with its download step returning the decompressed files."""
    work.mkdir(parents=True, exist_ok=True)
    paths = {}
    for key, filename in IDX_NAMES.items():
        paths[key] = work / filename
        with gzip.open(idx_folder / f"{filename}.gz") as compressed:
            paths[key].write_bytes(compressed.read())

    def downloaded(self, urls):
        return {key: tfds.core.Path(paths[key]) for key in urls}

    builder = tfds.builder(name, data_dir=str(data_dir))
    with mock.patch.object(tfds.download.DownloadManager, "download_and_extract", downloaded):
        builder.download_and_prepare()


@pytest.fixture(scope="module")
def mnist_tfds_dir(shared_data_dir, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("tfds_mnist")
    prepare_tfds_from_idx("mnist", shared_data_dir / "mnist", data_dir,
                          tmp_path_factory.mktemp("mnist_idx"))
    return data_dir


def assert_same_arrays(got, expected):
    for (x_got, y_got), (x_expected, y_expected) in zip(got, expected):
        assert x_got.dtype == np.uint8 and y_got.dtype == np.uint8
        np.testing.assert_array_equal(x_got, x_expected)
        np.testing.assert_array_equal(y_got, y_expected)


# slow: TFDS's own builder prepares MNIST from the IDX files first (about 30 s)
@pytest.mark.slow
def test_load_mnist_from_tfds_equals_the_idx_files(shared_data_dir, mnist_tfds_dir):
    from_tfds = load_mnist(mnist_tfds_dir, source="tfds", download=False)
    assert_same_arrays(from_tfds, load_mnist(shared_data_dir))
    # The stored order is TFDS's hashed one: the restoring permutation is doing real work.
    stored = tfds.as_numpy(tfds.load("mnist", split="train", data_dir=str(mnist_tfds_dir),
                                     batch_size=-1, as_supervised=True, download=False))
    assert not np.array_equal(stored[1], from_tfds[0][1])


# slow: TFDS's own builder prepares MNIST from the IDX files first (about 30 s)
@pytest.mark.slow
def test_load_mnist_from_tfds_checks_the_order(mnist_tfds_dir, monkeypatch):
    """A TFDS that stored the examples in another order fails the content MD5, not silently."""
    monkeypatch.setattr(overparam_tfds, "_idx_order", lambda n, split: np.arange(n))
    with pytest.raises(ChecksumError, match="differs from the standard MNIST"):
        load_mnist(mnist_tfds_dir, source="tfds", download=False)


# slow: TFDS's own builder prepares Fashion-MNIST from the IDX files (about 30 s)
@pytest.mark.slow
def test_load_fashion_mnist_from_tfds_equals_the_idx_files(shared_data_dir, tmp_path):
    prepare_tfds_from_idx("fashion_mnist", shared_data_dir / "fashion_mnist", tmp_path / "tfds",
                          tmp_path / "idx")
    from_tfds = load_mnist(tmp_path / "tfds", source="tfds", variant="fashion", download=False)
    assert_same_arrays(from_tfds, load_mnist(shared_data_dir, variant="fashion"))


def test_load_mnist_from_tfds_not_prepared_offline(tmp_path):
    with pytest.raises(DataNotFoundError, match="tfds.load\\('mnist'\\) failed"):
        load_mnist(tmp_path / "empty_tfds", source="tfds", download=False)


def test_load_mnist_source_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError, match="source must be one of 'files', 'tfds'; got 'tf'"):
        load_mnist(tmp_path, source="tf")
    with pytest.raises(ValueError, match="`file_format` must be 'auto' with source='tfds'"):
        load_mnist(tmp_path, source="tfds", file_format="idx")


# slow: TFDS's own builder prepares MNIST from the IDX files first (about 30 s)
@pytest.mark.slow
def test_the_tutorial_data_from_tfds_equals_the_files(shared_data_dir, mnist_tfds_dir):
    """Figure 5-right's loader, as the Colab notebook calls it (mnist_source="tfds")."""
    from reproduce.lab import mnist_tutorial

    from_tfds = mnist_tutorial.load_tutorial_data(mnist_tfds_dir, source="tfds")
    from_files = mnist_tutorial.load_tutorial_data(shared_data_dir)
    assert list(from_tfds) == list(from_files) == ["validation", "train", "test"]
    for part in from_files:
        for got, expected in zip(from_tfds[part], from_files[part]):
            np.testing.assert_array_equal(got, expected)
