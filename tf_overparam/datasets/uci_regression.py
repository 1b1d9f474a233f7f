"""Four more public regression sets, to ask the paper's question beyond Ethanol:
`load_uci_regression("concrete" | "wine" | "parkinsons" | "pumadyn32nm")`.

The files are those of the UCI regression-benchmark package ``treforevans/uci_datasets`` (MIT
licence), ``uci_datasets/<name>/data.csv.gz``: comma-separated, no header, one row per
observation, the inputs then the target in the last column, every column centred by that package.
Each file is checked against its sha256 (`UCI_REGRESSION_SETS`). The originals are on the UCI
Machine Learning Repository (concrete, wine, parkinsons) and Delve (pumadyn32nm).
"""

from __future__ import annotations

import gzip
import os
import urllib.error
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import _sources
from ._normalization import FEATURE_NORMALIZATIONS, TARGET_NORMALIZATIONS, RegressionData
from ._normalization import normalize_table as _normalize_table
from ._sources import CHECKSUM_POLICIES, ChecksumError, DataFormatError

#: Name of the sets' folder under a data root (and in the cache).
SUBFOLDER = "uci_regression"

#: The package the files come from, and the commit whose files these are (its files are
#: unchanged since; the download is pinned to it so that the checksums stay valid).
PACKAGE = "treforevans/uci_datasets"
PACKAGE_COMMIT = "f0737523712fe66a1640e4b980b927e8490b58eb"
PACKAGE_LICENCE = "MIT"

#: Where the files are downloaded from: ``<base><name>/data.csv.gz``. A module constant so that
#: tests can point it at an unreachable address.
UCI_REGRESSION_BASE_URL = (f"https://github.com/{PACKAGE}/raw/{PACKAGE_COMMIT}/uci_datasets/")


@dataclass(frozen=True)
class UciRegressionSet:
    """One of the sets `load_uci_regression` loads: its size, what it is, and its file's sha256.

    Attributes:
        name: The set's name in ``treforevans/uci_datasets`` (and in `load_uci_regression`).
        rows: Observations.
        inputs: Input columns (the features); the target is one more column.
        title: The original data set, by its publisher's name.
        target: What the target column is.
        original: The original's home page.
        licence: The original's licence.
        citation: The paper to cite for the original.
        sha256: sha256 of ``<name>.csv.gz`` as ``treforevans/uci_datasets`` ships it.
    """

    name: str
    rows: int
    inputs: int
    title: str
    target: str
    original: str
    licence: str
    citation: str
    sha256: str

    @property
    def filename(self) -> str:
        """The file's name in a data folder: ``<name>.csv.gz``."""
        return f"{self.name}.csv.gz"

    @property
    def url(self) -> str:
        """Where the file is downloaded from (``UCI_REGRESSION_BASE_URL``, read at call time)."""
        return f"{UCI_REGRESSION_BASE_URL}{self.name}/data.csv.gz"


#: The four sets, by name: rows × inputs, what they are, their sources and checksums.
UCI_REGRESSION_SETS: dict[str, UciRegressionSet] = {s.name: s for s in (
    UciRegressionSet(
        "concrete", 1030, 8, "UCI Concrete Compressive Strength (UCI id 165)",
        "compressive strength (MPa), centred",
        "https://archive.ics.uci.edu/dataset/165/concrete+compressive+strength", "CC BY 4.0",
        "I.-C. Yeh. Modeling of strength of high-performance concrete using artificial neural "
        "networks. Cement and Concrete Research 28(12) (1998) 1797-1808.",
        "542c5d9a0d301bdb47550280398dcbbe2fb8404631fc945de1ea6df9ade741c6"),
    UciRegressionSet(
        "wine", 1599, 11, "UCI Wine Quality, red wine (UCI id 186)",
        "quality (median of experts' grades, 0-10), centred",
        "https://archive.ics.uci.edu/dataset/186/wine+quality", "CC BY 4.0",
        "P. Cortez, A. Cerdeira, F. Almeida, T. Matos, J. Reis. Modeling wine preferences by "
        "data mining from physicochemical properties. Decision Support Systems 47(4) (2009) "
        "547-553.",
        "e2ca3346651ddb43fbc6a1355e70e74b7ce68f93059e04405e9cb749c219eae2"),
    UciRegressionSet(
        "parkinsons", 5875, 20, "UCI Parkinsons Telemonitoring (UCI id 189)",
        "total UPDRS score, centred",
        "https://archive.ics.uci.edu/dataset/189/parkinsons+telemonitoring", "CC BY 4.0",
        "A. Tsanas, M. A. Little, P. E. McSharry, L. O. Ramig. Accurate telemonitoring of "
        "Parkinson's disease progression by noninvasive speech tests. IEEE Transactions on "
        "Biomedical Engineering 57(4) (2010) 884-893.",
        "d20ffd9c9e5053a03fff0b770e7b0e076bf856a34538198303c897b6cc6addde"),
    UciRegressionSet(
        "pumadyn32nm", 8192, 32,
        "Delve pumadyn-32nm (robot-arm dynamics, non-linear, moderate noise)",
        "angular acceleration of one link of a simulated Puma 560 arm, centred",
        "https://www.cs.toronto.edu/~delve/data/pumadyn/desc.html",
        "none stated by Delve (public benchmark data)",
        "C. E. Rasmussen, R. M. Neal, G. E. Hinton, D. van Camp, M. Revow, Z. Ghahramani, "
        "R. Kustra, R. Tibshirani. The DELVE manual. University of Toronto (1996).",
        "10d1698944e0f6e586f2781e4b62c17c05174d4c6cdb6fb824a3e5a1b3630ae4"),
)}


