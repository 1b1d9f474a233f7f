"""The theory figure's problems (reproduce.experiments.theory_problems): Section 3 and Section 7
against independent numpy oracles, and the figure's quick run. The theory library itself
(tf_overparam.theory: Theorem 2, Claim 1) is tested in tests/library/test_theory.py."""

import json

import numpy as np
import pytest
from numpy_oracles import eq11_direction

from reproduce.experiments import theory_problems as problems
from tf_overparam import theory
from tf_overparam.optimal_loss import optimal_loss

# --------------------------------------------------------------------------------------------
# Section 7
# --------------------------------------------------------------------------------------------


def test_two_point_steps_match_numpy_oracle():
    targets, start, rate = np.array([10.0, 1.0]), np.array([0.3, -0.2]), 0.004
    for depth in (1, 2, 3):
        run = problems.two_point_descent(targets, 4, depth, [rate], start, 5, 1e-2, np.arange(6))
        w = start[:, None].copy()
        for step in range(6):
            np.testing.assert_allclose(run["deltas"][step, 0], w[:, 0] - targets, rtol=1e-13)
            w = w - rate * eq11_direction(w, (w - targets[:, None]) ** 3, depth)


def test_two_point_plain_gd_stability_bound_and_one_step_p2():
    targets, start = np.array([10.0, 1.0]), np.array([0.01, -0.01])
    bound = problems.two_point_stability_bound(targets, 4)
    assert bound == pytest.approx(2 / 100)
    run = problems.two_point_descent(targets, 4, 1, [0.9 * bound, 1.1 * bound], start, 2000, 1e-2, [0])
    assert list(run["diverged"]) == [False, True]
    # p = 2: η = 1 is Newton's step on each coordinate: converged after exactly one iteration.
    run = problems.two_point_descent(targets, 2, 1, [1.0, 0.5], start, 100, 1e-2, [0])
    assert run["iterations_to_converge"][0] == 1
    assert run["iterations_to_converge"][1] == 7  # 0.5^t ≤ 1e-2 first at t = 7 (from |Δ| ≈ |y|)


def test_two_point_p4_end_to_end_converges_faster_than_gd():
    # Section 7: with p = 4 and y₁ ≫ y₂, GD's rate is capped by y₁; the end-to-end rule is not.
    targets, start = np.array([10.0, 1.0]), np.array([0.0126, -0.0132])
    rates = np.geomspace(1e-3, 0.1, 9)  # 4 per decade: contains 0.01 and 0.0178
    iterations = {}
    for depth in (1, 2, 3):
        run = problems.two_point_descent(targets, 4, depth, rates, start, 400_000, 1e-2, [0])
        best = problems.fastest_learning_rate(rates, run["iterations_to_converge"])
        assert best is not None
        iterations[depth] = run["iterations_to_converge"][best]
    assert iterations[3] < iterations[2] < iterations[1]
    assert iterations[1] > 3 * iterations[2]


def test_fastest_learning_rate_prefers_fewest_iterations_then_larger_rate():
    assert problems.fastest_learning_rate([0.1, 0.2, 0.3, 0.4], [50, 10, 10, -1]) == 2
    assert problems.fastest_learning_rate([0.1, 0.2], [-1, -1]) is None


# --------------------------------------------------------------------------------------------
# Section 3
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def warmup_problem():
    features, targets, _ = problems.synthetic_regression(30, 3, 2.0, 0.1, seed=5)
    return features, targets, lambda w: problems.lp_regression_gradient(w, features, targets, 4)


def test_lp_regression_gradient_and_optimum(warmup_problem):
    features, targets, gradient = warmup_problem
    w = np.array([0.3, -0.2, 0.5])
    def loss(weights):
        return problems.lp_regression_loss(weights, features, targets, 4)

    numeric = [(loss(w + h) - loss(w - h)) / 2e-6 for h in 1e-6 * np.eye(3)]
    np.testing.assert_allclose(gradient(w), numeric, rtol=1e-6)
    best = optimal_loss(features, targets, 4)  # the project's one ℓp optimum solver
    assert np.linalg.norm(gradient(best.weights)) < 1e-12
    assert best.loss == pytest.approx(loss(best.weights), rel=1e-14)
    assert best.loss < loss(best.weights + 1e-3)


