"""Initializers for the factors of a depth-N `OverparamDense` (paper Appendix B.1)."""

import keras

from tf_overparam.initializers.balanced import Balanced
from tf_overparam.initializers.near_identity import NearIdentity
from tf_overparam.initializers.near_zero import NearZero

NAMED_INITIALIZERS = {"near_zero": NearZero, "identity": NearIdentity, "balanced": Balanced}


def get(identifier):
    """Resolve a factor initializer: one of NAMED_INITIALIZERS, a Keras initializer or its name.

    Raises:
        ValueError: an unknown name, naming `kernel_initializer` and the allowed names.
    """
    if isinstance(identifier, str) and identifier in NAMED_INITIALIZERS:
        return NAMED_INITIALIZERS[identifier]()
    try:
        return keras.initializers.get(identifier)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"Unknown `kernel_initializer` {identifier!r}: use one of "
            f"{sorted(NAMED_INITIALIZERS)}, a Keras initializer name, or an Initializer object."
        ) from error


__all__ = ["Balanced", "NearIdentity", "NearZero", "NAMED_INITIALIZERS", "get"]
