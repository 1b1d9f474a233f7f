"""Optimal training losses of linear ℓp regression, the offsets of the paper's convergence plots.

The paper (Appendix B.1) plots training loss minus its optimum: the ℓ2 optimum "in closed form"
(least squares) and the ℓ4 optimum with `scipy.optimize.minimize` (default method, BFGS).
Both are computed here in float64 for the loss used throughout the project,

    L(w) = mean_i (1/p) |x_iᵀ w − y_i|^p        (no bias, as in the paper's networks),

with the loss and its gradient from `tf_overparam.ops.lp` (the formulas the trainer uses, run
on NumPy). This is the project's one ℓp optimum solver.

The ℓp optimum (p ≠ 2, p > 1) is found by BFGS with the analytic gradient, started from the
least-squares solution, with a tight tolerance. Because the plotted gaps go far below 1e-3 of the
initial gap, the BFGS point is then polished by a few Newton steps for p ≥ 2 (the loss is convex
and its Hessian Xᵀ diag((p−1)|r|^{p−2}) X / n is analytic); the smaller of the two losses is
reported together with both values, the gradient norm and the number of iterations, so that the
accuracy of the offset is on record.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import scipy.linalg
import scipy.optimize

from tf_overparam._validation import validate_p
from tf_overparam.ops import lp


@dataclasses.dataclass(frozen=True)
class OptimalLoss:
    """The minimum of an ℓp regression loss and how it was found.

    Attributes:
        p: The loss exponent.
        loss: The optimal loss L* (the plots' offset), float64.
        weights: A minimizer w*, shape (d,) (or (d, k) for several outputs, ℓ2 only).
        method: How `loss` was obtained ("lstsq", or "bfgs+newton").
        gradient_norm: ‖∇L(w*)‖₂ at the reported minimizer.
        details: Extra JSON-friendly facts (BFGS loss, iterations, messages, Newton steps).
    """

    p: int
    loss: float
    weights: np.ndarray
    method: str
    gradient_norm: float
    details: dict

    def as_json(self) -> dict:
        """Everything but the weights, JSON-serializable."""
        return {"p": self.p, "loss": self.loss, "method": self.method,
                "gradient_norm": self.gradient_norm, **self.details}


def _check(X, y, p):
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"`X` must be 2-D (n, d), got shape {X.shape}.")
    if y.shape[:1] != X.shape[:1]:
        raise ValueError(f"`X` has {X.shape[0]} rows but `y` has shape {y.shape}.")
    return X, y, validate_p(p, for_training=True)


def lp_loss_and_gradient(X, y, weights, p):
    """L(w) = mean (1/p)|X w − y|^p and ∇L(w) for weights (d,) and targets (n,), float64."""
    kernel = np.asarray(weights, dtype=np.float64).reshape(1, -1, 1)
    loss, gradient = lp.linear_lp_loss_and_gradient(X, y.reshape(-1, 1), kernel, p)
    return float(loss[0]), gradient.reshape(-1)


def optimal_l2_loss(X, y) -> OptimalLoss:
    """Closed-form ℓ2 optimum: least squares, L* = mean ½ (X w* − y)², float64.

    Args:
        X: (n, d) features.
        y: (n,) or (n, k) targets.

    Returns:
        An `OptimalLoss` with p = 2 and method "lstsq".
    """
    X, y, _ = _check(X, y, 2)
    weights, *_ = scipy.linalg.lstsq(X, y, lapack_driver="gelsd")
    targets = y.reshape(len(y), -1)
    loss, gradient = lp.linear_lp_loss_and_gradient(
        X, targets, weights.reshape(1, X.shape[1], targets.shape[1]), 2)
    return OptimalLoss(p=2, loss=float(loss[0]), weights=weights,
                       method="lstsq", gradient_norm=float(np.linalg.norm(gradient)),
                       details={"n_rows": X.shape[0], "n_features": X.shape[1]})


def optimal_lp_loss(X, y, p=4, *, gtol=1e-13, maxiter=100_000, newton_steps=50) -> OptimalLoss:
    """ℓp optimum (p > 1) by BFGS with the analytic gradient, then Newton polishing (p ≥ 2).

    Args:
        X: (n, d) features.
        y: (n,) targets.
        p: loss exponent > 1 (4 for the paper's ℓ4 runs). p = 2 is delegated to
            `optimal_l2_loss`.
        gtol: BFGS gradient-norm tolerance (scipy's `gtol`).
        maxiter: BFGS iteration cap.
        newton_steps: At most this many damped Newton steps after BFGS (0 disables polishing).

    Returns:
        An `OptimalLoss`; `details` records the BFGS loss, its iterations and message, and the
        Newton-polished loss.

    Examples:
        >>> rng = np.random.default_rng(0)
        >>> X, y = rng.normal(size=(50, 3)), rng.normal(size=50)
        >>> optimal_lp_loss(X, y, p=4).gradient_norm < 1e-10
        True
    """
    X, y, p = _check(X, y, p)
    if p == 2:
        return optimal_l2_loss(X, y)
    if y.ndim != 1:
        raise ValueError("optimal_lp_loss supports a single output (`y` of shape (n,)).")
    n = X.shape[0]

    def loss_and_gradient(w):
        return lp_loss_and_gradient(X, y, w, p)

    start = optimal_l2_loss(X, y).weights
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = scipy.optimize.minimize(loss_and_gradient, start, jac=True, method="BFGS",
                                         options={"gtol": gtol, "maxiter": maxiter})
    bfgs_w = np.asarray(result.x, dtype=np.float64)
    bfgs_loss, bfgs_grad = loss_and_gradient(bfgs_w)
    best_w, best_loss, best_grad = bfgs_w, bfgs_loss, bfgs_grad

    steps_taken = 0
    w = bfgs_w.copy()
    # Newton needs the Hessian (p−1)|r|^{p−2}, unbounded at r = 0 for p < 2: BFGS alone there.
    for _ in range(newton_steps if p >= 2 else 0):
        current, gradient = loss_and_gradient(w)
        curvature = (p - 1) * np.abs(X @ w - y) ** (p - 2) / n
        hessian = (X * curvature[:, None]).T @ X
        try:
            step = scipy.linalg.solve(hessian, gradient, assume_a="pos")
        except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
            step = scipy.linalg.lstsq(hessian, gradient)[0]
        scale = 1.0
        while scale > 1e-8:  # backtracking: never accept a step that raises the loss
            trial = w - scale * step
            trial_loss, _ = loss_and_gradient(trial)
            if trial_loss <= current:
                break
            scale *= 0.5
        else:
            break
        steps_taken += 1
        if np.array_equal(trial, w):
            break
        w = trial
        trial_loss, trial_grad = loss_and_gradient(w)
        if trial_loss < best_loss or (trial_loss == best_loss and
                                      np.linalg.norm(trial_grad) < np.linalg.norm(best_grad)):
            best_w, best_loss, best_grad = w.copy(), trial_loss, trial_grad
        if np.linalg.norm(trial_grad) == 0.0:
            break
    details = {
        "n_rows": n, "n_features": X.shape[1],
        "bfgs_loss": float(bfgs_loss), "bfgs_gradient_norm": float(np.linalg.norm(bfgs_grad)),
        "bfgs_iterations": int(result.nit), "bfgs_message": str(result.message),
        "bfgs_gtol": gtol, "newton_steps": steps_taken,
        "newton_improvement": float(bfgs_loss - best_loss),
    }
    return OptimalLoss(p=p, loss=best_loss, weights=best_w,
                       method="bfgs+newton" if p >= 2 else "bfgs",
                       gradient_norm=float(np.linalg.norm(best_grad)), details=details)


def optimal_loss(X, y, p) -> OptimalLoss:
    """The optimum of mean (1/p)|Xw − y|^p: closed form for p = 2, BFGS (+Newton) otherwise."""
    p = _check(X, y, p)[2]  # before dispatching: p = 2.5 must not quietly become the ℓ2 optimum
    return optimal_l2_loss(X, y) if p == 2 else optimal_lp_loss(X, y, p)