def test_observation1_decomposition_is_exact(warmup_problem):
    _, _, gradient = warmup_problem
    rate, vector, scalar = 0.01, np.array([0.05, -0.02, 0.03]), 0.04
    vectors, scalars = problems.factorized_gradient_descent(gradient, vector, scalar, rate, 200)
    # First step by hand: ∇_{w₁} = w₂∇, ∇_{w₂} = w₁ᵀ∇.
    g = gradient(vector * scalar)
    np.testing.assert_allclose(vectors[1], vector - rate * scalar * g, rtol=1e-15)
    assert scalars[1] == pytest.approx(scalar - rate * vector @ g, rel=1e-15)
    product = vectors * scalars[:, None]
    gradients = gradient(product[:-1])
    parts = theory.observation1_decomposition(vectors[:-1], scalars[:-1], gradients, rate)
    np.testing.assert_allclose(parts["rho"], rate * scalars[:-1] ** 2)
    rebuilt = (product[:-1] - parts["rho"][:, None] * gradients - parts["gamma"][:, None] * product[:-1]
               + parts["second_order"])
    np.testing.assert_allclose(rebuilt, product[1:], rtol=1e-10, atol=1e-15)


def test_balanced_factors_give_eq11_rate_and_direction(warmup_problem):
    # With w₂² = ‖w₁‖² (Eq. 7), ρ/η = ‖w‖ and the first-order step is Eq. 11 with N = 2.
    _, _, gradient = warmup_problem
    rate, vector = 0.01, np.array([0.3, -0.4, 1.2])
    scalar = np.linalg.norm(vector)
    w = vector * scalar
    g = gradient(w)
    parts = theory.observation1_decomposition(vector[None], np.array([scalar]), g[None], rate)
    assert parts["rho"][0] / rate == pytest.approx(np.linalg.norm(w), rel=1e-14)
    first_order = parts["rho"][0] * g + parts["gamma"][0] * w
    np.testing.assert_allclose(first_order, rate * eq11_direction(w[:, None], g[:, None], 2)[:, 0], rtol=1e-12)


def test_end_to_end_trajectory_matches_numpy_eq11_loop(warmup_problem):
    features, targets, gradient = warmup_problem
    start, rate = np.array([0.02, 0.01, -0.03]), 0.005
    recorded = problems.end_to_end_trajectory(
        lambda kernel: problems.lp_regression_kernel_gradient(kernel, features, targets, 4),
        start[:, None], rate, 3, [0, 1, 7])[..., 0]
    w, expected = start[:, None], {}
    for step in range(8):
        expected[step] = w[:, 0]
        w = w - rate * eq11_direction(w, gradient(w[:, 0])[:, None], 3)
    np.testing.assert_allclose(recorded, [expected[0], expected[1], expected[7]], rtol=1e-12)


# --------------------------------------------------------------------------------------------
# The figure script
# --------------------------------------------------------------------------------------------


def test_quick_run_writes_figures_and_numbers(tmp_path):
    from reproduce.experiments import theory as figure

    document = figure.run(out_dir=tmp_path / "theory", data_dir=None, quick=True)
    for stem in ("warmup", "two_point", "claim1_spectrum", "theorem2"):
        for suffix in (".png", ".pdf"):
            assert (tmp_path / "theory" / (stem + suffix)).stat().st_size > 10_000
    written = json.loads((tmp_path / "theory" / "theory.json").read_text())
    recorded = written["results"]
    assert written["quick"] is True and set(document["results"]) >= {"warmup", "two_point", "claim1", "theorem2"}
    runs = recorded["two_point"]["runs"]
    assert runs["p4_depth3"]["best_iterations_to_converge"] < runs["p4_depth1"]["best_iterations_to_converge"]
    for checks in recorded["claim1"]["depths"].values():
        assert checks["random"]["max_eigenvalue_error_over_largest"] < 1e-12
        assert checks["random"]["direction_vs_matrix_relative_error"] < 1e-12
    for row in recorded["theorem2"]["rows"]:
        assert row["constant_field_abs_error"] <= 1e-12 * max(abs(row["lemma3"]), 1.0)
        if row["depth"] == 1:
            assert abs(row["loss_integral"]) < 1e-12
    assert recorded["warmup"]["decomposition_identity_max_relative_error"] < 1e-8
