"""EndToEndSGD: one step against numpy Eq. 9, N = 1 against SGD, weight decay, fit, config."""

import keras
import numpy as np
import pytest
from numpy_oracles import eq9_direction
from numpy_oracles import float64_tolerance
from numpy_oracles import sample_kernel

from tf_overparam import EndToEndSGD
from tf_overparam import LpLoss
from tf_overparam.ops import end_to_end_update

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


# --- Momentum on the preconditioned direction ---------------------------------

MU = float(np.float32(0.9))  # exact in float32 and float64: no backend rounds it differently


def _run_steps(optimizer, values, gradient_steps, names=None):
    """apply_gradients once per entry of `gradient_steps` (float64); the final values in numpy."""
    names = names or [f"v{i}" for i in range(len(values))]
    variables = [keras.Variable(v, dtype="float64", name=n) for v, n in zip(values, names)]
    for gradients in gradient_steps:
        optimizer.apply_gradients(
            zip([keras.ops.convert_to_tensor(g, "float64") for g in gradients], variables))
    return [keras.ops.convert_to_numpy(v) for v in variables]


def _random_steps(rng, shapes, steps):
    return [[rng.normal(size=s) for s in shapes] for _ in range(steps)]


def _drops():
    """A rate that drops twice during the steps (where Keras' and TF1's momentum part ways)."""
    return keras.optimizers.schedules.PiecewiseConstantDecay([1, 3], [0.1, 0.03, 0.005])


def _rates(schedule, steps):
    """η_t as the optimizer reads it: the schedule at iterations t = 0, 1, … (float32)."""
    if not callable(schedule):
        return [float(np.float32(schedule))] * steps
    return [float(keras.ops.convert_to_numpy(schedule(t))) for t in range(steps)]


def _numpy_momentum(values, gradient_steps, rates, directions, style, nesterov=False):
    """The recurrences, independently in numpy: D_t = directions(i, K, G); then
    "keras": m ← μm − ηD; K ← K + m (Nesterov K ← K + μm − ηD); "tf1": a ← μa + D; K ← K − ηa."""
    values = [np.array(v, dtype="float64") for v in values]
    slots = [np.zeros_like(v) for v in values]
    for gradients, rate in zip(gradient_steps, rates):
        for i, gradient in enumerate(gradients):
            direction = directions(i, values[i], gradient)
            if style == "keras":
                slots[i] = MU * slots[i] - rate * direction
                values[i] = values[i] + (MU * slots[i] - rate * direction if nesterov else slots[i])
            else:
                slots[i] = MU * slots[i] + direction
                values[i] = values[i] - rate * slots[i]
    return values


def _assert_bitwise_unless_torch(ours, reference):
    for a, b in zip(ours, reference):
        if keras.backend.backend() == "torch":
            # Keras' torch SGD uses fused torch._foreach kernels: same arithmetic, other rounding.
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
        else:
            np.testing.assert_array_equal(a, b)


def test_momentum_zero_is_the_plain_rule_bit_for_bit():
    """momentum=0 (whatever nesterov / style) takes today's path: same steps, same variables."""
    rng = np.random.default_rng(11)
    shapes = [(5, 3), (6, 1), (2, 2, 3, 4), (3,)]
    values = [rng.normal(size=s) for s in shapes]
    steps = _random_steps(rng, shapes, 4)
    learning_rate, decay = float(np.float32(0.05)), float(np.float32(0.1))
    plain = EndToEndSGD(learning_rate, depth=3, weight_decay=decay)
    expected = _run_steps(plain, values, steps)
    for extra in [{"momentum": 0.0}, {"momentum": 0, "nesterov": True},
                  {"momentum": 0.0, "momentum_style": "tf1"}]:
        optimizer = EndToEndSGD(learning_rate, depth=3, weight_decay=decay, **extra)
        for ours, reference in zip(_run_steps(optimizer, values, steps), expected):
            np.testing.assert_array_equal(ours, reference)
        assert [v.path for v in optimizer.variables] == [v.path for v in plain.variables]
    # ... and today's formula, K ← (1 − ηλN) K − η P(G) through ops.end_to_end_update.
    kernel = values[0]
    for gradients in steps:
        kernel = keras.ops.convert_to_numpy(end_to_end_update(
            keras.ops.convert_to_tensor(kernel, "float64"),
            keras.ops.convert_to_tensor(gradients[0], "float64"), learning_rate, 3, decay))
    np.testing.assert_array_equal(expected[0], kernel)


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("schedule", ["constant", "drops"])
def test_depth_one_momentum_is_exactly_keras_sgd(nesterov, schedule):
    rng = np.random.default_rng(12)
    x, y = rng.normal(size=(32, 6)).astype("float32"), rng.normal(size=(32, 1)).astype("float32")
    weights = []
    for make in [lambda rate: EndToEndSGD(rate, depth=1, momentum=0.9, nesterov=nesterov),
                 lambda rate: keras.optimizers.SGD(rate, momentum=0.9, nesterov=nesterov)]:
        rate = 0.05 if schedule == "constant" else keras.optimizers.schedules.PiecewiseConstantDecay(
            [3, 7], [0.05, 0.02, 0.005])
        model = _regression_model(seed=0)
        model.compile(optimizer=make(rate), loss="mse")
        model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)  # 12 steps
        weights.append(model.get_weights())
    _assert_bitwise_unless_torch(*weights)


