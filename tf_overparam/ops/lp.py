"""The paper's ℓp loss, written once: residual powers, the loss and its gradient (paper Section 3).

    L = mean over rows i and outputs o of (1/p)·|r_io|^p,   r = ŷ − y,
    ∂L/∂r = sign(r)·|r|^{p−1} / (n·k)     (r^{p−1} / (n·k) for even p).

For a linear model ŷ = x K (Keras layout, K of shape (d, k)) the gradient with respect to the
kernel is G = Xᵀ·sign(r)|r|^{p−1} / (n·k). `LpLoss`, the full-batch trainer, the optimum solver
(`tf_overparam.optimal_loss`) and the theory figures all call these functions.

keras.ops follows the NumPy API, so every function here runs on NumPy arrays with NumPy (exact
float64, for scipy and the numpy-side tools) and on backend tensors with `keras.ops` (inside
compiled loops): `array_namespace` picks one by the inputs' type.

Even p is the paper's case and is computed exactly, by repeated multiplication (no abs, no pow);
any other real p > 0 uses sign(r)·|r|^{p−1}.
"""

import numbers

import numpy as np
from keras import ops

from tf_overparam._validation import validate_p


def array_namespace(*arrays):
    """`numpy` when every input is a NumPy array or a Python/NumPy number, else `keras.ops`."""
    if all(isinstance(a, (np.ndarray, np.generic, numbers.Number)) for a in arrays):
        return np
    return ops


def is_even_integer(p):
    return float(p).is_integer() and int(p) % 2 == 0


def integer_power(x, exponent):
    """x ** exponent for an integer exponent >= 0, by repeated squaring (exact up to rounding)."""
    xp = array_namespace(x)
    result, base = None, x
    while exponent:
        if exponent & 1:
            result = base if result is None else result * base
        exponent >>= 1
        if exponent:
            base = base * base
    return xp.ones_like(x) if result is None else result


def residual_power(residual, p):
    """sign(r)·|r|^{p−1}, the derivative of (1/p)|r|^p with respect to r (r^{p−1} for even p)."""
    p = validate_p(p)
    xp = array_namespace(residual)
    if is_even_integer(p):
        return integer_power(residual, int(p) - 1)
    magnitude = xp.abs(residual)
    if float(p).is_integer():
        power = integer_power(magnitude, int(p) - 1)
    else:
        power = xp.power(magnitude, p - 1)
    return xp.sign(residual) * power


def lp_values(residual, p):
    """(1/p)·|r|^p elementwise (p > 0)."""
    p = validate_p(p)
    xp = array_namespace(residual)
    if is_even_integer(p):
        return integer_power(residual, int(p)) / p
    return xp.power(xp.abs(residual), p) / p


def lp_loss(residual, p, axis=-1):
    """Mean over `axis` of (1/p)·|r|^p (what `LpLoss` computes per sample)."""
    xp = array_namespace(residual)
    axis = (axis,) if isinstance(axis, int) else tuple(axis)
    return _mean(xp, lp_values(residual, p), axis)


def linear_lp_loss_and_gradient(features, targets, kernels, p, features_t=None):
    """ℓp loss and its gradient G = ∂L/∂K for a batch of linear models x ↦ x K.

    The B kernels are stacked as rows, so each of the two products with the features is one
    matrix product for the whole batch, [K⁽¹⁾ … K⁽ᴮ⁾]ᵀ Xᵀ and then (residual powers) X, with the
    configurations along the rows (the faster layout for XLA on CPU: about 2× over columns at
    B = 10). The products run in the features' dtype and everything else (residual powers,
    loss, gradient) in the kernels' dtype: float32 features with float64 kernels give the
    trainer's "mixed" precision.

    Args:
        features: X, (n, d).
        targets: Y, (n, k), in the features' dtype.
        kernels: (B, d, k).
        p: the loss exponent (> 0).
        features_t: optional Xᵀ (d, n), contiguous, to spare a transpose per call.

    Returns:
        (loss (B,), gradient (B, d, k)), in the kernels' dtype.
    """
    xp = array_namespace(features, targets, kernels)
    (n, d), k = features.shape, targets.shape[1]
    residual = _residuals(xp, features, targets, kernels, features_t)  # (B, k, n)
    slope = residual_power(residual, p)
    # slope·r = |r|^p: reuses the power already computed for the gradient.
    loss = _mean(xp, slope * residual, (1, 2)) / p
    scaled = xp.reshape(slope, (-1, n)) / float(n * k)
    gradient = xp.matmul(_cast(xp, scaled, features.dtype), features)  # (B·k, d)
    gradient = xp.reshape(_cast(xp, gradient, kernels.dtype), (-1, k, d))
    return loss, xp.transpose(gradient, (0, 2, 1))


def linear_lp_loss(features, targets, kernels, p, features_t=None):
    """The ℓp loss (B,) of a batch of linear models (B, d, k); dtypes as in the gradient form."""
    xp = array_namespace(features, targets, kernels)
    return _mean(xp, lp_values(_residuals(xp, features, targets, kernels, features_t), p), (1, 2))


def gram_l2_loss_and_gradient(gram, cross, constant, kernels):
    """The ℓ2 loss and gradient from precomputed moments, O(d²k) per kernel instead of O(ndk).

    With C = XᵀX/(nk), b = XᵀY/(nk) and c = ΣY²/(2nk): L = c − ⟨K, b⟩ + ½⟨K, C K⟩ and
    G = C K − b, the same values as `linear_lp_loss_and_gradient` with p = 2 up to round-off
    (in float64 the loss's cancellation error is ~1e-16·c). See `gram_l2_moments`.

    Args:
        gram: C (d, d); cross: b (d, k); constant: c (scalar); kernels: (B, d, k).
    """
    xp = array_namespace(gram, cross, kernels)
    product = xp.matmul(gram[None], kernels)  # C K
    loss = constant + xp.sum(kernels * (0.5 * product - cross[None]), axis=(1, 2))
    return loss, product - cross[None]


def gram_l2_moments(features, targets):
    """(C, b, c) of `gram_l2_loss_and_gradient`, in float64 NumPy."""
    features = np.asarray(features, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    scale = float(targets.size)
    return (features.T @ features / scale, features.T @ targets / scale,
            float(np.sum(targets**2)) / (2 * scale))


def _residuals(xp, features, targets, kernels, features_t=None):
    """(B, k, n) residuals (X K − Y)ᵀ of every kernel: the product in the features' dtype, the
    result in the kernels' dtype."""
    (n, d), k = features.shape, targets.shape[1]
    stacked = xp.reshape(xp.transpose(kernels, (0, 2, 1)), (-1, d))  # (B·k, d)
    features_t = xp.transpose(features) if features_t is None else features_t
    predictions = xp.matmul(_cast(xp, stacked, features.dtype), features_t)  # (B·k, n)
    predictions = xp.reshape(predictions, (-1, k, n))
    return _cast(xp, predictions - xp.transpose(targets)[None], kernels.dtype)


def _mean(xp, x, axis):
    """Mean over `axis`. Keras' JAX `mean` accumulates float64 in float32, so the backend path
    divides a sum instead (TensorFlow's reduce_mean does the same)."""
    if xp is np:
        return np.mean(x, axis=axis)
    count = 1
    for a in axis:
        count *= x.shape[a]  # static in every caller
    return ops.sum(x, axis=axis) / float(count)


def _cast(xp, x, dtype):
    if xp is np:
        return x.astype(dtype, copy=False)
    return ops.cast(x, dtype)
