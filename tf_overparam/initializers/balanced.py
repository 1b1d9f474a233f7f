"""Balanced initialization: the factors of a target kernel, exactly satisfying paper Eq. 7."""

import keras
import numpy as np
from keras import ops

from tf_overparam.initializers.near_zero import _check_stddev


@keras.saving.register_keras_serializable(package="tf_overparam")
class Balanced(keras.initializers.Initializer):
    """Factors K_1 … K_N whose product is a target kernel and that are exactly balanced.

    With the target K_e = U diag(s) Vᵀ of rank r (Keras layout, shape (d, k)), factor j is
    Q_{j−1} diag(s^{1/N}) Q_jᵀ with Q_0 = U, Q_N = V and random orthonormal Q_j (n_j × r) in
    between. Then K_1 ⋯ K_N = K_e and K_{j+1} K_{j+1}ᵀ = K_jᵀ K_j for every j (paper Eq. 7, in
    Keras layout), the assumption of Theorem 1. Beyond the paper: Arora, Cohen, Golowich, Hu
    (2019). Every hidden width must be at least r.

    Args:
        target: optional end-to-end kernel (nested list or array of shape (d, k)). When None, a
            target with i.i.d. N(0, stddev²) entries is drawn.
        stddev: standard deviation of the drawn target's entries. Must be >= 0.
        seed: optional integer seed for the drawn target and the orthonormal bases.

    Examples:
        >>> init = Balanced(stddev=0.01, seed=0)
        >>> factors = init.factors([(128, 1), (1, 1), (1, 1)])  # depth 3, hidden width 1
    """

    def __init__(self, target=None, stddev=0.01, seed=None):
        _check_stddev(stddev)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise ValueError(f"`seed` must be None or an integer >= 0, got {seed!r}.")
        if target is not None:
            target = np.asarray(target, dtype="float64")
            if target.ndim != 2:
                raise ValueError(f"`target` must be a 2-D kernel (d, k), got shape {target.shape}.")
        self.target = target
        self.stddev = stddev
        self.seed = seed

    def __call__(self, shape, dtype=None):
        """The end-to-end kernel itself (what a depth-1 layer would start from). A conv kernel
        shape (kh, kw, c_in, c_out) gets the (kh·kw·c_in, c_out) target, reshaped."""
        shape = tuple(shape)
        matrix = shape if len(shape) <= 2 else (int(np.prod(shape[:-1])), shape[-1])
        value = np.reshape(self.target_kernel(matrix), shape)
        return ops.convert_to_tensor(value, dtype=dtype or "float32")

    def _resolved_seed(self):
        # Unseeded draws follow Keras' global seed, so keras.utils.set_random_seed reproduces them.
        if self.seed is not None:
            return self.seed
        return int(ops.convert_to_numpy(keras.random.randint((), 0, 2**31 - 1)))

    def target_kernel(self, shape, seed=None):
        """The (d, k) target as float64 numpy: the given one, or a seeded Gaussian draw."""
        shape = tuple(shape)
        if self.target is not None:
            if self.target.shape != shape:
                raise ValueError(
                    f"`target` has shape {self.target.shape} but the layer's kernel is {shape}."
                )
            return self.target
        seed = self._resolved_seed() if seed is None else seed
        return np.random.default_rng(seed).normal(0.0, self.stddev, size=shape)

    def factors(self, shapes, dtype=None):
        """Balanced factors for the chain of `shapes` [(d, n_1), (n_1, n_2), …, (n_{N−1}, k)]."""
        values = self.numpy_factors(shapes, self._resolved_seed())
        return [ops.convert_to_tensor(v, dtype=dtype or "float32") for v in values]

    def numpy_factors(self, shapes, seed):
        """The balanced chain in float64 NumPy for a given seed (the target, when drawn, with
        `numpy.random.default_rng(seed)`, the bases with seed + 1): the full-batch trainer's
        initialization, the same on every backend."""
        shapes = [tuple(s) for s in shapes]
        target = self.target_kernel((shapes[0][0], shapes[-1][1]), seed=seed)
        depth = len(shapes)
        left, singular_values, right_t = np.linalg.svd(target, full_matrices=False)
        tolerance = singular_values.max(initial=0.0) * max(target.shape) * np.finfo("float64").eps
        rank = int(np.sum(singular_values > tolerance))
        hidden_widths = [s[1] for s in shapes[:-1]]
        if hidden_widths and min(hidden_widths) < rank:
            raise ValueError(
                f"Balanced initialization needs every hidden width >= the target's rank {rank}, "
                f"got `hidden_units`={hidden_widths}."
            )
        root = np.diag(singular_values[:rank] ** (1.0 / depth))
        rng = np.random.default_rng(seed + 1)
        bases = [left[:, :rank]]
        for width in hidden_widths:
            bases.append(np.linalg.qr(rng.normal(size=(width, rank)))[0][:, :rank])
        bases.append(right_t[:rank].T)
        return [bases[j] @ root @ bases[j + 1].T for j in range(depth)]

    def get_config(self):
        target = None if self.target is None else self.target.tolist()
        return {"target": target, "stddev": self.stddev, "seed": self.seed}
