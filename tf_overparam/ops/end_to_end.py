"""The end-to-end preconditioner of depth-N linear networks (paper Eq. 9, Claim 1, Eq. 11).

Everything here is written once and used by the optimizer (`EndToEndSGD`), the full-batch
trainer (`tf_overparam.fullbatch`) and the theory figures, so that every figure exercises the
code users run.

Layout: Keras' kernel layout, K = Wᵀ of shape (d, k), computing y = x K. In that layout gradient
descent on the N factors of K_e = K_1 ⋯ K_N moves the end-to-end kernel as

    K_e ← (1 − ηλN) K_e − η P(G),
    P(G) = Σ_{j=1..N} [K_e K_eᵀ]^{(N−j)/N} · G · [K_eᵀ K_e]^{(j−1)/N},      [·]^0 := I

where G = ∂L/∂K_e. All functions accept leading batch dimensions (..., d, k) so that the trainer
can run many configurations at once, and use `keras.ops` only.
"""

import functools
import numbers

import numpy as np
from keras import ops
from keras.backend import standardize_dtype

from tf_overparam._validation import validate_depth


def _check_arguments(kernel, gradient, depth):
    """depth as a Python int; kernel and gradient of one shape, (..., d, k) unless N = 1 (where
    P(G) = G for a variable of any shape, e.g. a bias)."""
    depth = validate_depth(depth)
    matrix = len(kernel.shape) >= 2 or depth == 1
    if not matrix or tuple(kernel.shape) != tuple(gradient.shape):
        raise ValueError(
            f"`kernel` and `gradient` must have one shape (..., d, k), got {tuple(kernel.shape)} "
            f"and {tuple(gradient.shape)}."
        )
    return depth


def _power_with_zero_convention(values, exponent):
    """values ** exponent elementwise for values >= 0, with 0 ** 0 := 1 (paper Claim 1)."""
    if exponent == 0:
        return ops.ones_like(values)
    return ops.power(values, exponent)


def _zero_below_rank_tolerance(singular_values, kernel):
    """Set round-off singular values to exactly 0 (numpy's matrix_rank tolerance).

    Fractional powers amplify round-off: a numerically-zero σ = 1e-16 becomes σ^{1/2} = 1e-8
    for N = 4, so a rank-deficient kernel would leak movement into directions the rule keeps still.
    """
    epsilon = float(np.finfo(standardize_dtype(kernel.dtype)).eps)
    largest = ops.max(singular_values, axis=-1, keepdims=True)
    tolerance = largest * (max(kernel.shape[-2:]) * epsilon)
    return ops.where(singular_values > tolerance, singular_values, ops.zeros_like(singular_values))


def _as_tensors(kernel, gradient):
    """Backend tensors of one dtype. On TensorFlow, convert_to_tensor can hand a tf.Variable
    back unchanged and svd then rejects it, so the kernel's value is read with a no-op product."""
    kernel = ops.multiply(ops.convert_to_tensor(kernel), 1)
    gradient = ops.cast(ops.convert_to_tensor(gradient), kernel.dtype)
    return kernel, gradient


def _transpose(x):
    return ops.swapaxes(x, -1, -2)


def _checked(path):
    """Arguments checked, N = 1 answered (P(G) = G), tensors of one dtype, before `path`."""
    @functools.wraps(path)
    def checked(kernel, gradient, depth):
        depth = _check_arguments(kernel, gradient, depth)
        if depth == 1:
            return gradient
        kernel, gradient = _as_tensors(kernel, gradient)
        return path(kernel, gradient, depth)

    return checked


@_checked
def end_to_end_direction_single_output(kernel, gradient, depth):
    """Paper Eq. 11: the preconditioned direction for a single-output kernel, in O(d).

    P(G) = ‖K‖^{2 − 2/N} · (G + (N − 1) · (K Kᵀ / ‖K‖²) G), and P(G) = 0 when K = 0 (N ≥ 2).

    Args:
        kernel: end-to-end kernel K_e, shape (..., d, 1).
        gradient: G = ∂L/∂K_e, same shape.
        depth: N, the depth being emulated (integer >= 1).

    Returns:
        P(G), same shape as `gradient`.
    """
    squared_norm = ops.sum(ops.square(kernel), axis=(-2, -1), keepdims=True)
    is_zero = ops.equal(squared_norm, 0.0)
    # Double `where`: keep 0/0 out of the graph so that no NaN reaches the result or a gradient.
    safe_squared_norm = ops.where(is_zero, ops.ones_like(squared_norm), squared_norm)
    projection_coefficient = ops.sum(kernel * gradient, axis=(-2, -1), keepdims=True)
    projected = kernel * (projection_coefficient / safe_squared_norm)
    scale = ops.power(safe_squared_norm, 1.0 - 1.0 / depth)  # ‖K‖^{2−2/N}
    direction = scale * (gradient + (depth - 1) * projected)
    return ops.where(is_zero, ops.zeros_like(direction), direction)


