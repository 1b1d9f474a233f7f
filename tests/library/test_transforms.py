"""overparameterize and collapse: architecture, weights, predictions, parameter counts, errors."""

import keras
import numpy as np
import pytest

from tf_overparam import EndToEndSGD
from tf_overparam import OverparamDense
from tf_overparam import collapse
from tf_overparam import overparameterize


def _sequential():
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((12,)),
            keras.layers.Dense(8, activation="relu", name="hidden"),
            keras.layers.Dropout(0.5, name="dropout"),
            keras.layers.Dense(3, name="output"),
        ]
    )


def _functional():
    keras.utils.set_random_seed(1)
    inputs = keras.Input((6,))
    a = keras.layers.Dense(5, activation="tanh", name="a")(inputs)
    b = keras.layers.Dense(5, name="b")(inputs)
    merged = keras.layers.Concatenate(name="concat")([a, b])
    outputs = keras.layers.Dense(2, name="head")(keras.layers.BatchNormalization(name="bn")(merged))
    return keras.Model(inputs, outputs)


def test_sequential_layers_and_parameter_counts():
    model = _sequential()
    deep = overparameterize(model, depth=2)
    assert [type(layer).__name__ for layer in deep.layers] == ["OverparamDense", "Dropout", "OverparamDense"]
    # hidden: 12×8 + 8×8 + 8 bias; output: 8×3 + 3×3 + 3 bias.
    assert deep.count_params() == (96 + 64 + 8) + (24 + 9 + 3)
    assert deep.get_layer("hidden").activation is keras.activations.relu
    np.testing.assert_array_equal(deep.get_layer("output").bias.numpy(), model.get_layer("output").bias.numpy())


def test_functional_model_keeps_other_layers_and_their_weights():
    model = _functional()
    model.get_layer("bn").moving_mean.assign(np.arange(10.0))
    deep = overparameterize(model, depth=3, hidden_units=2, kernel_initializer="near_zero", layers=["a", "head"])
    assert isinstance(deep.get_layer("a"), OverparamDense)
    assert isinstance(deep.get_layer("b"), keras.layers.Dense) and not isinstance(deep.get_layer("b"), OverparamDense)
    np.testing.assert_array_equal(deep.get_layer("b").kernel.numpy(), model.get_layer("b").kernel.numpy())
    np.testing.assert_array_equal(deep.get_layer("bn").moving_mean.numpy(), np.arange(10.0))
    assert [f.shape for f in deep.get_layer("a").factors] == [(6, 2), (2, 2), (2, 5)]


@pytest.mark.parametrize("build", [_sequential, _functional])
def test_overparameterize_then_collapse_gives_the_same_predictions(build):
    model = build()
    deep = overparameterize(model, depth=3, kernel_initializer="identity")
    x = np.random.default_rng(2).normal(size=(16, model.input_shape[-1])).astype("float32")
    y = np.random.default_rng(3).normal(size=(16, model.output_shape[-1])).astype("float32")
    deep.compile(optimizer=keras.optimizers.SGD(1e-2), loss="mse")
    deep.fit(x, y, epochs=2, verbose=0)  # collapse a trained network, not just an initial one
    shallow = collapse(deep)
    assert [type(layer) for layer in shallow.layers] == [type(layer) for layer in model.layers]
    assert shallow.count_params() == model.count_params()
    np.testing.assert_allclose(shallow.predict(x, verbose=0), deep.predict(x, verbose=0), rtol=1e-4, atol=1e-5)


def test_collapse_starts_end_to_end_sgd_at_the_deep_kernel():
    keras.utils.set_random_seed(4)
    deep = keras.Sequential([keras.Input((5,)), OverparamDense(1, depth=3, hidden_units=1, use_bias=False)])
    shallow = collapse(deep)
    np.testing.assert_allclose(shallow.layers[0].kernel.numpy(), keras.ops.convert_to_numpy(deep.layers[0].end_to_end_kernel), rtol=1e-6)
    assert np.abs(shallow.layers[0].kernel.numpy()).max() > 0, "a zero kernel would never move under Eq. 9"
    shallow.compile(optimizer=EndToEndSGD(1e-2, depth=3), loss="mse")
    before = shallow.layers[0].kernel.numpy().copy()
    shallow.fit(np.ones((4, 5)), np.ones((4, 1)), verbose=0)
    assert not np.array_equal(before, shallow.layers[0].kernel.numpy())


