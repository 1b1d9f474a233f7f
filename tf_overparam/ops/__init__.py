"""Backend-agnostic mathematics, each concept written once: the end-to-end direction and update
(Eq. 9, Eq. 11), the ℓp loss and its gradient, and products of factor chains."""

from tf_overparam.ops.chain import apply_chain
from tf_overparam.ops.chain import chain_product
from tf_overparam.ops.chain import factor_gradients
from tf_overparam.ops.chain import suffix_products
from tf_overparam.ops.end_to_end import end_to_end_direction
from tf_overparam.ops.end_to_end import end_to_end_direction_single_output
from tf_overparam.ops.end_to_end import end_to_end_direction_svd
from tf_overparam.ops.end_to_end import end_to_end_update
from tf_overparam.ops.lp import linear_lp_loss
from tf_overparam.ops.lp import linear_lp_loss_and_gradient
from tf_overparam.ops.lp import lp_loss
from tf_overparam.ops.lp import lp_values
from tf_overparam.ops.lp import residual_power

__all__ = [
    "apply_chain",
    "chain_product",
    "end_to_end_direction",
    "end_to_end_direction_single_output",
    "end_to_end_direction_svd",
    "end_to_end_update",
    "factor_gradients",
    "linear_lp_loss",
    "linear_lp_loss_and_gradient",
    "lp_loss",
    "lp_values",
    "residual_power",
    "suffix_products",
]
