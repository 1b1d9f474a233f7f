"""The theory library (tf_overparam.theory): Theorem 2 / Lemma 3 and Claim 1 against independent
numpy oracles. The figure problems of Sections 3 and 7 are tested with the experiments
(tests/experiments/test_theory_problems.py)."""

import numpy as np
import pytest
import scipy.integrate
from numpy_oracles import eq9_direction

from tf_overparam import theory

# --------------------------------------------------------------------------------------------
# Oracles written here from the paper, independent of tf_overparam
# --------------------------------------------------------------------------------------------


def lemma3_oracle(depth, r, outer):
    """Lemma 3 (Appendix A.4), literally."""
    a = 3 - 2 / depth
    return (2 * depth / a - 2) * (outer**a - r**a)


def eq34_field(w, phi, depth):
    """Eq. 34: F_φ(w) = ‖w‖^{2−2/N} (φ + (N−1)⟨φ, ŵ⟩ŵ), F(0) = 0, for one point w."""
    norm = np.linalg.norm(w)
    if norm == 0:
        return np.zeros_like(w)
    unit = w / norm
    return norm ** (2 - 2 / depth) * (phi + (depth - 1) * (phi @ unit) * unit)


def adaptive_loop_integral(phi_fn, e, f, r, outer, depth):
    """∮_{Γ_{r,R}} F·dw by scipy's adaptive quadrature on each segment, with Eq. 34 in numpy."""
    def integrate(path, velocity, a, b):
        def integrand(s):
            w = path(s)
            return eq34_field(w, phi_fn(w), depth) @ velocity(s)
        return scipy.integrate.quad(integrand, a, b, epsabs=1e-15, epsrel=1e-13, limit=200)[0]

    def line(s):
        return s * e

    def inner_arc(t):  # −r·e → r·e through +r·f
        return r * (-np.cos(t) * e + np.sin(t) * f)

    def outer_arc(t):  # R·e → −R·e through +R·f
        return outer * (np.cos(t) * e + np.sin(t) * f)

    return (
        integrate(line, lambda s: e, -outer, -r)
        + integrate(inner_arc, lambda t: r * (np.sin(t) * e + np.cos(t) * f), 0, np.pi)
        + integrate(line, lambda s: e, r, outer)
        + integrate(outer_arc, lambda t: outer * (-np.sin(t) * e + np.cos(t) * f), 0, np.pi)
    )


@pytest.fixture(scope="module")
def l4_problem():
    """ℓ4 regression on 40 Gaussian examples in d = 4, the field's e and f, and c = ‖∇L(0)‖."""
    rng = np.random.default_rng(7)
    features = rng.standard_normal((40, 4))
    targets = features @ rng.standard_normal(4) + 0.1 * rng.standard_normal(40)

    def gradient(w):  # independent of theory.lp_regression_gradient: one point or many
        residuals = np.asarray(w) @ features.T - targets
        return residuals**3 @ features / len(targets)

    g0 = gradient(np.zeros(4))
    e = g0 / np.linalg.norm(g0)
    f = rng.standard_normal(4)
    f -= (f @ e) * e
    return {"features": features, "targets": targets, "gradient": gradient, "c": np.linalg.norm(g0),
            "e": e, "f": f / np.linalg.norm(f)}


# --------------------------------------------------------------------------------------------
# Theorem 2 / Lemma 3
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", range(1, 9))
@pytest.mark.parametrize("radii", [(0.5, 1.0), (0.01, 0.3)])
def test_lemma3_constant_field_line_integral(depth, radii, l4_problem):
    r, outer = radii
    e, f = l4_problem["e"], l4_problem["f"]
    values = theory.line_integral_around_gamma(lambda w: np.broadcast_to(e, w.shape), e, f, r, outer, depth, 48)
    expected = lemma3_oracle(depth, r, outer)
    assert theory.lemma3_value(depth, r, outer) == pytest.approx(expected, rel=1e-14, abs=1e-300)
    assert values["total"] == pytest.approx(expected, rel=1e-12, abs=1e-14)
    a = 3 - 2 / depth
    # Eqs. 39-42, segment by segment.
    np.testing.assert_allclose(
        [values[name] for name in theory.CURVE_SEGMENTS],
        [depth / a * (outer**a - r**a), 2 * r**a, depth / a * (outer**a - r**a), -2 * outer**a], rtol=1e-12)


def test_lemma3_is_zero_only_for_depths_one_and_two():
    # Footnote 1: for N = 2 a linear loss gives a gradient field (of ‖W‖·WUᵀ); N > 2 does not.
    assert lemma3_oracle(1, 0.5, 1.0) == 0 and lemma3_oracle(2, 0.5, 1.0) == 0
    assert all(lemma3_oracle(depth, 0.5, 1.0) > 0 for depth in range(3, 9))


