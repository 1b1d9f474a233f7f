"""The Ethanol rows of batches 7 and 10, reconstructed from a second public copy of the data.

Where `batch7.dat` / `batch10.dat` are absent (each is over 4 MiB, so the public copies leave them
out), their 1,249 Ethanol rows (649 + 600) can come from `ethanol_batch7_batch10.csv`: rebuilt
from the UCI regression-benchmark copy of the same data (`treforevans/uci_datasets`,
`uci_datasets/gas/data.csv.gz`), at 5 significant digits, each value within 1.24e-4 of its
column's standard deviation. Real batch files always take precedence; the file is checked
against its sha256 and refused, never modified, when it differs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._gas_sensor_format import N_FEATURES
from ._sources import ChecksumError, DataFormatError, sha256_file

#: The folder beside gas_sensor_drift/ under a data root, and the file in it.
SUBFOLDER = "gas_sensor_drift_reconstructed"
FILENAME = "ethanol_batch7_batch10.csv"
SHA256 = "7edeed5983161f2783e8a020d1266e87bb70ca03b0e3a577a23b568064c232aa"
#: Ethanol rows of each reconstructed batch.
ROWS = {7: 649, 10: 600}

DESCRIPTION = (
    "Ethanol rows of batches 7 and 10 reconstructed from treforevans/uci_datasets "
    "(commit f0737523, uci_datasets/gas/data.csv.gz) at 5 significant digits; each value within "
    "1.24e-4 of its column's std; batch labels inferred from the concentration sequences")


def find(folder: Path) -> Path | None:
    """The reconstructed file for a batch folder: in the data root beside it, or inside it."""
    for candidate in (folder.parent / SUBFOLDER / FILENAME, folder / SUBFOLDER / FILENAME,
                      folder / FILENAME):
        if candidate.is_file():
            return candidate
    return None


def load(path: Path) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """{batch: (concentrations (n,), features (n, 128))} from the checked file.

    Raises:
        ChecksumError: the file differs from the published one (it is left untouched).
        DataFormatError: the file is not the expected table (cannot happen with a matching
            sha256; kept for a clear message should the constant ever be edited).
    """
    digest = sha256_file(path)
    if digest != SHA256:
        raise ChecksumError(
            f"{path} has sha256 {digest}, but the published {FILENAME} has {SHA256}: it was "
            "modified. It was left untouched; restore it from the shared data, or remove it to "
            "load the exact batch files only (allow_partial=True).")
    with path.open() as opened:
        header = opened.readline().strip().split(",")
        expected = ["batch", "concentration"] + [f"f{k}" for k in range(1, N_FEATURES + 1)]
        if header != expected:
            raise DataFormatError(f"{path}: the header is not batch,concentration,f1..f128.")
        table = np.loadtxt(opened, delimiter=",", dtype=np.float64, ndmin=2)
    batches = table[:, 0].astype(int)
    counts = {b: int((batches == b).sum()) for b in ROWS}
    if table.shape != (sum(ROWS.values()), 2 + N_FEATURES) or counts != ROWS:
        raise DataFormatError(f"{path}: expected {ROWS} rows per batch and 130 columns, got "
                              f"{counts} rows and shape {table.shape}.")
    return {b: (table[batches == b, 1], table[batches == b, 2:]) for b in ROWS}