def test_tf1_style_is_the_tf1_accumulator_and_keras_style_is_not():
    """Depth 1 over a dropping rate: "tf1" is a ← μa + g; w ← w − ηa, "keras" is another rule."""
    rng = np.random.default_rng(13)
    shapes = [(4, 3), (3,)]
    values, steps = [rng.normal(size=s) for s in shapes], _random_steps(rng, shapes, 6)
    rates = _rates(_drops(), 6)
    assert len(set(rates)) == 3
    tf1 = _run_steps(EndToEndSGD(_drops(), depth=1, momentum=MU, momentum_style="tf1"),
                     values, steps)
    keras_style = _run_steps(EndToEndSGD(_drops(), depth=1, momentum=MU), values, steps)
    gradient_only = lambda i, kernel, gradient: gradient  # noqa: E731 (N = 1, λ = 0: D = G)
    tf1_oracle = _numpy_momentum(values, steps, rates, gradient_only, "tf1")
    keras_oracle = _numpy_momentum(values, steps, rates, gradient_only, "keras")
    for ours, oracle in zip(tf1, tf1_oracle):
        np.testing.assert_allclose(ours, oracle, **float64_tolerance())
    for ours, oracle in zip(keras_style, keras_oracle):
        np.testing.assert_allclose(ours, oracle, **float64_tolerance())
    # The two recurrences part ways once η changes, by far more than any tolerance.
    assert np.max(np.abs(tf1[0] - keras_style[0])) > 1e-2
    assert not np.allclose(tf1_oracle[0], keras_oracle[0], rtol=1e-3)


def test_tf1_style_equals_the_mnist_tutorials_tf1_momentum():
    pytest.importorskip("tensorflow")  # reproduce.lab.mnist_tutorial imports it
    from reproduce.lab.mnist_tutorial import TF1Momentum

    rng = np.random.default_rng(14)
    shapes = [(5, 2), (2,)]
    values, steps = [rng.normal(size=s) for s in shapes], _random_steps(rng, shapes, 6)
    ours = _run_steps(EndToEndSGD(_drops(), depth=1, momentum=MU, momentum_style="tf1"),
                      values, steps)
    tutorial = _run_steps(TF1Momentum(_drops(), momentum=MU), values, steps)
    for a, b in zip(ours, tutorial):
        np.testing.assert_array_equal(a, b)
    keras_style = _run_steps(EndToEndSGD(_drops(), depth=1, momentum=MU), values, steps)
    assert np.max(np.abs(keras_style[0] - tutorial[0])) > 1e-2


@pytest.mark.parametrize("style, nesterov", [("keras", False), ("keras", True), ("tf1", False)])
@pytest.mark.parametrize("depth", [2, 3])
def test_deep_momentum_matches_numpy_eq9_and_recurrence(style, nesterov, depth):
    """Dense (SVD path), single-output (Eq. 11 path), conv (reshaped) kernels and a bias, with
    decay folded into the direction: D = P_N(K, G) + λN·K for kernels, G + λ·K for the bias."""
    rng = np.random.default_rng(15 + depth)
    shapes = [(5, 3), (6, 1), (2, 2, 3, 4), (4,)]
    names = ["dense_kernel", "single_kernel", "conv_kernel", "bias"]
    values, steps = [rng.normal(size=s) for s in shapes], _random_steps(rng, shapes, 4)
    decay = float(np.float32(0.1))
    schedule = _drops() if style == "tf1" else 0.05
    optimizer = EndToEndSGD(schedule, depth=depth, weight_decay=decay, momentum=MU,
                            nesterov=nesterov, momentum_style=style)
    ours = _run_steps(optimizer, values, steps, names)

    def direction(i, value, gradient):
        if len(shapes[i]) == 1:
            return gradient + decay * value
        matrix = value.reshape(-1, shapes[i][-1])
        pre = eq9_direction(matrix, gradient.reshape(matrix.shape), depth)
        return pre.reshape(shapes[i]) + decay * depth * value

    expected = _numpy_momentum(values, steps, _rates(schedule, 4), direction, style, nesterov)
    for a, b in zip(ours, expected):
        np.testing.assert_allclose(a, b, **float64_tolerance())
    paths = [v.path for v in optimizer.variables]
    assert len(optimizer.velocities) == len(shapes)  # one slot per variable, in `variables`
    assert all(v.path in paths for v in optimizer.velocities)