def _what(spec: UciRegressionSet) -> str:
    """The set and where its file goes, for every "not found" message."""
    return (f"the UCI regression set {spec.name!r} ({spec.filename}, from {PACKAGE}; "
            f"put it in <folder>/{SUBFOLDER}/{spec.filename} and pass data_dir=<folder>, or in "
            f"{_sources.default_cache_root() / SUBFOLDER / spec.filename})")


def _read(path: Path, spec: UciRegressionSet) -> np.ndarray:
    """The file's table (rows, inputs + 1), checked for shape and finite values."""
    try:
        with gzip.open(path, "rt") as opened:
            table = np.loadtxt(opened, delimiter=",", dtype=np.float64, ndmin=2)
    except (OSError, EOFError, zlib.error, ValueError) as error:
        raise DataFormatError(f"{path}: not a gzipped comma-separated table of numbers "
                              f"({type(error).__name__}: {error}).") from None
    expected = (spec.rows, spec.inputs + 1)
    if table.shape != expected:
        raise DataFormatError(f"{path}: expected {spec.rows} rows of {spec.inputs} inputs and a "
                              f"target {expected}; got shape {table.shape}.")
    if not np.all(np.isfinite(table)):
        raise DataFormatError(f"{path}: holds values that are not finite numbers.")
    return table


