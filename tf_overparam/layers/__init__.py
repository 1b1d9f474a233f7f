from tf_overparam.layers.overparam_conv2d import OverparamConv2D
from tf_overparam.layers.overparam_dense import OverparamDense

__all__ = ["OverparamConv2D", "OverparamDense"]
