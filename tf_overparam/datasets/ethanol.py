"""The paper's "Ethanol" regression problem, from the UCI gas-sensor drift data set (id 270).

Vergara et al. 2012; Rodriguez-Lujan et al. 2014; licence CC BY 4.0. Rows of class 1 (ethanol)
from batch1.dat ... batch10.dat; features are the 128 sensor values, the target is the ethanol
concentration in ppmv (2,565 rows with all ten batches).
"""

from __future__ import annotations

import hashlib
import io
import os
import urllib.error
import warnings
import zipfile
from pathlib import Path

import numpy as np

from . import _reconstructed, _sources
from ._gas_sensor_format import N_FEATURES, parse_batch_file
from ._normalization import TARGET_NORMALIZATIONS, RegressionData
from ._normalization import normalize_table as _normalize_table
from ._sources import (CHECKSUM_POLICIES, ChecksumError, DataFormatError, DataNotFoundError,
                       PartialDataWarning)

#: The official UCI archive; a module constant so tests can point it at an unreachable address.
UCI_ARCHIVE_URL = ("https://archive.ics.uci.edu/static/public/270/"
                   "gas+sensor+array+drift+dataset+at+different+concentrations.zip")
UCI_ARCHIVE_SHA256 = "98fe3a30981a222dd4518fbcc3dddd45d5c0ce9b03ef6dc6fe5cf7a04cfbff5e"
UCI_ARCHIVE_NAME = "uci_270_gas_sensor_drift_different_concentrations.zip"

#: Name of the data set's folder under a data root (and in the cache).
SUBFOLDER = "gas_sensor_drift"

#: Batch numbers of the complete data set.
BATCHES = tuple(range(1, 11))

#: sha256 of each official batch file (from the UCI archive, id 270).
BATCH_SHA256 = {
    1: "6b62f3e71b90f95dd9c2157fa91ffce32571faa7f474dd52f29a4ae769144625",
    2: "4ea9490068457badf9efd0c22f359fbfce12c208cdd440526b97ac91d31b9002",
    3: "aabf06bf8b8200740156235dc59458e06d99aa8faba4d6764a22c6b6c2674ff4",
    4: "ffc87c5146001bbe8ce90c4b2f7dad5b390ca3079f51b559032df53ffe5ff0af",
    5: "dcad4939c300a6c7d9f41b9470a9253eecc0ebc5c2c4e940d8ae20b8fc4240d0",
    6: "297d3a8b594dee4e2f4d7d2c4f5c485939fa708c10b5a11ed5cce95e05049afb",
    7: "eb5801d38a59beaae4a2412195d8ded790175ed1611159e083649ee9fe03d150",
    8: "58146b3e2dd68b125b2d5432cdd4968ec1fff47464ceb04282382181932d49be",
    9: "51f368ae8dee5d285be7f2029770e10eb12f342578830bc40ea852db19d19c9b",
    10: "b8309e8ff205b9d0350761989809f31f8feaefb8582aecb05f1d0f694b91184e",
}

#: Ethanol (class 1) rows per official batch file, from the UCI documentation.
ETHANOL_ROWS_PER_BATCH = {1: 90, 2: 164, 3: 365, 4: 64, 5: 28, 6: 514, 7: 649, 8: 30, 9: 61,
                          10: 600}
ETHANOL_CLASS = 1

#: Allowed values of ``feature_normalization``.
FEATURE_NORMALIZATIONS = ("standardize", "minmax", "standardize_per_batch", "none")


def batch_filename(batch: int) -> str:
    return f"batch{batch}.dat"


def _has_any_batch(folder: Path) -> bool:
    return any((folder / batch_filename(b)).is_file() for b in BATCHES)


class EthanolData(RegressionData):
    """What `load_ethanol` returns; unpacks as ``X, y, metadata = load_ethanol(...)``.

    Attributes:
        X: float64 array (n, 128), normalized as ``metadata["feature_normalization"]`` says.
        y: float64 array (n,), normalized as ``metadata["target_normalization"]`` says.
        metadata: JSON-serializable dict; see `load_ethanol`.
    """

    def target_to_ppmv(self, values: np.ndarray) -> np.ndarray:
        """Undo the target normalization: map model outputs back to ppmv."""
        return self.target_to_original(values)


