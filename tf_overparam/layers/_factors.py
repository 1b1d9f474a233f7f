"""What `OverparamDense` and `OverparamConv2D` share: the arguments of a factored kernel, the
factor and bias variables, their initializers, the config entries and the output's bias and
activation.

Each layer describes its chain as matrices (M_j of shape (n_{j−1}, n_j), paper Eq. 2) and as the
factors it stores; they differ only in the first, which `OverparamConv2D` keeps as a 4-D conv
kernel. Everything here is layout-free otherwise.
"""

import keras
from keras import ops

from tf_overparam import initializers as factor_initializers


def set_arguments(
    layer,
    activation,
    use_bias,
    kernel_initializer,
    bias_initializer,
    kernel_regularizer,
    bias_regularizer,
    kernel_constraint,
    bias_constraint,
):
    """Resolve and store the arguments both layers take for their factors and bias."""
    layer.activation = keras.activations.get(activation)
    layer.use_bias = use_bias
    layer.kernel_initializer = factor_initializers.get(kernel_initializer)
    layer.bias_initializer = keras.initializers.get(bias_initializer)
    layer.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
    layer.bias_regularizer = keras.regularizers.get(bias_regularizer)
    layer.kernel_constraint = keras.constraints.get(kernel_constraint)
    layer.bias_constraint = keras.constraints.get(bias_constraint)


def config_entries(layer):
    """The config entries of `set_arguments`, serialized, in the order both layers save them."""
    return {
        "activation": keras.activations.serialize(layer.activation),
        "use_bias": layer.use_bias,
        "kernel_initializer": keras.initializers.serialize(layer.kernel_initializer),
        "bias_initializer": keras.initializers.serialize(layer.bias_initializer),
        "kernel_regularizer": keras.regularizers.serialize(layer.kernel_regularizer),
        "bias_regularizer": keras.regularizers.serialize(layer.bias_regularizer),
        "kernel_constraint": keras.constraints.serialize(layer.kernel_constraint),
        "bias_constraint": keras.constraints.serialize(layer.bias_constraint),
    }


def build(layer, matrix_shapes, factor_shapes, units):
    """Create `layer.factors` ("kernel_1" … "kernel_N") and `layer.bias` ("bias", or None).

    Args:
        layer: the layer, after `set_arguments`.
        matrix_shapes: [(n_0, n_1), …, (n_{N−1}, n_N)], the chain as matrices.
        factor_shapes: the shapes of the stored factors; the first may be a reshape of
            `matrix_shapes[0]`, the others must equal theirs.
        units: the length of the bias, n_N.
    """
    initializers = factor_initializers_for(
        layer.kernel_initializer, matrix_shapes, factor_shapes, layer.variable_dtype
    )
    layer.factors = [
        layer.add_weight(
            name=f"kernel_{j + 1}",
            shape=shape,
            initializer=initializers[j],
            regularizer=layer.kernel_regularizer,
            constraint=layer.kernel_constraint,
        )
        for j, shape in enumerate(factor_shapes)
    ]
    if layer.use_bias:
        layer.bias = layer.add_weight(
            name="bias",
            shape=(units,),
            initializer=layer.bias_initializer,
            regularizer=layer.bias_regularizer,
            constraint=layer.bias_constraint,
        )
    else:
        layer.bias = None


def finish(layer, outputs):
    """`outputs` plus the bias (if any), through the activation (if any)."""
    if layer.bias is not None:
        outputs = ops.add(outputs, layer.bias)
    if layer.activation is not None:
        outputs = layer.activation(outputs)
    return outputs


def factor_initializers_for(initializer, matrix_shapes, factor_shapes, dtype):
    """One initializer per factor, for `add_weight`.

    A `Balanced` initializer draws all factors jointly on the matrix chain, so that they multiply
    to one target and satisfy paper Eq. 7. A `NearZero` (or `NearIdentity`) one draws the first
    factor on its matrix shape and reshapes it. Any other is applied to each factor with its
    stored shape, a seeded one with seed + j for factor j (`seeded_for_factor`).
    """
    reshaped = tuple(factor_shapes[0]) != tuple(matrix_shapes[0])
    if isinstance(initializer, factor_initializers.Balanced):
        values = initializer.factors(matrix_shapes, dtype=dtype)
        if reshaped:
            values[0] = ops.reshape(values[0], factor_shapes[0])
        return [constant_initializer(value) for value in values]
    initializers = [seeded_for_factor(initializer, j) for j in range(len(factor_shapes))]
    if reshaped and isinstance(initializer, factor_initializers.NearZero):  # NearIdentity too
        initializers[0] = matrix_initializer(initializers[0], matrix_shapes[0])
    return initializers


def seeded_for_factor(initializer, index):
    """A copy of `initializer` with seed + index, so seeded factors of equal shape differ.

    Factor 0 keeps the original seed, so it starts where a plain layer with that initializer
    would.
    """
    seed = getattr(initializer, "seed", None)
    if index == 0 or not isinstance(seed, int):
        return initializer
    config = initializer.get_config()
    config["seed"] = seed + index
    return initializer.__class__.from_config(config)


def matrix_initializer(initializer, matrix_shape):
    """Draw `initializer` on the matrix shape, return the values reshaped to the factor's."""

    def initialize(shape, dtype=None):
        return ops.reshape(initializer(matrix_shape, dtype=dtype), shape)

    return initialize


def constant_initializer(value):
    """An initializer returning `value` (cast to the requested dtype)."""

    def initializer(shape, dtype=None):
        return ops.cast(value, dtype) if dtype is not None else value

    return initializer
