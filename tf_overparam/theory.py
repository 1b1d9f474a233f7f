"""The paper's theory as reusable numerical objects (Section 3, Claim 1, Theorem 2).

Arora, Cohen & Hazan (ICML 2018). What a user of the library can reuse to examine the end-to-end
rule; the figures that use these live in `reproduce/experiments/theory.py`.

- `end_to_end_field`: F = P(∇L) (Eq. 9; Eq. 11 / Eq. 13 for a single output) in float64 NumPy.
- Section 3, Observation 1: `observation1_decomposition` splits a step of gradient descent on
  w = w₁·w₂ into an adaptive learning rate ρ⁽ᵗ⁾, a momentum-like term γ⁽ᵗ⁾·w⁽ᵗ⁾ and O(η²).
- Claim 1 / Appendix A.2: `kronecker_preconditioner` (Eq. 29, a sum of Kronecker products) and
  `claim1_eigenvalues` (its eigenvalues in closed form from the singular values).
- Theorem 2 / Appendix A.4: `gamma_curve`, `line_integral_around_gamma` (∮ F around Γ_{r,R}) and
  Lemma 3's values: for N > 2 the end-to-end field is the gradient of no function.

Layout: Keras' kernel layout throughout, K = Wᵀ of shape (d, k) computing y = x K (docs/design.md
§1); a single-output kernel is a column (d, 1). Every value of the field F is computed by
`tf_overparam.ops.end_to_end_direction`, the one implementation of Eq. 9 / Eq. 11; the numpy
formulas here (Kronecker matrix, closed forms) are the independent objects the paper compares it
with. Everything is float64.
"""

from __future__ import annotations

import numpy as np
from keras import ops

from tf_overparam.fullbatch import backend
from tf_overparam.ops import end_to_end_direction

__all__ = ["CURVE_SEGMENTS", "claim1_eigenvalues", "end_to_end_field", "gamma_curve", "kronecker_preconditioner", "lemma3_segment_values", "lemma3_value", "line_integral_around_gamma", "observation1_decomposition", "orthonormal_pair", "psd_matrix_power", "vec"]

# --------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------


def end_to_end_field(kernels, gradients, depth):
    """The end-to-end field F = P(∇L) (paper Eq. 9; Eq. 11 / Eq. 13 for a single output), in numpy.

    A thin wrapper that keeps float64 numpy in and out around `end_to_end_direction`.

    Args:
        kernels: end-to-end kernels K_e, shape (..., d, k), float64.
        gradients: ∇L at those kernels, same shape.
        depth: N (integer >= 1); N = 1 returns the gradients (plain gradient descent).

    Returns:
        P(∇L), a float64 numpy array of the same shape.
    """
    kernels = np.asarray(kernels, dtype=np.float64)
    gradients = np.asarray(gradients, dtype=np.float64)
    with backend.float64_scope():  # JAX computes float64 input in float32 otherwise
        return np.asarray(ops.convert_to_numpy(end_to_end_direction(kernels, gradients, depth)))


# --------------------------------------------------------------------------------------------
# Section 3: warm-up, ℓp regression with w = w₁·w₂ (Observation 1)
# --------------------------------------------------------------------------------------------


def observation1_decomposition(vectors, scalars, gradients, learning_rate):
    """Paper Section 3, Observation 1: the step of w = w₁w₂ as w⁺ = w − ρ∇ − γw + O(η²).

    Expanding (w₁ − ηw₂∇)(w₂ − ηw₁ᵀ∇) gives exactly
        w⁺ = w − η w₂² ∇ − η (w₁ᵀ∇) w₁ + η² w₂ (w₁ᵀ∇) ∇,
    and since w₁ = w / w₂ the middle term is γ·w. Hence our definitions (the paper leaves ρ, γ
    "appropriately defined"):
        ρ⁽ᵗ⁾ = η·(w₂⁽ᵗ⁾)²                     the adaptive learning rate (coefficient of ∇),
        γ⁽ᵗ⁾ = η·(w₁⁽ᵗ⁾ᵀ∇⁽ᵗ⁾) / w₂⁽ᵗ⁾          the coefficient of w⁽ᵗ⁾ (−γ > 0: keep moving along w),
        second order term η² w₂ (w₁ᵀ∇) ∇.
    With balanced factors (w₂² = ‖w₁‖², Eq. 7) w₂² = ‖w‖, the Eq. 11 (N = 2) rate ‖w‖^{2−2/N}.

    Args:
        vectors: w₁⁽ᵗ⁾, shape (T, d).
        scalars: w₂⁽ᵗ⁾, shape (T,), non-zero.
        gradients: ∇L(w⁽ᵗ⁾), shape (T, d).
        learning_rate: η.

    Returns:
        dict with "rho" (T,), "gamma" (T,) and "second_order" (T, d).
    """
    projections = np.einsum("td,td->t", vectors, gradients)  # w₁ᵀ∇
    return {
        "rho": learning_rate * scalars**2,
        "gamma": learning_rate * projections / scalars,
        "second_order": learning_rate**2 * (scalars * projections)[:, None] * gradients,
    }


