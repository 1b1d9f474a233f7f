"""tf-overparam: depth-N overparameterized Keras layers and the end-to-end optimizer.

Arora, Cohen, Hazan, "On the Optimization of Deep Networks: Implicit Acceleration by
Overparameterization", ICML 2018. Importing this package registers every class for `.keras`
saving and loading.
"""

from tf_overparam import datasets
from tf_overparam import initializers
from tf_overparam import ops
from tf_overparam.initializers import Balanced
from tf_overparam.initializers import NearIdentity
from tf_overparam.initializers import NearZero
from tf_overparam.layers import OverparamConv2D
from tf_overparam.layers import OverparamDense
from tf_overparam.losses import LpLoss
from tf_overparam.optimizers import EndToEndSGD
from tf_overparam.transforms import collapse
from tf_overparam.transforms import overparameterize

__version__ = "0.1.0"

__all__ = [
    "Balanced",
    "EndToEndSGD",
    "LpLoss",
    "NearIdentity",
    "NearZero",
    "OverparamConv2D",
    "OverparamDense",
    "collapse",
    "datasets",
    "initializers",
    "ops",
    "overparameterize",
]