def _download_batches(cache_folder: Path, wanted: list[int]) -> None:
    """Download the UCI archive into the cache and extract the wanted batch files.

    Each extracted file is checked against its official sha256, written to a temporary name and
    renamed into place, and an existing file is never overwritten. The archive is kept in
    ``<cache>/downloads/`` so that a later call can extract from it without the network.
    """
    archive = _sources.default_cache_root() / "downloads" / UCI_ARCHIVE_NAME
    if not (archive.is_file() and _sources.sha256_file(archive) == UCI_ARCHIVE_SHA256):
        _sources.fetch(UCI_ARCHIVE_URL, archive, sha256=UCI_ARCHIVE_SHA256)
    cache_folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive) as opened:
        found = _members_by_name(opened)
        for batch in wanted:
            name = batch_filename(batch)
            target = cache_folder / name
            if target.exists() or name not in found:
                # A file absent from the archive stays missing: the caller's partial-data rules
                # (refuse, or allow_partial) then apply exactly as for a local folder.
                continue
            data = found[name]()
            if _sha256_bytes(data) != BATCH_SHA256[batch]:
                raise ChecksumError(f"{name} in {archive} differs from the official file.")
            tmp = target.with_name(f".{name}.part")
            try:
                tmp.write_bytes(data)
                os.replace(tmp, target)
            finally:
                if tmp.exists():
                    tmp.unlink()


def _members_by_name(archive: zipfile.ZipFile) -> dict:
    """Map basename -> reader for batch files, looking one level into nested zip files too
    (UCI's static archives sometimes wrap the data set's own zip)."""
    readers = {}
    for info in archive.infolist():
        base = info.filename.rsplit("/", 1)[-1]
        if base.startswith("batch") and base.endswith(".dat"):
            readers.setdefault(base, lambda info=info: archive.read(info))
        elif base.endswith(".zip"):
            inner = zipfile.ZipFile(io.BytesIO(archive.read(info)))
            for name, reader in _members_by_name(inner).items():
                readers.setdefault(name, reader)
    return readers


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _download_note(exc: BaseException) -> str:
    return f"download of {UCI_ARCHIVE_URL} failed: {exc}"


