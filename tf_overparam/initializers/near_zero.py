"""Near-zero initialization of a factor (paper Appendix B.1)."""

import keras
import numpy as np

from tf_overparam._validation import validate_number


def _check_stddev(stddev):
    validate_number(stddev, "stddev", low=0)


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

    Examples:
        >>> init = NearZero(stddev=0.01, seed=0)
        >>> values = init((128, 1))
    """

    def __init__(self, stddev=0.01, seed=None):
        _check_stddev(stddev)
        super().__init__(mean=0.0, stddev=stddev, seed=seed)

    def numpy_factors(self, shapes, seed):
        """A whole chain of factors in float64 NumPy, drawn with `numpy.random.default_rng(seed)`
        factor by factor (K_1 first), so that a seed gives the same network on every backend
        (the full-batch trainer's initialization). Same distribution as `__call__`.

        Args:
            shapes: [(n_0, n_1), (n_1, n_2), …, (n_{N−1}, n_N)].
            seed: an integer.
        """
        rng = np.random.default_rng(seed)
        return [rng.normal(0.0, self.stddev, size=shape) + self._offset(shape)
                for shape in shapes]

    def _offset(self, shape):
        return 0.0

    def get_config(self):
        config = super().get_config()
        config.pop("mean", None)
        return config
