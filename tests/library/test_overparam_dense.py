"""OverparamDense: forward pass, widths, initializers, balancedness (Eq. 7), Theorem 1, config."""

import keras
import numpy as np
import pytest

from tf_overparam import Balanced
from tf_overparam import EndToEndSGD
from tf_overparam import LpLoss
from tf_overparam import NearIdentity
from tf_overparam import NearZero
from tf_overparam import OverparamDense


def _factors(layer):
    return [keras.ops.convert_to_numpy(f).astype("float64") for f in layer.factors]


def _build(layer, input_dim):
    layer.build((None, input_dim))
    return layer


def test_forward_is_the_product_of_the_factors():
    layer = _build(OverparamDense(3, depth=3, hidden_units=[4, 2], kernel_initializer="glorot_uniform"), 5)
    x = np.random.default_rng(0).normal(size=(7, 5)).astype("float32")
    k1, k2, k3 = _factors(layer)
    expected = x @ (k1 @ k2 @ k3) + keras.ops.convert_to_numpy(layer.bias)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.end_to_end_kernel), k1 @ k2 @ k3, rtol=1e-5, atol=1e-7)
    assert [f.shape for f in layer.factors] == [(5, 4), (4, 2), (2, 3)]
    assert [f.name for f in layer.factors] == ["kernel_1", "kernel_2", "kernel_3"]


@pytest.mark.parametrize(
    "input_dim, units, hidden_units, expected",
    [(128, 1, None, [(128, 1), (1, 1)]), (3136, 512, None, [(3136, 512), (512, 512)]), (4, 9, 6, [(4, 6), (6, 9)])],
)
def test_hidden_widths(input_dim, units, hidden_units, expected):
    layer = OverparamDense(units, depth=2, hidden_units=hidden_units)
    assert layer.factor_shapes(input_dim) == expected


def test_depth_one_is_a_dense_layer():
    layer = _build(OverparamDense(2, depth=1, kernel_initializer="ones", use_bias=False), 3)
    assert len(layer.factors) == 1
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(np.ones((1, 3)))), [[3.0, 3.0]])


def test_near_zero_statistics():
    keras.utils.set_random_seed(0)
    layer = _build(OverparamDense(50, depth=3, use_bias=False), 200)
    values = np.concatenate([f.ravel() for f in _factors(layer)])
    assert abs(values.mean()) < 3e-4
    assert values.std() == pytest.approx(0.01, rel=0.02)
    k1, k2, _ = _factors(layer)
    assert not np.allclose(k2, k1[:50, :50]), "factors must be independent draws"


def test_identity_adds_a_rectangular_identity():
    keras.utils.set_random_seed(0)
    layer = _build(OverparamDense(3, depth=2, hidden_units=4, kernel_initializer="identity"), 5)
    k1, k2 = _factors(layer)
    np.testing.assert_allclose(k1, np.eye(5, 4), atol=0.06)
    np.testing.assert_allclose(k2, np.eye(4, 3), atol=0.06)
    assert (k1 - np.eye(5, 4)).std() == pytest.approx(0.01, rel=0.4)


@pytest.mark.parametrize("initializer", ["near_zero", "identity", NearIdentity(0.01), "glorot_uniform"])
def test_equal_shaped_factors_are_independent_draws(initializer):
    """Unseeded initializers too: Keras gives each a default seed, and factor j uses seed + j."""
    layer = _build(OverparamDense(4, depth=4, hidden_units=4, use_bias=False, kernel_initializer=initializer), 4)
    factors = _factors(layer)
    for a, b in zip(factors, factors[1:]):
        assert not np.allclose(a, b)


def test_numpy_integers_are_accepted_for_depth_and_widths():
    layer = OverparamDense(np.int64(2), depth=np.int64(3), hidden_units=[np.int32(2), np.int64(2)])
    assert layer.depth == 3 and type(layer.depth) is int and layer.hidden_units == [2, 2]


def _balancedness_gaps(factors):
    """‖K_{j+1} K_{j+1}ᵀ − K_jᵀ K_j‖ for j = 1 … N−1 (paper Eq. 7 in Keras layout)."""
    return [np.linalg.norm(b @ b.T - a.T @ a) for a, b in zip(factors, factors[1:])]


