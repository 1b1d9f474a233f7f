"""The Keras port of TensorFlow's MNIST convnet tutorial against the original's formulas.

The oracles are the original's own TensorFlow 1 operations where TF 2 still ships them
(tf.compat.v1.train.exponential_decay, tf.compat.v1.train.MomentumOptimizer, tf.nn.l2_loss) and
the numbers of convolutional.py otherwise.
"""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import tf_overparam
from reproduce.lab import mnist_run_files
from reproduce.lab import mnist_trainer
from reproduce.lab import mnist_tutorial as mt

TRUNCATED_STD = 0.1 * 0.87962566  # std of N(0, 0.1²) truncated at ±2 std


@pytest.fixture(scope="module")
def original():
    return mt.build_model()


@pytest.fixture(scope="module")
def deep(original):
    return mt.build_overparameterized(original)


@pytest.fixture(scope="module")
def data(shared_data_dir):
    return mt.load_tutorial_data(str(shared_data_dir))


def test_constants_match_the_original():
    assert (mt.TRAIN_SIZE, mt.BATCH_SIZE, mt.NUM_STEPS, mt.SEED) == (55_000, 64, 8_593, 66478)
    assert mt.NUM_STEPS == int(10 * 55_000) // 64


def test_parameter_count_and_layer_shapes(original):
    assert mt.count_params(original) == 1_663_370
    shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in original.layers}
    assert shapes == {
        "conv1": (28, 28, 32), "pool1": (14, 14, 32), "conv2": (14, 14, 64), "pool2": (7, 7, 64),
        "flatten": (3136,), "fc1": (512,), "dropout": (512,), "fc2": (10,),
    }
    weights = {v.path.split("/", 1)[1]: tuple(v.shape) for v in original.trainable_variables}
    assert weights == {
        "conv1/kernel": (5, 5, 1, 32), "conv1/bias": (32,), "conv2/kernel": (5, 5, 32, 64),
        "conv2/bias": (64,), "fc1/kernel": (3136, 512), "fc1/bias": (512,),
        "fc2/kernel": (512, 10), "fc2/bias": (10,),
    }
    assert original.get_layer("pool1").padding == "same" and original.get_layer("conv1").padding == "same"
    assert original.get_layer("dropout").rate == 0.5


def test_overparameterized_adds_262244_parameters(original, deep):
    assert mt.count_params(deep) == 1_925_614 == mt.count_params(original) + 512 * 512 + 10 * 10
    assert [tuple(f.shape) for f in deep.get_layer("fc1").factors] == [(3136, 512), (512, 512)]
    assert [tuple(f.shape) for f in deep.get_layer("fc2").factors] == [(512, 10), (10, 10)]
    # Everything else copied; the first factor is the original's kernel (same seed), the new one differs.
    for name in ("conv1", "conv2"):
        for a, b in zip(original.get_layer(name).get_weights(), deep.get_layer(name).get_weights()):
            np.testing.assert_array_equal(a, b)
    for name in ("fc1", "fc2"):
        np.testing.assert_array_equal(deep.get_layer(name).factors[0].numpy(), original.get_layer(name).kernel.numpy())
        np.testing.assert_array_equal(deep.get_layer(name).bias.numpy(), original.get_layer(name).bias.numpy())
    second = deep.get_layer("fc1").factors[1].numpy().ravel()
    assert not np.allclose(second, deep.get_layer("fc1").factors[0].numpy().ravel()[: second.size])


def test_initial_weight_statistics(original, deep):
    kernels = [original.get_layer(n).kernel.numpy() for n in ("conv1", "conv2", "fc1", "fc2")]
    kernels += [deep.get_layer(n).factors[1].numpy() for n in ("fc1", "fc2")]
    for kernel in kernels:
        n = kernel.size
        tolerance = 6 * TRUNCATED_STD / math.sqrt(2 * n) + 1e-4  # ~6 standard errors of a std
        assert abs(kernel.std() - TRUNCATED_STD) < tolerance, (kernel.shape, kernel.std())
        assert abs(kernel.mean()) < 6 * TRUNCATED_STD / math.sqrt(n)
        assert np.abs(kernel).max() <= 0.2 + 1e-6  # truncated at 2 std
    fc1 = original.get_layer("fc1").kernel.numpy()
    assert abs(fc1.std() - 0.0880) < 2e-4
    biases = {n: original.get_layer(n).bias.numpy() for n in ("conv1", "conv2", "fc1", "fc2")}
    np.testing.assert_array_equal(biases["conv1"], 0.0)
    for name in ("conv2", "fc1", "fc2"):
        np.testing.assert_array_equal(biases[name], np.float32(0.1))


@pytest.mark.parametrize("step, expected", [(0, 0.01), (859, 0.01), (860, 0.0095), (8592, 0.01 * 0.95**9)])
def test_learning_rate_at_steps(step, expected):
    schedule = mt.TutorialLearningRate()
    value = float(schedule(step))
    assert value == pytest.approx(expected, rel=1e-6)
    # The original's formula, with TF1's own op and float32 global step (batch * BATCH_SIZE).
    tf1 = tf.compat.v1.train.exponential_decay(0.01, tf.constant(step, tf.float32) * 64, 55_000, 0.95, staircase=True)
    assert value == float(tf1())


def test_learning_rate_is_read_before_the_update():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    optimizer = mt.make_optimizer()
    optimizer.build(model.trainable_variables)
    optimizer.iterations.assign(859)
    assert float(optimizer.learning_rate) == pytest.approx(0.01)
    optimizer.apply_gradients(zip([tf.ones((2, 1)), tf.ones((1,))], model.trainable_variables))
    assert float(optimizer.learning_rate) == pytest.approx(0.0095)


