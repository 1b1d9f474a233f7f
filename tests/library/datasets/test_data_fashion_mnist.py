"""load_mnist(variant="fashion") on the real Fashion-MNIST files (the tests' data folder)."""

import gzip
import os
import shutil

import numpy as np
import pytest

from tf_overparam.datasets import ChecksumError, DataFormatError, DataNotFoundError, load_mnist


@pytest.fixture(scope="module")
def fashion_root(shared_data_dir):
    if not (shared_data_dir / "fashion_mnist").is_dir():
        message = f"Fashion-MNIST not found under {shared_data_dir}/fashion_mnist"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return shared_data_dir


@pytest.fixture(scope="module")
def fashion(fashion_root):
    return load_mnist(fashion_root, variant="fashion")


def test_shapes_dtypes_and_balanced_labels(fashion):
    (x_train, y_train), (x_test, y_test) = fashion
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert all(a.dtype == np.uint8 for a in (x_train, y_train, x_test, y_test))
    assert np.bincount(y_train, minlength=10).tolist() == [6000] * 10  # PROVENANCE.md section 3
    assert np.bincount(y_test, minlength=10).tolist() == [1000] * 10
    assert y_train[:5].tolist() == [9, 0, 0, 3, 0] and y_test[:5].tolist() == [9, 2, 1, 1, 6]


def test_folder_itself_and_differs_from_mnist(fashion_root, fashion):
    (x_train, _), _ = load_mnist(fashion_root / "fashion_mnist", variant="fashion", file_format="idx")
    np.testing.assert_array_equal(x_train, fashion[0][0])
    (mnist_train, _), _ = load_mnist(fashion_root)
    assert not np.array_equal(mnist_train[:100], x_train[:100])


@pytest.fixture
def fashion_copy(fashion_root, tmp_path):
    folder = tmp_path / "fashion_mnist"
    shutil.copytree(fashion_root / "fashion_mnist", folder)
    return folder


def test_content_differs_from_standard_fashion_mnist(fashion_copy):
    path = fashion_copy / "t10k-labels-idx1-ubyte.gz"
    with gzip.open(path, "rb") as handle:
        data = bytearray(handle.read())
    data[-1] = (data[-1] + 1) % 10
    with gzip.open(path, "wb") as handle:
        handle.write(bytes(data))
    with pytest.raises(ChecksumError, match="y_test differs from the standard Fashion-MNIST"):
        load_mnist(fashion_copy, variant="fashion")
    with pytest.warns(UserWarning, match="Fashion-MNIST"):
        load_mnist(fashion_copy, variant="fashion", verify_checksums="warn")
    # MNIST's checksums are not Fashion-MNIST's: the right variant matters.
    with pytest.raises(ChecksumError, match="standard MNIST"):
        load_mnist(fashion_copy, verify_checksums="error")


def test_broken_file_and_missing_data(fashion_copy, tmp_path):
    (fashion_copy / "train-labels-idx1-ubyte.gz").write_bytes(b"not gzip")
    with pytest.raises(DataFormatError, match="train-labels-idx1-ubyte.gz"):
        load_mnist(fashion_copy, variant="fashion")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataNotFoundError, match="Fashion-MNIST"):
        load_mnist(empty, variant="fashion")


def test_bad_variant_names_the_argument():
    with pytest.raises(ValueError, match="variant.*'mnist', 'fashion'"):
        load_mnist("/nonexistent", variant="kmnist")


def test_fashion_is_never_downloaded(monkeypatch):
    monkeypatch.delenv("TF_OVERPARAM_DATA_DIR", raising=False)
    with pytest.raises(DataNotFoundError, match="Fashion-MNIST is not downloaded by this package"):
        load_mnist(variant="fashion")