def load_uci_regression(name: str, data_dir: str | os.PathLike | None = None, *,
                        feature_normalization: str = "standardize",
                        target_normalization: str = "standardize",
                        verify_checksums: str = "error",
                        download: bool = True) -> RegressionData:
    """Load one of four public regression sets: concrete, wine, parkinsons or pumadyn32nm.

    | name | rows × inputs | original | target |
    |---|---|---|---|
    | ``"concrete"`` | 1,030 × 8 | UCI Concrete Compressive Strength (Yeh 1998) | strength |
    | ``"wine"`` | 1,599 × 11 | UCI Wine Quality, red (Cortez et al. 2009) | quality |
    | ``"parkinsons"`` | 5,875 × 20 | UCI Parkinsons Telemonitoring (Tsanas 2010) | total UPDRS |
    | ``"pumadyn32nm"`` | 8,192 × 32 | Delve pumadyn-32nm (robot-arm dynamics) | acceleration |

    The files are ``uci_datasets/<name>/data.csv.gz`` of the package ``treforevans/uci_datasets``
    (MIT licence; every column centred by that package), each checked against its sha256
    (`UCI_REGRESSION_SETS`: sizes, sources, citations and checksums).

    Sources, in order: ``data_dir``; else ``$TF_OVERPARAM_DATA_DIR``; else the cache
    ``$XDG_CACHE_HOME/tf_overparam/uci_regression`` (``~/.cache/...``); else a download of the
    package's file (sha256 checked) into that cache as ``<name>.csv.gz``. A given folder may hold
    ``<name>.csv.gz`` directly or be a root folder holding ``uci_regression/<name>.csv.gz``.

    Normalization statistics are computed on all rows and recorded in the metadata; by default
    features and target are standardized, as `load_ethanol` does.

    Args:
        name: ``"concrete"``, ``"wine"``, ``"parkinsons"`` or ``"pumadyn32nm"``.
        data_dir: Local folder (see above), or None to use the environment variable / cache.
        feature_normalization: ``"standardize"`` (per-feature z-score, population std),
            ``"minmax"`` (each feature to [0, 1]) or ``"none"`` (the file's values).
        target_normalization: ``"standardize"``, ``"center"`` (subtract the mean) or ``"none"``.
        verify_checksums: ``"error"`` (default) raises when the file's sha256 differs from the
            published one; ``"warn"`` warns and loads it. Files are never modified or deleted.
        download: Whether to download when nothing is found locally.

    Returns:
        A `RegressionData` ``(X, y, metadata)``: X float64 (rows, inputs), y float64 (rows,), and
        a JSON-serializable metadata dict naming the data by what it is: ``name``, ``dataset``
        (the original's title), ``target``, ``original``, ``licence``, ``citation``, ``package``,
        ``package_commit``, ``package_licence``, ``url``, ``file``, ``sha256``,
        ``sha256_verified``, ``verify_checksums``, ``source`` (how the file was found: the
        ``data_dir`` argument, the environment variable, the cache or the download; never a
        folder), ``n_rows``, ``n_features``, ``partial`` (False), ``feature_normalization``,
        ``feature_mean``, ``feature_std``, ``target_normalization``, ``target_mean``,
        ``target_std`` (the offset and divisor used; for ``"minmax"`` the minimum and range).

    Raises:
        ValueError: An argument has an unknown value, ``name`` included (raised before any file
            is read).
        DataNotFoundError: No file found (the message lists every place looked at and where to
            put the file).
        ChecksumError: The file differs from the published one (with ``"error"``).
        DataFormatError: The file is not the expected table.

    Examples:
        >>> X, y, meta = load_uci_regression("concrete")  # doctest: +SKIP
        >>> X.shape, meta["sha256"][:8]  # doctest: +SKIP
        ((1030, 8), '542c5d9a')
    """
    _sources.check_choice("name", name, tuple(UCI_REGRESSION_SETS))
    _sources.check_choice("feature_normalization", feature_normalization, FEATURE_NORMALIZATIONS)
    _sources.check_choice("target_normalization", target_normalization, TARGET_NORMALIZATIONS)
    _sources.check_choice("verify_checksums", verify_checksums, CHECKSUM_POLICIES)
    spec = UCI_REGRESSION_SETS[name]
    what = _what(spec)

    located = _sources.locate(data_dir, subfolder=SUBFOLDER,
                              has_data=lambda folder: (folder / spec.filename).is_file(),
                              what=what)
    folder, origin = located.folder, located.origin
    if folder is None:
        folder = _sources.default_cache_root() / SUBFOLDER
        if not download:
            raise _sources.not_found_error(what, located.tried, "download: disabled")
        try:
            _sources.fetch(spec.url, folder / spec.filename, sha256=spec.sha256)
        except (urllib.error.URLError, OSError, ChecksumError) as exc:
            raise _sources.not_found_error(
                what, located.tried, f"download of {spec.url} failed: {exc}") from exc
        origin = "download"

    path = folder / spec.filename
    digest = _sources.sha256_file(path)
    if digest != spec.sha256:
        message = (f"{path} has sha256 {digest}, but {spec.filename} of {PACKAGE} has "
                   f"{spec.sha256}: the file is corrupted or another version. It was left "
                   f"untouched; replace it with {spec.url}, or pass verify_checksums='warn' to "
                   "load it anyway.")
        if verify_checksums == "error":
            raise ChecksumError(message)
        warnings.warn(message, UserWarning, stacklevel=2)
    table = _read(path, spec)
    X, y, normalization = _normalize_table(table[:, :-1], table[:, -1], feature_normalization,
                                           target_normalization)
    metadata = {
        "name": spec.name,
        "dataset": spec.title,
        "target": spec.target,
        "original": spec.original,
        "licence": spec.licence,
        "citation": spec.citation,
        "package": PACKAGE,
        "package_commit": PACKAGE_COMMIT,
        "package_licence": PACKAGE_LICENCE,
        "url": spec.url,
        "file": spec.filename,
        "sha256": digest,
        "sha256_verified": digest == spec.sha256,
        "verify_checksums": verify_checksums,
        "source": origin,
        "n_rows": int(y.shape[0]),
        "n_features": int(X.shape[1]),
        "partial": False,
        **normalization,
    }
    return RegressionData(X, y, metadata)


__all__ = ["UCI_REGRESSION_SETS", "UciRegressionSet", "load_uci_regression"]
