"""Independent numpy oracles for the paper's formulas (imported by the tests, not by the library)."""

import numpy as np


def psd_power(matrix, exponent):
    """[M]^a for a symmetric PSD matrix by eigendecomposition, with [·]^0 := I (docs/design.md §1).

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


def sample_kernel(rng, shape, kind):
    """A test kernel: "full" (Gaussian), "rank1" (an outer product) or "zero"."""
    if kind == "full":
        return rng.normal(size=shape)
    if kind == "rank1":
        return np.outer(rng.normal(size=shape[0]), rng.normal(size=shape[1]))
    return np.zeros(shape)


def float64_tolerance():
    """assert_allclose tolerances for comparing the library in float64 against these oracles.

    On the torch backend Keras 3 computes `ops.matmul` of float64 inputs in float32
    (keras.backend.result_type maps 64-bit dtypes to 32-bit, "to be aligned with JAX"), so only
    float32 agreement is possible there; TensorFlow and JAX (with x64) keep float64.
    """
    import keras

    if keras.backend.backend() == "torch":
        return {"rtol": 2e-5, "atol": 2e-6}
    return {"rtol": 1e-9, "atol": 1e-10}
