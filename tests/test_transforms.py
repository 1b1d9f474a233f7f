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
