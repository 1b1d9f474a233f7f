"""A faithful Keras port of TensorFlow's original MNIST convnet tutorial, and its training loop.

The original is `tutorials/image/mnist/convolutional.py` of tensorflow/models (TensorFlow 1,
2016-2017), the code the paper overparameterized for Figure 5-right (Appendix B.2). Every number
below is the original's; where Keras 3 computes something differently, the original's arithmetic
is reproduced and the comment says how:

- Data: pixels (x − 127.5)/255 in float32; the first 5,000 training images are the validation
  set, 55,000 remain; batch 64; no shuffling: step s trains on images [o, o + 64) with
  o = (64·s) mod (55,000 − 64) (`batch_offset`). 10 epochs = int(10·55,000)//64 = 8,593 steps.
- Model (`build_model`): conv 5×5×32 (bias 0) + ReLU, max-pool 2×2 SAME, conv 5×5×64 (bias 0.1) +
  ReLU, max-pool 2×2 SAME, flatten (NHWC order, 3,136), dense 512 (bias 0.1) + ReLU, dropout 0.5
  (training only, Keras scales kept units by 2 like tf.nn.dropout), dense 10 (bias 0.1). Every
  weight truncated normal with std 0.1 (cut at 2 std, so the sample std is 0.088), and, like the
  original, every weight tensor is drawn with the same seed 66478 (in TF1 and in Keras alike, equal
  seeds give equal random streams, so the tensors share their leading values). The random streams
  themselves are Keras', not TF1's: the distribution is the original's, not the exact numbers.
- Loss: mean softmax cross-entropy + 5e-4 · (l2_loss(fc1_w) + l2_loss(fc1_b) + l2_loss(fc2_w) +
  l2_loss(fc2_b)) with TensorFlow's l2_loss(x) = Σx²/2. Keras' L2(l) is l·Σx², so each of the four
  tensors carries `keras.regularizers.L2(2.5e-4)` and the loss is the cross-entropy plus
  `sum(model.losses)` (equal to the original term up to float rounding; tested).
- Optimizer (`TF1Momentum`, stepping through `tf_overparam.fullbatch.tf1_momentum`): TF1's
  MomentumOptimizer, a ← μa + g; w ← w − lr·a, μ = 0.9 (Keras' SGD differs at every rate drop).
- Learning rate (`TutorialLearningRate`): tf.train.exponential_decay(0.01, step·64, 55,000, 0.95,
  staircase=True) = 0.01 · 0.95^floor(64·step / 55,000) in float32, read before the step's update
  as TF1 does (the global step is incremented after the update).

`Trainer` runs the steps in a compiled loop (`tf.function`), on whatever device TensorFlow picks.
`train_model` adds what a long run needs: per-step losses appended to a CSV as they come, the
validation error every 100 steps (the original's EVAL_FREQUENCY), checkpoints, and resuming.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import time

import keras
import numpy as np
import tensorflow as tf
from keras import ops

import tf_overparam
from .provenance import cpu_name
from .records import write_json
from tf_overparam.fullbatch.updates import tf1_momentum

# --- The original's constants (names as in convolutional.py) -------------------------------------
IMAGE_SIZE = 28
NUM_CHANNELS = 1
PIXEL_DEPTH = 255
NUM_LABELS = 10
VALIDATION_SIZE = 5000
SEED = 66478
BATCH_SIZE = 64
NUM_EPOCHS = 10
EVAL_FREQUENCY = 100
TRAIN_SIZE = 60000 - VALIDATION_SIZE  # 55,000
NUM_STEPS = int(NUM_EPOCHS * TRAIN_SIZE) // BATCH_SIZE  # 8,593
BASE_LEARNING_RATE = 0.01
DECAY_RATE = 0.95
MOMENTUM = 0.9
L2_WEIGHT = 5e-4  # multiplies tf.nn.l2_loss = Σx²/2
KERAS_L2 = L2_WEIGHT / 2  # keras.regularizers.L2(l) computes l·Σx²
WEIGHT_STDDEV = 0.1
DROPOUT_RATE = 0.5  # the original's keep_prob 0.5

#: Parameter counts: the original, and after the paper's overparameterization (Appendix B.2).
ORIGINAL_PARAMS = 1_663_370
OVERPARAMETERIZED_PARAMS = 1_925_614  # + 512·512 + 10·10 = 262,244


# --- Data --------------------------------------------------------------------------------------


def scale_images(images):
    """uint8 (n, 28, 28) → float32 (n, 28, 28, 1), (x − 127.5)/255 as the original's extract_data."""
    data = np.asarray(images).astype(np.float32)
    data = (data - (PIXEL_DEPTH / 2.0)) / PIXEL_DEPTH
    return data.reshape(-1, IMAGE_SIZE, IMAGE_SIZE, NUM_CHANNELS)


