"""Overparameterize an existing Keras model, and collapse it back for deployment.

`overparameterize` swaps chosen `Dense` layers for depth-N `OverparamDense` layers (what the
paper did to TensorFlow's MNIST tutorial, Appendix B.2); `collapse` folds every `OverparamDense`
into a plain `Dense` holding the end-to-end kernel, so inference costs nothing extra and an
`EndToEndSGD` run can start from a deep network's initial end-to-end kernel.
"""

import keras
from keras import ops

from tf_overparam import initializers as factor_initializers
from tf_overparam.layers.overparam_dense import OverparamDense
from tf_overparam._validation import validate_depth
from tf_overparam._validation import validate_hidden_units

# Dense arguments that carry over unchanged to OverparamDense and back.
_SHARED_ARGUMENTS = (
    "units",
    "activation",
    "use_bias",
    "bias_initializer",
    "kernel_regularizer",
    "bias_regularizer",
    "activity_regularizer",
    "kernel_constraint",
    "bias_constraint",
    "name",
    "dtype",
    "trainable",
)


def _all_layers(model):
    """Every layer of `model`, descending into nested models."""
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)


def _shared_config(layer):
    config = layer.get_config()
    return {key: config[key] for key in _SHARED_ARGUMENTS if key in config}


def _copy_weights(source_model, target_model, replaced):
    """Copy every layer's weights by name; replaced layers keep only their bias."""
    targets = {layer.name: layer for layer in _all_layers(target_model)}
    for source in _all_layers(source_model):
        if isinstance(source, keras.Model) or not source.weights:
            continue  # input layers are renamed by clone_model and hold nothing
        target = targets[source.name]
        if source.name in replaced:
            if getattr(source, "bias", None) is not None:
                target.bias.assign(ops.convert_to_numpy(source.bias))
        else:
            target.set_weights(source.get_weights())


def _check_model(model):
    if not isinstance(model, keras.Model) or not model.built:
        raise ValueError(f"`model` must be a built Keras model (Sequential or functional), got {model!r}.")


def _selected_dense_names(model, layers):
    dense_names = [
        layer.name
        for layer in _all_layers(model)
        if isinstance(layer, keras.layers.Dense) and not isinstance(layer, OverparamDense)
    ]
    if layers is None:
        return set(dense_names)
    if isinstance(layers, (str, keras.layers.Layer)):
        layers = [layers]
    names = [layer.name if isinstance(layer, keras.layers.Layer) else layer for layer in layers]
    if not names:
        raise ValueError(f"`layers` must name at least one Dense layer (or be None for all): {dense_names}.")
    unknown = [name for name in names if name not in dense_names]
    if unknown:
        raise ValueError(
            f"`layers` must name Dense layers of the model; {unknown} are not. "
            f"Dense layers: {dense_names}."
        )
    return set(names)


def overparameterize(model, depth=2, hidden_units=None, kernel_initializer=None, layers=None):
    """A new model with the chosen `Dense` layers replaced by depth-N `OverparamDense` layers.

    Everything else is unchanged: the architecture, every other layer and its weights, and each
    replaced layer's activation, bias (copied), regularizers and constraints. The factors are
    freshly initialized, so the new model computes a different function until trained: this is
    a model to train, as in the paper's MNIST experiment (Appendix B.2). The paper's 3,136 × 512
    kernel becomes 3,136 × 512 then 512 × 512 with the default `hidden_units`.

    Args:
        model: a built Sequential or functional Keras model.
        depth: number of factors N per replaced layer, an integer >= 1.
        hidden_units: as in `OverparamDense` (default min(input_dim, units) per layer).
        kernel_initializer: for the factors. None (default) reuses each Dense layer's own
            kernel initializer for every factor ("new matrices initialized like the old ones",
            a seeded one gets seed + j for factor j); or any `OverparamDense` initializer.
        layers: the Dense layers to replace, as names or layer objects; None replaces all.

    Returns:
        A new, built, uncompiled model.

    Example:
        >>> deep = overparameterize(model, depth=2)
        >>> deep.compile(optimizer="sgd", loss="mse"); deep.fit(x, y)
        >>> deployed = collapse(deep)  # same predictions, plain Dense layers
    """
    _check_model(model)
    depth = validate_depth(depth)
    hidden_units = validate_hidden_units(hidden_units, depth)
    if kernel_initializer is not None:
        factor_initializers.get(kernel_initializer)  # fail now, naming the argument
    replaced = _selected_dense_names(model, layers)

    def clone_layer(layer):
        if layer.name not in replaced:
            return layer.__class__.from_config(layer.get_config())
        initializer = kernel_initializer
        if initializer is None:
            initializer = keras.initializers.get(layer.get_config()["kernel_initializer"])
        return OverparamDense(
            depth=depth,
            hidden_units=hidden_units,
            kernel_initializer=initializer,
            **_shared_config(layer),
        )

    new_model = keras.models.clone_model(model, clone_function=clone_layer, recursive=True)
    _copy_weights(model, new_model, replaced)
    return new_model


def collapse(model):
    """A new model with every `OverparamDense` folded into a plain `Dense` (end-to-end kernel).

    Predictions equal the original's to float tolerance; inference costs nothing extra. Also the
    way to start `EndToEndSGD` from a deep network's initial end-to-end kernel (at a zero kernel
    the end-to-end rule never moves): build the deep model, collapse it, train the result.

    Args:
        model: a built Sequential or functional Keras model.

    Returns:
        A new, built, uncompiled model with the same architecture as before `overparameterize`.

    Example:
        >>> shallow = collapse(deep_model)
        >>> shallow.compile(optimizer=EndToEndSGD(1e-3, depth=3), loss=LpLoss(4))
    """
    _check_model(model)
    collapsed = {
        layer.name: layer for layer in _all_layers(model) if isinstance(layer, OverparamDense)
    }

    def clone_layer(layer):
        if layer.name not in collapsed:
            return layer.__class__.from_config(layer.get_config())
        return keras.layers.Dense(
            kernel_initializer=keras.initializers.get(layer.get_config()["kernel_initializer"]),
            **_shared_config(layer),
        )

    new_model = keras.models.clone_model(model, clone_function=clone_layer, recursive=True)
    _copy_weights(model, new_model, set(collapsed))
    targets = {layer.name: layer for layer in _all_layers(new_model)}
    for name, layer in collapsed.items():
        targets[name].kernel.assign(ops.convert_to_numpy(layer.end_to_end_kernel))
    return new_model
