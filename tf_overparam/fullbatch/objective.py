"""The full-batch objective: the ℓp loss of linear models on one fixed (X, Y), for a batch of
end-to-end kernels at once. The formulas are `tf_overparam.ops.lp`'s; this module chooses the
form (residual or ℓ2 Gram moments) and the dtypes, and holds the data."""

from __future__ import annotations

import numpy as np
from keras import ops

from tf_overparam.ops import lp

#: "float64": everything in float64. "float32": everything in float32. "mixed": the two products
#: with X (the only O(n·d) work per step) in float32, everything else (parameters, optimizer
#: state, residual powers, the loss) in float64.
DTYPES = ("float64", "mixed", "float32")


class Objective:
    """L(K) = mean over rows and outputs of (1/p)|x K − y|^p, and G = ∂L/∂K, for kernels (B, d, k).

    Args:
        X: (n, d) features. Y: (n, k) targets. Used as given (normalize first).
        p: the loss exponent (> 1).
        dtype: one of `DTYPES`.
        gram: ℓ2 only: compute from the moments XᵀX, XᵀY, ΣY² (O(d²k) per kernel instead of
            O(ndk); the same gradient descent up to round-off).

    The data live in backend tensors made by `arrays()`, which the compiled loop takes as
    arguments (not as captured constants, which XLA would fold into the program).
    """

    def __init__(self, X, Y, p, dtype="float64", gram=False):
        if gram and p != 2:
            raise ValueError(f"`gram=True` needs p = 2, got p={p!r}.")
        self.n, self.d = X.shape
        self.k = Y.shape[1]
        self.p = p
        self.gram = bool(gram)
        self.dtype = "float32" if dtype == "float32" else "float64"  # parameters, state, loss
        self.compute_dtype = "float64" if dtype == "float64" else "float32"  # products with X
        if self.gram:
            gram_matrix, cross, constant = lp.gram_l2_moments(X, Y)
            self._numpy = (gram_matrix.astype(self.dtype), cross.astype(self.dtype),
                           np.asarray(constant, dtype=self.dtype))
        else:
            features = np.asarray(X, dtype=self.compute_dtype)
            self._numpy = (features, np.asarray(Y, dtype=self.compute_dtype),
                           np.ascontiguousarray(features.T))

    def arrays(self):
        """The data as backend tensors (create them inside the backend's float64 scope)."""
        return tuple(ops.convert_to_tensor(a, dtype=str(a.dtype)) for a in self._numpy)

    def loss_and_gradient(self, arrays, kernels):
        """Per-kernel loss (B,) and G (B, d, k)."""
        if self.gram:
            return lp.gram_l2_loss_and_gradient(*arrays, kernels)
        features, targets, features_t = arrays
        return lp.linear_lp_loss_and_gradient(features, targets, kernels, self.p, features_t)

    def loss(self, arrays, kernels):
        """Per-kernel loss (B,)."""
        if self.gram:
            return lp.gram_l2_loss_and_gradient(*arrays, kernels)[0]
        return lp.linear_lp_loss(*arrays[:2], kernels, self.p, arrays[2])

    def describe(self) -> dict:
        return {"p": self.p, "rows": self.n, "features": self.d, "outputs": self.k,
                "gram": self.gram, "dtype": self.dtype, "compute_dtype": self.compute_dtype}
