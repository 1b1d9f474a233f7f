"""Bad input: each case gives a clear error, and no file is modified or deleted."""

import gzip
import re
import shutil

import numpy as np
import pytest

from tf_overparam.datasets import (ChecksumError, DataFormatError, DataNotFoundError,
                                   PartialDataWarning, load_ethanol, load_mnist)

ETHANOL_ARGS = dict(allow_partial=True)


@pytest.fixture
def batch4_folder(shared_data_dir, tmp_path):
    """A folder holding only a copy of batch4.dat (161 lines, 64 ethanol rows)."""
    folder = tmp_path / "gas"
    folder.mkdir()
    shutil.copy(shared_data_dir / "gas_sensor_drift" / "batch4.dat", folder)
    return folder


def edit_line(path, lineno, edit):
    lines = path.read_bytes().split(b"\n")
    lines[lineno - 1] = edit(lines[lineno - 1])
    path.write_bytes(b"\n".join(lines))


def test_batch4_copy_loads(batch4_folder):
    with pytest.warns(PartialDataWarning):
        X, y, meta = load_ethanol(batch4_folder, **ETHANOL_ARGS)
    assert X.shape == (64, 128) and meta["batches_used"] == [4]


def test_checksum_mismatch_raises_and_file_is_kept(batch4_folder, snapshot):
    # A still well-formed file with one changed digit: only the checksum can tell.
    edit_line(batch4_folder / "batch4.dat", 1,
              lambda line: line.replace(b"1:79669.6", b"1:79669.7"))
    before = snapshot(batch4_folder)
    with pytest.warns(PartialDataWarning), pytest.raises(ChecksumError) as info:
        load_ethanol(batch4_folder, **ETHANOL_ARGS)
    message = str(info.value)
    assert "batch4.dat" in message and "ffc87c51" in message and "verify_checksums" in message
    assert snapshot(batch4_folder) == before
    # Opt-in: warn, load, and say so in the metadata.
    with pytest.warns(UserWarning, match="sha256"), pytest.warns(PartialDataWarning):
        X, _, meta = load_ethanol(batch4_folder, verify_checksums="warn", **ETHANOL_ARGS)
    assert meta["sha256_verified"] is False and meta["sha256_mismatches"] == ["batch4.dat"]
    assert X.shape == (64, 128)
    assert snapshot(batch4_folder) == before