@_checked
def end_to_end_direction_svd(kernel, gradient, depth):
    """Paper Eq. 9 in singular-value form (Claim 1), for a kernel of any shape, one thin SVD.

    With K_e = U diag(s) Vᵀ (thin, m = min(d, k) columns) the direction splits into the part
    inside both singular subspaces, U (Λ ∘ Uᵀ G V) Vᵀ with Λ_ab = Σ_j s_a^{2(N−j)/N} s_b^{2(j−1)/N},
    and the parts in the orthogonal complements, where only one term of the sum survives
    (docs/design.md §2): (I − UUᵀ) G V diag(s^{2−2/N}) Vᵀ and U diag(s^{2−2/N}) Uᵀ G (I − VVᵀ).
    Cost O(d·k·min(d, k)).

    Args:
        kernel: end-to-end kernel K_e, shape (..., d, k).
        gradient: G = ∂L/∂K_e, same shape.
        depth: N (integer >= 1).

    Returns:
        P(G), same shape as `gradient`.
    """
    left, singular_values, right_t = ops.svd(kernel, full_matrices=False)
    right = _transpose(right_t)  # (..., k, m)
    singular_values = _zero_below_rank_tolerance(singular_values, kernel)

    gradient_right = ops.matmul(gradient, right)  # G V, (..., d, m)
    left_t_gradient = ops.matmul(_transpose(left), gradient)  # Uᵀ G, (..., m, k)
    core = ops.matmul(_transpose(left), gradient_right)  # Uᵀ G V, (..., m, m)

    eigenvalues = 0.0
    for j in range(1, depth + 1):
        row = _power_with_zero_convention(singular_values, 2.0 * (depth - j) / depth)
        column = _power_with_zero_convention(singular_values, 2.0 * (j - 1) / depth)
        eigenvalues = eigenvalues + ops.expand_dims(row, -1) * ops.expand_dims(column, -2)

    complement_scale = ops.power(singular_values, 2.0 - 2.0 / depth)  # s^{2(N−1)/N}
    inside = ops.matmul(ops.matmul(left, eigenvalues * core), right_t)
    # (I − UUᵀ) G V diag(s^c) Vᵀ: the j = N term, the only one alive on the left complement.
    left_complement = gradient_right - ops.matmul(left, core)
    outside_left = ops.matmul(left_complement * ops.expand_dims(complement_scale, -2), right_t)
    # U diag(s^c) Uᵀ G (I − VVᵀ): the j = 1 term, the only one alive on the right complement.
    right_complement = left_t_gradient - ops.matmul(core, right_t)
    outside_right = ops.matmul(left, ops.expand_dims(complement_scale, -1) * right_complement)
    return inside + outside_left + outside_right


def end_to_end_direction(kernel, gradient, depth):
    """The end-to-end direction P(G) of paper Eq. 9, choosing the cheapest exact path.

    Single-output kernels (k = 1, known statically) take the O(d) path of Eq. 11; all others
    one thin SVD (Claim 1). Both paths agree (Claim 2); tests assert it.

    Args:
        kernel: end-to-end kernel K_e in Keras layout, shape (..., d, k).
        gradient: G = ∂L/∂K_e, same shape.
        depth: N (integer >= 1). N = 1 returns `gradient` unchanged (plain gradient descent).

    Returns:
        P(G), same shape as `gradient`.

    Examples:
        >>> import numpy as np
        >>> kernel = np.array([[3.0], [4.0]])
        >>> gradient = np.array([[1.0], [0.0]])
        >>> direction = end_to_end_direction(kernel, gradient, depth=2)
    """
    depth = _check_arguments(kernel, gradient, depth)
    if depth == 1:
        return gradient
    if kernel.shape[-1] == 1:
        return end_to_end_direction_single_output(kernel, gradient, depth)
    return end_to_end_direction_svd(kernel, gradient, depth)


def end_to_end_update(kernel, gradient, learning_rate, depth, weight_decay=0.0):
    """One step of the end-to-end update rule (paper Eq. 9): K ← (1 − ηλN) K − η P(G).

    This is the step gradient descent with weight decay λ on the N factors of a balanced deep
    network takes on its end-to-end kernel (Theorem 1). `EndToEndSGD` and the full-batch trainer
    both take their steps here.

    Args:
        kernel: end-to-end kernel K_e, shape (..., d, k).
        gradient: G = ∂L/∂K_e, same shape.
        learning_rate: η, a number or a tensor broadcastable to the kernel (one per batch entry).
        depth: N (integer >= 1). N = 1 is plain gradient descent.
        weight_decay: λ >= 0, the factors' weight decay (a number or a scalar tensor).

    Returns:
        The new kernel. With λ = 0 it is K − η P(G); otherwise (K − K·(λN)·η) − η P(G), the
        expression of Keras' SGD for N = 1 (so that N = 1 matches it bit for bit).

    Examples:
        >>> import numpy as np
        >>> kernel, gradient = np.array([[3.0], [4.0]]), np.array([[1.0], [0.0]])
        >>> new_kernel = end_to_end_update(kernel, gradient, 0.1, depth=2)
    """
    if isinstance(weight_decay, numbers.Real) and not weight_decay >= 0:
        raise ValueError(f"`weight_decay` must be a number >= 0, got {weight_decay!r}.")
    direction = end_to_end_direction(kernel, gradient, depth)
    step = ops.multiply(direction, learning_rate)
    if isinstance(weight_decay, numbers.Real) and weight_decay == 0:
        return ops.subtract(kernel, step)
    decayed = kernel - kernel * (weight_decay * depth) * learning_rate
    return ops.subtract(decayed, step)
