"""`ops.lp`, `ops.chain` and `end_to_end_update` against numpy formulas written here, on NumPy
input (the NumPy path) and on backend tensors (the keras.ops path), on every backend."""

import numpy as np
import pytest
from keras import ops

from numpy_oracles import eq9_direction
from numpy_oracles import float64_tolerance
from tf_overparam.ops import chain
from tf_overparam.ops import end_to_end_update
from tf_overparam.ops import lp

P_VALUES = [2, 3, 4, 2.5, 1.5]


def _tensor(x):
    return ops.convert_to_tensor(np.asarray(x, dtype=np.float64), dtype="float64")


def _numpy(x):
    return np.asarray(ops.convert_to_numpy(x), dtype=np.float64)


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    Y = rng.normal(size=(30, 2))
    kernels = rng.normal(size=(3, 4, 2))
    return X, Y, kernels


@pytest.mark.parametrize("p", P_VALUES)
@pytest.mark.parametrize("as_tensor", [False, True])
def test_residual_power_and_values(p, as_tensor):
    r = np.array([-2.0, -0.5, 0.0, 0.3, 1.7])
    wrap = _tensor if as_tensor else np.asarray
    np.testing.assert_allclose(_numpy(lp.residual_power(wrap(r), p)),
                               np.sign(r) * np.abs(r) ** (p - 1), **float64_tolerance())
    np.testing.assert_allclose(_numpy(lp.lp_values(wrap(r), p)), np.abs(r) ** p / p,
                               **float64_tolerance())
    np.testing.assert_allclose(_numpy(lp.lp_loss(wrap(r[None]), p)),
                               [np.mean(np.abs(r) ** p) / p], **float64_tolerance())


@pytest.mark.parametrize("p", P_VALUES)
@pytest.mark.parametrize("as_tensor", [False, True])
def test_linear_loss_and_gradient(problem, p, as_tensor):
    X, Y, kernels = problem
    wrap = _tensor if as_tensor else np.asarray
    loss, gradient = lp.linear_lp_loss_and_gradient(wrap(X), wrap(Y), wrap(kernels), p)
    n, k = Y.shape
    for b, K in enumerate(kernels):
        r = X @ K - Y
        assert _numpy(loss)[b] == pytest.approx(np.mean(np.abs(r) ** p) / p,
                                                rel=float64_tolerance()["rtol"])
        np.testing.assert_allclose(_numpy(gradient)[b],
                                   X.T @ (np.sign(r) * np.abs(r) ** (p - 1)) / (n * k),
                                   **float64_tolerance())
    np.testing.assert_allclose(_numpy(lp.linear_lp_loss(wrap(X), wrap(Y), wrap(kernels), p)),
                               _numpy(loss), **float64_tolerance())
    # The gradient is the loss's: a central difference in one entry.
    h = 1e-6
    bumped = kernels.copy()
    bumped[1, 2, 1] += h
    up = lp.linear_lp_loss(X, Y, bumped, p)[1]
    bumped[1, 2, 1] -= 2 * h
    down = lp.linear_lp_loss(X, Y, bumped, p)[1]
    assert _numpy(gradient)[1, 2, 1] == pytest.approx((up - down) / (2 * h), rel=1e-5)


def test_mixed_precision_products_and_gram_form(problem):
    X, Y, kernels = problem
    loss32, gradient32 = lp.linear_lp_loss_and_gradient(X.astype(np.float32),
                                                        Y.astype(np.float32), kernels, 2)
    assert loss32.dtype == np.float64 and gradient32.dtype == np.float64  # kernels' dtype
    loss, gradient = lp.linear_lp_loss_and_gradient(X, Y, kernels, 2)
    np.testing.assert_allclose(loss32, loss, rtol=1e-5)
    gram_loss, gram_gradient = lp.gram_l2_loss_and_gradient(*lp.gram_l2_moments(X, Y), kernels)
    np.testing.assert_allclose(gram_loss, loss, rtol=1e-12)
    np.testing.assert_allclose(gram_gradient, gradient, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("as_tensor", [False, True])
def test_chain_products_and_factor_gradients(as_tensor):
    rng = np.random.default_rng(1)
    factors = [rng.normal(size=(2, *shape)) for shape in [(5, 3), (3, 4), (4, 2)]]
    gradient = rng.normal(size=(2, 5, 2))
    wrap = _tensor if as_tensor else np.asarray
    wrapped = [wrap(f) for f in factors]
    product = np.stack([np.linalg.multi_dot([f[b] for f in factors]) for b in range(2)])
    np.testing.assert_allclose(_numpy(chain.chain_product(wrapped)), product,
                               **float64_tolerance())
    x = rng.normal(size=(2, 7, 5))
    np.testing.assert_allclose(_numpy(chain.apply_chain(wrap(x), wrapped)), x @ product,
                               **float64_tolerance())
    grads = chain.factor_gradients(wrapped, wrap(gradient))
    for b in range(2):
        K1, K2, K3 = (f[b] for f in factors)
        G = gradient[b]
        expected = [G @ (K2 @ K3).T, K1.T @ G @ K3.T, (K1 @ K2).T @ G]
        for got, want in zip(grads, expected):
            np.testing.assert_allclose(_numpy(got)[b], want, **float64_tolerance())


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_end_to_end_update_with_weight_decay(depth):
    rng = np.random.default_rng(2)
    kernel, gradient = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    lr, decay = 0.05, 0.25
    got = _numpy(end_to_end_update(kernel, gradient, lr, depth, decay))
    want = (1 - lr * decay * depth) * kernel - lr * eq9_direction(kernel, gradient, depth)
    np.testing.assert_allclose(got, want, **float64_tolerance())
    np.testing.assert_allclose(_numpy(end_to_end_update(kernel, gradient, lr, depth)),
                               kernel - lr * eq9_direction(kernel, gradient, depth),
                               **float64_tolerance())


@pytest.mark.parametrize("call, argument", [
    (lambda: lp.residual_power(np.ones(3), 0), "`p`"),
    (lambda: lp.lp_values(np.ones(3), -2), "`p`"),
    (lambda: lp.linear_lp_loss(np.ones((3, 2)), np.ones((3, 1)), np.ones((1, 2, 1)), "4"), "`p`"),
    (lambda: chain.chain_product([]), "`factors`"),
    (lambda: chain.factor_gradients([], np.ones((2, 1))), "`factors`"),
    (lambda: end_to_end_update(np.ones((3, 1)), np.ones((3, 1)), 0.1, 2, -1.0), "`weight_decay`"),
    (lambda: end_to_end_update(np.ones((3, 1)), np.ones((3, 1)), 0.1, 0), "`depth`"),
])
def test_bad_arguments_are_named(call, argument):
    with pytest.raises(ValueError, match=argument):
        call()
