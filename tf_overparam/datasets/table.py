"""Any regression data set as one table: `load_table` (a CSV, a NumPy file, or a
tensorflow-datasets name), normalized as `load_ethanol` normalizes the Ethanol data."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from . import _sources
from ._normalization import FEATURE_NORMALIZATIONS, TARGET_NORMALIZATIONS
from ._normalization import RegressionData
from ._normalization import normalize_table
from ._sources import DataFormatError, DataNotFoundError


def load_table(source, *, target_column: int = -1, feature_normalization: str = "standardize",
               target_normalization: str = "standardize"):
    """A regression table as (X, y, metadata).

    Args:
        source: a path to a ``.csv`` file (comma-separated numbers; one header row of names is
            skipped), a ``.npy`` file (one 2-D array), a ``.npz`` file (arrays ``X`` and ``y``,
            or one 2-D array), or ``"tfds:NAME"`` (``tfds.load(NAME, split="train",
            as_supervised=True)``; ``NAME`` may carry a config, ``"tfds:NAME/CONFIG"``).
        target_column: the target's column in a 2-D table (default: the last); the others are
            the features.
        feature_normalization: ``"standardize"`` (per-feature z-score, population std),
            ``"minmax"`` (each feature to [0, 1]) or ``"none"``.
        target_normalization: ``"standardize"``, ``"center"`` or ``"none"``.

    Returns:
        A `RegressionData` (unpacks as ``X, y, metadata``): X (n, d) float64, y (n,) float64,
        and metadata: the source, its sha256 (files), rows, features, the normalizations and
        their statistics, ``partial`` (False).

    Raises:
        DataNotFoundError: the file does not exist. DataFormatError: not a numeric table of
        finite values with at least 2 rows and a feature column. ValueError: a bad argument.

    Examples:
        >>> X, y, meta = load_table("my_data.csv")  # doctest: +SKIP
    """
    _sources.check_choice("feature_normalization", feature_normalization, FEATURE_NORMALIZATIONS)
    _sources.check_choice("target_normalization", target_normalization, TARGET_NORMALIZATIONS)
    if isinstance(target_column, bool) or not isinstance(target_column, (int, np.integer)):
        raise ValueError(f"target_column must be an integer column index; got {target_column!r}.")
    source = os.fspath(source)
    digest = None
    if source.startswith("tfds:"):
        X_raw, y_raw = _from_tfds(source[len("tfds:"):])
    else:
        path = Path(source)
        if not path.is_file():
            raise DataNotFoundError(f"Could not load the table {source}: no such file.")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        X_raw, y_raw = _from_file(path, target_column)
    if X_raw.ndim != 2 or X_raw.shape[1] < 1 or len(y_raw) < 2 or len(y_raw) != len(X_raw):
        raise DataFormatError(f"{source}: needs at least 2 rows and 1 feature column besides the "
                              f"target; got features {X_raw.shape}, target {y_raw.shape}.")
    if not (np.all(np.isfinite(X_raw)) and np.all(np.isfinite(y_raw))):
        raise DataFormatError(f"{source}: holds values that are not finite numbers.")
    X, y, normalization = normalize_table(X_raw, y_raw, feature_normalization,
                                          target_normalization)
    metadata = {"dataset": source, "source": source, "sha256": digest, "n_rows": int(len(y)),
                "n_features": int(X.shape[1]), "partial": False, **normalization}
    return RegressionData(X, y, metadata)


def _from_file(path: Path, target_column: int):
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            lines = path.read_text().splitlines()
            try:
                float(lines[0].split(",")[0])
                skip = 0
            except (ValueError, IndexError):
                skip = 1  # a header row of names
            table = np.loadtxt(path, delimiter=",", dtype=np.float64, skiprows=skip, ndmin=2)
        elif suffix == ".npy":
            table = np.load(path, allow_pickle=False)
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                if {"X", "y"} <= set(archive.files):
                    return (np.asarray(archive["X"], np.float64),
                            np.asarray(archive["y"], np.float64).reshape(-1))
                if len(archive.files) != 1:
                    raise DataFormatError(f"{path}: an .npz needs arrays 'X' and 'y', or one "
                                          f"2-D array; found {archive.files}.")
                table = archive[archive.files[0]]
        else:
            raise DataFormatError(f"{path}: a table is a .csv, .npy or .npz file; got {suffix!r}.")
    except ValueError as error:
        if isinstance(error, DataFormatError):
            raise
        raise DataFormatError(f"{path}: not a numeric table ({error}).") from None
    table = np.asarray(table, np.float64)
    if table.ndim != 2 or table.shape[1] < 2:
        raise DataFormatError(f"{path}: needs a 2-D table with a target and at least one feature "
                              f"column; got shape {table.shape}.")
    column = target_column % table.shape[1]
    return np.delete(table, column, axis=1), table[:, column]


def _from_tfds(name: str):
    import tensorflow_datasets as tfds

    try:
        features, target = tfds.as_numpy(tfds.load(name, split="train", as_supervised=True,
                                                    batch_size=-1))
    except Exception as error:  # TFDS raises many kinds; the message names the set
        raise DataNotFoundError(f"Could not load the table tfds:{name}: {type(error).__name__}: "
                                f"{str(error).splitlines()[0]}") from error
    features = np.asarray(features, np.float64)
    return features.reshape(len(features), -1), np.asarray(target, np.float64).reshape(-1)


__all__ = ["FEATURE_NORMALIZATIONS", "TARGET_NORMALIZATIONS", "load_table"]
