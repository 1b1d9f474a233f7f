from tf_overparam.optimizers.end_to_end_sgd import EndToEndSGD

__all__ = ["EndToEndSGD"]