@pytest.mark.parametrize("depth", [1, 2, 3, 5])
def test_line_integral_matches_adaptive_quadrature_oracle(depth, l4_problem):
    e, f, gradient = l4_problem["e"], l4_problem["f"], l4_problem["gradient"]
    ours = theory.line_integral_around_gamma(gradient, e, f, 0.2, 0.6, depth, 64)["total"]
    oracle = adaptive_loop_integral(gradient, e, f, 0.2, 0.6, depth)
    assert ours == pytest.approx(oracle, rel=1e-9, abs=1e-13)


@pytest.mark.parametrize("outer", [1e-2, 0.3, 1.0])
def test_gradient_field_loop_integral_vanishes(outer, l4_problem):
    # N = 1: F = ∇L, whose integral around any closed curve is 0 (gradient theorem).
    e, f, gradient = l4_problem["e"], l4_problem["f"], l4_problem["gradient"]
    values = theory.line_integral_around_gamma(gradient, e, f, outer / 2, outer, 1, 64)
    segment_scale = max(abs(values[name]) for name in theory.CURVE_SEGMENTS)
    assert segment_scale > 0
    assert abs(values["total"]) <= 1e-13 * segment_scale
    # The same curve gives a clearly non-zero integral for N = 3.
    deep = theory.line_integral_around_gamma(gradient, e, f, outer / 2, outer, 3, 64)["total"]
    assert abs(deep) > 1e6 * abs(values["total"]) + 1e-30


@pytest.mark.parametrize("depth", [3, 4, 8])
def test_loss_integral_tends_to_c_times_lemma3(depth, l4_problem):
    # Appendix A.4: ∮F_{∇L} = c·∮F_e + ∮F_ξ, and the ξ part vanishes faster as R → 0.
    e, f, gradient, c = l4_problem["e"], l4_problem["f"], l4_problem["gradient"], l4_problem["c"]
    deviations = []
    for outer in (1e-1, 1e-2, 1e-3):
        total = theory.line_integral_around_gamma(gradient, e, f, outer / 2, outer, depth, 64)["total"]
        deviations.append(abs(total / (c * lemma3_oracle(depth, outer / 2, outer)) - 1))
    assert deviations[-1] < 1e-4
    assert deviations[0] > deviations[1] > deviations[2]


# --------------------------------------------------------------------------------------------
# Claim 1
# --------------------------------------------------------------------------------------------


def claim1_oracle(singular_values, d, k, depth):
    """Claim 1's eigenvalues by explicit loops over (r, r'), σ padded with zeros, 0^0 := 1."""
    left = list(singular_values) + [0.0] * (d - len(singular_values))
    right = list(singular_values) + [0.0] * (k - len(singular_values))
    power = lambda x, a: 1.0 if a == 0 else x**a  # noqa: E731
    return sorted((sum(power(sa, 2 * (depth - j) / depth) * power(sb, 2 * (j - 1) / depth)
                       for j in range(1, depth + 1)) for sa in left for sb in right), reverse=True)


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (5, 1), (3, 3)])
@pytest.mark.parametrize("depth", [1, 2, 3, 8])
def test_claim1_eigenvalues_and_matrix(shape, depth):
    rng = np.random.default_rng(shape[0] * 10 + shape[1] + 100 * depth)
    kernel = rng.standard_normal(shape)
    gradient = rng.standard_normal(shape)
    matrix = theory.kronecker_preconditioner(kernel, depth)
    d, k = shape
    # Column by column, the matrix is Eq. 9 (conftest's literal oracle) applied to basis matrices.
    columns = [theory.vec(eq9_direction(kernel, np.eye(d * k)[:, i].reshape((d, k), order="F"), depth))
               for i in range(d * k)]
    np.testing.assert_allclose(matrix, np.stack(columns, axis=1), atol=1e-12)
    sigma = np.linalg.svd(kernel, compute_uv=False)
    expected = claim1_oracle(sigma, d, k, depth)
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(matrix))[::-1], expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(theory.claim1_eigenvalues(sigma, shape, depth), expected, rtol=1e-13)
    # The library's direction (Eq. 9 via end_to_end_direction) is the matrix applied to vec(G).
    np.testing.assert_allclose(theory.vec(theory.end_to_end_field(kernel, gradient, depth)),
                               matrix @ theory.vec(gradient), rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("depth", [2, 3, 8])
def test_claim1_rank_deficient_kernel_has_zero_eigenvalues(depth):
    rng = np.random.default_rng(depth)
    left, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    right, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    kernel = left[:, :2] @ np.diag([2.0, 0.5]) @ right[:, :2].T  # σ = 2, 0.5, 0
    numeric = np.sort(np.linalg.eigvalsh(theory.kronecker_preconditioner(kernel, depth)))[::-1]
    expected = claim1_oracle([2.0, 0.5, 0.0], 4, 3, depth)
    assert expected.count(0.0) == 2  # (σ₃ = 0, σ₃' = 0) and (σ₄ = 0, σ₃' = 0)
    np.testing.assert_allclose(numeric, expected, atol=1e-12)
