"""A Dense layer whose kernel is a product of N trainable factors (paper Section 4, Eq. 2)."""

import numbers

import keras

from tf_overparam._validation import hidden_widths
from tf_overparam._validation import validate_depth
from tf_overparam._validation import validate_hidden_units
from tf_overparam.layers import _factors
from tf_overparam.ops.chain import apply_chain
from tf_overparam.ops.chain import chain_product


@keras.saving.register_keras_serializable(package="tf_overparam")
class OverparamDense(keras.layers.Layer):
    """`Dense` with its kernel replaced by a depth-N product K_1 K_2 ⋯ K_N (paper Eq. 2).

    Keras layout (kernel K = Wᵀ of the paper): factor K_j has shape (n_{j−1}, n_j) with n_0 the
    input dimension and n_N = `units`, and the layer computes activation(x K_1 ⋯ K_N + bias).
    The product adds no expressiveness; what it changes is how gradient descent moves the
    end-to-end kernel (paper Eq. 9), which `EndToEndSGD` reproduces on a plain `Dense`.

    Args:
        units: output dimension, a positive integer.
        depth: number of factors N, an integer >= 1 (1 is a plain Dense kernel).
        hidden_units: widths n_1 … n_{N−1}: one positive int for all, or a list of N − 1 ints.
            Default: min(input_dim, units), the smallest that keeps full expressiveness.
        activation: as in `Dense`.
        use_bias: as in `Dense`. The bias is one vector, not factored.
        kernel_initializer: for the factors: "near_zero" (N(0, 0.01²), paper Appendix B.1),
            "identity" (rectangular identity plus that noise), "balanced" (the factors of a drawn
            target kernel, exactly satisfying paper Eq. 7), a `Balanced`/`NearZero`/`NearIdentity`
            instance, or any Keras initializer (applied to each factor; a seeded one gets seed + j
            for factor j so that equal-shaped factors differ).
        bias_initializer: as in `Dense`.
        kernel_regularizer: applied to every factor separately (as if each were a Dense kernel).
        bias_regularizer: as in `Dense`.
        activity_regularizer: as in `Dense`.
        kernel_constraint: applied to every factor separately.
        bias_constraint: as in `Dense`.
        **kwargs: base `Layer` arguments (name, dtype, trainable, ...).

    Examples:
        >>> import keras, tf_overparam
        >>> model = keras.Sequential([
        ...     keras.Input((128,)),
        ...     tf_overparam.OverparamDense(1, depth=3, hidden_units=1, use_bias=False),
        ... ])
        >>> model.compile(optimizer=keras.optimizers.SGD(1e-3), loss=tf_overparam.LpLoss(4))
        >>> kernel = model.layers[0].end_to_end_kernel  # (128, 1), the product of 3 factors
    """

    def __init__(
        self,
        units,
        depth=2,
        hidden_units=None,
        activation=None,
        use_bias=True,
        kernel_initializer="near_zero",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if isinstance(units, bool) or not isinstance(units, numbers.Integral) or units <= 0:
            raise ValueError(f"`units` must be a positive integer, got {units!r}.")
        self.units = int(units)
        self.depth = validate_depth(depth)
        self.hidden_units = validate_hidden_units(hidden_units, self.depth)
        _factors.set_arguments(
            self, activation, use_bias, kernel_initializer, bias_initializer,
            kernel_regularizer, bias_regularizer, kernel_constraint, bias_constraint,
        )
        self.input_spec = keras.layers.InputSpec(min_ndim=2)
        self.supports_masking = True

    def factor_shapes(self, input_dim):
        """[(n_0, n_1), (n_1, n_2), …, (n_{N−1}, n_N)] for a given input dimension n_0."""
        widths = hidden_widths(self.hidden_units, self.depth, input_dim, self.units)
        dims = [input_dim] + widths + [self.units]
        return [(dims[j], dims[j + 1]) for j in range(self.depth)]

    def build(self, input_shape):
        input_dim = input_shape[-1]
        shapes = self.factor_shapes(input_dim)
        _factors.build(self, shapes, shapes, self.units)
        self.input_spec = keras.layers.InputSpec(min_ndim=2, axes={-1: input_dim})

    @property
    def end_to_end_kernel(self):
        """The product K_1 K_2 ⋯ K_N, shape (input_dim, units) (paper Eq. 5, Keras layout)."""
        return chain_product(self.factors)

    def call(self, inputs):
        return _factors.finish(self, apply_chain(inputs, self.factors))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "depth": self.depth,
                "hidden_units": self.hidden_units,
                **_factors.config_entries(self),
            }
        )
        return config

