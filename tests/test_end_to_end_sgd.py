"""EndToEndSGD: one step against numpy Eq. 9, N = 1 against SGD, weight decay, fit, config."""

import keras
import numpy as np
import pytest
from numpy_oracles import eq9_direction
from numpy_oracles import float64_tolerance
from numpy_oracles import sample_kernel

from tf_overparam import EndToEndSGD
from tf_overparam import LpLoss

SHAPES = [(6, 1), (7, 3), (3, 7), (4, 4)]



def _one_step(optimizer, values, gradients):
    variables = [keras.Variable(v, dtype="float64") for v in values]
    optimizer.apply_gradients(zip([keras.ops.convert_to_tensor(g, "float64") for g in gradients], variables))
    return [keras.ops.convert_to_numpy(v) for v in variables]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("kind", ["full", "rank1", "zero"])
def test_one_step_equals_numpy_eq9(shape, depth, kind):
    rng = np.random.default_rng(depth * 7 + len(kind))
    kernel, gradient = sample_kernel(rng, shape, kind), rng.normal(size=shape)
    learning_rate = float(np.float32(0.05))  # Keras keeps the learning rate in float32
    (updated,) = _one_step(EndToEndSGD(learning_rate, depth=depth), [kernel], [gradient])
    expected = kernel - learning_rate * eq9_direction(kernel, gradient, depth)
    np.testing.assert_allclose(updated, expected, **float64_tolerance())


def test_weight_decay_scales_by_depth_on_kernels_only():
    rng = np.random.default_rng(3)
    kernel, bias = rng.normal(size=(5, 2)), rng.normal(size=(2,))
    grad_kernel, grad_bias = rng.normal(size=(5, 2)), rng.normal(size=(2,))
    learning_rate, decay, depth = float(np.float32(0.1)), float(np.float32(0.2)), 3
    optimizer = EndToEndSGD(learning_rate, depth=depth, weight_decay=decay)
    new_kernel, new_bias = _one_step(optimizer, [kernel, bias], [grad_kernel, grad_bias])
    # Eq. 9: (1 − ηλN) K − η P(G), with P evaluated at the pre-step kernel.
    expected_kernel = (1 - learning_rate * decay * depth) * kernel - learning_rate * eq9_direction(kernel, grad_kernel, depth)
    expected_bias = (1 - learning_rate * decay) * bias - learning_rate * grad_bias
    np.testing.assert_allclose(new_kernel, expected_kernel, **float64_tolerance())
    np.testing.assert_allclose(new_bias, expected_bias, **float64_tolerance())


def _one_step_named(optimizer, value, gradient, name):
    variable = keras.Variable(value, dtype="float64", name=name)
    optimizer.apply_gradients([(keras.ops.convert_to_tensor(gradient, "float64"), variable)])
    return keras.ops.convert_to_numpy(variable)


@pytest.mark.parametrize("shape", [(3, 3, 2, 4), (1, 1, 5, 2), (2, 2, 1, 1)])
@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("kind", ["full", "rank1"])
def test_conv_kernel_takes_eq9_on_its_reshaped_matrix(shape, depth, kind):
    """Oracle: numpy Eq. 9 on the (kh·kw·c_in, c_out) reshape, reshaped back."""
    rng = np.random.default_rng(depth + len(kind) + shape[-1])
    matrix_shape = (int(np.prod(shape[:-1])), shape[-1])
    kernel, gradient = sample_kernel(rng, matrix_shape, kind), rng.normal(size=matrix_shape)
    learning_rate = float(np.float32(0.05))
    (updated,) = _one_step(EndToEndSGD(learning_rate, depth=depth), [kernel.reshape(shape)], [gradient.reshape(shape)])
    expected = kernel - learning_rate * eq9_direction(kernel, gradient, depth)
    np.testing.assert_allclose(updated, expected.reshape(shape), **float64_tolerance())


def test_conv_kernel_weight_decay_scales_by_depth():
    rng = np.random.default_rng(8)
    kernel, gradient = rng.normal(size=(12, 3)), rng.normal(size=(12, 3))
    learning_rate, decay, depth = float(np.float32(0.1)), float(np.float32(0.2)), 2
    optimizer = EndToEndSGD(learning_rate, depth=depth, weight_decay=decay)
    (updated,) = _one_step(optimizer, [kernel.reshape(2, 2, 3, 3)], [gradient.reshape(2, 2, 3, 3)])
    expected = (1 - learning_rate * decay * depth) * kernel - learning_rate * eq9_direction(kernel, gradient, depth)
    np.testing.assert_allclose(updated, expected.reshape(2, 2, 3, 3), **float64_tolerance())


