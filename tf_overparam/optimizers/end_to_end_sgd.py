"""Gradient descent preconditioned as depth would precondition it (paper Eq. 9 and Eq. 11)."""

import numbers

import keras
from keras import ops

from tf_overparam._validation import validate_depth
from tf_overparam._validation import validate_number
from tf_overparam.fullbatch import updates
from tf_overparam.ops import end_to_end_direction
from tf_overparam.ops import end_to_end_update

#: The momentum recurrences `momentum_style` selects (the pure rules of `fullbatch.updates`).
MOMENTUM_STYLES = ("keras", "tf1")


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

    With `momentum=μ > 0` (beyond the paper) the momentum acts on the preconditioned direction
    with the decay folded in, D = −(Eq. 9 step)/η, as an L2 term λ/2·Σ‖W_j‖² on the factors'
    loss would enter their gradients (and their momentum):

        D = P_N(K, G) + λ N K      (kernels; the Eq. 9 sum above, on the reshaped conv matrix)
        D = G + λ K                (every other variable: the rule with N = 1)

    and the step is one of the pure rules of `tf_overparam.fullbatch.updates`, fed D as the
    gradient, with one slot variable per trainable variable:

        momentum_style="keras" (`updates.momentum`, Keras' SGD):  m ← μ m − η D;  K ← K + m
                               (nesterov=True:                      K ← K + μ m − η D)
        momentum_style="tf1"   (`updates.tf1_momentum`, TF1's MomentumOptimizer):
                                                                   a ← μ a + D;  K ← K − η a

    with m, a starting at 0 and D, η read at the pre-step K. The two agree while η is constant;
    after η changes, Keras' velocity still carries the old rate, TF1's accumulator takes the
    new one at once. With N = 1 and λ = 0 "keras" is exactly `keras.optimizers.SGD(momentum=μ,
    nesterov=...)`; with λ > 0 it is not, as Keras' decay is decoupled (kept out of the
    velocity), while here it enters the velocity as in `torch.optim.SGD(weight_decay=λ)` and
    TF1 with λ/2·‖K‖² in the loss (at N = 1, "tf1" is that TF1 rule). `momentum=0` (the
    default) is the plain rule above, bit for bit, with no slot variables.

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
        momentum: μ, a number in [0, 1) (default 0: no momentum, no slot variables).
        nesterov: bool, Nesterov momentum (`momentum_style="keras"` only; default False).
        momentum_style: "keras" (default; velocity m ← μm − ηD, Keras' SGD) or "tf1"
            (accumulator a ← μa + D, step −ηa, TF1's MomentumOptimizer); see above.
        name: optimizer name.
        **kwargs: other base optimizer arguments (clipnorm, clipvalue, global_clipnorm, use_ema,
            ema_momentum, ema_overwrite_frequency, loss_scale_factor,
            gradient_accumulation_steps).

    Examples:
        >>> import keras, tf_overparam
        >>> model = keras.Sequential([keras.Input((128,)), keras.layers.Dense(1, use_bias=False)])
        >>> model.compile(optimizer=tf_overparam.EndToEndSGD(1e-3, depth=3),
        ...               loss=tf_overparam.LpLoss(4))
        >>> heavy_ball = tf_overparam.EndToEndSGD(1e-3, depth=3, momentum=0.9)
    """

    def __init__(self, learning_rate=0.001, depth=2, weight_decay=0.0, conv_kernels=True,
                 momentum=0.0, nesterov=False, momentum_style="keras", name="end_to_end_sgd",
                 **kwargs):
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
        momentum = validate_number(momentum, "momentum", low=0, high=1)
        if not isinstance(nesterov, bool):
            raise ValueError(f"`nesterov` must be True or False, got {nesterov!r}.")
        if momentum_style not in MOMENTUM_STYLES:
            raise ValueError(f"`momentum_style` must be one of {MOMENTUM_STYLES}, "
                             f"got {momentum_style!r}.")
        if nesterov and momentum_style == "tf1":
            raise ValueError("`nesterov=True` needs `momentum_style=\"keras\"` (the \"tf1\" "
                             "accumulator has no Nesterov form here).")
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, name=name, **kwargs)
        self.depth = depth
        self.conv_kernels = conv_kernels
        self.momentum, self.nesterov, self.momentum_style = momentum, nesterov, momentum_style
        # The one written recurrence (fullbatch.updates), stepped on Keras variables below.
        self._momentum_rule = (updates.momentum(momentum, nesterov) if momentum_style == "keras"
                               else updates.tf1_momentum(momentum))

    def build(self, variables):
        """The base optimizer's variables, plus one velocity (accumulator) per variable when
        momentum > 0, as `keras.optimizers.SGD` does."""
        if self.built:
            return
        super().build(variables)
        self.velocities = []
        if self.momentum != 0:
            name = "momentum" if self.momentum_style == "keras" else "accumulator"
            self.velocities = [self.add_variable_from_reference(variable, name=name)
                               for variable in variables]

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
        if self.momentum != 0:
            self._momentum_step(gradient, variable, learning_rate, depth, conv, decay)
            return
        self.assign(variable, _on_matrix(
            lambda kernel, grad: end_to_end_update(kernel, grad, learning_rate, depth, decay),
            variable, gradient, conv and depth > 1))

    def _momentum_step(self, gradient, variable, learning_rate, depth, conv, decay):
        """D = P_N(K, G) + λN·K (N = 1 off kernels), then the momentum rule fed D."""
        direction = _on_matrix(lambda kernel, grad: end_to_end_direction(kernel, grad, depth),
                               variable, gradient, conv and depth > 1)
        if not (isinstance(decay, float) and decay == 0):
            direction = direction + variable * (decay * depth)
        velocity = self.velocities[self._get_variable_index(variable)]
        (value,), ((state,),) = self._momentum_rule.update(
            [direction], ([velocity],), [variable], learning_rate)
        self.assign(velocity, state)
        self.assign(variable, value)

    def get_config(self):
        config = super().get_config()
        config.update({"depth": self.depth, "conv_kernels": self.conv_kernels,
                       "momentum": self.momentum, "nesterov": self.nesterov,
                       "momentum_style": self.momentum_style})
        return config


def _on_matrix(function, variable, gradient, reshape):
    """function(kernel, gradient), on a conv kernel's (kh·kw·c_in, c_out) matrix when `reshape`
    (the result reshaped back), else on the variable as it is."""
    if not reshape:
        return function(variable, gradient)
    shape = tuple(variable.shape)
    matrix = (shape[0] * shape[1] * shape[2], shape[3])
    return ops.reshape(function(ops.reshape(variable, matrix), ops.reshape(gradient, matrix)), shape)