@pytest.mark.parametrize("units, hidden", [(1, 1), (3, 3), (3, 5)])
def test_balanced_is_exact(units, hidden):
    target = np.random.default_rng(1).normal(size=(6, units))
    layer = _build(OverparamDense(units, depth=3, hidden_units=hidden, kernel_initializer=Balanced(target=target)), 6)
    factors = _factors(layer)
    np.testing.assert_allclose(factors[0] @ factors[1] @ factors[2], target, rtol=1e-5, atol=1e-5)
    assert max(_balancedness_gaps(factors)) < 1e-5


def test_balanced_drawn_target_is_seeded():
    first = _factors(_build(OverparamDense(2, depth=2, kernel_initializer=Balanced(stddev=0.1, seed=3)), 4))
    second = _factors(_build(OverparamDense(2, depth=2, kernel_initializer=Balanced(stddev=0.1, seed=3)), 4))
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert max(_balancedness_gaps(first)) < 1e-6


def _fit_full_batch(model, x, y, steps):
    """`steps` full-batch gradient steps in one fit call (the batch is repeated, not shuffled)."""
    model.fit(np.tile(x, (steps, 1)), np.tile(y, (steps, 1)), batch_size=len(x), shuffle=False, verbose=0)


def _regression_data(units, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(40, 6)).astype("float32")
    y = (x @ rng.normal(size=(6, units)) + 0.1 * rng.normal(size=(40, units))).astype("float32")
    return x, y


@pytest.mark.parametrize("initializer, steps, max_relative_drift", [("balanced", 300, 1e-2), ("near_zero", 1500, None)])
def test_gradient_descent_keeps_balancedness(initializer, steps, max_relative_drift):
    """Gradient flow conserves K_{j+1}K_{j+1}ᵀ − K_jᵀK_j (paper A.1); GD at η = 0.01 drifts
    by O(η²) per step: under 1% of the weights' scale after 300 steps (measured: 0.4%)."""
    keras.utils.set_random_seed(2)
    x, y = _regression_data(units=2)
    init = Balanced(stddev=0.3, seed=2) if initializer == "balanced" else NearZero(0.2)
    model = keras.Sequential([keras.Input((6,)), OverparamDense(2, depth=3, use_bias=False, kernel_initializer=init)])
    start = _balancedness_gaps(_factors(model.layers[0]))
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss=LpLoss(2))
    _fit_full_batch(model, x, y, steps=steps)
    factors = _factors(model.layers[0])
    end = _balancedness_gaps(factors)
    scale = max(np.linalg.norm(f.T @ f) for f in factors)
    assert scale > 0.5, "the network must have moved far from initialization for the test to mean anything"
    if max_relative_drift is not None:
        assert max(end) / scale < max_relative_drift
    else:
        # Near-zero init: the tiny initial imbalance is conserved, not amplified with the weights.
        assert max(abs(e - s) for e, s in zip(end, start)) / scale < 0.02


def _theorem1_gap(units, learning_rate, total_time=1.0):
    """Relative distance between deep GD and the end-to-end rule after time η·T = total_time."""
    x, y = _regression_data(units, seed=3)
    target = np.random.default_rng(4).normal(scale=0.5, size=(6, units))
    steps = int(round(total_time / learning_rate))
    deep = keras.Sequential(
        [keras.Input((6,)), OverparamDense(units, depth=3, hidden_units=4, use_bias=False, kernel_initializer=Balanced(target=target, seed=0))]
    )
    deep.compile(optimizer=keras.optimizers.SGD(learning_rate), loss=LpLoss(2))
    shallow = keras.Sequential([keras.Input((6,)), keras.layers.Dense(units, use_bias=False)])
    shallow.layers[0].kernel.assign(keras.ops.convert_to_numpy(deep.layers[0].end_to_end_kernel))
    shallow.compile(optimizer=EndToEndSGD(learning_rate, depth=3), loss=LpLoss(2))
    _fit_full_batch(deep, x, y, steps)
    _fit_full_batch(shallow, x, y, steps)
    deep_kernel = keras.ops.convert_to_numpy(deep.layers[0].end_to_end_kernel)
    shallow_kernel = keras.ops.convert_to_numpy(shallow.layers[0].kernel)
    return np.linalg.norm(deep_kernel - shallow_kernel) / np.linalg.norm(deep_kernel - target)