def load_tutorial_data(data_dir=None):
    """The tutorial's three sets from `tf_overparam.datasets.load_mnist(data_dir)`.

    Returns a dict with "train" (55,000), "validation" (the first 5,000 training images) and
    "test" (10,000), each a pair (float32 images (n, 28, 28, 1), int64 labels (n,)).
    """
    (x_train, y_train), (x_test, y_test) = tf_overparam.datasets.load_mnist(data_dir)
    train_data, train_labels = scale_images(x_train), np.asarray(y_train).astype(np.int64)
    return {
        "validation": (train_data[:VALIDATION_SIZE], train_labels[:VALIDATION_SIZE]),
        "train": (train_data[VALIDATION_SIZE:], train_labels[VALIDATION_SIZE:]),
        "test": (scale_images(x_test), np.asarray(y_test).astype(np.int64)),
    }


def batch_offset(step, train_size=TRAIN_SIZE, batch_size=BATCH_SIZE):
    """The original's unshuffled order: step s trains on [offset, offset + batch_size)."""
    return (step * batch_size) % (train_size - batch_size)


# --- Model ---------------------------------------------------------------------------------------


def _weights(seed):
    return keras.initializers.TruncatedNormal(mean=0.0, stddev=WEIGHT_STDDEV, seed=seed)


