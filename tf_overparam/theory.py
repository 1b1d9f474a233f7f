"""The paper's theory, executable: Section 3, Section 7, Claim 1 and Theorem 2 as numerical checks.

Arora, Cohen & Hazan (ICML 2018). Four small experiments that need no data set:

- Section 3 (warm-up, Observation 1): gradient descent on w = w₁·w₂ moves w as gradient descent with
  an adaptive learning rate ρ⁽ᵗ⁾ and a momentum-like term γ⁽ᵗ⁾·w⁽ᵗ⁾.
- Section 7 (illustration): the two-point ℓp problem, where the end-to-end rule (Eq. 11) lets the
  small coordinate borrow the step size that the large one has earned.
- Claim 1 / Appendix A.2: the end-to-end direction is a positive semidefinite preconditioner
  (Eq. 29, a sum of Kronecker products) whose eigenvalues have a closed form in the singular values.
- Theorem 2 / Appendix A.4: for N > 2 the end-to-end field F = P(∇L) (Eq. 13) has a non-zero line
  integral around the closed curve Γ_{r,R}, so it is the gradient of no function (Lemma 3 gives the
  value for a constant field).

Layout: Keras' kernel layout throughout, K = Wᵀ of shape (d, k) computing y = x K (DESIGN.md §1);
a single-output kernel is a column (d, 1). Every end-to-end update and every value of the field F
is computed by `tf_overparam.ops.end_to_end_direction`, the one implementation of Eq. 9 / Eq. 11;
the numpy formulas here (Kronecker matrix, closed forms) are the independent objects the paper
compares it with. Everything is float64.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from tf_overparam.ops import end_to_end_direction

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
    return np.asarray(ops.convert_to_numpy(end_to_end_direction(kernels, gradients, depth)))


def _compile(function):
    """XLA-compile a keras.ops loop on the TensorFlow backend (~1 µs per step instead of ~1 ms).

    Other backends run the same code uncompiled, only slower.
    """
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.function(function, jit_compile=True, reduce_retracing=True)
    return function


def lp_residual_power(residual, p):
    """r^{p−1} for even p, written as r·(r²)^{(p−2)/2} so that a negative r is exact in keras.ops."""
    return residual * ops.power(ops.square(residual), (p - 2) / 2)


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
    """Paper Section 3: L(w) = mean (1/p)(xᵀw − y)^p, for weights of shape (..., d)."""
    residuals = np.einsum("...d,md->...m", weights, features) - targets
    return np.mean(residuals**p, axis=-1) / p


def lp_regression_gradient(weights, features, targets, p):
    """∇L(w) = mean (xᵀw − y)^{p−1} x (paper Section 3), for weights of shape (..., d)."""
    residuals = np.einsum("...d,md->...m", weights, features) - targets
    return np.einsum("...m,md->...d", residuals ** (p - 1), features) / len(targets)


def lp_regression_kernel_gradient(kernels, features, targets, p):
    """∇L for single-output kernels in Keras layout, with keras.ops (for compiled end-to-end runs).

    Args:
        kernels: shape (..., d, 1).
        features: (m, d) float64 numpy.
        targets: (m,) float64 numpy.
        p: even exponent.

    Returns:
        mean (x K − y)^{p−1} xᵀ, shape (..., d, 1).
    """
    residuals = ops.matmul(features, kernels) - targets[:, None]  # (..., m, 1)
    return ops.matmul(features.T, lp_residual_power(residuals, p)) / len(targets)


def lp_regression_optimum(features, targets, p, newton_steps=50):
    """The minimum of the convex ℓp regression loss, by Newton's method from least squares.

    Args:
        features, targets: the data, (m, d) and (m,).
        p: even loss exponent.
        newton_steps: upper bound on Newton iterations (it stops at the round-off floor).

    Returns:
        (w*, L(w*)); the gradient at w* is at round-off level (asserted by the tests).
    """
    weights = np.linalg.lstsq(features, targets, rcond=None)[0]
    for _ in range(newton_steps):
        residuals = features @ weights - targets
        gradient = features.T @ residuals ** (p - 1) / len(targets)
        if p == 2 or np.linalg.norm(gradient) < 1e-15:
            break
        hessian = (features.T * ((p - 1) * residuals ** (p - 2))) @ features / len(targets)
        weights = weights - np.linalg.solve(hessian, gradient)
    return weights, float(lp_regression_loss(weights, features, targets, p))


def plain_gradient_descent(gradient_fn, initial_weights, learning_rate, num_steps):
    """Gradient descent w ← w − η∇L(w) on the plain (depth-1) parameter.

    Returns:
        the trajectory, shape (num_steps + 1, d).
    """
    trajectory = [np.asarray(initial_weights, dtype=np.float64)]
    for _ in range(num_steps):
        trajectory.append(trajectory[-1] - learning_rate * gradient_fn(trajectory[-1]))
    return np.stack(trajectory)


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


def end_to_end_trajectory(gradient_fn, initial_kernel, learning_rate, depth, record_steps):
    """The end-to-end rule K ← K − η P(∇L(K)) (paper Eq. 9 / Eq. 11, no weight decay).

    Runs as one XLA-compiled loop per recorded interval; P is `end_to_end_direction`.

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
            return current - rate * end_to_end_direction(current, gradient_fn(current), depth)

        return ops.fori_loop(start, stop, step, kernel)

    run = _compile(run)
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
    return lp_residual_power(kernels - targets, p)


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
        depth: N; N = 1 is plain gradient descent (`end_to_end_direction` returns ∇L unchanged).
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
            current = current - rate * end_to_end_direction(current, gradient, depth)
            # NaN compares False, so a diverged run stays "outside" for ever.
            inside = ops.all(ops.abs(current - target_column) <= threshold, axis=(-2, -1))
            return current, ops.where(inside, last, index + 1)

        return ops.fori_loop(first, stop, step, (kernel, last_outside))

    run = _compile(run)
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
        direction, normal: e and f of `gamma_curve`.
        inner_radius, outer_radius: r < R.
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
