"""Gradient descent preconditioned as depth would precondition it (paper Eq. 9 and Eq. 11)."""

import numbers

import keras
from keras import ops

from tf_overparam._validation import validate_depth
from tf_overparam.ops import end_to_end_update


@keras.saving.register_keras_serializable(package="tf_overparam")
class EndToEndSGD(keras.optimizers.Optimizer):
    """Train a shallow model the way gradient descent would train its depth-N factorization.

    For every 2-D variable (every kernel, whatever its name) in Keras layout K (d, k):

        K ← (1 − η λ N) K − η Σ_{j=1..N} [K Kᵀ]^{(N−j)/N} · G · [Kᵀ K]^{(j−1)/N}      (paper Eq. 9)

    computed with one thin SVD per step (Claim 1), or in O(d) with Eq. 11 when the kernel has a
    single output column. Conv kernels, 4-D variables (kh, kw, c_in, c_out), take the same step
    on their reshaped (kh·kw·c_in, c_out) matrix M (beyond the paper: a convolution is linear in
    M, so this is how gradient descent moves the kernel of a depth-N `OverparamConv2D`), unless
    `conv_kernels=False`. Depthwise kernels (a 4-D variable whose path contains "depthwise", as
    Keras names `DepthwiseConv2D` layers and `SeparableConv2D`'s depthwise kernels) are not a
    (kh·kw·c_in, c_out) map and keep plain SGD; so does every other variable (biases, 1-D, 3-D,
    5-D, ...), with decay (1 − ηλ). With N = 1 this is exactly `keras.optimizers.SGD`.

    The rule cannot move a zero kernel when N >= 2 (every term has a vanishing factor): start
    from a deep network's end-to-end kernel, e.g. `tf_overparam.collapse` of an `OverparamDense`
    model, not from a zero-initialized Dense.

    Args:
        learning_rate: η, a float >= 0 or a `keras.optimizers.schedules.LearningRateSchedule`.
        depth: N, the depth being emulated, an integer >= 1.
        weight_decay: λ >= 0, the factors' weight decay; kernels decay by (1 − ηλN) (Eq. 9),
            other variables by (1 − ηλ). Applied to the pre-step value, inside the same step.
        conv_kernels: whether 4-D conv kernels take the Eq. 9 step on their reshaped matrix
            (default True); False restricts the rule to 2-D (dense) kernels.
        name: optimizer name.
        **kwargs: other base optimizer arguments (clipnorm, clipvalue, global_clipnorm, use_ema,
            ema_momentum, ema_overwrite_frequency, loss_scale_factor,
            gradient_accumulation_steps).

    Example:
        >>> import keras, tf_overparam
        >>> model = keras.Sequential([keras.Input((128,)), keras.layers.Dense(1, use_bias=False)])
        >>> model.compile(optimizer=tf_overparam.EndToEndSGD(1e-3, depth=3),
        ...               loss=tf_overparam.LpLoss(4))
    """

    def __init__(self, learning_rate=0.001, depth=2, weight_decay=0.0, conv_kernels=True,
                 name="end_to_end_sgd", **kwargs):
        if isinstance(learning_rate, bool) or (
            isinstance(learning_rate, numbers.Real) and not learning_rate >= 0
        ):
            raise ValueError(f"`learning_rate` must be >= 0, got {learning_rate!r}.")
        depth = validate_depth(depth)
        if weight_decay is not None and (
            isinstance(weight_decay, bool)
            or not isinstance(weight_decay, numbers.Real)
            or not weight_decay >= 0
        ):
            raise ValueError(f"`weight_decay` must be a number >= 0, got {weight_decay!r}.")
        if not isinstance(conv_kernels, bool):
            raise ValueError(f"`conv_kernels` must be True or False, got {conv_kernels!r}.")
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, name=name, **kwargs)
        self.depth = depth
        self.conv_kernels = conv_kernels

    def _is_conv_kernel(self, variable):
        """A 4-D (kh, kw, c_in, c_out) kernel that takes Eq. 9 on its reshaped matrix."""
        path = str(getattr(variable, "path", None) or getattr(variable, "name", ""))
        return self.conv_kernels and len(variable.shape) == 4 and "depthwise" not in path.lower()

    def _apply_weight_decay(self, variables):
        # Decay happens in update_step, on the same pre-step kernel the preconditioner sees
        # (Eq. 9), and with the factor N that Keras' decoupled decay does not know about.
        return

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        # Kernels take the Eq. 9 step; every other variable plain SGD (the rule with N = 1).
        conv = self._is_conv_kernel(variable)
        depth = self.depth if len(variable.shape) == 2 or conv else 1
        decay = 0.0
        if self.weight_decay and self._use_weight_decay(variable):
            # Keras keeps weight_decay in float32: cast first, then scale by N (inside the rule).
            decay = ops.cast(self.weight_decay, variable.dtype)
        if conv and depth > 1:
            shape = tuple(variable.shape)
            matrix = (shape[0] * shape[1] * shape[2], shape[3])
            kernel = ops.reshape(variable, matrix)
            updated = end_to_end_update(kernel, ops.reshape(gradient, matrix), learning_rate,
                                        depth, decay)
            self.assign(variable, ops.reshape(updated, shape))
            return
        self.assign(variable, end_to_end_update(variable, gradient, learning_rate, depth, decay))

    def get_config(self):
        config = super().get_config()
        config.update({"depth": self.depth, "conv_kernels": self.conv_kernels})
        return config
