"""load_mnist on the real data (the tests' data folder; both the IDX and the npz form)."""

import numpy as np
import pytest

from tf_overparam.datasets import DATA_DIR_ENV_VAR, load_mnist

TRAIN_HISTOGRAM = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_HISTOGRAM = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(scope="module")
def from_idx(shared_data_dir):
    return load_mnist(shared_data_dir, file_format="idx")


@pytest.fixture(scope="module")
def from_npz(shared_data_dir):
    return load_mnist(shared_data_dir, file_format="npz")


def test_shapes_dtypes_and_labels(from_idx):
    (x_train, y_train), (x_test, y_test) = from_idx
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    for array in (x_train, y_train, x_test, y_test):
        assert array.dtype == np.uint8
    assert np.bincount(y_train, minlength=10).tolist() == TRAIN_HISTOGRAM
    assert np.bincount(y_test, minlength=10).tolist() == TEST_HISTOGRAM
    assert y_train[:5].tolist() == [5, 0, 4, 1, 9]
    assert y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert x_train.max() == 255 and x_train.min() == 0


def test_idx_and_npz_forms_identical(from_idx, from_npz):
    for a, b in zip(from_idx[0] + from_idx[1], from_npz[0] + from_npz[1]):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_root_layout_env_var_and_auto(shared_data_dir, from_idx, monkeypatch):
    # The mnist/ folder directly, and the root through the environment variable.
    (x_train, _), (_, y_test) = load_mnist(shared_data_dir / "mnist")
    np.testing.assert_array_equal(x_train, from_idx[0][0])
    monkeypatch.setenv(DATA_DIR_ENV_VAR, str(shared_data_dir))
    (_, y_train), _ = load_mnist(file_format="npz")
    np.testing.assert_array_equal(y_train, from_idx[0][1])
