"""Full-batch training of deep linear networks, many configurations at once, compiled on
TensorFlow or JAX: what the paper's regression figures run.

- `LinearNetwork`: the model (depth, hidden widths, factor initializer), Keras' argument names.
- `train`: the compiled loop (learning rates × seeds of one network and one update rule).
- update rules (`gd`, `end_to_end`, `adagrad`, `adadelta`, `adam`, `momentum`, `tf1_momentum`):
  pure (init, update) pairs, optax style; `RULES` maps names to them.
- `TrainResult`: curves, divergences, level crossings, final factors, timing.

See docs/design.md ("The house") for who calls whom.
"""

from tf_overparam.fullbatch.loop import train
from tf_overparam.fullbatch.network import LinearNetwork
from tf_overparam.fullbatch.objective import DTYPES
from tf_overparam.fullbatch.result import TrainResult
from tf_overparam.fullbatch.updates import RULES
from tf_overparam.fullbatch.updates import UpdateRule
from tf_overparam.fullbatch.updates import adadelta
from tf_overparam.fullbatch.updates import adagrad
from tf_overparam.fullbatch.updates import adam
from tf_overparam.fullbatch.updates import end_to_end
from tf_overparam.fullbatch.updates import gd
from tf_overparam.fullbatch.updates import momentum
from tf_overparam.fullbatch.updates import tf1_momentum

__all__ = ["DTYPES", "LinearNetwork", "RULES", "TrainResult", "UpdateRule", "adadelta",
           "adagrad", "adam", "end_to_end", "gd", "momentum", "tf1_momentum", "train"]
