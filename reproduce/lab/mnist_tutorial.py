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

The port is Keras 3 only (keras.ops, keras.random, a Keras optimizer): it runs on the
TensorFlow, JAX and PyTorch backends, and imports TensorFlow only on the TensorFlow backend.
One step's arithmetic is written once here (`take_batch`, `objective`, `current_learning_rate`,
the TF1-momentum rule); `reproduce.lab.mnist_trainer` runs it per backend (`Trainer`: a tf.function
loop on TensorFlow, a jitted `lax.scan` of stateless steps on JAX, eager steps on PyTorch) and
adds what a long run needs (`train_model`: per-step losses in a CSV, the validation error every
100 steps as the original's EVAL_FREQUENCY, checkpoints, resuming).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

import tf_overparam
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


def load_tutorial_data(data_dir=None, source="files"):
    """The tutorial's three sets from `tf_overparam.datasets.load_mnist(data_dir, source=source)`
    (``source="tfds"``: through `tfds.load("mnist")`, the same arrays in the same order).

    Returns a dict with "train" (55,000), "validation" (the first 5,000 training images) and
    "test" (10,000), each a pair (float32 images (n, 28, 28, 1), int64 labels (n,)).
    """
    (x_train, y_train), (x_test, y_test) = tf_overparam.datasets.load_mnist(data_dir, source=source)
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


def build_model(seed=SEED, dropout_rate=DROPOUT_RATE, dtype=None, weight_stddev=WEIGHT_STDDEV,
                l2=KERAS_L2):
    """The tutorial's convnet as a Keras Sequential (1,663,370 parameters), logits out.

    Layer names: conv1, pool1, conv2, pool2, flatten, fc1, dropout, fc2. fc1 and fc2 carry
    L2(2.5e-4) on kernel and bias, i.e. 5e-4 · l2_loss as in the original. `dropout_rate=0`
    switches dropout off (the cross-backend tests compare losses without random masks).
    `dtype` (default: Keras' floatx, float32 as the original) sets every layer's dtype; the
    cross-implementation tests use "float64", where round-off is too small to be amplified into
    a visible difference within their horizon. `weight_stddev` and `l2` (Keras' L2 factor) are
    the original's unless an experiment's config says otherwise. The one builder of this net:
    Figure 5-right and the convolution experiment both call it.
    """
    def _weights(seed):
        return keras.initializers.TruncatedNormal(mean=0.0, stddev=weight_stddev, seed=seed)

    l2 = keras.regularizers.L2(l2)
    model = keras.Sequential(
        [
            keras.Input((IMAGE_SIZE, IMAGE_SIZE, NUM_CHANNELS), dtype=dtype),
            keras.layers.Conv2D(32, 5, padding="same", activation="relu", kernel_initializer=_weights(seed),
                                bias_initializer="zeros", name="conv1", dtype=dtype),
            keras.layers.MaxPooling2D(2, strides=2, padding="same", name="pool1", dtype=dtype),
            keras.layers.Conv2D(64, 5, padding="same", activation="relu", kernel_initializer=_weights(seed),
                                bias_initializer=keras.initializers.Constant(0.1), name="conv2", dtype=dtype),
            keras.layers.MaxPooling2D(2, strides=2, padding="same", name="pool2", dtype=dtype),
            keras.layers.Flatten(name="flatten", dtype=dtype),
            keras.layers.Dense(512, activation="relu", kernel_initializer=_weights(seed),
                               bias_initializer=keras.initializers.Constant(0.1),
                               kernel_regularizer=l2, bias_regularizer=l2, name="fc1", dtype=dtype),
            keras.layers.Dropout(dropout_rate, seed=seed, name="dropout", dtype=dtype),
            keras.layers.Dense(NUM_LABELS, kernel_initializer=_weights(seed),
                               bias_initializer=keras.initializers.Constant(0.1),
                               kernel_regularizer=l2, bias_regularizer=l2, name="fc2", dtype=dtype),
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


#: The emulated variant's optimizer (Figure 5-right), as recorded in its run config.
END_TO_END_OPTIMIZER = {"class": "tf_overparam.EndToEndSGD", "learning_rate": "TutorialLearningRate()",
                        "depth": 2, "momentum": MOMENTUM, "momentum_style": "tf1", "conv_kernels": False}


def make_end_to_end_optimizer():
    """The original convnet's optimizer replaced by the end-to-end rule of depth 2 (Eq. 9 of the
    paper) on its two dense kernels (fc1 3,136×512, fc2 512×10), TF1 momentum applied to the
    preconditioned direction; conv kernels and biases take plain TF1 momentum (N = 1). The
    gradient it preconditions is that of the whole loss, the L2 term included."""
    return tf_overparam.EndToEndSGD(learning_rate=TutorialLearningRate(), depth=2, momentum=MOMENTUM,
                                    momentum_style="tf1", conv_kernels=False)


# --- One training step's arithmetic, shared by every backend ---------------------------------------


def take_batch(images, labels, step, train_size):
    """The batch of step `step` (a Python int or a backend integer tensor), sliced on the device."""
    offset = batch_offset(step, train_size)
    x = ops.slice(images, [offset, 0, 0, 0], [BATCH_SIZE, IMAGE_SIZE, IMAGE_SIZE, NUM_CHANNELS])
    return x, ops.slice(labels, [offset], [BATCH_SIZE])


def objective(logits, labels, losses):
    """(total loss, cross-entropy): mean softmax cross-entropy + sum(model.losses), the L2 term."""
    per_image = ops.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    # Sum / n, not ops.mean: on JAX and PyTorch Keras 3 averages float64 in float32 (its
    # result_type(float64, float32) is float32 there). In float32 both give the same bits.
    cross_entropy = ops.divide(ops.sum(per_image), per_image.shape[0])
    regularization = None
    for loss in losses:
        regularization = loss if regularization is None else regularization + loss
    total = cross_entropy if regularization is None else cross_entropy + regularization
    return total, cross_entropy


def current_learning_rate(optimizer, dtype="float32"):
    """The rate of the step about to run: read before the update, as TF1 (the global step is
    incremented after it). Inside a `keras.StatelessScope` it reads the scope's step counter.
    Returned in `dtype` (the model's float type) so that it stacks with the step's losses."""
    return ops.cast(optimizer.learning_rate, dtype)


def error_rate(logits, labels):
    """Percent misclassified, as the original's error_rate."""
    return 100.0 - 100.0 * float(np.sum(np.argmax(logits, 1) == labels)) / logits.shape[0]