def test_tf1_momentum_matches_tf1_optimizer_across_learning_rate_drops():
    gradients = [np.array(g, np.float32) for g in ([1.0, 2.0], [0.5, -1.0], [2.0, 0.0], [1.0, 1.0], [-3.0, 0.5])]

    def rate(step):
        return 0.1 * 0.5 ** (step // 2)  # drops every 2 steps

    class Schedule(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            return 0.1 * tf.pow(0.5, tf.floor(tf.cast(step, tf.float32) / 2))

    ours = keras.Variable(np.array([1.0, -2.0], np.float32))
    optimizer = mt.TF1Momentum(learning_rate=Schedule(), momentum=0.9)
    reference = tf.Variable([1.0, -2.0])
    global_step = tf.Variable(0, dtype=tf.int64)
    tf1 = tf.compat.v1.train.MomentumOptimizer(lambda: rate(int(global_step.numpy())), 0.9)
    keras_sgd = keras.Variable(np.array([1.0, -2.0], np.float32))
    sgd = keras.optimizers.SGD(learning_rate=Schedule(), momentum=0.9)
    for gradient in gradients:
        optimizer.apply_gradients([(tf.constant(gradient), ours)])
        tf1.apply_gradients([(tf.constant(gradient), reference)])
        global_step.assign_add(1)
        sgd.apply_gradients([(tf.constant(gradient), keras_sgd)])
    np.testing.assert_allclose(ours.numpy(), reference.numpy(), rtol=1e-6)
    # Keras' own SGD momentum is a different recursion once the rate changes (why TF1Momentum exists).
    assert not np.allclose(keras_sgd.numpy(), reference.numpy(), rtol=1e-3)


def test_l2_term_is_five_e_minus_4_times_tf_l2_loss(original, deep):
    expected = 5e-4 * sum(float(tf.nn.l2_loss(original.get_layer(n).kernel)) + float(tf.nn.l2_loss(original.get_layer(n).bias))
                          for n in ("fc1", "fc2"))
    assert float(sum(original.losses)) == pytest.approx(expected, rel=1e-6)
    names = sorted(v.path.split("/", 1)[1] for v in mt.regularized_variables(deep))
    assert names == ["fc1/bias", "fc1/kernel_1", "fc2/bias", "fc2/kernel_1"]  # the new matrices are not in it
    assert float(sum(deep.losses)) == pytest.approx(expected, rel=1e-6)  # same tensors at step 0
    everything = mt.build_overparameterized(mt.build_model(), l2_on_new_factors=True)
    assert len(mt.regularized_variables(everything)) == 6


def test_batch_offsets_follow_the_original_order():
    for step in (0, 1, 858, 859, 860, 8592):
        assert mt.batch_offset(step) == (step * 64) % (55_000 - 64)
    assert mt.batch_offset(858) == 54_912 and mt.batch_offset(859) == 40


def test_data_split_and_scaling(data):
    (xv, yv), (xt, yt), (xs, _) = data["validation"], data["train"], data["test"]
    assert xv.shape == (5000, 28, 28, 1) and xt.shape == (55_000, 28, 28, 1) and xs.shape == (10_000, 28, 28, 1)
    assert xt.dtype == np.float32 and yt.dtype == np.int64
    assert xt.min() == -0.5 and xt.max() == 0.5
    assert len(yv) + len(yt) == 60_000


def test_collapse_of_trained_overparameterized_model(data):
    deep = mt.build_overparameterized(mt.build_model())
    trainer = mnist_trainer.Trainer(deep, data["train"])
    totals, _, _ = trainer.train(0, 20)
    assert np.all(np.isfinite(totals))
    plain = tf_overparam.collapse(deep)
    reference = mt.build_model()
    assert [type(layer) for layer in plain.layers] == [type(layer) for layer in reference.layers]
    assert [v.shape for v in plain.trainable_variables] == [v.shape for v in reference.trainable_variables]
    assert mt.count_params(plain) == 1_663_370
    images = data["validation"][0][:256]
    expected = deep(images, training=False).numpy()
    np.testing.assert_allclose(plain(images, training=False).numpy(), expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    np.testing.assert_array_equal(np.argmax(plain.predict(images, verbose=0), 1), np.argmax(expected, 1))


def test_interrupted_run_resumes_to_the_same_losses(data, tmp_path):
    small = {"train": data["train"], "validation": tuple(a[:500] for a in data["validation"]),
             "test": tuple(a[:500] for a in data["test"])}  # evaluation is not what is tested here

    def run(folder, stop_after=None):
        model = mt.build_overparameterized(mt.build_model())
        return mnist_trainer.train_model(model, small, tmp_path / folder, num_steps=35, eval_frequency=10, checkpoint_every=10,
                              run_config={"test": 1}, stop_after=stop_after, log=lambda line: None)

    whole = run("whole")
    partial = run("resumed", stop_after=25)  # killed after step 25; the last checkpoint is at 20
    assert partial == {"complete": False, "steps_done": 25}
    assert len(mnist_run_files.read_losses(tmp_path / "resumed" / "losses.csv")["iteration"]) == 25
    resumed = run("resumed")
    a = mnist_run_files.read_losses(tmp_path / "whole" / "losses.csv")
    b = mnist_run_files.read_losses(tmp_path / "resumed" / "losses.csv")
    np.testing.assert_array_equal(a["iteration"], np.arange(1, 36))
    for column in ("total_loss", "cross_entropy", "learning_rate"):
        np.testing.assert_array_equal(a[column], b[column])
    assert whole["validation"] == resumed["validation"]
    assert whole["test_error_percent"] == resumed["test_error_percent"]