def load_ethanol(data_dir: str | os.PathLike | None = None, *, allow_partial: bool = False,
                 feature_normalization: str = "standardize",
                 target_normalization: str = "standardize",
                 verify_checksums: str = "error", download: bool = True,
                 reconstructed: bool = True) -> EthanolData:
    """Load the paper's Ethanol regression problem (UCI id 270, class 1 rows of all batches).

    Sources, in order: ``data_dir``; else ``$TF_OVERPARAM_DATA_DIR``; else the cache
    ``$XDG_CACHE_HOME/tf_overparam/gas_sensor_drift`` (``~/.cache/...``); else a download of the
    official UCI archive (sha256 checked) into that cache. A given folder may hold the
    ``batchN.dat`` files directly or be a root folder holding ``gas_sensor_drift/``.

    Normalization statistics are computed on the rows actually loaded and recorded in the
    metadata. Default: both features and target standardized (z-score, population std), since
    feature scales differ by ~1e5 and the paper's learning rates (ℓ2 and ℓ4 losses) assume O(1)
    targets; a third-party reproduction did the same.

    Args:
        data_dir: Local folder (see above), or None to use the environment variable / cache.
        allow_partial: Load a folder lacking some batch files (warns once; the metadata then
            says ``partial=True``). By default a missing batch raises, naming the files.
        feature_normalization: ``"standardize"`` (per-feature z-score), ``"minmax"`` (each
            feature scaled to [0, 1]), ``"standardize_per_batch"`` (z-score within each batch:
            the usual drift compensation for this data set) or ``"none"``.
        target_normalization: ``"standardize"``, ``"center"`` (subtract the mean) or ``"none"``
            (ppmv).
        verify_checksums: ``"error"`` (default) raises when a batch file's sha256 differs from
            the official one; ``"warn"`` warns and loads it. Files are never modified or deleted.
        download: Whether to download when nothing is found locally.
        reconstructed: Where batch7.dat / batch10.dat are absent, take their Ethanol rows from
            ``gas_sensor_drift_reconstructed/ethanol_batch7_batch10.csv`` (in the data root
            beside ``gas_sensor_drift/``, or inside the folder): rebuilt at 5 significant
            digits from a second public copy of the data (treforevans/uci_datasets, its
            ``gas`` set), sha256-checked, refused if modified. Real batch files always take precedence.
            The metadata names the reconstructed batches and rows. False: exact files only.

    Returns:
        An `EthanolData` ``(X, y, metadata)``: X float64 (n, 128), y float64 (n,), and metadata
        with keys ``batches_used``, ``batches_missing``, ``rows_per_batch``, ``n_rows``,
        ``partial``, ``feature_normalization``, ``feature_mean``, ``feature_std``,
        ``target_normalization``, ``target_mean``, ``target_std``, ``target_units``,
        ``concentrations_ppmv``, ``source_dir``, ``source``, ``sha256``, ``sha256_verified``,
        ``sha256_mismatches``, ``batches_reconstructed``, ``rows_reconstructed``,
        ``reconstructed`` (file, sha256 and how the rows were made, or None). Rows come
        batch by batch, in ``rows_per_batch`` order. ``feature_mean`` / ``feature_std`` are the
        offset and divisor used: the minimum and range for ``"minmax"``, per batch (a dict) for
        ``"standardize_per_batch"``.

    Raises:
        ValueError: An argument has an unknown value (raised before any file is read).
        DataNotFoundError: No data found (message lists every place looked at and how to supply
            a local copy), or batch files missing without ``allow_partial``.
        ChecksumError: A batch file differs from the official one (with ``"error"``).
        DataFormatError: A malformed line (message names the file and line number).

    Examples:
        >>> X, y, meta = load_ethanol("data", allow_partial=True)  # doctest: +SKIP
        >>> X.shape, meta["batches_missing"]  # doctest: +SKIP
        ((2565, 128), [])
    """
    _sources.check_choice("feature_normalization", feature_normalization,
                          FEATURE_NORMALIZATIONS)
    _sources.check_choice("target_normalization", target_normalization, TARGET_NORMALIZATIONS)
    _sources.check_choice("verify_checksums", verify_checksums, CHECKSUM_POLICIES)
    if not isinstance(reconstructed, bool):
        raise ValueError(f"`reconstructed` must be True or False, got {reconstructed!r}.")
    what = ("the UCI gas-sensor drift batch files batch1.dat ... batch10.dat (UCI id 270, "
            "'Gas Sensor Array Drift Dataset at Different Concentrations')")

    located = _sources.locate(data_dir, subfolder=SUBFOLDER, has_data=_has_any_batch, what=what)
    folder, origin = located.folder, located.origin
    download_error: BaseException | None = None
    if folder is None:
        folder = _sources.default_cache_root() / SUBFOLDER
        if not download:
            raise _sources.not_found_error(what, located.tried, "download: disabled")
        try:
            _download_batches(folder, list(BATCHES))
        except (urllib.error.URLError, OSError, ChecksumError, DataFormatError,
                zipfile.BadZipFile) as exc:
            raise _sources.not_found_error(what, located.tried, _download_note(exc)) from exc
        origin = "download"

    missing = [b for b in BATCHES if not (folder / batch_filename(b)).is_file()]
    if missing and origin == "cache" and download:
        # The cache is ours to complete; a user's folder is never written to.
        try:
            _download_batches(folder, missing)
        except (urllib.error.URLError, OSError, ChecksumError, DataFormatError,
                zipfile.BadZipFile) as exc:
            download_error = exc
        missing = [b for b in BATCHES if not (folder / batch_filename(b)).is_file()]
    rebuilt, rebuilt_from = {}, None
    if reconstructed and set(missing) & set(_reconstructed.ROWS):
        rebuilt_from = _reconstructed.find(folder)
        if rebuilt_from is not None:
            rows = _reconstructed.load(rebuilt_from)  # refuses a modified file
            rebuilt = {b: rows[b] for b in missing if b in rows}
            missing = [b for b in missing if b not in rebuilt]
    present = [b for b in BATCHES if b not in missing]
    if missing:
        names = ", ".join(batch_filename(b) for b in missing)
        lost = sum(ETHANOL_ROWS_PER_BATCH[b] for b in missing)
        if not allow_partial:
            note = f" (download failed: {download_error})" if download_error else ""
            raise DataNotFoundError(
                f"{folder} lacks {names}{note}: {lost} of the 2565 ethanol rows are in those "
                f"files. Add them (official sha256 in tf_overparam.datasets.ethanol.BATCH_SHA256)"
                f", or pass allow_partial=True to load the {len(present)} batches present; the "
                "metadata then records partial=True.")
        warnings.warn(
            f"Loading a PARTIAL Ethanol data set from {folder}: {names} missing "
            f"({lost} of 2565 ethanol rows absent). metadata['partial'] is True.",
            PartialDataWarning, stacklevel=2)

    X_parts, y_parts, rows_per_batch, hashes, mismatches = [], [], {}, {}, []
    for batch in present:
        if batch in rebuilt:
            concentrations, features = rebuilt[batch]
            X_parts.append(features)
            y_parts.append(concentrations)
            rows_per_batch[batch] = len(concentrations)
            continue
        path = folder / batch_filename(batch)
        digest = _sources.sha256_file(path)
        hashes[path.name] = digest
        if digest != BATCH_SHA256[batch]:
            mismatches.append(path.name)
            message = (f"{path} has sha256 {digest}, but the official {path.name} has "
                       f"{BATCH_SHA256[batch]}: the file is corrupted or not the UCI id 270 "
                       "version. It was left untouched; replace it with the official file, or "
                       "pass verify_checksums='warn' to load it anyway.")
            if verify_checksums == "error":
                raise ChecksumError(message)
            warnings.warn(message, UserWarning, stacklevel=2)
        classes, concentrations, features = parse_batch_file(path)
        keep = classes == ETHANOL_CLASS
        X_parts.append(features[keep])
        y_parts.append(concentrations[keep])
        rows_per_batch[batch] = int(keep.sum())

    X_raw = np.concatenate(X_parts).reshape(-1, N_FEATURES)
    y_raw = np.concatenate(y_parts)
    if y_raw.size == 0:
        raise DataFormatError(f"No ethanol (class {ETHANOL_CLASS}) rows in {folder}.")
    row_batches = np.repeat(list(rows_per_batch), list(rows_per_batch.values()))
    X, y, normalization = _normalize_table(X_raw, y_raw, feature_normalization,
                                           target_normalization, row_batches)

    metadata = {
        "dataset": "UCI 270 gas sensor array drift at different concentrations, class 1 "
                   "(ethanol)",
        "source_dir": str(folder),
        "source": origin,
        "batches_used": present,
        "batches_missing": missing,
        "rows_per_batch": rows_per_batch,
        "n_rows": int(y.shape[0]),
        "n_features": N_FEATURES,
        "partial": bool(missing),
        **normalization,
        "target_units": {"none": "ppmv", "center": "ppmv, centered",
                         "standardize": "ppmv, standardized"}[target_normalization],
        "concentrations_ppmv": sorted(float(c) for c in np.unique(y_raw)),
        "verify_checksums": verify_checksums,
        "sha256": hashes,
        "sha256_verified": not mismatches,
        "sha256_mismatches": mismatches,
        "batches_reconstructed": sorted(rebuilt),
        "rows_reconstructed": sum(rows_per_batch[b] for b in rebuilt),
        "reconstructed": None if not rebuilt else {
            "file": str(rebuilt_from), "sha256": _reconstructed.SHA256,
            "description": _reconstructed.DESCRIPTION},
    }
    return EthanolData(X, y, metadata)