def test_seeded_initializer_gives_factors_their_own_seeds():
    keras.utils.set_random_seed(5)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4, kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.1, seed=66478))])
    deep = overparameterize(model, depth=2)
    first, second = (f.numpy() for f in deep.layers[0].factors)
    np.testing.assert_array_equal(first, keras.ops.convert_to_numpy(keras.initializers.TruncatedNormal(stddev=0.1, seed=66478)((4, 4))))
    assert not np.allclose(first, second)


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"depth": 0}, "`depth`"),
        ({"depth": 3, "hidden_units": [4]}, "`hidden_units`"),
        ({"kernel_initializer": "zero-ish"}, "`kernel_initializer`"),
        ({"layers": ["no_such_layer"]}, "`layers`"),
        ({"layers": ["dropout"]}, "`layers`"),
        ({"layers": []}, "`layers`"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        overparameterize(_sequential(), **kwargs)


@pytest.mark.parametrize("transform", [overparameterize, collapse])
def test_a_non_model_names_the_argument(transform):
    with pytest.raises(ValueError, match="`model`"):
        transform(keras.layers.Dense(3))


# --- Conv2D layers (layer_types) -----------------------------------------------------------------


def _convnet(**conv2_kwargs):
    keras.utils.set_random_seed(6)
    return keras.Sequential(
        [
            keras.Input((10, 10, 2)),
            keras.layers.Conv2D(4, 3, padding="same", activation="relu", kernel_regularizer="l2",
                                bias_initializer="random_normal", name="conv1"),
            keras.layers.MaxPooling2D(2, name="pool"),
            keras.layers.Conv2D(6, (3, 2), strides=(1, 2), use_bias=False,
                                kernel_constraint=keras.constraints.MaxNorm(2.0), name="conv2", **conv2_kwargs),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(3, name="head"),
        ]
    )


def test_conv_layers_are_replaced_only_when_asked():
    model = _convnet()
    assert [type(l).__name__ for l in overparameterize(model).layers][0] == "Conv2D"
    deep = overparameterize(model, depth=2, layer_types=(keras.layers.Dense, keras.layers.Conv2D))
    assert [type(l).__name__ for l in deep.layers] == [
        "OverparamConv2D", "MaxPooling2D", "OverparamConv2D", "Flatten", "OverparamDense"]
    conv_only = overparameterize(model, depth=3, hidden_units=5, layer_types=(keras.layers.Conv2D,))
    assert type(conv_only.get_layer("head")) is keras.layers.Dense
    assert [tuple(f.shape) for f in conv_only.get_layer("conv1").factors] == [(3, 3, 2, 5), (5, 5), (5, 4)]


def test_conv_arguments_bias_regularizers_and_constraints_are_kept():
    model = _convnet()
    deep = overparameterize(model, depth=2, layer_types=(keras.layers.Conv2D,))
    conv1, conv2 = deep.get_layer("conv1"), deep.get_layer("conv2")
    assert conv1.padding == "same" and conv1.activation is keras.activations.relu
    assert conv2.kernel_size == (3, 2) and conv2.strides == (1, 2) and conv2.padding == "valid"
    assert conv2.use_bias is False and conv2.bias is None
    assert isinstance(conv2.kernel_constraint, keras.constraints.MaxNorm)
    assert conv1.kernel_regularizer is not None and len(conv1.losses) == 2  # one per factor
    np.testing.assert_array_equal(conv1.bias.numpy(), model.get_layer("conv1").bias.numpy())
    # Default widths min(kh·kw·c_in, filters): conv1 min(18, 4), conv2 min(24, 6).
    assert [tuple(f.shape) for f in conv2.factors] == [(3, 2, 4, 6), (6, 6)]
    assert deep.output_shape == model.output_shape


def test_conv_overparameterize_train_collapse_gives_the_same_predictions():
    model = _convnet()
    deep = overparameterize(model, depth=3, layer_types=(keras.layers.Dense, keras.layers.Conv2D))
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(16, 10, 10, 2)).astype("float32"), rng.normal(size=(16, 3)).astype("float32")
    deep.compile(optimizer=keras.optimizers.SGD(1e-2), loss="mse")
    deep.fit(x, y, epochs=2, verbose=0)
    shallow = collapse(deep)
    assert [type(layer) for layer in shallow.layers] == [type(layer) for layer in model.layers]
    assert shallow.count_params() == model.count_params()
    assert shallow.get_layer("conv2").strides == (1, 2) and shallow.get_layer("conv1").padding == "same"
    np.testing.assert_allclose(shallow.predict(x, verbose=0), deep.predict(x, verbose=0), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "conv2_kwargs, message",
    [({"groups": 2}, "groups=2"), ({"data_format": "channels_first"}, "channels_first")],
)
def test_unconvertible_conv_layers_are_refused(conv2_kwargs, message):
    model = _convnet(**conv2_kwargs)
    with pytest.raises(ValueError, match=f"'conv2'.*{message}"):
        overparameterize(model, layer_types=(keras.layers.Conv2D,))
    # Leaving it out works.
    deep = overparameterize(model, layers=["conv1"], layer_types=(keras.layers.Conv2D,))
    assert type(deep.get_layer("conv2")) is keras.layers.Conv2D


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"layer_types": ()}, "`layer_types`"),
        ({"layer_types": (keras.layers.Conv1D,)}, "`layer_types`"),
        ({"layer_types": "Conv2D"}, "`layer_types`"),
        ({"layers": ["conv1"]}, "`layers`"),  # Dense only by default
        ({"layers": ["head"], "layer_types": (keras.layers.Conv2D,)}, "`layers`"),
    ],
)
def test_bad_conv_arguments_name_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        overparameterize(_convnet(), **kwargs)
