"""Shared test helpers: numpy oracles for the paper's formulas and the real-data location."""

import os
import pathlib

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def psd_power(matrix, exponent):
    """[M]^a for a symmetric PSD matrix by eigendecomposition, with [·]^0 := I (DESIGN.md §2).

    Eigenvalues below round-off are treated as exact zeros, as the paper's 0^a = 0 for a > 0.
    """
    if exponent == 0:
        return np.eye(matrix.shape[0])
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    tolerance = 1e-9 * max(eigenvalues.max(), 1e-300)
    eigenvalues = np.where(eigenvalues > tolerance, eigenvalues, 0.0)
    return (eigenvectors * eigenvalues**exponent) @ eigenvectors.T


def eq9_direction(kernel, gradient, depth):
    """Paper Eq. 9 in Keras layout, literally: Σ_j [K Kᵀ]^{(N−j)/N} G [Kᵀ K]^{(j−1)/N}."""
    return sum(
        psd_power(kernel @ kernel.T, (depth - j) / depth)
        @ gradient
        @ psd_power(kernel.T @ kernel, (j - 1) / depth)
        for j in range(1, depth + 1)
    )


def eq11_direction(kernel, gradient, depth):
    """Paper Eq. 11 (single output), literally, for a (d, 1) kernel."""
    norm = np.linalg.norm(kernel)
    if norm == 0:
        return np.zeros_like(gradient)
    unit = kernel / norm
    projection = unit * float(np.sum(unit * gradient))
    return norm ** (2 - 2 / depth) * (gradient + (depth - 1) * projection)


@pytest.fixture(scope="session")
def shared_data_dir():
    """The real data root (gas_sensor_drift/, mnist/): $TF_OVERPARAM_DATA_DIR or ../shared/data."""
    candidates = [os.environ.get("TF_OVERPARAM_DATA_DIR")]
    candidates.append(pathlib.Path(__file__).resolve().parents[2] / "shared" / "data")
    for candidate in candidates:
        if candidate and pathlib.Path(candidate).is_dir():
            return pathlib.Path(candidate)
    if os.environ.get("CI") == "true":
        pytest.fail("real data not found under CI: set TF_OVERPARAM_DATA_DIR or provide ../shared/data")
    pytest.skip("real data not found: set TF_OVERPARAM_DATA_DIR to a folder with gas_sensor_drift/ and mnist/")
