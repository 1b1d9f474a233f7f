"""OverparamConv2D: forward pass against Conv2D, both paths, widths, initializers, Theorem 1,
config, `.keras` round trip in a fresh process, argument errors."""

import keras
import numpy as np
import pytest
from saving_helpers import train_and_round_trip

from tf_overparam import Balanced
from tf_overparam import EndToEndSGD
from tf_overparam import LpLoss
from tf_overparam import NearIdentity
from tf_overparam import OverparamConv2D
from tf_overparam import collapse


def _numpy(x):
    return keras.ops.convert_to_numpy(x).astype("float64")


def _built(layer, input_shape):
    layer.build(input_shape)
    return layer


def _images(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _matrix_chain(layer):
    """The factors as matrices, factor 1 reshaped to (kh·kw·c_in, n_1)."""
    factors = [_numpy(f) for f in layer.factors]
    factors[0] = factors[0].reshape(-1, factors[0].shape[-1])
    return factors


@pytest.mark.parametrize(
    "kwargs",
    [
        {"padding": "valid"},
        {"padding": "same", "strides": 2},
        {"padding": "same", "dilation_rate": 2, "activation": "relu"},
        {"padding": "valid", "strides": (2, 1), "kernel_size": (3, 2), "use_bias": False},
    ],
)
@pytest.mark.parametrize("forward_path", ["end_to_end", "factored"])
def test_forward_equals_conv2d_with_the_end_to_end_kernel(kwargs, forward_path):
    """Oracle: Keras' own Conv2D given reshape(M_1 M_2 M_3), computed here in numpy."""
    kwargs = {"kernel_size": 3, **kwargs}
    layer = _built(OverparamConv2D(5, depth=3, hidden_filters=[4, 6], kernel_initializer="glorot_uniform",
                                   bias_initializer="random_normal", forward_path=forward_path, **kwargs), (None, 9, 8, 2))
    x = _images((3, 9, 8, 2))
    m1, m2, m3 = _matrix_chain(layer)
    kernel = (m1 @ m2 @ m3).reshape(layer.kernel_size + (2, 5))
    np.testing.assert_allclose(_numpy(layer.end_to_end_kernel), kernel, rtol=1e-5, atol=1e-6)
    linear = {key: value for key, value in kwargs.items() if key not in ("activation", "use_bias")}
    oracle = keras.layers.Conv2D(5, use_bias=False, **linear)
    oracle.build((None, 9, 8, 2))
    oracle.kernel.assign(kernel.astype("float32"))
    expected = _numpy(oracle(x))
    if layer.use_bias:
        expected = expected + _numpy(layer.bias)
    if kwargs.get("activation") == "relu":
        expected = np.maximum(expected, 0.0)
    outputs = _numpy(layer(x))
    assert outputs.shape == tuple(layer.compute_output_shape(x.shape))
    np.testing.assert_allclose(outputs, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("depth, hidden", [(2, None), (3, 2), (4, [7, 1, 3])])
def test_both_paths_agree(depth, hidden):
    layer = _built(OverparamConv2D(6, 3, depth=depth, hidden_filters=hidden, padding="same",
                                   kernel_initializer="he_normal"), (None, 7, 7, 3))
    x = _images((2, 7, 7, 3), seed=1)
    a = _numpy(layer(x, forward_path="end_to_end"))
    b = _numpy(layer(x, forward_path="factored"))
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_auto_path_follows_the_multiply_add_counts():
    # Tutorial conv2 (5×5×32 → 64, 14×14 same): the product is cheap against a batch of 64.
    wide = OverparamConv2D(64, 5, padding="same")
    assert wide.matrix_shapes(32) == [(800, 64), (64, 64)]
    costs = wide.path_costs((64, 14, 14, 32))
    assert costs["end_to_end"] == 800 * 64 * 64 + 64 * 196 * 800 * 64
    assert costs["factored"] == 64 * 196 * (800 * 64 + 64 * 64)
    assert wide.choose_path((64, 14, 14, 32)) == "end_to_end"
    # A one-filter bottleneck on one image: the conv with 1 filter then a 1×64 matmul is cheaper.
    narrow = OverparamConv2D(64, 5, hidden_filters=1, padding="same")
    assert narrow.choose_path((1, 14, 14, 32)) == "factored"
    assert narrow.choose_path((1, 14, 14, 32), forward_path="end_to_end") == "end_to_end"


def test_factor_shapes_names_and_default_widths():
    layer = _built(OverparamConv2D(32, 5, depth=3), (None, 28, 28, 1))
    assert [tuple(f.shape) for f in layer.factors] == [(5, 5, 1, 25), (25, 25), (25, 32)]
    assert [f.name for f in layer.factors] == ["kernel_1", "kernel_2", "kernel_3"]
    assert OverparamConv2D(64, 5).factor_shapes(32) == [(5, 5, 32, 64), (64, 64)]


def test_depth_one_is_a_conv2d_kernel():
    layer = _built(OverparamConv2D(2, 2, depth=1, kernel_initializer="ones", use_bias=False), (None, 3, 3, 1))
    assert len(layer.factors) == 1 and tuple(layer.factors[0].shape) == (2, 2, 1, 2)
    np.testing.assert_array_equal(_numpy(layer(np.ones((1, 3, 3, 1), "float32"))), np.full((1, 2, 2, 2), 4.0))


def test_identity_is_on_the_reshaped_matrix():
    keras.utils.set_random_seed(0)
    layer = _built(OverparamConv2D(4, 2, depth=2, hidden_filters=6, kernel_initializer="identity"), (None, 5, 5, 2))
    m1, m2 = _matrix_chain(layer)
    np.testing.assert_allclose(m1, np.eye(8, 6), atol=0.06)
    np.testing.assert_allclose(m2, np.eye(6, 4), atol=0.06)


def test_near_zero_statistics_and_independent_factors():
    keras.utils.set_random_seed(0)
    layer = _built(OverparamConv2D(40, 3, depth=3, hidden_filters=40, use_bias=False), (None, 8, 8, 20))
    values = np.concatenate([f.ravel() for f in _matrix_chain(layer)])
    assert values.std() == pytest.approx(0.01, rel=0.03)
    _, m2, m3 = _matrix_chain(layer)
    assert not np.allclose(m2, m3)


@pytest.mark.parametrize("hidden", [3, 5])
def test_balanced_is_exact_on_the_reshaped_chain(hidden):
    target = np.random.default_rng(1).normal(size=(12, 3))
    layer = _built(OverparamConv2D(3, 2, depth=3, hidden_filters=hidden, kernel_initializer=Balanced(target=target)),
                   (None, 4, 4, 3))
    factors = _matrix_chain(layer)
    np.testing.assert_allclose(factors[0] @ factors[1] @ factors[2], target, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_numpy(layer.end_to_end_kernel), target.reshape(2, 2, 3, 3), rtol=1e-5, atol=1e-5)
    for a, b in zip(factors, factors[1:]):  # paper Eq. 7 in Keras layout
        assert np.linalg.norm(b @ b.T - a.T @ a) < 1e-5


def test_regularizers_and_constraints_apply_to_every_factor():
    layer = _built(OverparamConv2D(2, 1, depth=2, kernel_initializer="ones", kernel_regularizer=keras.regularizers.L2(0.5),
                                   kernel_constraint=keras.constraints.NonNeg()), (None, 3, 3, 2))
    # Factor shapes (1, 1, 2, 2) and (2, 2): 0.5·4 each.
    assert float(sum(keras.ops.convert_to_numpy(loss) for loss in layer.losses)) == pytest.approx(2 * 0.5 * 4)
    assert all(f.constraint is not None for f in layer.factors)


def _fit_full_batch(model, x, y, steps):
    model.fit(np.tile(x, (steps, 1, 1, 1)), np.tile(y, (steps, 1, 1, 1)), batch_size=len(x), shuffle=False, verbose=0)


def _theorem1_gap(learning_rate, total_time=1.0):
    """Relative distance between deep GD on OverparamConv2D and EndToEndSGD on the collapsed
    Conv2D after time η·T = total_time (mirrors the dense test in test_overparam_dense.py)."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(16, 5, 5, 2)).astype("float32")
    teacher = rng.normal(size=(3, 3, 2, 3))
    y = keras.ops.convert_to_numpy(keras.ops.conv(x, teacher.astype("float32")))
    y = (y + 0.1 * rng.normal(size=y.shape)).astype("float32")
    target = np.random.default_rng(4).normal(scale=0.3, size=(18, 3))
    steps = int(round(total_time / learning_rate))
    deep = keras.Sequential([keras.Input((5, 5, 2)), OverparamConv2D(
        3, 3, depth=3, hidden_filters=4, use_bias=False, kernel_initializer=Balanced(target=target, seed=0))])
    deep.compile(optimizer=keras.optimizers.SGD(learning_rate), loss=LpLoss(2))
    shallow = collapse(deep)  # a plain Conv2D holding the deep network's end-to-end kernel
    assert type(shallow.layers[0]) is keras.layers.Conv2D
    shallow.compile(optimizer=EndToEndSGD(learning_rate, depth=3), loss=LpLoss(2))
    _fit_full_batch(deep, x, y, steps)
    _fit_full_batch(shallow, x, y, steps)
    deep_kernel = _numpy(deep.layers[0].end_to_end_kernel).reshape(18, 3)
    shallow_kernel = _numpy(shallow.layers[0].kernel).reshape(18, 3)
    return np.linalg.norm(deep_kernel - shallow_kernel) / np.linalg.norm(deep_kernel - target)


def test_theorem1_end_to_end_rule_tracks_deep_gradient_descent_on_conv_kernels():
    """Paper Theorem 1 on the reshaped kernel: balanced deep GD ≈ Eq. 9, gap O(η).

    Same tolerances as the dense test: < 5% of the distance travelled at η = 0.02, and the gap
    shrinks at least 2.5× when η shrinks 4×.
    """
    coarse = _theorem1_gap(learning_rate=0.02)
    fine = _theorem1_gap(learning_rate=0.005)
    assert coarse < 0.05
    assert fine < coarse / 2.5


@pytest.mark.parametrize("initializer", ["near_zero", "identity", Balanced(stddev=0.2, seed=1), NearIdentity(0.02, seed=5), "he_normal"])
def test_get_config_round_trip(initializer):
    layer = OverparamConv2D(4, (3, 2), depth=3, hidden_filters=[3, 2], strides=2, padding="same", activation="relu",
                            kernel_initializer=initializer, kernel_regularizer="l2", forward_path="factored", name="deep")
    restored = OverparamConv2D.from_config(layer.get_config())
    assert restored.get_config() == layer.get_config()
    assert restored.kernel_size == (3, 2) and restored.strides == (2, 2) and restored.forward_path == "factored"
    assert restored.hidden_filters == [3, 2] and restored.name == "deep"


@pytest.mark.parametrize("initializer", ["near_zero", Balanced(stddev=0.3, seed=1)])
def test_save_and_load_in_a_fresh_process(tmp_path, initializer):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 6, 6, 2)).astype("float32")
    y = rng.normal(size=(16, 4, 4, 3)).astype("float32")
    report = train_and_round_trip(
        lambda: OverparamConv2D(3, 3, depth=3, hidden_filters=4, kernel_initializer=initializer), x, y, tmp_path
    )
    assert report["max_abs_prediction_difference"] == 0.0
    assert report["layer"] == "OverparamConv2D"
    assert report["optimizer"] == "EndToEndSGD" and report["depth"] == 2
    assert report["iterations_after_load"] == 3 and report["iterations_after_fit"] == 5
    assert all(np.isfinite(report["losses"])) and report["losses"][1] < report["losses"][0]


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"depth": 0}, "`depth`"),
        ({"depth": 1.5}, "`depth`"),
        ({"depth": True}, "`depth`"),
        ({"hidden_filters": 0}, "`hidden_filters`"),
        ({"depth": 3, "hidden_filters": [2]}, "`hidden_filters`"),
        ({"depth": 3, "hidden_filters": [2, -1]}, "`hidden_filters`"),
        ({"kernel_initializer": "nearzero"}, "`kernel_initializer`"),
        ({"filters": 0}, "`filters`"),
        ({"kernel_size": 0}, "`kernel_size`"),
        ({"kernel_size": (3, 3, 3)}, "`kernel_size`"),
        ({"strides": 0}, "`strides`"),
        ({"dilation_rate": (1, 0)}, "`dilation_rate`"),
        ({"strides": 2, "dilation_rate": 2}, "`strides`"),
        ({"padding": "causal"}, "`padding`.*valid"),
        ({"forward_path": "fast"}, "`forward_path`.*end_to_end"),
        ({"data_format": "channels_first"}, "`data_format`.*channels_last"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        OverparamConv2D(**{"filters": 2, "kernel_size": 3, **kwargs})


def test_bad_call_path_names_the_argument():
    layer = OverparamConv2D(2, 3)
    with pytest.raises(ValueError, match="`forward_path`"):
        layer(np.zeros((1, 5, 5, 1), "float32"), forward_path="fastest")


def test_balanced_needs_hidden_width_at_least_the_rank():
    layer = OverparamConv2D(3, 1, depth=2, hidden_filters=2, kernel_initializer=Balanced(target=np.eye(4, 3)))
    with pytest.raises(ValueError, match="hidden width >= the target's rank 3"):
        layer.build((None, 3, 3, 4))


@pytest.mark.parametrize("initializer", ["near_zero", "identity", "balanced", Balanced(target=np.ones((18, 3)))])
def test_collapse_keeps_a_usable_initializer(initializer):
    """The collapsed Conv2D keeps the layer's initializer, which must accept the 4-D shape."""
    deep = keras.Sequential([keras.Input((5, 5, 2)), OverparamConv2D(3, 3, depth=2, kernel_initializer=initializer)])
    shallow = collapse(deep)
    np.testing.assert_allclose(_numpy(shallow.layers[0].kernel), _numpy(deep.layers[0].end_to_end_kernel), atol=1e-7)
    fresh = keras.layers.Conv2D.from_config(shallow.layers[0].get_config())
    fresh.build((None, 5, 5, 2))
    assert tuple(fresh.kernel.shape) == (3, 3, 2, 3)
