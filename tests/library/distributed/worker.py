"""Runs in its own process (tf.distribute must be configured before TensorFlow starts).

    python worker.py single  OUT.npz      one device, the reference
    python worker.py mirrored OUT.npz     MirroredStrategy over two logical CPU devices
    python worker.py multiworker OUT.npz  MultiWorkerMirroredStrategy; TF_CONFIG set by caller

Each trains the same OverparamDense model with EndToEndSGD for a few steps from the same initial
weights and data (`fit`, or a strategy.run loop for multi-worker), and saves the final weights.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

MODE, OUT = sys.argv[1], sys.argv[2]
if MODE == "mirrored":
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402

import tf_overparam  # noqa: E402

GLOBAL_BATCH, STEPS = 32, 4


def make_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(GLOBAL_BATCH * STEPS, 6)).astype("float32")
    y = (x @ rng.normal(size=(6, 3))).astype("float32")
    return x, y


def initial_weights():
    keras.utils.set_random_seed(0)
    model = build()
    return model.get_weights()


def build():
    return keras.Sequential(
        [
            keras.Input((6,)),
            tf_overparam.OverparamDense(4, depth=3, hidden_units=4, activation="tanh", kernel_initializer=tf_overparam.Balanced(stddev=0.5, seed=1)),
            tf_overparam.OverparamDense(3, depth=2, hidden_units=3, kernel_initializer="identity"),
        ]
    )


def train_with_fit(strategy):
    weights = initial_weights()
    x, y = make_data()
    with strategy.scope():
        model = build()
        model.set_weights(weights)
        model.compile(optimizer=make_optimizer(), loss=tf_overparam.LpLoss(2))
    model.fit(x, y, batch_size=GLOBAL_BATCH, shuffle=False, epochs=1, verbose=0)
    return model.get_weights()


def make_optimizer():
    return tf_overparam.EndToEndSGD(0.05, depth=3, weight_decay=1e-3)


def train_with_custom_loop(strategy):
    """Keras 3's fit fails under MultiWorkerMirroredStrategy (keras-team/keras#20585,
    tensorflow/tensorflow#72388: PerReplica inputs reach convert_to_tensor); a strategy.run loop
    with the same layer, loss and optimizer works."""
    weights = initial_weights()
    x, y = make_data()
    with strategy.scope():
        model = build()
        model.set_weights(weights)
        optimizer = make_optimizer()
        optimizer.build(model.trainable_variables)
        per_sample_loss = tf_overparam.LpLoss(2, reduction=None)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(GLOBAL_BATCH).with_options(options)

    @tf.function
    def distributed_step(features, targets):
        def replica_step(features, targets):
            with tf.GradientTape() as tape:
                losses = per_sample_loss(targets, model(features, training=True))
                loss = tf.nn.compute_average_loss(losses, global_batch_size=GLOBAL_BATCH)
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))  # all-reduces
            return loss

        return strategy.run(replica_step, args=(features, targets))

    for features, targets in strategy.experimental_distribute_dataset(dataset):
        distributed_step(features, targets)
    return model.get_weights()


if MODE == "single":
    strategy = tf.distribute.get_strategy()
elif MODE == "mirrored":
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
elif MODE == "multiworker":
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
else:
    raise SystemExit(f"unknown mode {MODE!r}")

train = train_with_custom_loop if MODE == "multiworker" else train_with_fit
final = train(strategy)
np.savez(OUT, replicas=strategy.num_replicas_in_sync, *final)