# --------------------------------------------------------------------------------------------
# Claim 1 / Appendix A.2: the preconditioner as an explicit matrix
# --------------------------------------------------------------------------------------------


def vec(matrix):
    """Column-first vectorization, as in paper Claim 1."""
    return np.asarray(matrix).reshape(-1, order="F")


def psd_matrix_power(matrix, exponent):
    """[M]^a for symmetric positive semidefinite M, with [M]^0 := I (paper Eq. 9's convention).

    Eigenvalues at round-off level (below max(shape)·eps·λ_max) are set to exactly 0 before the
    power, because a fractional power amplifies round-off (1e-16^{1/8} = 1e-2).
    """
    if exponent == 0:
        return np.eye(matrix.shape[0])
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    tolerance = max(matrix.shape) * np.finfo(np.float64).eps * max(eigenvalues.max(), 0.0)
    eigenvalues = np.where(eigenvalues > tolerance, eigenvalues, 0.0)
    return (eigenvectors * eigenvalues**exponent) @ eigenvectors.T


def kronecker_preconditioner(kernel, depth):
    """Paper Eq. 29 in Keras layout: the (dk × dk) matrix Q with vec(P(G)) = Q·vec(G).

    In Keras layout P(G) = Σ_j [K Kᵀ]^{(N−j)/N} G [Kᵀ K]^{(j−1)/N}, and vec(A X B) = (Bᵀ ⊗ A) vec(X)
    (Eq. 25, column-first vec), so
        Q = Σ_{j=1..N} [Kᵀ K]^{(j−1)/N} ⊗ [K Kᵀ]^{(N−j)/N}.
    (The paper's Eq. 29 is the same matrix written for W = Kᵀ.)

    Args:
        kernel: K, shape (d, k).
        depth: N.

    Returns:
        Q, shape (d·k, d·k), symmetric positive semidefinite.
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    left_gram, right_gram = kernel @ kernel.T, kernel.T @ kernel  # K Kᵀ (d×d), Kᵀ K (k×k)
    return sum(
        np.kron(psd_matrix_power(right_gram, (j - 1) / depth), psd_matrix_power(left_gram, (depth - j) / depth))
        for j in range(1, depth + 1)
    )


def claim1_eigenvalues(singular_values, shape, depth):
    """Paper Claim 1's closed form: Σ_j σ_a^{2(N−j)/N} σ_b^{2(j−1)/N}, with 0^0 := 1.

    σ is padded with zeros to length d on the left-singular side (a = 1…d) and to length k on the
    right (b = 1…k), so there are d·k eigenvalues, one per eigendirection vec(u_a v_bᵀ).
    (Appendix A.2's last display drops the factor 2 in the exponents; Claim 1 has it, and so do we.)

    Args:
        singular_values: the min(d, k) singular values of K.
        shape: (d, k).
        depth: N.

    Returns:
        the d·k eigenvalues, sorted in decreasing order.
    """
    d, k = shape
    sigma = np.asarray(singular_values, dtype=np.float64)
    left = np.zeros(d)
    left[: len(sigma)] = sigma
    right = np.zeros(k)
    right[: len(sigma)] = sigma

    def power(values, exponent):
        return np.ones_like(values) if exponent == 0 else values**exponent

    eigenvalues = sum(
        np.outer(power(left, 2 * (depth - j) / depth), power(right, 2 * (j - 1) / depth))
        for j in range(1, depth + 1)
    )
    return np.sort(eigenvalues.ravel())[::-1]


# --------------------------------------------------------------------------------------------
# Theorem 2 / Appendix A.4: the line integral of F around Γ_{r,R}
# --------------------------------------------------------------------------------------------

CURVE_SEGMENTS = ("segment1_line_-R_to_-r", "segment2_arc_r", "segment3_line_r_to_R", "segment4_arc_R")


def gamma_curve(direction, normal, inner_radius, outer_radius, num_nodes):
    """Gauss–Legendre nodes on the closed curve Γ_{r,R} of Appendix A.4 (paper Figure 1).

    Γ¹: the segment −R·e → −r·e;  Γ²: the half circle of radius r from −r·e to r·e through r·f;
    Γ³: the segment r·e → R·e;    Γ⁴: the half circle of radius R from R·e to −R·e through R·f.
    The paper only asks for geodesics on the spheres; both go through the same side (+f), so the
    curve bounds a half annulus in the plane span(e, f).

    Args:
        direction: e, a unit vector (d,).
        normal: f, a unit vector orthogonal to e (d,).
        inner_radius: r.
        outer_radius: R > r.
        num_nodes: Gauss–Legendre nodes per segment.

    Returns:
        list of four (points (n, d), weighted tangents (n, d)) pairs, one per segment, such that
        ∫_segment F·dw ≈ Σ_n F(points_n)·weighted_tangents_n.
    """
    nodes, weights = np.polynomial.legendre.leggauss(num_nodes)
    e, f = np.asarray(direction, dtype=np.float64), np.asarray(normal, dtype=np.float64)

    def line(start, stop):
        half = (stop - start) / 2
        radii = (start + stop) / 2 + half * nodes
        return radii[:, None] * e, (half * weights)[:, None] * e

    def arc(radius, sign):
        # θ ∈ [0, π]: sign = −1 runs −r·e → r·e, sign = +1 runs R·e → −R·e, both through +f.
        angles = np.pi / 2 * (nodes + 1)
        points = radius * (sign * np.cos(angles)[:, None] * e + np.sin(angles)[:, None] * f)
        tangents = radius * (-sign * np.sin(angles)[:, None] * e + np.cos(angles)[:, None] * f)
        return points, (np.pi / 2 * weights)[:, None] * tangents

    return [line(-outer_radius, -inner_radius), arc(inner_radius, -1.0),
            line(inner_radius, outer_radius), arc(outer_radius, +1.0)]


def line_integral_around_gamma(gradient_fn, direction, normal, inner_radius, outer_radius, depth, num_nodes=64):
    """∮_{Γ_{r,R}} F·dw for F = P(φ) the end-to-end field (Eq. 13 / Eq. 34) of a vector field φ.

    F at every quadrature node comes from `end_to_end_direction` (single output, batched); φ is
    the loss gradient ∇L for Theorem 2 or a constant field for Lemma 3.

    Args:
        gradient_fn: φ, maps points (n, d) to vectors (n, d) (numpy, float64).
        direction: e of `gamma_curve`.
        normal: f of `gamma_curve`.
        inner_radius: r < R.
        outer_radius: R.
        depth: N.
        num_nodes: Gauss–Legendre nodes per segment.

    Returns:
        dict: one entry per segment of `CURVE_SEGMENTS` and "total".
    """
    values = {}
    segments = gamma_curve(direction, normal, inner_radius, outer_radius, num_nodes)
    for name, (points, tangents) in zip(CURVE_SEGMENTS, segments):
        field = end_to_end_field(points[..., None], gradient_fn(points)[..., None], depth)[..., 0]
        values[name] = float(np.sum(field * tangents))
    values["total"] = float(sum(values[name] for name in CURVE_SEGMENTS))
    return values


def lemma3_segment_values(depth, inner_radius, outer_radius):
    """Appendix A.4, Eqs. 39–42: ∫ F_e over each segment of Γ_{r,R} for a constant unit field e."""
    exponent = 3 - 2 / depth
    radial = depth / exponent * (outer_radius**exponent - inner_radius**exponent)
    return {
        CURVE_SEGMENTS[0]: radial,                              # Eq. 39
        CURVE_SEGMENTS[1]: 2 * inner_radius**exponent,          # Eq. 40
        CURVE_SEGMENTS[2]: radial,                              # Eq. 41
        CURVE_SEGMENTS[3]: -2 * outer_radius**exponent,         # Eq. 42
    }


def lemma3_value(depth, inner_radius, outer_radius):
    """Lemma 3: ∮_{Γ_{r,R}} F_e = (2N/(3 − 2/N) − 2)(R^{3−2/N} − r^{3−2/N}); zero for N = 1 and 2."""
    exponent = 3 - 2 / depth
    return (2 * depth / exponent - 2) * (outer_radius**exponent - inner_radius**exponent)


def orthonormal_pair(vector, seed):
    """e = vector/‖vector‖ and a unit f ⊥ e (Gram–Schmidt on a seeded Gaussian vector)."""
    e = np.asarray(vector, dtype=np.float64) / np.linalg.norm(vector)
    candidate = np.random.default_rng(seed).standard_normal(len(e))
    f = candidate - (candidate @ e) * e
    return e, f / np.linalg.norm(f)
