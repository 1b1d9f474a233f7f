"""A Conv2D layer whose kernel is a product of N trainable factors (paper Eq. 2 on the reshaped
kernel; beyond the paper, which overparameterizes dense layers only)."""

import numbers

import keras
from keras import ops

from tf_overparam._validation import hidden_widths
from tf_overparam._validation import validate_depth
from tf_overparam._validation import validate_hidden_units
from tf_overparam.layers import _factors
from tf_overparam.ops.chain import apply_chain
from tf_overparam.ops.chain import chain_product

#: Forward paths: "auto" picks the cheaper of the two exact ones per call, from the shapes.
PATHS = ("auto", "end_to_end", "factored")
PADDINGS = ("valid", "same")
#: Batch size assumed by the "auto" path when the batch dimension is unknown while tracing.
ASSUMED_BATCH = 32


def _pair(value, name, minimum=1):
    """An int or a pair of ints >= `minimum`, as a tuple of two Python ints."""
    values = tuple(value) if isinstance(value, (list, tuple)) else (value, value)
    if len(values) != 2 or any(
        isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < minimum for v in values
    ):
        raise ValueError(
            f"`{name}` must be an integer >= {minimum} or a pair of them, got {value!r}."
        )
    return tuple(int(v) for v in values)


def _output_length(length, kernel, stride, dilation, padding):
    if length is None:
        return None
    if padding == "same":
        return -(-length // stride)
    return max((length - dilation * (kernel - 1) - 1) // stride + 1, 0)


@keras.saving.register_keras_serializable(package="tf_overparam")
class OverparamConv2D(keras.layers.Layer):
    """`Conv2D` with its kernel replaced by a depth-N product of factors (paper Eq. 2, reshaped).

    Reshape the kernel K of shape (kh, kw, c_in, c_out) to the matrix M of shape
    (kh·kw·c_in, c_out). This layer holds M = M_1 M_2 ⋯ M_N: factor 1 as a (kh, kw, c_in, n_1)
    conv kernel (M_1 is its reshape to (kh·kw·c_in, n_1)) and factors 2 … N as (n_{j−1}, n_j)
    matrices, i.e. a kh×kw conv with n_1 filters followed by N − 1 pointwise (1×1) convs, all
    linear. The convolution is linear in M, so gradient descent on the factors moves M exactly as
    paper Eq. 9 (Theorem 1) says,

        M ← M − η Σ_{j=1..N} [M Mᵀ]^{(N−j)/N} · ∂L/∂M · [Mᵀ M]^{(j−1)/N},

    which `EndToEndSGD` reproduces on a plain `Conv2D`. Layout: channels_last only.

    The forward pass is exact either way: "end_to_end" forms the kernel and runs one conv with
    c_out filters; "factored" runs the conv with n_1 filters, then the pointwise chain on every
    output pixel. "auto" (default) counts multiply-adds of both from the shapes and runs the
    cheaper (with an unknown batch size while tracing, a batch of 32 is assumed).

    Args:
        filters: output channels c_out, a positive integer.
        kernel_size: (kh, kw), an int or a pair of positive ints.
        depth: number of factors N, an integer >= 1 (1 is a plain Conv2D kernel).
        hidden_filters: widths n_1 … n_{N−1}: one positive int for all, or a list of N − 1
            ints. Default: min(kh·kw·c_in, filters), the smallest that keeps full expressiveness.
        strides: as in `Conv2D` (strides > 1 and dilation > 1 together are refused, as Conv2D
            does).
        padding: "valid" or "same", as in `Conv2D`.
        dilation_rate: as in `Conv2D`.
        activation: as in `Conv2D`.
        use_bias: as in `Conv2D`. The bias is one vector, not factored.
        kernel_initializer: "near_zero", "identity" (rectangular identity on the reshaped
            matrix, plus noise), "balanced" (paper Eq. 7 on the reshaped matrices), a
            `NearZero`/`NearIdentity`/`Balanced` instance (all drawn on the reshaped matrix),
            or any Keras initializer (factor 1 drawn with its 4-D conv shape, as Conv2D would;
            a seeded one gets seed + j for factor j).
        bias_initializer: as in `Conv2D`.
        kernel_regularizer: applied to every factor separately.
        bias_regularizer: as in `Conv2D`.
        activity_regularizer: as in `Conv2D`.
        kernel_constraint: applied to every factor separately.
        bias_constraint: as in `Conv2D`.
        forward_path: "auto", "end_to_end" or "factored" (see above); `call(inputs,
            forward_path=...)` overrides it for one call.
        data_format: only "channels_last" (or None) is supported.
        **kwargs: base `Layer` arguments (name, dtype, trainable, ...).

    Examples:
        >>> import keras, tf_overparam
        >>> model = keras.Sequential([
        ...     keras.Input((28, 28, 1)),
        ...     tf_overparam.OverparamConv2D(32, 5, depth=2, padding="same", activation="relu"),
        ... ])
        >>> kernel = model.layers[0].end_to_end_kernel  # (5, 5, 1, 32), the product of 2 factors
    """

    def __init__(
        self,
        filters,
        kernel_size,
        depth=2,
        hidden_filters=None,
        strides=1,
        padding="valid",
        dilation_rate=1,
        activation=None,
        use_bias=True,
        kernel_initializer="near_zero",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        forward_path="auto",
        data_format=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if isinstance(filters, bool) or not isinstance(filters, numbers.Integral) or filters <= 0:
            raise ValueError(f"`filters` must be a positive integer, got {filters!r}.")
        self.filters = int(filters)
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.depth = validate_depth(depth)
        self.hidden_filters = validate_hidden_units(hidden_filters, self.depth, "hidden_filters")
        self.strides = _pair(strides, "strides")
        self.dilation_rate = _pair(dilation_rate, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"`strides` > 1 and `dilation_rate` > 1 cannot be combined, got "
                f"strides={self.strides}, dilation_rate={self.dilation_rate}."
            )
        padding = padding.lower() if isinstance(padding, str) else padding
        if padding not in PADDINGS:
            raise ValueError(f"`padding` must be one of {PADDINGS}, got {padding!r}.")
        self.padding = padding
        if forward_path not in PATHS:
            raise ValueError(f"`forward_path` must be one of {PATHS}, got {forward_path!r}.")
        self.forward_path = forward_path
        if data_format not in (None, "channels_last"):
            raise ValueError(
                f"`data_format` must be 'channels_last' (or None), got {data_format!r}."
            )
        _factors.set_arguments(
            self, activation, use_bias, kernel_initializer, bias_initializer,
            kernel_regularizer, bias_regularizer, kernel_constraint, bias_constraint,
        )
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def matrix_shapes(self, input_channels):
        """[(kh·kw·c_in, n_1), (n_1, n_2), …, (n_{N−1}, c_out)]: the reshaped chain."""
        rows = self.kernel_size[0] * self.kernel_size[1] * input_channels
        widths = hidden_widths(self.hidden_filters, self.depth, rows, self.filters)
        dims = [rows] + widths + [self.filters]
        return [(dims[j], dims[j + 1]) for j in range(self.depth)]

    def factor_shapes(self, input_channels):
        """[(kh, kw, c_in, n_1), (n_1, n_2), …, (n_{N−1}, c_out)]: the stored factors."""
        shapes = self.matrix_shapes(input_channels)
        return [self.kernel_size + (input_channels, shapes[0][1])] + shapes[1:]

    def build(self, input_shape):
        input_channels = input_shape[-1]
        if input_channels is None:
            raise ValueError(f"The channel axis of the input must be known, got {input_shape}.")
        # Balanced, NearZero and NearIdentity draw on the reshaped chain (see `_factors`).
        _factors.build(
            self, self.matrix_shapes(input_channels), self.factor_shapes(input_channels),
            self.filters,
        )
        self.input_spec = keras.layers.InputSpec(ndim=4, axes={-1: input_channels})

    def _matrix_factors(self):
        first = ops.reshape(self.factors[0], self.matrix_shapes(self.factors[0].shape[2])[0])
        return [first] + list(self.factors[1:])

    @property
    def end_to_end_kernel(self):
        """reshape(M_1 M_2 ⋯ M_N) to the conv kernel shape (kh, kw, c_in, c_out) (paper Eq. 5)."""
        input_channels = self.factors[0].shape[2]
        return ops.reshape(
            chain_product(self._matrix_factors()),
            self.kernel_size + (input_channels, self.filters),
        )

    def path_costs(self, input_shape):
        """Multiply-adds of one forward pass by each path: {"end_to_end": …, "factored": …}.

        "end_to_end": forming M_1 ⋯ M_N (right to left, as `chain_product`) plus one conv with
        c_out filters; "factored": one conv with n_1 filters plus the chain on every output pixel.
        """
        shapes = self.matrix_shapes(input_shape[-1])
        rows, first_width = shapes[0]
        out_h, out_w = self.compute_output_shape(input_shape)[1:3]
        batch = input_shape[0] or ASSUMED_BATCH
        pixels = batch * (out_h if out_h is not None else 1) * (out_w if out_w is not None else 1)
        # chain_product: S_j = M_{j+1} S_{j+1} right to left, (n_j, c_out) each, then M_1 S_1.
        product = 0
        if self.depth > 1:
            product = self.filters * (rows * first_width + sum(a * b for a, b in shapes[1:-1]))
        chain = sum(n_in * n_out for n_in, n_out in shapes[1:])
        return {
            "end_to_end": product + pixels * rows * self.filters,
            "factored": pixels * (rows * first_width + chain),
        }

    def choose_path(self, input_shape, forward_path=None):
        """The path a call with inputs of `input_shape` takes ("end_to_end" or "factored")."""
        path = self.forward_path if forward_path is None else forward_path
        if path not in PATHS:
            raise ValueError(f"`forward_path` must be one of {PATHS}, got {path!r}.")
        if path != "auto":
            return path
        if self.depth == 1:
            return "end_to_end"
        costs = self.path_costs(tuple(input_shape))
        return "factored" if costs["factored"] < costs["end_to_end"] else "end_to_end"

    def _conv(self, inputs, kernel):
        return ops.conv(
            inputs,
            kernel,
            strides=self.strides,
            padding=self.padding,
            data_format="channels_last",
            dilation_rate=self.dilation_rate,
        )

    def call(self, inputs, forward_path=None):
        if self.choose_path(inputs.shape, forward_path) == "end_to_end":
            outputs = self._conv(inputs, self.end_to_end_kernel)
        else:
            outputs = self._conv(inputs, self.factors[0])
            if self.depth > 1:
                outputs = apply_chain(outputs, self.factors[1:])
        return _factors.finish(self, outputs)

    def compute_output_shape(self, input_shape):
        spatial = [
            _output_length(input_shape[1 + i], self.kernel_size[i], self.strides[i],
                           self.dilation_rate[i], self.padding)
            for i in range(2)
        ]
        return (input_shape[0], spatial[0], spatial[1], self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "depth": self.depth,
                "hidden_filters": self.hidden_filters,
                "strides": self.strides,
                "padding": self.padding,
                "dilation_rate": self.dilation_rate,
                **_factors.config_entries(self),
                "forward_path": self.forward_path,
                "data_format": "channels_last",
            }
        )
        return config