@pytest.mark.parametrize("units", [1, 3])
def test_theorem1_end_to_end_rule_tracks_deep_gradient_descent(units):
    """Paper Theorem 1: balanced deep GD ≈ the end-to-end rule, with an O(η) discretization gap.

    Tolerance: after the same time η·T = 1 the two end-to-end kernels differ by < 5% of the
    distance travelled at η = 0.02, and the gap shrinks at least 2.5× when η shrinks 4×.
    """
    coarse = _theorem1_gap(units, learning_rate=0.02)
    fine = _theorem1_gap(units, learning_rate=0.005)
    assert coarse < 0.05
    assert fine < coarse / 2.5


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"depth": 0}, "`depth`"),
        ({"depth": 1.5}, "`depth`"),
        ({"hidden_units": 0}, "`hidden_units`"),
        ({"hidden_units": -3}, "`hidden_units`"),
        ({"depth": 3, "hidden_units": [2]}, "`hidden_units`"),
        ({"depth": 3, "hidden_units": [2, 0]}, "`hidden_units`"),
        ({"kernel_initializer": "nearzero"}, "`kernel_initializer`"),
        ({"units": 0}, "`units`"),
        ({"depth": True}, "`depth`"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        OverparamDense(**{"units": 2, **kwargs})


def test_a_hidden_width_at_depth_one_is_refused_not_ignored():
    """Depth 1 has no hidden layer: a width there would do nothing, so it is an error (the
    layers, the convolution and the full-batch network alike); None or [] is fine."""
    from tf_overparam import OverparamConv2D
    from tf_overparam.fullbatch import LinearNetwork

    for make in (lambda **k: OverparamDense(2, depth=1, **k),
                 lambda **k: LinearNetwork(depth=1, **k)):
        with pytest.raises(ValueError, match="`hidden_units` has no effect at depth 1"):
            make(hidden_units=4)
        assert make(hidden_units=None).hidden_units is None and make(hidden_units=[]).hidden_units == []
    with pytest.raises(ValueError, match="`hidden_filters` has no effect at depth 1"):
        OverparamConv2D(2, 3, depth=1, hidden_filters=4)


@pytest.mark.parametrize("initializer, kwargs, argument", [
    (Balanced, {"seed": -1}, "`seed`"), (Balanced, {"stddev": True}, "`stddev`"),
    (NearZero, {"stddev": -0.1}, "`stddev`"), (NearIdentity, {"stddev": "0.01"}, "`stddev`"),
])
def test_bad_initializer_arguments_name_the_argument(initializer, kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        initializer(**kwargs)


def test_balanced_needs_hidden_width_at_least_the_rank():
    layer = OverparamDense(3, depth=2, hidden_units=2, kernel_initializer=Balanced(target=np.eye(4, 3)))
    with pytest.raises(ValueError, match="`hidden_units`"):
        layer.build((None, 4))


def test_regularizers_and_constraints_apply_to_every_factor():
    layer = _build(
        OverparamDense(2, depth=3, kernel_initializer="ones", kernel_regularizer=keras.regularizers.L2(0.5), kernel_constraint=keras.constraints.NonNeg()),
        2,
    )
    # Each factor is all-ones: 0.5·Σx² per factor, with shapes (2,2), (2,2), (2,2).
    assert float(sum(keras.ops.convert_to_numpy(l) for l in layer.losses)) == pytest.approx(3 * 0.5 * 4)
    assert all(f.constraint is not None for f in layer.factors)


@pytest.mark.parametrize("initializer", ["near_zero", "identity", Balanced(stddev=0.2, seed=1), NearIdentity(0.02, seed=5), "he_normal"])
def test_get_config_round_trip(initializer):
    layer = OverparamDense(4, depth=3, hidden_units=[3, 2], activation="relu", kernel_initializer=initializer, kernel_regularizer="l2", name="deep")
    restored = OverparamDense.from_config(layer.get_config())
    assert restored.get_config() == layer.get_config()
    assert restored.depth == 3 and restored.hidden_units == [3, 2] and restored.name == "deep"
