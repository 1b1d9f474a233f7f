"""Near-identity ("linear residual") initialization of a factor (paper Figure 5-left)."""

import keras
import numpy as np
from keras import ops

from tf_overparam.initializers.near_zero import NearZero


@keras.saving.register_keras_serializable(package="tf_overparam")
class NearIdentity(NearZero):
    """Rectangular identity plus i.i.d. N(0, stddev²) noise (paper Appendix B.1).

    The paper adds 1 to the diagonal of every factor, rectangular ones included, on top of the
    near-zero noise. This keeps deep products away from zero, so depth 8 trains (Figure 5-left).

    Args:
        stddev: standard deviation of the noise (paper: 0.01). Must be >= 0.
        seed: optional integer seed (a seeded instance returns the same values on every call;
            `OverparamDense` derives one seed per factor, seeded or not).

    Examples:
        >>> init = NearIdentity(stddev=0.01, seed=0)
        >>> values = init((128, 1))  # values[0, 0] is close to 1
    """

    def __call__(self, shape, dtype=None):
        """A 2-D shape, or a conv kernel shape (kh, kw, c_in, c_out): then the identity is on the
        reshaped (kh·kw·c_in, c_out) matrix, as for `OverparamConv2D`'s first factor."""
        if len(shape) < 2:
            raise ValueError(f"NearIdentity needs a 2-D (or conv kernel) shape, got {shape}.")
        if len(shape) > 2:
            matrix = (int(np.prod(shape[:-1])), shape[-1])
            return ops.reshape(self(matrix, dtype=dtype), shape)
        return ops.eye(shape[0], shape[1], dtype=dtype) + super().__call__(shape, dtype=dtype)

    def _offset(self, shape):
        return np.eye(*shape)