@pytest.mark.parametrize("lineno, edit, expected", [
    (3, lambda line: line[: len(line) // 2], r"line 3: .*(features, expected 128|non-numeric)"),
    (7, lambda line: line.replace(b" 5:", b" 5:1x"), r"line 7: non-numeric value '1x.*feature 5"),
    (9, lambda line: line.replace(b" 12:", b" 13:"), r"line 9: expected feature index 12"),
    (2, lambda line: line.replace(b";", b","), r"line 2: first field"),
    (161, lambda line: line.replace(b" 64:", b" 64:nan"), r"line 161: non-numeric"),
])
def test_malformed_line_names_file_and_line(batch4_folder, snapshot, lineno, edit, expected):
    edit_line(batch4_folder / "batch4.dat", lineno, edit)
    before = snapshot(batch4_folder)
    with pytest.warns(UserWarning), pytest.raises(DataFormatError, match=expected) as info:
        load_ethanol(batch4_folder, verify_checksums="warn", **ETHANOL_ARGS)
    assert "batch4.dat" in str(info.value)
    assert snapshot(batch4_folder) == before


def test_nan_value_rejected(batch4_folder):
    edit_line(batch4_folder / "batch4.dat", 5, lambda line: re.sub(rb" 64:\S+", b" 64:nan", line))
    with pytest.warns(UserWarning), pytest.raises(
            DataFormatError, match="line 5: non-finite value for feature 64"):
        load_ethanol(batch4_folder, verify_checksums="warn", **ETHANOL_ARGS)


def test_truncated_file_without_final_newline(batch4_folder):
    path = batch4_folder / "batch4.dat"
    path.write_bytes(path.read_bytes()[:-300])
    with pytest.warns(UserWarning), pytest.raises(DataFormatError,
                                                  match=r"batch4.dat: line 161: .*truncated"):
        load_ethanol(batch4_folder, verify_checksums="warn", **ETHANOL_ARGS)


def test_empty_and_nonexistent_folders(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    for loader, looked_for in ((load_ethanol, "batch1.dat"), (load_mnist, "mnist.npz")):
        with pytest.raises(DataNotFoundError) as info:
            loader(empty)
        message = str(info.value)
        assert looked_for in message and str(empty) in message
        assert str(empty / ("gas_sensor_drift" if loader is load_ethanol else "mnist")) in message
        assert "data_dir" in message and "TF_OVERPARAM_DATA_DIR" in message
        with pytest.raises(DataNotFoundError, match="does not exist"):
            loader(tmp_path / "no_such_folder")
    assert list(empty.iterdir()) == []  # nothing was downloaded into a user's folder


@pytest.fixture
def mnist_copy(shared_data_dir, tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for path in (shared_data_dir / "mnist").glob("*-ubyte.gz"):
        shutil.copy(path, folder)
    return folder


def rewrite_gz(path, edit):
    with gzip.open(path, "rb") as handle:
        data = handle.read()
    with gzip.open(path, "wb") as handle:
        handle.write(edit(data))


@pytest.mark.parametrize("edit, expected", [
    (lambda d: b"\x00\x00\x08\x03" + d[4:], r"t10k-labels-idx1-ubyte.gz: wrong IDX magic number "
                                            r"0x00000803; expected 0x00000801"),
    (lambda d: d[:-10], r"t10k-labels-idx1-ubyte.gz: IDX payload has 9990 bytes .* need 10000"),
    (lambda d: d + b"\x00", r"t10k-labels-idx1-ubyte.gz: IDX payload has 10001 bytes"),
])
def test_bad_idx_file(mnist_copy, snapshot, edit, expected):
    rewrite_gz(mnist_copy / "t10k-labels-idx1-ubyte.gz", edit)
    before = snapshot(mnist_copy)
    with pytest.raises(DataFormatError, match=expected):
        load_mnist(mnist_copy)
    assert snapshot(mnist_copy) == before


def test_idx_wrong_magic_on_images(mnist_copy):
    rewrite_gz(mnist_copy / "t10k-images-idx3-ubyte.gz", lambda d: b"\x00\x00\x08\x01" + d[4:])
    with pytest.raises(DataFormatError, match=r"t10k-images-idx3-ubyte.gz: wrong IDX magic"):
        load_mnist(mnist_copy)


def test_broken_gzip_and_label_out_of_range(mnist_copy):
    path = mnist_copy / "t10k-labels-idx1-ubyte.gz"
    original = path.read_bytes()
    path.write_bytes(original[: len(original) // 2])
    with pytest.raises(DataFormatError, match="t10k-labels-idx1-ubyte.gz: not a valid gzip"):
        load_mnist(mnist_copy)
    path.write_bytes(original)
    rewrite_gz(path, lambda d: d[:-1] + b"\x0c")
    with pytest.raises(DataFormatError, match="label 12, outside 0..9"):
        load_mnist(mnist_copy)


def test_content_differs_from_standard_mnist(mnist_copy, snapshot):
    # A well-formed file with one label changed (6 -> 8 in the last test label): only the
    # content checksum catches it.
    rewrite_gz(mnist_copy / "t10k-labels-idx1-ubyte.gz", lambda d: d[:-1] + b"\x08")
    before = snapshot(mnist_copy)
    with pytest.raises(ChecksumError, match="y_test differs from the standard MNIST"):
        load_mnist(mnist_copy)
    with pytest.warns(UserWarning, match="y_test differs"):
        _, (_, y_test) = load_mnist(mnist_copy, verify_checksums="warn")
    assert y_test[-1] == 8
    assert snapshot(mnist_copy) == before


def test_bad_npz(tmp_path):
    folder = tmp_path / "npz"
    folder.mkdir()
    np.savez(folder / "mnist.npz", x_train=np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(DataFormatError, match="mnist.npz: missing key"):
        load_mnist(folder)
    (folder / "mnist.npz").write_bytes(b"not a zip file")
    with pytest.raises(DataFormatError, match="mnist.npz: not an .npz archive"):
        load_mnist(folder)
