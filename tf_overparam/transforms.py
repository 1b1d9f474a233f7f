"""Overparameterize an existing Keras model, and collapse it back for deployment.

`overparameterize` swaps chosen `Dense` layers for depth-N `OverparamDense` layers (what the
paper did to TensorFlow's MNIST tutorial, Appendix B.2) and, when asked, `Conv2D` layers for
`OverparamConv2D` layers (beyond the paper); `collapse` folds every `OverparamDense` /
`OverparamConv2D` into a plain `Dense` / `Conv2D` holding the end-to-end kernel, so inference
costs nothing extra and an `EndToEndSGD` run can start from a deep network's initial kernel.
"""

import keras
from keras import ops

from tf_overparam import initializers as factor_initializers
from tf_overparam.layers.overparam_conv2d import OverparamConv2D
from tf_overparam.layers.overparam_dense import OverparamDense
from tf_overparam._validation import validate_depth
from tf_overparam._validation import validate_hidden_units

__all__ = ["collapse", "overparameterize"]

# Arguments that carry over unchanged to OverparamDense / OverparamConv2D and back.
_SHARED_ARGUMENTS = (
    "units",
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "dilation_rate",
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


#: Layer types `overparameterize` can replace, and what replaces them.
REPLACEABLE = {keras.layers.Dense: OverparamDense, keras.layers.Conv2D: OverparamConv2D}


def _check_layer_types(layer_types):
    allowed = "(Dense,), (Conv2D,) or (Dense, Conv2D) (keras.layers classes)"
    if isinstance(layer_types, type):
        layer_types = (layer_types,)
    if (not isinstance(layer_types, (list, tuple)) or not layer_types
            or any(kind not in REPLACEABLE for kind in layer_types)):
        raise ValueError(f"`layer_types` must be {allowed}, got {layer_types!r}.")
    return tuple(layer_types)


def _replaceable(layer, layer_types):
    """The layer's type in `layer_types` (exact Dense or Conv2D, not a subclass), or None."""
    kind = type(layer)
    return kind if kind in layer_types else None


def _conv_problem(layer):
    """Why a Conv2D cannot become an OverparamConv2D, or None."""
    config = layer.get_config()
    if config.get("groups", 1) != 1:
        return f"groups={config['groups']} (only groups=1 is supported)"
    if config.get("data_format") not in (None, "channels_last"):
        return f"data_format={config['data_format']!r} (only 'channels_last' is supported)"
    if config.get("padding") not in ("valid", "same"):
        return f"padding={config['padding']!r} (only 'valid' and 'same' are supported)"
    strides, dilation = config.get("strides", (1, 1)), config.get("dilation_rate", (1, 1))
    if max(strides) > 1 and max(dilation) > 1:
        return f"strides={strides} with dilation_rate={dilation}"
    return None


def _selected_names(model, layers, layer_types):
    candidates = [
        layer.name for layer in _all_layers(model) if _replaceable(layer, layer_types)
    ]
    kinds = "/".join(kind.__name__ for kind in layer_types)
    if layers is None:
        names = candidates
    else:
        if isinstance(layers, (str, keras.layers.Layer)):
            layers = [layers]
        names = [layer.name if isinstance(layer, keras.layers.Layer) else layer for layer in layers]
        if not names:
            raise ValueError(f"`layers` must name at least one {kinds} layer (or be None for all): {candidates}.")
        unknown = [name for name in names if name not in candidates]
        if unknown:
            raise ValueError(
                f"`layers` must name {kinds} layers of the model (`layer_types`={kinds}); "
                f"{unknown} are not. {kinds} layers: {candidates}."
            )
    by_name = {layer.name: layer for layer in _all_layers(model)}
    for name in names:
        layer = by_name[name]
        problem = _conv_problem(layer) if isinstance(layer, keras.layers.Conv2D) else None
        if problem:
            raise ValueError(
                f"Conv2D layer {name!r} cannot be overparameterized: {problem}. Leave it out "
                f"with `layers`=[...] naming the others."
            )
    return set(names)


def overparameterize(model, depth=2, hidden_units=None, kernel_initializer=None, layers=None,
                     layer_types=(keras.layers.Dense,)):
    """A new model with chosen `Dense` (and `Conv2D`) layers replaced by depth-N versions.

    Everything else is unchanged: the architecture, every other layer and its weights, and each
    replaced layer's activation, bias (copied), regularizers and constraints (and a Conv2D's
    kernel size, strides, padding and dilation). The factors are
    freshly initialized, so the new model computes a different function until trained: this is
    a model to train, as in the paper's MNIST experiment (Appendix B.2). The paper's 3,136 × 512
    kernel becomes 3,136 × 512 then 512 × 512 with the default `hidden_units`.

    Args:
        model: a built Sequential or functional Keras model.
        depth: number of factors N per replaced layer, an integer >= 1.
        hidden_units: as in `OverparamDense` (default min(input_dim, units) per layer); for
            Conv2D layers, `OverparamConv2D`'s `hidden_filters` (default min(kh·kw·c_in, filters)).
        kernel_initializer: for the factors. None (default) reuses each replaced layer's own
            kernel initializer for every factor ("new matrices initialized like the old ones",
            a seeded one gets seed + j for factor j); or any `OverparamDense` initializer.
        layers: the layers to replace, as names or layer objects; None replaces every layer
            of `layer_types`.
        layer_types: which layer classes may be replaced: `(keras.layers.Dense,)` (default, the
            paper), `(keras.layers.Conv2D,)` or `(keras.layers.Dense, keras.layers.Conv2D)`.
            Exact classes, not subclasses. Conv2D layers with groups > 1, channels_first, or
            strides and dilation both > 1 are refused with a ValueError.

    Returns:
        A new, built, uncompiled model.

    Examples:
        >>> deep = overparameterize(model, depth=2)
        >>> deep.compile(optimizer="sgd", loss="mse"); deep.fit(x, y)
        >>> deployed = collapse(deep)  # same predictions, plain Dense layers
    """
    _check_model(model)
    depth = validate_depth(depth)
    hidden_units = validate_hidden_units(hidden_units, depth)
    if kernel_initializer is not None:
        factor_initializers.get(kernel_initializer)  # fail now, naming the argument
    layer_types = _check_layer_types(layer_types)
    replaced = _selected_names(model, layers, layer_types)

    def clone_layer(layer):
        if layer.name not in replaced:
            return layer.__class__.from_config(layer.get_config())
        initializer = kernel_initializer
        if initializer is None:
            initializer = keras.initializers.get(layer.get_config()["kernel_initializer"])
        width_argument = "hidden_filters" if isinstance(layer, keras.layers.Conv2D) else "hidden_units"
        return REPLACEABLE[type(layer)](
            depth=depth,
            kernel_initializer=initializer,
            **{width_argument: hidden_units},
            **_shared_config(layer),
        )

    new_model = keras.models.clone_model(model, clone_function=clone_layer, recursive=True)
    _copy_weights(model, new_model, replaced)
    return new_model


def collapse(model):
    """A new model with every `OverparamDense` / `OverparamConv2D` folded into a plain `Dense` /
    `Conv2D` holding the end-to-end kernel.

    Predictions equal the original's to float tolerance; inference costs nothing extra. Also the
    way to start `EndToEndSGD` from a deep network's initial end-to-end kernel (at a zero kernel
    the end-to-end rule never moves): build the deep model, collapse it, train the result.

    Args:
        model: a built Sequential or functional Keras model.

    Returns:
        A new, built, uncompiled model with the same architecture as before `overparameterize`.

    Examples:
        >>> shallow = collapse(deep_model)
        >>> shallow.compile(optimizer=EndToEndSGD(1e-3, depth=3), loss=LpLoss(4))
    """
    _check_model(model)
    folded = {OverparamDense: keras.layers.Dense, OverparamConv2D: keras.layers.Conv2D}
    collapsed = {
        layer.name: layer for layer in _all_layers(model) if type(layer) in folded
    }

    def clone_layer(layer):
        if layer.name not in collapsed:
            return layer.__class__.from_config(layer.get_config())
        return folded[type(layer)](
            kernel_initializer=keras.initializers.get(layer.get_config()["kernel_initializer"]),
            **_shared_config(layer),
        )

    new_model = keras.models.clone_model(model, clone_function=clone_layer, recursive=True)
    _copy_weights(model, new_model, set(collapsed))
    targets = {layer.name: layer for layer in _all_layers(new_model)}
    for name, layer in collapsed.items():
        targets[name].kernel.assign(ops.convert_to_numpy(layer.end_to_end_kernel))
    return new_model
