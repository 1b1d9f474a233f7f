"""MNIST (LeCun, Cortes, Burges) for the paper's convolutional experiment (Figure 5, right), and
Fashion-MNIST (Xiao, Rasul, Vollgraf 2017; same IDX format) for the conv experiment beyond it."""

from __future__ import annotations

import os
import urllib.error
import warnings
from pathlib import Path

import numpy as np

from tf_overparam._npz import UnreadableNpz, read_npz

from . import _sources
from ._idx import IMAGES_MAGIC, LABELS_MAGIC, idx_md5, parse_idx, read_idx_bytes
from ._sources import CHECKSUM_POLICIES, ChecksumError, DataFormatError

#: The mirror Keras downloads from; a module constant so tests can point it elsewhere.
MNIST_NPZ_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
#: sha256 of that file (the value keras.datasets.mnist.load_data checks).
MNIST_NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
NPZ_NAME = "mnist.npz"

#: Name of the data set's folder under a data root (and in the cache).
SUBFOLDER = "mnist"

#: The four IDX files: key -> (file name without .gz, magic, expected shape).
IDX_FILES = {
    "x_train": ("train-images-idx3-ubyte", IMAGES_MAGIC, (60000, 28, 28)),
    "y_train": ("train-labels-idx1-ubyte", LABELS_MAGIC, (60000,)),
    "x_test": ("t10k-images-idx3-ubyte", IMAGES_MAGIC, (10000, 28, 28)),
    "y_test": ("t10k-labels-idx1-ubyte", LABELS_MAGIC, (10000,)),
}

#: Published MD5s of the original *uncompressed* IDX files. Re-gzipped copies and npz files have
#: other file hashes, so the content is checked instead: it must encode to these exact bytes.
CONTENT_MD5 = {
    "x_train": "6bbc9ace898e44ae57da46a324031adb",
    "y_train": "a25bea736e30d166cdddb491f175f624",
    "x_test": "2646ac647ad5339dbf082846283269ea",
    "y_test": "27ae3e4e09519cfbb04c329615203637",
}

#: Content MD5s of Fashion-MNIST's four IDX files, decompressed from the .gz files whose sha256
#: are those of zalandoresearch/fashion-mnist at 55506a9 (also Debian's dataset-fashion-mnist). The
#: upstream README lists MD5s of its own .gz files only, which re-gzipped copies do not match.
FASHION_CONTENT_MD5 = {
    "x_train": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "y_train": "9018921c3c673c538a1fc5bad174d6f9",
    "x_test": "8181f5470baa50b63fa0f6fddb340f0a",
    "y_test": "15d484375f8d13e6eb1aabb0c3f46965",
}

#: ``variant`` -> (folder under a data root, display name, content MD5s, downloadable). Only
#: MNIST is downloaded (MNIST_NPZ_URL, read at call time so that tests can point it elsewhere).
VARIANTS = {
    "mnist": (SUBFOLDER, "MNIST", CONTENT_MD5, True),
    "fashion": ("fashion_mnist", "Fashion-MNIST", FASHION_CONTENT_MD5, False),
}

#: Allowed values of ``file_format``.
FILE_FORMATS = ("auto", "idx", "npz")
#: Allowed values of ``source``: local files / cache / Keras' npz download, or tensorflow-datasets.
SOURCES = ("files", "tfds")


def _idx_path(folder: Path, name: str) -> Path | None:
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


def _has_idx(folder: Path) -> bool:
    return all(_idx_path(folder, name) for name, _, _ in IDX_FILES.values())


def _has_npz(folder: Path) -> bool:
    return (folder / NPZ_NAME).is_file()


def _read_idx(folder: Path) -> tuple[dict[str, np.ndarray], dict[str, Path]]:
    arrays, paths = {}, {}
    # Labels first: they are small, so a broken label file fails before the big decompress.
    for key in ("y_train", "y_test", "x_train", "x_test"):
        name, magic, _ = IDX_FILES[key]
        path = _idx_path(folder, name)
        arrays[key] = parse_idx(read_idx_bytes(path), path, magic=magic)
        paths[key] = path
    return arrays, paths


def _read_npz(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Path]]:
    try:
        npz = read_npz(path)
    except UnreadableNpz as error:
        raise DataFormatError(str(error)) from None
    lacking = [k for k in IDX_FILES if k not in npz]
    if lacking:
        raise DataFormatError(f"{path}: missing key(s) {lacking}; found {sorted(npz)}")
    return {key: npz[key] for key in IDX_FILES}, {key: path for key in IDX_FILES}


def _check(arrays: dict[str, np.ndarray], paths: dict[str, Path], policy: str,
           variant: str = "mnist") -> None:
    """Structural checks always raise; the content MD5 check follows ``policy``."""
    _, display, content_md5, _ = VARIANTS[variant]
    for key, (_, _, shape) in IDX_FILES.items():
        array, path = arrays[key], paths[key]
        if array.dtype != np.uint8 or array.shape != shape:
            raise DataFormatError(
                f"{path}: {key} is {array.dtype} {array.shape}; expected uint8 {shape}.")
        if key.startswith("y") and array.max() > 9:
            raise DataFormatError(f"{path}: {key} has label {int(array.max())}, outside 0..9.")
    for key, expected in content_md5.items():
        actual = idx_md5(arrays[key])
        if actual != expected:
            message = (f"{paths[key]}: {key} differs from the standard {display} data (MD5 of its "
                       f"IDX encoding is {actual}; expected {expected}). The file was left "
                       "untouched; pass verify_checksums='warn' to load it anyway.")
            if policy == "error":
                raise ChecksumError(message)
            warnings.warn(message, UserWarning, stacklevel=3)


