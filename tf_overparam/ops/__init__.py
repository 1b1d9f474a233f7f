"""Backend-agnostic mathematics shared by the optimizer, the trainer and the theory figures."""

from tf_overparam.ops.end_to_end import end_to_end_direction
from tf_overparam.ops.end_to_end import end_to_end_direction_single_output
from tf_overparam.ops.end_to_end import end_to_end_direction_svd

__all__ = [
    "end_to_end_direction",
    "end_to_end_direction_single_output",
    "end_to_end_direction_svd",
]