@pytest.mark.parametrize(
    "shape, name, conv_kernels",
    [
        ((3, 3, 2, 4), "kernel", False),  # restricted to dense kernels
        ((3, 3, 2, 1), "depthwise_kernel", True),  # SeparableConv2D's depthwise kernel
        ((3, 3, 2, 4), "depthwise_conv2d_kernel", True),
        ((3, 2, 4), "kernel", True),  # Conv1D and other non-4-D variables
        ((2, 2, 2, 2, 2), "kernel", True),
        ((4,), "bias", True),
    ],
)
def test_other_variables_take_plain_sgd(shape, name, conv_kernels):
    rng = np.random.default_rng(4)
    value, gradient = rng.normal(size=shape), rng.normal(size=shape)
    updated = _one_step_named(EndToEndSGD(0.1, depth=3, conv_kernels=conv_kernels), value, gradient, name)
    np.testing.assert_allclose(updated, value - float(np.float32(0.1)) * gradient, **float64_tolerance())


def test_depthwise_conv2d_layer_keeps_plain_sgd():
    """A default-named DepthwiseConv2D (path ".../depthwise_conv2d.../kernel") steps as SGD does."""
    x = np.random.default_rng(9).normal(size=(4, 5, 5, 2)).astype("float32")
    y = np.zeros((4, 3, 3, 2), "float32")
    kernels = []
    for optimizer in [EndToEndSGD(0.1, depth=3), keras.optimizers.SGD(0.1)]:
        keras.utils.set_random_seed(9)
        model = keras.Sequential([keras.Input((5, 5, 2)), keras.layers.DepthwiseConv2D(3, use_bias=False)])
        model.compile(optimizer=optimizer, loss="mse")
        model.train_on_batch(x, y)
        kernels.append(keras.ops.convert_to_numpy(model.layers[0].kernel))
    np.testing.assert_allclose(kernels[0], kernels[1], rtol=1e-6, atol=1e-7)


def _regression_model(seed):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((6,)), keras.layers.Dense(3, activation="tanh"), keras.layers.Dense(1)])


def test_depth_one_is_exactly_sgd_under_fit():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(32, 6)).astype("float32"), rng.normal(size=(32, 1)).astype("float32")
    weights = []
    for optimizer in [EndToEndSGD(0.05, depth=1, weight_decay=0.01), keras.optimizers.SGD(0.05, weight_decay=0.01)]:
        model = _regression_model(seed=0)
        model.compile(optimizer=optimizer, loss="mse")
        model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        weights.append(model.get_weights())
    for ours, sgd in zip(*weights):
        if keras.backend.backend() == "torch":
            # Keras' torch SGD uses fused torch._foreach kernels: same arithmetic, other rounding.
            np.testing.assert_allclose(ours, sgd, rtol=1e-6, atol=1e-7)
        else:
            np.testing.assert_array_equal(ours, sgd)


@pytest.mark.parametrize("jit_compile", [False, True])
@pytest.mark.parametrize("units", [1, 3])
def test_fit_with_and_without_xla_matches_numpy(jit_compile, units):
    rng = np.random.default_rng(6)
    x = rng.normal(size=(16, 5)).astype("float32")
    y = rng.normal(size=(16, units)).astype("float32")
    start = rng.normal(scale=0.5, size=(5, units)).astype("float32")
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(units, use_bias=False)])
    model.layers[0].kernel.assign(start)
    model.compile(optimizer=EndToEndSGD(0.05, depth=3), loss=LpLoss(2), jit_compile=jit_compile)
    steps = 5
    model.fit(np.tile(x, (steps, 1)), np.tile(y, (steps, 1)), batch_size=16, shuffle=False, verbose=0)
    kernel = start.astype("float64")
    for _ in range(steps):
        gradient = x.T.astype("float64") @ (x @ kernel - y) / (16 * units)  # ∂/∂K of mean ½ r²
        kernel = kernel - 0.05 * eq9_direction(kernel, gradient, 3)
    np.testing.assert_allclose(model.layers[0].kernel.numpy(), kernel, rtol=2e-4, atol=2e-5)


def test_get_config_round_trip():
    optimizer = EndToEndSGD(0.02, depth=4, weight_decay=0.1, conv_kernels=False, clipnorm=1.0)
    restored = EndToEndSGD.from_config(optimizer.get_config())
    assert restored.depth == 4 and restored.conv_kernels is False
    assert EndToEndSGD.from_config(EndToEndSGD(0.1).get_config()).conv_kernels is True
    assert restored.weight_decay == pytest.approx(0.1)
    assert restored.clipnorm == 1.0
    assert float(restored.learning_rate) == pytest.approx(0.02)
    assert keras.optimizers.deserialize(keras.optimizers.serialize(optimizer)).depth == 4


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"depth": 0}, "`depth`"),
        ({"depth": 2.5}, "`depth`"),
        ({"learning_rate": -1e-3}, "`learning_rate`"),
        ({"weight_decay": -0.1}, "`weight_decay`"),
        ({"conv_kernels": "yes"}, "`conv_kernels`"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        EndToEndSGD(**{"learning_rate": 1e-3, "depth": 2, **kwargs})