def load_mnist(data_dir: str | os.PathLike | None = None, *, file_format: str = "auto",
               verify_checksums: str = "error", download: bool = True, variant: str = "mnist",
               source: str = "files"):
    """Load MNIST (or Fashion-MNIST) as uint8 arrays, the standard 60,000 / 10,000 split.

    ``variant="fashion"`` reads Fashion-MNIST from a ``fashion_mnist/`` folder (or the folder
    itself) with the same files, checks and errors; it is never downloaded (supply the four IDX
    files, e.g. Debian's ``dataset-fashion-mnist``), and its content is checked against
    ``FASHION_CONTENT_MD5``. Everything below is said of MNIST and holds for both.

    Sources, in order: ``data_dir``; else ``$TF_OVERPARAM_DATA_DIR``; else the cache
    ``$XDG_CACHE_HOME/tf_overparam/mnist`` (``~/.cache/...``); else a download of Keras'
    ``mnist.npz`` (sha256 checked) into that cache. A given folder may hold the files directly
    or be a root folder holding ``mnist/``. Accepted files: the four IDX files
    (``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz``,
    ``t10k-labels-idx1-ubyte.gz``; gzipped or not) or ``mnist.npz`` with keys x_train, y_train,
    x_test, y_test. Local files are read directly (a re-saved npz need not be byte-identical to
    Keras' own); their *content* is checked against the published MD5s of the original files.

    Args:
        data_dir: Local folder (see above), or None to use the environment variable / cache.
        file_format: ``"auto"`` (the IDX files when all four are present, else ``mnist.npz``),
            ``"idx"`` or ``"npz"``.
        verify_checksums: ``"error"`` (default) raises when the content differs from standard
            MNIST; ``"warn"`` warns and returns it. Shapes, dtype and labels are always checked.
        download: Whether to download when nothing is found locally (MNIST only).
        variant: ``"mnist"`` (default) or ``"fashion"`` (Fashion-MNIST).
        source: ``"files"`` (default: the files and sources above; needs no TensorFlow) or
            ``"tfds"``: ``tfds.load("mnist")`` (``"fashion_mnist"``), as on Colab. Then
            ``data_dir`` is TFDS's data folder (None: ``$TFDS_DATA_DIR`` or
            ``~/tensorflow_datasets``), ``download`` lets TFDS download and prepare it, and
            ``file_format`` must stay ``"auto"``. TFDS stores the examples in a hashed order;
            they are put back in the IDX files' order (the same arrays as ``"files"``), and the
            content MD5 check below then also checks that order.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shapes (60000, 28, 28),
        (60000,), (10000, 28, 28), (10000,).

    Raises:
        ValueError: An argument has an unknown value (raised before any file is read).
        DataNotFoundError: No data found (message lists every place looked at and how to supply
            a local copy).
        DataFormatError: A malformed file (wrong IDX magic number, short payload, bad shape...).
        ChecksumError: The content is not standard MNIST (with ``"error"``).

    Examples:
        >>> (x_train, y_train), (x_test, y_test) = load_mnist("data")  # doctest: +SKIP
        >>> x_train.shape, y_train[:5]  # doctest: +SKIP
        ((60000, 28, 28), array([5, 0, 4, 1, 9], dtype=uint8))
    """
    _sources.check_choice("file_format", file_format, FILE_FORMATS)
    _sources.check_choice("verify_checksums", verify_checksums, CHECKSUM_POLICIES)
    _sources.check_choice("variant", variant, tuple(VARIANTS))
    _sources.check_choice("source", source, SOURCES)
    if source == "tfds":
        if file_format != "auto":
            raise ValueError(f"`file_format` must be 'auto' with source='tfds', got {file_format!r}.")
        from . import tfds  # lazy: TFDS (and TensorFlow) only for this source

        (train, test), origin = tfds.read_mnist(variant, data_dir, download)
        arrays = {"x_train": train[0], "y_train": train[1], "x_test": test[0], "y_test": test[1]}
        _check(arrays, {key: origin for key in arrays}, verify_checksums, variant)
        return train, test
    subfolder, display, _, downloadable = VARIANTS[variant]
    idx_names = ", ".join(f"{name}.gz" for name, _, _ in IDX_FILES.values())
    what = {"auto": f"{display} ({idx_names}; or {NPZ_NAME})",
            "idx": f"{display} ({idx_names})",
            "npz": f"{display} ({NPZ_NAME})"}[file_format]
    has_data = {"auto": lambda f: _has_idx(f) or _has_npz(f), "idx": _has_idx,
                "npz": _has_npz}[file_format]

    located = _sources.locate(data_dir, subfolder=subfolder, has_data=has_data, what=what)
    folder = located.folder
    if folder is None:
        folder = _sources.default_cache_root() / subfolder
        if not download or file_format == "idx" or not downloadable:
            note = "download: disabled" if not download else (
                f"download: {display} is not downloaded by this package" if not downloadable else
                "download: only mnist.npz is downloadable (file_format='idx')")
            raise _sources.not_found_error(what, located.tried, note)
        try:
            _sources.fetch(MNIST_NPZ_URL, folder / NPZ_NAME, sha256=MNIST_NPZ_SHA256)
        except (urllib.error.URLError, OSError, ChecksumError) as exc:
            raise _sources.not_found_error(
                what, located.tried, f"download of {MNIST_NPZ_URL} failed: {exc}") from exc

    if file_format == "idx" or (file_format == "auto" and _has_idx(folder)):
        arrays, paths = _read_idx(folder)
    else:
        arrays, paths = _read_npz(folder / NPZ_NAME)
    _check(arrays, paths, verify_checksums, variant)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