def build_model(seed=SEED):
    """The tutorial's convnet as a Keras Sequential (1,663,370 parameters), logits out.

    Layer names: conv1, pool1, conv2, pool2, flatten, fc1, dropout, fc2. fc1 and fc2 carry
    L2(2.5e-4) on kernel and bias, i.e. 5e-4 · l2_loss as in the original.
    """
    l2 = keras.regularizers.L2(KERAS_L2)
    model = keras.Sequential(
        [
            keras.Input((IMAGE_SIZE, IMAGE_SIZE, NUM_CHANNELS)),
            keras.layers.Conv2D(32, 5, padding="same", activation="relu", kernel_initializer=_weights(seed),
                                bias_initializer="zeros", name="conv1"),
            keras.layers.MaxPooling2D(2, strides=2, padding="same", name="pool1"),
            keras.layers.Conv2D(64, 5, padding="same", activation="relu", kernel_initializer=_weights(seed),
                                bias_initializer=keras.initializers.Constant(0.1), name="conv2"),
            keras.layers.MaxPooling2D(2, strides=2, padding="same", name="pool2"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(512, activation="relu", kernel_initializer=_weights(seed),
                               bias_initializer=keras.initializers.Constant(0.1),
                               kernel_regularizer=l2, bias_regularizer=l2, name="fc1"),
            keras.layers.Dropout(DROPOUT_RATE, seed=seed, name="dropout"),
            keras.layers.Dense(NUM_LABELS, kernel_initializer=_weights(seed),
                               bias_initializer=keras.initializers.Constant(0.1),
                               kernel_regularizer=l2, bias_regularizer=l2, name="fc2"),
        ],
        name="mnist_tutorial",
    )
    return model


def build_overparameterized(model, l2_on_new_factors=False):
    """The paper's variant: each dense kernel becomes a product of two (Appendix B.2).

    fc1: 3,136×512 → 3,136×512 then 512×512; fc2: 512×10 → 512×10 then 10×10, via
    `tf_overparam.overparameterize(model, depth=2)`: the new matrices are initialized like the old
    ones (truncated normal, std 0.1; the first factor keeps the original seed and so the original's
    exact initial kernel, the second gets seed + 1); the conv layers' weights and the biases are
    copied from `model`.

    L2: by default only the tensors the original's regularizer names keep their L2 term: the first
    factors (the original's shapes, initializers and initial values) and the biases. The new
    512×512 and 10×10 matrices are not regularized (`l2_on_new_factors=False`): the paper changed
    "absolutely nothing" besides the two matrix products, and the regularizer line of the original
    names fc1_weights, fc1_biases, fc2_weights, fc2_biases only. `l2_on_new_factors=True` keeps
    the library's default instead (the Dense regularizer on every factor).
    """
    deep = tf_overparam.overparameterize(model, depth=2)
    if not l2_on_new_factors:
        for layer in deep.layers:
            if isinstance(layer, tf_overparam.OverparamDense):
                for factor in layer.factors[1:]:
                    factor.regularizer = None
    return deep


def count_params(model):
    return int(sum(np.prod(v.shape) for v in model.trainable_variables))


def tf_l2_loss(values):
    """TensorFlow's tf.nn.l2_loss: Σx²/2."""
    return ops.sum(ops.square(values)) / 2


def regularized_variables(model):
    """The variables that carry an L2 term in `model` (fc1/fc2 kernels or factors, and biases)."""
    return [v for v in model.trainable_variables if getattr(v, "regularizer", None) is not None]


# --- Optimizer and learning rate ------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="reproduce")
class TutorialLearningRate(keras.optimizers.schedules.LearningRateSchedule):
    """tf.train.exponential_decay(0.01, step·64, 55,000, 0.95, staircase=True), in float32.

    lr(step) = 0.01 · 0.95^floor(step·64 / 55,000): decayed once per epoch of 55,000 images.
    """

    def __init__(self, initial_learning_rate=BASE_LEARNING_RATE, batch_size=BATCH_SIZE,
                 train_size=TRAIN_SIZE, decay_rate=DECAY_RATE):
        self.initial_learning_rate = initial_learning_rate
        self.batch_size = batch_size
        self.train_size = train_size
        self.decay_rate = decay_rate

    def __call__(self, step):
        # As TF1: the global step (a float32 variable in the tutorial) times the batch size,
        # divided by the decay steps, floored, all in the learning rate's dtype.
        images_seen = ops.multiply(ops.cast(step, "float32"), float(self.batch_size))
        epoch = ops.floor(ops.divide(images_seen, float(self.train_size)))
        return ops.multiply(self.initial_learning_rate, ops.power(ops.cast(self.decay_rate, "float32"), epoch))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "batch_size": self.batch_size,
                "train_size": self.train_size, "decay_rate": self.decay_rate}


@keras.saving.register_keras_serializable(package="reproduce")
class TF1Momentum(keras.optimizers.Optimizer):
    """TensorFlow 1's tf.train.MomentumOptimizer: a ← μa + g; w ← w − lr·a (no Nesterov).

    Keras 3's SGD(momentum=μ) uses m ← μm − lr·g; w ← w + m, which equals this only while the
    learning rate is constant: after a drop from lr₀ to lr₁ Keras' velocity still carries lr₀·a,
    TF1's accumulator is rescaled by the new rate at once. The tutorial's rate drops every epoch.
    """

    def __init__(self, learning_rate=0.01, momentum=MOMENTUM, name="tf1_momentum", **kwargs):
        rule = tf1_momentum(momentum)  # validates `momentum` before any work
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.momentum, self._rule = momentum, rule

    def build(self, variables):
        if not self.built:
            super().build(variables)
            self.accumulators = [self.add_variable_from_reference(v, name="accumulator") for v in variables]

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        accumulator = self.accumulators[self._get_variable_index(variable)]
        # The one TF1-momentum rule (tf_overparam.fullbatch.updates), on Keras variables.
        (value,), ((accumulated,),) = self._rule.update([gradient], ([accumulator],), [variable], learning_rate)
        self.assign(accumulator, accumulated)
        self.assign(variable, value)

    def get_config(self):
        config = super().get_config()
        config.update({"momentum": self.momentum})
        return config


