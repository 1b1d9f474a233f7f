"""Optimal ℓ2 / ℓ4 losses: closed form, BFGS + Newton, against independent checks."""

import numpy as np
import pytest
import scipy.optimize

from tf_overparam.optimal_loss import optimal_l2_loss, optimal_loss, optimal_lp_loss


def lp_loss(X, y, w, p):
    """Independent oracle: the ℓp loss written with numpy."""
    return np.mean(np.abs(X @ w - y) ** p) / p


def _data(n=200, d=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * np.logspace(0, 2, d)  # ill-conditioned columns
    y = X @ rng.normal(size=d) / 10 + rng.normal(size=n)
    return X, y


def test_l2_matches_normal_equations():
    X, y = _data()
    result = optimal_l2_loss(X, y)
    w = np.linalg.solve(X.T @ X, X.T @ y)
    assert result.loss == pytest.approx(np.mean((X @ w - y) ** 2) / 2, rel=1e-12)
    assert result.gradient_norm < 1e-10
    assert result.method == "lstsq"


def test_l4_is_a_stationary_point_and_beats_perturbations():
    X, y = _data()
    result = optimal_lp_loss(X, y, p=4)
    start_gradient = np.linalg.norm(X.T @ (-y) ** 3 / X.shape[0])
    assert result.gradient_norm < 1e-10 * start_gradient
    assert result.loss == pytest.approx(lp_loss(X, y, result.weights, 4), rel=1e-14)
    rng = np.random.default_rng(1)
    for _ in range(20):
        perturbed = result.weights + 1e-4 * rng.normal(size=X.shape[1])
        assert lp_loss(X, y, perturbed, 4) >= result.loss
    # An independent minimizer (Newton-CG with the exact Hessian) agrees.
    n = X.shape[0]
    other = scipy.optimize.minimize(
        lambda w: np.mean((X @ w - y) ** 4) / 4, np.zeros(X.shape[1]),
        jac=lambda w: X.T @ (X @ w - y) ** 3 / n,
        hess=lambda w: (X * (3 * (X @ w - y) ** 2 / n)[:, None]).T @ X,
        method="trust-exact", options={"gtol": 1e-12})
    assert result.loss <= other.fun * (1 + 1e-12)
    assert result.loss == pytest.approx(other.fun, rel=1e-10)


def test_dispatch_json_and_validation():
    X, y = _data(n=60, d=3)
    assert optimal_loss(X, y, 2).p == 2 and optimal_loss(X, y, 4).p == 4
    info = optimal_loss(X, y, 4).as_json()
    assert {"loss", "gradient_norm", "bfgs_loss", "bfgs_iterations", "newton_steps"} <= set(info)
    assert "weights" not in info
    with pytest.raises(ValueError, match="`p`"):
        optimal_loss(X, y, 1)
    with pytest.raises(ValueError, match="`p`"):
        optimal_loss(X, y, "4")
    with pytest.raises(ValueError, match="rows"):
        optimal_loss(X, y[:-1], 2)


@pytest.mark.parametrize("p", [3, 2.5, 1.5])
def test_non_even_p_is_a_minimum_too(p):
    """Any p > 1 (convex, differentiable): not the ℓ2 optimum, stationary, beats perturbations."""
    X, y = _data(n=80, d=4)
    result = optimal_loss(X, y, p)
    assert result.p == p and result.method != "lstsq"
    assert result.loss == pytest.approx(lp_loss(X, y, result.weights, p), rel=1e-13)
    other = scipy.optimize.minimize(lambda w: lp_loss(X, y, w, p), np.zeros(4),
                                    method="Nelder-Mead",
                                    options={"xatol": 1e-12, "fatol": 1e-15, "maxiter": 40_000})
    assert result.loss <= other.fun * (1 + 1e-9)
    rng = np.random.default_rng(2)
    for _ in range(10):
        assert lp_loss(X, y, result.weights + 1e-4 * rng.normal(size=4), p) >= result.loss


def test_ethanol_optima(shared_data_dir):
    import warnings

    from tf_overparam.datasets import load_ethanol

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PartialDataWarning on the 8-batch shared copy
        X, y, _ = load_ethanol(shared_data_dir, allow_partial=True)
    l2, l4 = optimal_loss(X, y, 2), optimal_loss(X, y, 4)
    assert 0 < l2.loss < np.mean(y ** 2) / 2 and 0 < l4.loss < np.mean(y ** 4) / 4
    assert l2.gradient_norm < 1e-9 and l4.gradient_norm < 1e-9
