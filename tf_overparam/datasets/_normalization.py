"""Normalizing a data set's columns, written once for every loader (Ethanol, the UCI sets,
tables), and what a regression loader returns (`RegressionData`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

#: Allowed values of ``feature_normalization`` for a table without measurement batches
#: (`load_table`, `load_uci_regression`; `load_ethanol` adds ``"standardize_per_batch"``).
FEATURE_NORMALIZATIONS = ("standardize", "minmax", "none")
#: Allowed values of every regression loader's ``target_normalization``.
TARGET_NORMALIZATIONS = ("standardize", "center", "none")


@dataclass(frozen=True)
class RegressionData:
    """What a regression loader returns; unpacks as ``X, y, metadata = load_...(...)``.

    Attributes:
        X: float64 array (n, d), normalized as ``metadata["feature_normalization"]`` says.
        y: float64 array (n,), normalized as ``metadata["target_normalization"]`` says.
        metadata: JSON-serializable dict; see the loader.
    """

    X: np.ndarray
    y: np.ndarray
    metadata: dict[str, Any]

    def __iter__(self) -> Iterator[Any]:
        return iter((self.X, self.y, self.metadata))

    def __len__(self) -> int:
        return 3

    def __getitem__(self, index):  # as the (X, y, metadata) tuple: data[0] is X
        return (self.X, self.y, self.metadata)[index]

    def target_to_original(self, values: np.ndarray) -> np.ndarray:
        """Undo the target normalization: map model outputs back to the target's own units."""
        m = self.metadata
        values = np.asarray(values, dtype=np.float64)
        return values * (m["target_std"] or 1.0) + (m["target_mean"] or 0.0)


def normalize(values: np.ndarray, mode: str, batches=None) -> tuple[np.ndarray, Any, Any]:
    """Apply a normalization along axis 0; returns (normalized, offset, divisor) as used: the
    mean and std for "standardize", the minimum and range for "minmax", {batch: value} for
    "standardize_per_batch" (`batches`: each row's batch)."""
    if mode == "none":
        return values.copy(), None, None
    if mode == "standardize_per_batch":
        out = np.empty_like(values)
        offsets, divisors = {}, {}
        for batch in np.unique(batches):
            rows = batches == batch
            out[rows], offsets[int(batch)], divisors[int(batch)] = normalize(values[rows],
                                                                              "standardize")
        return out, offsets, divisors
    if mode == "minmax":
        low = values.min(axis=0)
        span = values.max(axis=0) - low
        span = np.where(span > 0, span, 1.0)  # a constant column maps to 0
        return (values - low) / span, low, span
    mean = values.mean(axis=0)
    if mode == "center":
        return values - mean, mean, None
    # Population std (ddof=0). A constant column would divide by zero; it is only centred
    # (std recorded as 1.0, the divisor actually used) so the statistics stay reproducible.
    std = values.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (values - mean) / std, mean, std


def normalize_table(X_raw, y_raw, feature_normalization: str, target_normalization: str,
                    batches=None) -> tuple[np.ndarray, np.ndarray, dict]:
    """(X, y, entries): features and target normalized (`normalize`), and the metadata entries
    saying how, as JSON (every regression loader's)."""
    X, f_mean, f_std = normalize(X_raw, feature_normalization, batches)
    y, t_mean, t_std = normalize(y_raw, target_normalization)
    return X, y, {"feature_normalization": feature_normalization,
                  "feature_mean": as_json(f_mean), "feature_std": as_json(f_std),
                  "target_normalization": target_normalization,
                  "target_mean": as_json(t_mean), "target_std": as_json(t_std)}


def as_json(stat: Any) -> Any:
    if stat is None:
        return None
    if isinstance(stat, dict):
        return {key: as_json(value) for key, value in stat.items()}
    return stat.tolist() if np.ndim(stat) else float(stat)