def make_optimizer():
    return TF1Momentum(learning_rate=TutorialLearningRate(), momentum=MOMENTUM)


# --- Training ------------------------------------------------------------------------------------


def error_rate(logits, labels):
    """Percent misclassified, as the original's error_rate."""
    return 100.0 - 100.0 * float(np.sum(np.argmax(logits, 1) == labels)) / logits.shape[0]


def device_description():
    """Where TensorFlow runs the model: the GPU's name if one is visible, else the CPU's."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return {"type": "GPU", "name": details.get("device_name", gpus[0].name), "count": len(gpus)}
    return {"type": "CPU", "name": cpu_name(), "count": os.cpu_count()}


class Trainer:
    """The tutorial's training step for a model, compiled; runs chunks of steps from any step.

    The training images live in a device tensor; step s takes the batch at `batch_offset(s)`.
    `train(first_step, num_steps)` returns per-step arrays of the total loss (what the optimizer
    minimizes: cross-entropy + L2), the cross-entropy alone and the learning rate used, each
    computed in the step's own forward pass (dropout on, weights before the update).
    """

    def __init__(self, model, train_data, optimizer=None, jit_compile=False, eval_batch_size=500):
        if keras.backend.backend() != "tensorflow":
            raise RuntimeError("the tutorial's training loop is a tf.function: set KERAS_BACKEND=tensorflow")
        self.model = model
        self.optimizer = optimizer or make_optimizer()
        self.optimizer.build(model.trainable_variables)
        images, labels = train_data
        self.train_size = len(labels)
        self.images = tf.Variable(images, trainable=False, name="train_images")
        self.labels = tf.Variable(np.asarray(labels, np.int64), trainable=False, name="train_labels")
        self.eval_batch_size = eval_batch_size
        self.jit_compile = jit_compile
        # The loop and the batch slicing stay outside XLA: an XLA cluster that reads the whole
        # image variable copies it every call (seconds per step on CPU); only the step is jitted.
        self._step = tf.function(self._step_on_batch, jit_compile=True) if jit_compile else self._step_on_batch
        self._train = tf.function(self._train_steps)
        self._predict = tf.function(lambda x: self.model(x, training=False), jit_compile=jit_compile)

    def _one_step(self, step):
        offset = batch_offset(step, self.train_size)  # the same function the tests check
        x = tf.slice(self.images, [offset, 0, 0, 0], [BATCH_SIZE, IMAGE_SIZE, IMAGE_SIZE, NUM_CHANNELS])
        y = tf.slice(self.labels, [offset], [BATCH_SIZE])
        return self._step(x, y)

    def _step_on_batch(self, x, y):
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            logits = self.model(x, training=True)
            cross_entropy = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
            regularization = tf.add_n(self.model.losses) if self.model.losses else 0.0
            total = cross_entropy + regularization
        gradients = tape.gradient(total, variables)
        learning_rate = tf.convert_to_tensor(self.optimizer.learning_rate)  # before the update, as TF1
        self.optimizer.apply_gradients(zip(gradients, variables))
        return total, cross_entropy, learning_rate

    def _train_steps(self, first_step, num_steps):
        totals = tf.TensorArray(tf.float32, size=num_steps)
        entropies = tf.TensorArray(tf.float32, size=num_steps)
        rates = tf.TensorArray(tf.float32, size=num_steps)
        for i in tf.range(num_steps):
            total, cross_entropy, learning_rate = self._one_step(first_step + tf.cast(i, tf.int64))
            totals = totals.write(i, total)
            entropies = entropies.write(i, cross_entropy)
            rates = rates.write(i, learning_rate)
        return totals.stack(), entropies.stack(), rates.stack()

    def train(self, first_step, num_steps):
        """Run steps first_step … first_step + num_steps − 1; numpy (total, cross-entropy, lr)."""
        if int(self.optimizer.iterations.numpy()) != first_step:
            raise ValueError(f"optimizer is at step {int(self.optimizer.iterations.numpy())}, asked to start at {first_step}")
        totals, entropies, rates = self._train(tf.constant(first_step, tf.int64), tf.constant(num_steps, tf.int32))
        return totals.numpy(), entropies.numpy(), rates.numpy()

    def logits(self, images):
        outputs = [self._predict(tf.constant(images[begin:begin + self.eval_batch_size])).numpy()
                   for begin in range(0, len(images), self.eval_batch_size)]
        return np.concatenate(outputs)

    def error(self, data):
        images, labels = data
        return error_rate(self.logits(images), labels)

    # Checkpoints: every variable of the model (the dropout seed state included) and optimizer.
    def state_variables(self):
        return list(self.model.variables) + list(self.optimizer.variables)

    def get_state(self):
        return [np.asarray(v.numpy()) for v in self.state_variables()]

    def set_state(self, values):
        variables = self.state_variables()
        if len(values) != len(variables):
            raise ValueError(f"checkpoint holds {len(values)} variables, the model and optimizer {len(variables)}")
        for variable, value in zip(variables, values):
            if tuple(variable.shape) != tuple(value.shape):
                raise ValueError(f"checkpoint shape {value.shape} does not fit {variable.path} {variable.shape}")
            variable.assign(value)


def _chunk_ends(start, num_steps, eval_frequency, checkpoint_every, stop_after):
    """Steps (exclusive ends) at which a compiled chunk stops: after each evaluation step
    (step % eval_frequency == 0, as the original), each checkpoint, the end and `stop_after`."""
    ends = {num_steps}
    ends.update(s + 1 for s in range(0, num_steps, eval_frequency))
    ends.update(range(checkpoint_every, num_steps, checkpoint_every))
    if stop_after is not None:
        ends.add(min(stop_after, num_steps))
    return sorted(e for e in ends if e > start)


def _config_hash(config):
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


def _write_checkpoint(path, trainer, records, config_hash):
    tmp = path.with_name(path.stem + ".tmp.npz")
    state = trainer.get_state()
    arrays = {f"var_{i:03d}": value for i, value in enumerate(state)}
    arrays.update({f"record_{key}": np.asarray(value) for key, value in records.items()})
    arrays["config_hash"] = np.array(config_hash)
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def _read_checkpoint(path):
    with np.load(path, allow_pickle=False) as data:
        variables = [data[key] for key in sorted(k for k in data.files if k.startswith("var_"))]
        records = {key[len("record_"):]: data[key] for key in data.files if key.startswith("record_")}
        config_hash = str(data["config_hash"])
    return variables, records, config_hash


LOSSES_HEADER = "iteration,total_loss,cross_entropy,learning_rate\n"


def _write_losses(path, records, start=0):
    """Append rows start… of the per-step records (iteration = step + 1), or rewrite from 0."""
    lines = [
        f"{step + 1},{records['total'][step]:.9g},{records['cross_entropy'][step]:.9g},{records['learning_rate'][step]:.9g}\n"
        for step in range(start, len(records["total"]))
    ]
    if start == 0:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(LOSSES_HEADER + "".join(lines))
        os.replace(tmp, path)
    else:
        with path.open("a") as handle:
            handle.write("".join(lines))


def read_losses(path):
    """The per-step CSV as a dict of arrays: iteration, total_loss, cross_entropy, learning_rate."""
    table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return {name: table[:, i] for i, name in enumerate(LOSSES_HEADER.strip().split(","))}


def train_model(model, data, out_dir, num_steps=NUM_STEPS, eval_frequency=EVAL_FREQUENCY,
                checkpoint_every=500, jit_compile=False, run_config=None, stop_after=None, log=print):
    """Train `model` as the tutorial does, writing into `out_dir` as it goes; resumes.

    Writes `losses.csv` (one row per step, appended after each chunk), `checkpoint.npz` (weights,
    optimizer, dropout seed state and every record, every `checkpoint_every` steps and at the end)
    and `result.json` (validation errors, test error, step times, device) when done. A rerun
    with the same `run_config` resumes from the checkpoint: its losses equal an uninterrupted
    run's. `stop_after` stops after that many steps without a checkpoint (an interruption, for
    tests). Returns the result dict (with "complete": False when stopped early).
    """
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result_path, checkpoint_path, losses_path = out_dir / "result.json", out_dir / "checkpoint.npz", out_dir / "losses.csv"
    config = dict(run_config or {}, num_steps=num_steps, eval_frequency=eval_frequency)
    config_hash = _config_hash(config)
    if result_path.exists():
        result = json.loads(result_path.read_text())
        if result.get("config_hash") == config_hash and result.get("complete"):
            log(f"  {out_dir.name}: complete, kept ({result_path})")
            return result

    trainer = Trainer(model, data["train"], jit_compile=jit_compile)
    records = {"total": np.zeros(0, np.float32), "cross_entropy": np.zeros(0, np.float32),
               "learning_rate": np.zeros(0, np.float32), "eval_iteration": np.zeros(0, np.int64),
               "validation_error": np.zeros(0, np.float64), "chunk_steps": np.zeros(0, np.int64),
               "chunk_seconds": np.zeros(0, np.float64), "chunk_first_in_process": np.zeros(0, bool)}
    start = 0
    if checkpoint_path.exists():
        variables, saved, saved_hash = _read_checkpoint(checkpoint_path)
        if saved_hash != config_hash:
            raise RuntimeError(f"{checkpoint_path} was written with another configuration; delete {out_dir} to start over")
        trainer.set_state(variables)
        records.update(saved)
        start = len(records["total"])
        log(f"  {out_dir.name}: resuming at step {start}")
    _write_losses(losses_path, records, 0)

    first_in_process = True
    for end in _chunk_ends(start, num_steps, eval_frequency, checkpoint_every, stop_after):
        began = time.perf_counter()
        totals, entropies, rates = trainer.train(start, end - start)
        seconds = time.perf_counter() - began
        for key, values in (("total", totals), ("cross_entropy", entropies), ("learning_rate", rates)):
            records[key] = np.concatenate([records[key], values])
        records["chunk_steps"] = np.append(records["chunk_steps"], end - start)
        records["chunk_seconds"] = np.append(records["chunk_seconds"], seconds)
        records["chunk_first_in_process"] = np.append(records["chunk_first_in_process"], first_in_process)
        first_in_process = False
        _write_losses(losses_path, records, start)
        last_step = end - 1
        if last_step % eval_frequency == 0 or end == num_steps:
            validation = trainer.error(data["validation"])
            records["eval_iteration"] = np.append(records["eval_iteration"], end)
            records["validation_error"] = np.append(records["validation_error"], validation)
            log(f"  {out_dir.name}: step {last_step} (epoch {last_step * BATCH_SIZE / TRAIN_SIZE:.2f}), "
                f"{1000 * seconds / (end - start):.1f} ms/step, batch loss {totals[-1]:.3f} "
                f"(cross-entropy {entropies[-1]:.3f}), lr {rates[-1]:.6f}, validation error {validation:.1f}%")
        start = end
        if stop_after is not None and end >= stop_after and end < num_steps:
            return {"complete": False, "steps_done": end}
        if end % checkpoint_every == 0 or end == num_steps:
            _write_checkpoint(checkpoint_path, trainer, records, config_hash)

    test_error = trainer.error(data["test"])
    steady = ~records["chunk_first_in_process"]  # the first chunk of a process includes tracing
    steps, seconds = records["chunk_steps"], records["chunk_seconds"]
    result = {
        "complete": True,
        "config_hash": config_hash,
        "config": config,
        "parameters": count_params(model),
        "steps": num_steps,
        "test_error_percent": test_error,
        "final_validation_error_percent": float(records["validation_error"][-1]),
        "validation": {"iteration": records["eval_iteration"].tolist(),
                       "error_percent": records["validation_error"].tolist()},
        "device": device_description(),
        "variable_device": str(trainer.model.trainable_variables[0].value.device),
        "jit_compile": jit_compile,
        "train_seconds": float(seconds.sum()),
        "seconds_per_step_median": float(np.median(seconds[steady] / steps[steady])) if steady.any() else None,
        "seconds_per_step_mean": float(seconds[steady].sum() / steps[steady].sum()) if steady.any() else None,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }
    write_json(result_path, result)
    log(f"  {out_dir.name}: test error {test_error:.2f}%")
    return result
