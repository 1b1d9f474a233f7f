"""The paper's ℓp regression loss (paper Section 3): mean of (1/p)·|ŷ − y|^p."""

import keras
from keras import ops
# Keras' own regression losses (MeanSquaredError, MeanAbsoluteError, ...) align shapes with this
# function; calling it gives LpLoss exactly their shape rules.
from keras.src.losses.loss import squeeze_or_expand_to_same_rank

from tf_overparam._validation import validate_p
from tf_overparam.ops.lp import lp_loss

__all__ = ["LpLoss"]


@keras.saving.register_keras_serializable(package="tf_overparam")
class LpLoss(keras.losses.Loss):
    """ℓp loss with the paper's 1/p factor: mean over outputs of (1/p)·|ŷ − y|^p.

    Shapes are aligned as in Keras' own regression losses: targets of shape (n,) against
    predictions of shape (n, 1), or the other way round, give one residual per row.

    p = 2 gives half the mean squared error, p = 4 the paper's ℓ4 objective (Figures 2 to 5-left).
    Even p is the paper's case: |r|^p = r^p is smooth and convex. Any real p > 0 is accepted and
    uses |r|^p: for p > 1 the loss is convex and differentiable; p = 1 is the mean absolute error
    (gradient sign(r), 0 at r = 0); for 0 < p < 1 it is non-convex with an infinite slope at
    r = 0 (the gradient there is not finite), so use such p only to evaluate, not to train.

    Args:
        p: the exponent, a finite real number > 0.
        reduction: as in every Keras loss (default "sum_over_batch_size": the mean over samples).
        name: loss name.
        dtype: loss computation dtype.

    Examples:
        >>> import numpy as np
        >>> LpLoss(4)(np.array([[1.0]]), np.array([[3.0]]))  # (1/4)·2⁴ = 4.0
    """

    def __init__(self, p=2, reduction="sum_over_batch_size", name=None, dtype=None):
        validate_p(p)
        super().__init__(name=name or f"l{p:g}_loss", reduction=reduction, dtype=dtype)
        self.p = p

    def call(self, y_true, y_pred):
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.cast(y_true, y_pred.dtype)
        # (n,) against (n, 1), either way round, is one target per row (not an (n, n) broadcast).
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return lp_loss(ops.subtract(y_pred, y_true), self.p, axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update({"p": self.p})
        return config
