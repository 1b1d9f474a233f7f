"""Products of a chain of factors K_1 K_2 ⋯ K_N and their gradients (paper Eq. 2, Eq. 5).

Keras layout: factor K_j has shape (..., n_{j−1}, n_j), n_0 = d the input and n_N = k the output
dimension, and the chain computes x ↦ x K_1 ⋯ K_N. Leading batch dimensions are allowed (the
full-batch trainer stacks configurations). `OverparamDense`, the full-batch trainer and the
figures all use these functions; like `tf_overparam.ops.lp` they run on NumPy arrays with NumPy
and on backend tensors with `keras.ops`.

Order of multiplication: with few outputs (k = 1 in the paper) the suffix products
S_j = K_{j+1} ⋯ K_N are thin (n_j, k) matrices, so multiplying right to left costs
O(Σ n_{j−1} n_j k) instead of the O(d n²) of forming K_1 K_2 first (width-100 networks).
"""

from tf_overparam.ops.lp import array_namespace


def _check_factors(factors):
    if isinstance(factors, (str, bytes)) or not hasattr(factors, "__len__") or not len(factors):
        raise ValueError(f"`factors` must be a non-empty list of (..., n_j−1, n_j) arrays, got "
                         f"{factors!r}.")
    return list(factors)


def suffix_products(factors):
    """[S_1, …, S_N] with S_j = K_{j+1} ⋯ K_N and S_N = None, multiplied right to left."""
    factors = _check_factors(factors)
    xp = array_namespace(*factors)
    suffixes = [None] * len(factors)
    for j in range(len(factors) - 2, -1, -1):
        following = factors[j + 1]
        suffixes[j] = following if suffixes[j + 1] is None else xp.matmul(following, suffixes[j + 1])
    return suffixes


def chain_product(factors, suffixes=None):
    """The end-to-end kernel K_e = K_1 K_2 ⋯ K_N, shape (..., d, k) (paper Eq. 5)."""
    factors = _check_factors(factors)
    xp = array_namespace(*factors)
    suffix = (suffix_products(factors) if suffixes is None else suffixes)[0]
    return factors[0] if suffix is None else xp.matmul(factors[0], suffix)


def apply_chain(inputs, factors):
    """x K_1 K_2 ⋯ K_N, multiplying the inputs through the chain left to right.

    With narrow hidden widths (the paper's width 1) this is cheaper than forming the (d, k)
    product first.
    """
    factors = _check_factors(factors)
    xp = array_namespace(inputs, *factors)
    outputs = inputs
    for factor in factors:
        outputs = xp.matmul(outputs, factor)
    return outputs


def factor_gradients(factors, gradient, suffixes=None):
    """∂L/∂K_j = (K_1⋯K_{j−1})ᵀ G (K_{j+1}⋯K_N)ᵀ for every j, given G = ∂L/∂K_e.

    Computed as A_j S_jᵀ with A_1 = G and A_{j+1} = K_jᵀ A_j: thin (n_j, k) matrices, so the
    cost is O(Σ n_{j−1} n_j k).

    Args:
        factors: [K_1, …, K_N], each (..., n_{j−1}, n_j).
        gradient: G, (..., d, k).
        suffixes: optional `suffix_products(factors)`, when already computed.

    Returns:
        [∂L/∂K_1, …, ∂L/∂K_N], shaped like the factors.
    """
    factors = _check_factors(factors)
    xp = array_namespace(gradient, *factors)
    suffixes = suffix_products(factors) if suffixes is None else suffixes
    grads = []
    left = gradient  # A_1 = G
    for j, factor in enumerate(factors):
        right = suffixes[j]
        grads.append(left if right is None else xp.matmul(left, xp.swapaxes(right, -1, -2)))
        if j + 1 < len(factors):
            left = xp.matmul(xp.swapaxes(factor, -1, -2), left)
    return grads
