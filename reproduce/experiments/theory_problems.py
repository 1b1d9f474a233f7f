"""The theory figures' problems and loops (Section 3 warm-up, Section 7 two-point problem):
drivers of `reproduce/theory.py`, built on the library's `ops` (the ℓp loss, the end-to-end
update) and `tf_overparam.optimal_loss`. Everything is float64 (JAX's 64-bit mode is switched on
by the caller, `reproduce.experiments.theory.run`)."""

from __future__ import annotations

import numpy as np
from keras import ops

from tf_overparam.fullbatch import backend
from tf_overparam.ops import lp
from tf_overparam.ops.end_to_end import end_to_end_update


def geometric_record_steps(num_steps, num_points):
    """Iterations 0, 1, 2, … up to `num_steps`, spaced evenly on a log axis (for log-x plots)."""
    steps = np.unique(np.round(np.geomspace(1, num_steps, num_points)).astype(np.int64))
    return np.concatenate([[0], steps])


# --------------------------------------------------------------------------------------------
# Section 3: warm-up, ℓp regression with w = w₁·w₂ (Observation 1)
# --------------------------------------------------------------------------------------------


def synthetic_regression(num_examples, dim, weight_norm, noise, seed):
    """A synthetic scalar regression problem y = xᵀw* + noise (Section 3 and Theorem 2 use it).

    Args:
        num_examples: m, the number of examples.
        dim: d, the input dimension.
        weight_norm: ‖w*‖ of the planted weights (direction uniform on the sphere).
        noise: standard deviation of the Gaussian label noise.
        seed: numpy seed; the same seed gives the same problem.

    Returns:
        (features (m, d), targets (m,), planted weights (d,)), float64; features x ~ N(0, I_d).
    """
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((num_examples, dim))
    direction = rng.standard_normal(dim)
    planted = weight_norm * direction / np.linalg.norm(direction)
    targets = features @ planted + noise * rng.standard_normal(num_examples)
    return features, targets, planted


def lp_regression_loss(weights, features, targets, p):
    """Paper Section 3: L(w) = mean (1/p)(xᵀw − y)^p for weights of shape (..., d) (NumPy)."""
    return lp.lp_loss(np.einsum("...d,md->...m", weights, features) - targets, p)


def lp_regression_gradient(weights, features, targets, p):
    """∇L(w) = mean (xᵀw − y)^{p−1} x (paper Section 3) for weights (..., d), float64 NumPy."""
    weights = np.asarray(weights, dtype=np.float64)
    kernels = weights.reshape(-1, weights.shape[-1], 1)
    _, gradient = lp.linear_lp_loss_and_gradient(features, targets[:, None], kernels, p)
    return gradient.reshape(weights.shape)


def lp_regression_kernel_gradient(kernels, features, targets, p):
    """∇L for single-output kernels (..., d, 1), with keras.ops (inside compiled loops)."""
    shape = ops.shape(kernels)
    flat = ops.reshape(kernels, (-1, shape[-2], 1))
    _, gradient = lp.linear_lp_loss_and_gradient(features, targets[:, None], flat, p)
    return ops.reshape(gradient, shape)


def factorized_gradient_descent(gradient_fn, initial_vector, initial_scalar, learning_rate, num_steps):
    """Gradient descent on the factors of w = w₁·w₂ (paper Section 3), w₁ ∈ R^d, w₂ ∈ R.

    ∇_{w₁} = w₂·∇L(w) and ∇_{w₂} = w₁ᵀ∇L(w) (chain rule through w = w₁w₂), both updated from the
    same point, as simultaneous gradient descent does.

    Args:
        gradient_fn: w ↦ ∇L(w), the gradient of the original (depth-1) loss.
        initial_vector: w₁⁽⁰⁾, shape (d,).
        initial_scalar: w₂⁽⁰⁾.
        learning_rate: η.
        num_steps: number of iterations.

    Returns:
        (w₁ trajectory (T + 1, d), w₂ trajectory (T + 1,)).
    """
    vectors = [np.asarray(initial_vector, dtype=np.float64)]
    scalars = [float(initial_scalar)]
    for _ in range(num_steps):
        vector, scalar = vectors[-1], scalars[-1]
        gradient = gradient_fn(vector * scalar)
        vectors.append(vector - learning_rate * scalar * gradient)
        scalars.append(scalar - learning_rate * float(vector @ gradient))
    return np.stack(vectors), np.asarray(scalars)


def end_to_end_trajectory(gradient_fn, initial_kernel, learning_rate, depth, record_steps):
    """The end-to-end rule K ← K − η P(∇L(K)) (paper Eq. 9 / Eq. 11, no weight decay); N = 1 is
    plain gradient descent.

    Runs as one XLA-compiled loop per recorded interval; each step is
    `tf_overparam.ops.end_to_end_update`.

    Args:
        gradient_fn: K ↦ ∇L(K), written with keras.ops, for kernels of shape (..., d, k).
        initial_kernel: K⁽⁰⁾, shape (..., d, k) float64 (must be non-zero for N ≥ 2: the rule
            cannot leave 0).
        learning_rate: η, a scalar or an array broadcastable to (..., 1, 1) (one per run).
        depth: N.
        record_steps: increasing iteration numbers at which to record K (0 allowed).

    Returns:
        the recorded kernels, shape (len(record_steps), ..., d, k), numpy float64.
    """
    def run(kernel, rate, start, stop):
        def step(_, current):
            return end_to_end_update(current, gradient_fn(current), rate, depth)

        return ops.fori_loop(start, stop, step, kernel)

    run = backend.compile_function(run, xla=True)
    kernel = ops.convert_to_tensor(np.asarray(initial_kernel, dtype=np.float64))
    rate = ops.convert_to_tensor(np.asarray(learning_rate, dtype=np.float64))
    recorded, done = [], 0
    for record_step in record_steps:
        if record_step > done:
            kernel = run(kernel, rate, ops.convert_to_tensor(done), ops.convert_to_tensor(int(record_step)))
            done = int(record_step)
        recorded.append(ops.convert_to_numpy(kernel))
    return np.stack(recorded)


