"""The model the full-batch trainer trains: a deep linear network without biases."""

from __future__ import annotations

from tf_overparam import initializers as factor_initializers
from tf_overparam._validation import hidden_widths
from tf_overparam._validation import validate_depth
from tf_overparam._validation import validate_hidden_units
from tf_overparam.initializers.near_zero import _check_stddev

#: Factor initializers the trainer can draw (the classes of `tf_overparam.initializers`).
INITIALIZER_CLASSES = tuple(factor_initializers.NAMED_INITIALIZERS.values())


class LinearNetwork:
    """A depth-N linear network x ↦ x K_1 ⋯ K_N without biases (paper Section 4, Appendix B.1).

    The full-batch counterpart of `Sequential([OverparamDense(k, depth, hidden_units,
    use_bias=False, kernel_initializer=...)])`, with the same argument names and checks.

    Args:
        depth: N, the number of factors (1 = the classic linear model).
        hidden_units: widths n_1 … n_{N−1}: one positive int for all, or a list of N − 1 ints.
            Default: min(input_dim, output_dim), as in `OverparamDense` (1 for the paper's
            single-output regressions, whose runs use scalar hidden layers).
        kernel_initializer: "near_zero" (i.i.d. N(0, stddev²) entries, paper B.1), "identity"
            (the same noise plus 1 on the diagonal of every factor, rectangular ones included:
            the paper's Figure 5-left), "balanced" (the exactly balanced factors, Eq. 7, of a
            Gaussian target kernel with N(0, stddev²) entries), or a `NearZero`, `NearIdentity`
            or `Balanced` instance (e.g. `Balanced(target=kernel)`), whose own stddev is used.
        stddev: the standard deviation for a named initializer (paper: 0.01).

    Initial factors are drawn by the initializer's `numpy_factors(shapes, seed)`: float64 NumPy
    with `numpy.random.default_rng(seed)`, so a seed gives the same network for every learning
    rate, optimizer and backend.

    Examples:
        >>> net = LinearNetwork(depth=3, hidden_units=1, kernel_initializer="near_zero")
        >>> [f.shape for f in net.initial_factors(seed=0, input_dim=128, output_dim=1)]
        [(128, 1), (1, 1), (1, 1)]
    """

    def __init__(self, depth=1, hidden_units=None, kernel_initializer="near_zero", stddev=0.01):
        self.depth = validate_depth(depth)
        self.hidden_units = validate_hidden_units(hidden_units, self.depth)
        if isinstance(kernel_initializer, str):
            if kernel_initializer not in factor_initializers.NAMED_INITIALIZERS:
                raise ValueError(
                    f"`kernel_initializer` must be one of "
                    f"{sorted(factor_initializers.NAMED_INITIALIZERS)} or an instance of "
                    f"{[c.__name__ for c in INITIALIZER_CLASSES]}, got {kernel_initializer!r}.")
            _check_stddev(stddev)
            initializer = factor_initializers.NAMED_INITIALIZERS[kernel_initializer](stddev=stddev)
        elif isinstance(kernel_initializer, INITIALIZER_CLASSES):
            initializer = kernel_initializer
        else:
            raise ValueError(
                f"`kernel_initializer` must be one of {sorted(factor_initializers.NAMED_INITIALIZERS)}"
                f" or an instance of {[c.__name__ for c in INITIALIZER_CLASSES]}, got "
                f"{kernel_initializer!r}.")
        self.kernel_initializer = initializer
        self.stddev = float(initializer.stddev)

    @property
    def initializer_name(self) -> str:
        for name, cls in factor_initializers.NAMED_INITIALIZERS.items():
            if type(self.kernel_initializer) is cls:
                return name
        return type(self.kernel_initializer).__name__  # pragma: no cover

    def widths(self, input_dim: int, output_dim: int) -> list[int]:
        """[d, n_1, …, n_{N−1}, k]."""
        hidden = hidden_widths(self.hidden_units, self.depth, input_dim, output_dim)
        return [input_dim, *hidden, output_dim]

    def factor_shapes(self, input_dim: int, output_dim: int) -> list[tuple[int, int]]:
        widths = self.widths(input_dim, output_dim)
        return [(widths[j], widths[j + 1]) for j in range(self.depth)]

    def initial_factors(self, seed: int, input_dim: int, output_dim: int) -> list:
        """The N initial factors for one seed, float64 NumPy, Keras layout."""
        return self.kernel_initializer.numpy_factors(self.factor_shapes(input_dim, output_dim),
                                                     int(seed))

    def get_config(self) -> dict:
        """The constructor arguments, JSON-friendly (an initializer instance as its config)."""
        config = {"depth": self.depth, "hidden_units": self.hidden_units,
                  "kernel_initializer": self.initializer_name, "stddev": self.stddev}
        initializer_config = self.kernel_initializer.get_config()
        extra = {k: v for k, v in initializer_config.items() if k not in ("stddev", "seed")}
        if any(v is not None for v in extra.values()):
            config["kernel_initializer_config"] = initializer_config
        return config

    def describe(self) -> dict:
        """`get_config()` plus what the network is, for JSON records."""
        return {"type": "LinearNetwork", **self.get_config(), "bias": False}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"LinearNetwork({args})"
