"""Near-zero initialization of a factor (paper Appendix B.1)."""

import numbers

import keras


def _check_stddev(stddev):
    if isinstance(stddev, bool) or not isinstance(stddev, numbers.Real) or not stddev >= 0:
        raise ValueError(f"`stddev` must be a number >= 0, got {stddev!r}.")


@keras.saving.register_keras_serializable(package="tf_overparam")
class NearZero(keras.initializers.RandomNormal):
    """i.i.d. N(0, stddev²) entries, the paper's initialization of every factor (Appendix B.1).

    A near-zero initialization satisfies balancedness (paper Eq. 7) approximately, which is what
    Theorem 1 needs for the end-to-end update rule (Eq. 9) to describe the deep network.

    Args:
        stddev: standard deviation of the entries (paper: 0.01). Must be >= 0.
        seed: optional integer seed. As with every Keras initializer, a seeded instance returns
            the same values on every call; `OverparamDense` derives one seed per factor
            (an unseeded instance holds a random default seed, so its factors differ too).

    Example:
        >>> init = NearZero(stddev=0.01, seed=0)
        >>> values = init((128, 1))
    """

    def __init__(self, stddev=0.01, seed=None):
        _check_stddev(stddev)
        super().__init__(mean=0.0, stddev=stddev, seed=seed)

    def get_config(self):
        config = super().get_config()
        config.pop("mean", None)
        return config