@pytest.mark.parametrize("jit_compile", [False, True])
def test_momentum_under_fit_with_and_without_xla_matches_numpy(jit_compile):
    rng = np.random.default_rng(16)
    x, y = rng.normal(size=(16, 5)).astype("float32"), rng.normal(size=(16, 2)).astype("float32")
    start = rng.normal(scale=0.5, size=(5, 2)).astype("float32")
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2, use_bias=False)])
    model.layers[0].kernel.assign(start)
    model.compile(optimizer=EndToEndSGD(0.05, depth=3, momentum=0.9, nesterov=True), loss=LpLoss(2),
                  jit_compile=jit_compile)
    steps = 5
    model.fit(np.tile(x, (steps, 1)), np.tile(y, (steps, 1)), batch_size=16, shuffle=False, verbose=0)
    kernel, velocity = start.astype("float64"), np.zeros((5, 2))
    for _ in range(steps):
        gradient = x.T.astype("float64") @ (x @ kernel - y) / (16 * 2)
        direction = eq9_direction(kernel, gradient, 3)
        velocity = 0.9 * velocity - 0.05 * direction
        kernel = kernel + 0.9 * velocity - 0.05 * direction
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.layers[0].kernel), kernel,
                               rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"momentum": -0.1}, r"`momentum` must be a number >= 0 and < 1"),
        ({"momentum": 1.0}, r"`momentum` must be a number >= 0 and < 1"),
        ({"momentum": "0.9"}, r"`momentum` must be a number >= 0 and < 1"),
        ({"momentum": True}, r"`momentum` must be a number >= 0 and < 1"),
        ({"momentum": 0.9, "nesterov": "yes"}, r"`nesterov` must be True or False"),
        ({"momentum": 0.9, "nesterov": 1}, r"`nesterov` must be True or False"),
        ({"momentum": 0.9, "momentum_style": "torch"}, r"`momentum_style` must be one of \('keras', 'tf1'\)"),
        ({"momentum": 0.9, "momentum_style": None}, r"`momentum_style` must be one of \('keras', 'tf1'\)"),
        ({"momentum": 0.9, "nesterov": True, "momentum_style": "tf1"}, r"`nesterov=True` needs `momentum_style=\"keras\"`"),
    ],
)
def test_bad_momentum_arguments_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        EndToEndSGD(1e-3, depth=2, **kwargs)


@pytest.mark.parametrize("extra", [{}, {"momentum": 0.9, "nesterov": True},
                                   {"momentum": 0.5, "momentum_style": "tf1"}])
def test_momentum_config_round_trips(extra):
    optimizer = EndToEndSGD(0.02, depth=3, weight_decay=0.1, **extra)
    config = optimizer.get_config()
    assert EndToEndSGD.from_config(config).get_config() == config
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert restored.get_config() == config
    assert (restored.momentum, restored.nesterov, restored.momentum_style) == (
        extra.get("momentum", 0.0), extra.get("nesterov", False), extra.get("momentum_style", "keras"))


def test_momentum_state_survives_keras_saving(tmp_path):
    """Save mid-training, load, and both copies take the same next steps (the velocities load)."""
    rng = np.random.default_rng(17)
    x, y = rng.normal(size=(16, 6)).astype("float32"), rng.normal(size=(16, 2)).astype("float32")
    model = _regression_model(seed=1)
    model.compile(optimizer=EndToEndSGD(0.02, depth=2, momentum=0.9, momentum_style="tf1"), loss="mse")
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    path = tmp_path / "momentum.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert int(keras.ops.convert_to_numpy(loaded.optimizer.iterations)) == 4
    saved_slots = [keras.ops.convert_to_numpy(v) for v in model.optimizer.velocities]
    assert any(np.abs(s).max() > 0 for s in saved_slots)
    for ours, theirs in zip(loaded.optimizer.velocities, saved_slots):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(ours), theirs)
    for each in (model, loaded):
        each.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for ours, theirs in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)