# --------------------------------------------------------------------------------------------
# Section 7: the two-point ℓp problem
# --------------------------------------------------------------------------------------------


def two_point_gradient(kernels, targets, p):
    """∇L for L(w) = (1/p)(w₁ − y₁)^p + (1/p)(w₂ − y₂)^p (paper Section 7), keras.ops.

    The points are x = [1, 0] and [0, 1], so the prediction on point i is w_i and the gradient is
    the per-coordinate (w_i − y_i)^{p−1} (the paper omits the averaging constant 1/2; so do we).

    Args:
        kernels: shape (..., 2, 1).
        targets: [y₁, y₂] as shape (2, 1).
        p: even exponent.
    """
    return lp.residual_power(kernels - targets, p)


def two_point_stability_bound(targets, p):
    """The plain GD bound η < 2 / y_i^{p−2} of Section 7, for the tightest (largest |y_i|) point."""
    return 2.0 / np.max(np.abs(targets)) ** (p - 2)


def two_point_descent(targets, p, depth, learning_rates, initial_kernel, num_steps, tolerance, record_steps):
    """Run the end-to-end rule of depth N on the two-point problem for many learning rates at once.

    Convergence: iteration t is "converged" when |Δ_i⁽ˢ⁾| ≤ tolerance·|y_i| for both i = 1, 2 and
    every s ≥ t up to `num_steps` (Δ_i = w_i − y_i, the paper's change of variables); counted
    inside the compiled loop, so it is exact to the iteration.

    Args:
        targets: [y₁, y₂].
        p: even loss exponent.
        depth: N; N = 1 is plain gradient descent (`end_to_end_update` with P(G) = G).
        learning_rates: array of η, one run each (a batch dimension of `end_to_end_direction`).
        initial_kernel: the common start w⁽⁰⁾, shape (2,) (near zero but not zero).
        num_steps: horizon.
        tolerance: relative tolerance on |Δ_i| / |y_i|.
        record_steps: iterations at which to record Δ (for the plots).

    Returns:
        dict of numpy arrays: "deltas" (len(record_steps), len(rates), 2); "iterations_to_converge"
        (len(rates),), −1 where not converged within the horizon; "diverged" (len(rates),) bool.
    """
    target_column = np.asarray(targets, dtype=np.float64).reshape(2, 1)
    rates = np.asarray(learning_rates, dtype=np.float64).reshape(-1, 1, 1)
    start = np.broadcast_to(np.asarray(initial_kernel, dtype=np.float64).reshape(2, 1), (len(rates), 2, 1))
    threshold = tolerance * np.abs(target_column)

    def run(kernel, last_outside, rate, first, stop):
        def step(index, state):
            current, last = state
            gradient = two_point_gradient(current, target_column, p)
            current = end_to_end_update(current, gradient, rate, depth)
            # NaN compares False, so a diverged run stays "outside" for ever.
            inside = ops.all(ops.abs(current - target_column) <= threshold, axis=(-2, -1))
            return current, ops.where(inside, last, index + 1)

        return ops.fori_loop(first, stop, step, (kernel, last_outside))

    run = backend.compile_function(run, xla=True)
    kernel = ops.convert_to_tensor(np.array(start))
    last_outside = ops.zeros((len(rates),), dtype="int32")
    rate = ops.convert_to_tensor(rates)
    deltas, done = [], 0
    for record_step in record_steps:
        if record_step > done:
            kernel, last_outside = run(kernel, last_outside, rate, ops.convert_to_tensor(done, "int32"),
                                       ops.convert_to_tensor(int(record_step), "int32"))
            done = int(record_step)
        deltas.append(ops.convert_to_numpy(kernel)[..., 0] - target_column[:, 0])
    if done < num_steps:
        kernel, last_outside = run(kernel, last_outside, rate, ops.convert_to_tensor(done, "int32"),
                                   ops.convert_to_tensor(int(num_steps), "int32"))
    final_deltas = ops.convert_to_numpy(kernel)[..., 0] - target_column[:, 0]
    last_outside = ops.convert_to_numpy(last_outside).astype(np.int64)
    converged = last_outside < num_steps
    diverged = ~np.all(np.isfinite(final_deltas), axis=-1) | np.any(
        np.abs(final_deltas) > 10 * np.abs(target_column[:, 0]), axis=-1)
    return {
        "deltas": np.stack(deltas),
        "iterations_to_converge": np.where(converged & ~diverged, last_outside + 1, -1),
        "diverged": diverged,
    }


def fastest_learning_rate(learning_rates, iterations_to_converge):
    """Index of the rate that converges in the fewest iterations (ties: the larger rate), or None."""
    iterations = np.asarray(iterations_to_converge)
    candidates = np.flatnonzero(iterations > 0)
    if len(candidates) == 0:
        return None
    fewest = iterations[candidates].min()
    tied = candidates[iterations[candidates] == fewest]
    return int(tied[np.argmax(np.asarray(learning_rates)[tied])])
