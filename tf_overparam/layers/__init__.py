from tf_overparam.layers.overparam_dense import OverparamDense

__all__ = ["OverparamDense"]
