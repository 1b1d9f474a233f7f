"""Argument checks shared by the layer, the optimizer, the direction and the trainer.

Each raises a ValueError that names the argument and the allowed values, before any work starts.
"""

import numbers


def validate_depth(depth, name="depth"):
    """An integer >= 1 (numpy integers accepted, bools not); returns it as a Python int."""
    if isinstance(depth, bool) or not isinstance(depth, numbers.Integral) or depth < 1:
        raise ValueError(f"`{name}` must be an integer >= 1, got {depth!r}.")
    return int(depth)


def validate_hidden_units(hidden_units, depth):
    """None, one positive int for all hidden layers, or a list of depth − 1 positive ints.

    Returns None, an int, or a list of ints.
    """
    if hidden_units is None:
        return None
    if isinstance(hidden_units, (list, tuple)):
        widths = list(hidden_units)
        if len(widths) != depth - 1:
            raise ValueError(
                f"`hidden_units` must be an int or a list of depth - 1 = {depth - 1} ints, "
                f"got a list of length {len(widths)}: {hidden_units!r}."
            )
    else:
        widths = [hidden_units]
    for width in widths:
        if isinstance(width, bool) or not isinstance(width, numbers.Integral) or width <= 0:
            raise ValueError(f"`hidden_units` must hold positive integers, got {hidden_units!r}.")
    if isinstance(hidden_units, (list, tuple)):
        return [int(width) for width in widths]
    return int(hidden_units)


def hidden_widths(hidden_units, depth, input_dim, units):
    """The widths n_1 … n_{N−1}: `hidden_units` expanded, default min(input_dim, units)."""
    if hidden_units is None:
        return [min(input_dim, units)] * (depth - 1)
    if isinstance(hidden_units, int):
        return [hidden_units] * (depth - 1)
    return list(hidden_units)
