"""Argument checks shared by the layer, the optimizer, the direction and the trainer.

Each raises a ValueError that names the argument and the allowed values, before any work starts.
"""

import math
import numbers


def validate_depth(depth, name="depth"):
    """An integer >= 1 (numpy integers accepted, bools not); returns it as a Python int."""
    if isinstance(depth, bool) or not isinstance(depth, numbers.Integral) or depth < 1:
        raise ValueError(f"`{name}` must be an integer >= 1, got {depth!r}.")
    return int(depth)


def validate_hidden_units(hidden_units, depth, name="hidden_units"):
    """None, one positive int for all hidden layers, or a list of depth − 1 positive ints
    (at depth 1: None or an empty list only).

    Returns None, an int, or a list of ints. `name` is the argument named in errors.
    """
    if hidden_units is None:
        return None
    if depth == 1 and not (isinstance(hidden_units, (list, tuple)) and len(hidden_units) == 0):
        # No hidden layers at depth 1: a width given there would be silently ignored.
        raise ValueError(f"`{name}` has no effect at depth 1 (there are no hidden layers): pass "
                         f"None, or a depth >= 2; got {hidden_units!r}.")
    if isinstance(hidden_units, (list, tuple)):
        widths = list(hidden_units)
        if len(widths) != depth - 1:
            raise ValueError(
                f"`{name}` must be an int or a list of depth - 1 = {depth - 1} ints, "
                f"got a list of length {len(widths)}: {hidden_units!r}."
            )
    else:
        widths = [hidden_units]
    for width in widths:
        if isinstance(width, bool) or not isinstance(width, numbers.Integral) or width <= 0:
            raise ValueError(f"`{name}` must hold positive integers, got {hidden_units!r}.")
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


def validate_p(p, for_training=False):
    """The ℓp exponent: a finite real number > 0, or > 1 for training and optima (where the loss
    is convex and differentiable). Returns it as a Python int when integral, else a float.

    inf and nan are refused: |r|^inf is 0 or inf (not a loss), and nan compares false."""
    lowest = 1 if for_training else 0
    if (isinstance(p, bool) or not isinstance(p, numbers.Real) or not math.isfinite(p)
            or not p > lowest):
        purpose = " (training needs a convex, differentiable loss)" if for_training else ""
        raise ValueError(f"`p` must be a finite real number > {lowest}{purpose}, got {p!r}.")
    return int(p) if float(p).is_integer() else float(p)


def validate_number(value, name, low=None, high=None, low_inclusive=True, high_inclusive=False):
    """A real number (not a bool) in the given range; returns it as a float."""
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real)
    if ok and low is not None:
        ok = value >= low if low_inclusive else value > low
    if ok and high is not None:
        ok = value <= high if high_inclusive else value < high
    if not ok:
        bounds = []
        if low is not None:
            bounds.append(f"{'>=' if low_inclusive else '>'} {low}")
        if high is not None:
            bounds.append(f"{'<=' if high_inclusive else '<'} {high}")
        raise ValueError(f"`{name}` must be a number {' and '.join(bounds)}, got {value!r}.")
    return float(value)
