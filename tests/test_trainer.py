"""The compiled trainer against independent implementations: numpy loops, Keras' own optimizers,
and plain `model.fit` on the same model, data and learning rate."""

import numpy as np
import pytest

import keras
import tensorflow as tf

import tf_overparam
from numpy_oracles import eq11_direction
from tf_overparam.trainer import (Adadelta, Adagrad, Adam, EndToEnd, GradientDescent,
                                  LinearNetwork, train)


def _problem(n=64, d=6, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) * 0.5 + 0.3 * rng.normal(size=n)
    return X, y * scale


def _numpy_gd(X, y, factors, lr, steps, p):
    """Reference: full-batch GD on the factors of x ↦ x K_1⋯K_N, loss mean (1/p) r^p."""
    factors = [f.copy() for f in factors]
    n = X.shape[0]
    losses = []
    for _ in range(steps):
        kernel = np.linalg.multi_dot(factors) if len(factors) > 1 else factors[0]
        r = X @ kernel[:, 0] - y
        losses.append(np.mean(r ** p) / p)
        G = (X.T @ r ** (p - 1) / n)[:, None]
        grads = []
        for j in range(len(factors)):
            left = np.linalg.multi_dot(factors[:j]) if j > 1 else (factors[0] if j == 1 else None)
            rest = factors[j + 1:]
            right = (np.linalg.multi_dot(rest) if len(rest) > 1 else (rest[0] if rest else None))
            g = G if left is None else left.T @ G
            g = g if right is None else g @ right.T
            grads.append(g)
        factors = [f - lr * g for f, g in zip(factors, grads)]
    kernel = np.linalg.multi_dot(factors) if len(factors) > 1 else factors[0]
    losses.append(np.mean((X @ kernel[:, 0] - y) ** p) / p)
    return np.array(losses), factors


@pytest.mark.parametrize("depth,hidden,p", [(1, 1, 2), (2, 1, 4), (3, 1, 4), (3, [4, 3], 2)])
def test_gradient_descent_matches_numpy(depth, hidden, p):
    X, y = _problem()
    model = LinearNetwork(depth=depth, hidden_units=hidden, init_stddev=0.3)
    lrs, seeds = [1e-2, 3e-2], [0, 5]
    result = train(X, y, model, GradientDescent(), p=p, learning_rates=lrs, seeds=seeds,
                   steps=120, record_every=1, dtype="float64")
    assert result.losses.shape == (4, 121)
    for b in range(4):
        factors = model.initial_factors(int(result.seeds[b]), X.shape[1], 1)
        expected, final = _numpy_gd(X, y, factors, result.learning_rates[b], 120, p)
        np.testing.assert_allclose(result.losses[b], expected, rtol=1e-10)
        for got, want in zip(result.factors, final):
            np.testing.assert_allclose(got[b], want, rtol=1e-8, atol=1e-12)


def test_configuration_order_and_seeds():
    X, y = _problem()
    result = train(X, y, LinearNetwork(depth=2), "gd", learning_rates=[1e-3, 1e-2],
                   seeds=[0, 1, 2], steps=10)
    np.testing.assert_array_equal(result.learning_rates, [1e-3] * 3 + [1e-2] * 3)
    np.testing.assert_array_equal(result.seeds, [0, 1, 2] * 2)
    # Same seed, same initial network for every learning rate.
    np.testing.assert_array_equal(result.losses[:3, 0], result.losses[3:, 0])
    assert result.index(1e-2, 1) == 4
    np.testing.assert_array_equal(result.curve(1e-2, 1), result.losses[4])


def test_identity_initialization():
    model = LinearNetwork(depth=3, hidden_units=[2, 5], init="identity", init_stddev=0.0)
    factors = model.initial_factors(0, 4, 1)
    np.testing.assert_array_equal(factors[0], np.eye(4, 2))
    np.testing.assert_array_equal(factors[1], np.eye(2, 5))
    np.testing.assert_array_equal(factors[2], np.eye(5, 1))


@pytest.mark.parametrize("depth", [2, 3])
def test_end_to_end_matches_a_numpy_eq11_loop(depth):
    X, y = _problem()
    model = LinearNetwork(depth=depth, init_stddev=0.3)
    result = train(X, y, model, EndToEnd(), p=4, learning_rates=[1e-2], steps=50,
                   dtype="float64")
    kernel = np.linalg.multi_dot(model.initial_factors(0, X.shape[1], 1))
    np.testing.assert_allclose(result.initial_end_to_end[0], kernel)
    n = X.shape[0]
    losses = []
    for _ in range(50):
        r = X @ kernel[:, 0] - y
        losses.append(np.mean(r ** 4) / 4)
        G = (X.T @ r ** 3 / n)[:, None]
        kernel = kernel - 1e-2 * eq11_direction(kernel, G, depth)  # independent numpy Eq. 11
    np.testing.assert_allclose(result.losses[0, :50], losses, rtol=1e-10)
    np.testing.assert_allclose(result.factors[0][0], kernel, rtol=1e-8)
    assert result.optimizer["depth"] == depth


def test_end_to_end_from_zero_never_moves_and_depth_one_is_gd():
    X, y = _problem()
    model = LinearNetwork(depth=3)
    zero = [np.zeros((6, 1)), np.zeros((1, 1)), np.zeros((1, 1))]
    stuck = train(X, y, model, EndToEnd(), learning_rates=[0.1], steps=20, initial_factors=zero)
    assert np.all(stuck.factors[0] == 0)
    assert np.all(stuck.losses == stuck.losses[0, 0])
    flat = LinearNetwork(depth=1, init_stddev=0.1)
    a = train(X, y, flat, EndToEnd(depth=1), p=4, learning_rates=[1e-2], steps=30)
    b = train(X, y, flat, GradientDescent(), p=4, learning_rates=[1e-2], steps=30)
    np.testing.assert_allclose(a.losses, b.losses, rtol=1e-12)


def test_divergence_freezes_only_that_configuration():
    X, y = _problem()
    model = LinearNetwork(depth=2, init_stddev=0.1)
    both = train(X, y, model, "gd", p=4, learning_rates=[1e-2, 50.0], steps=200,
                 record_every=10, chunk_steps=50)
    alone = train(X, y, model, "gd", p=4, learning_rates=[1e-2], steps=200, record_every=10)
    assert both.diverged_at[0] == -1 and both.diverged_at[1] >= 0
    assert list(both.diverged) == [False, True]
    np.testing.assert_allclose(both.losses[0], alone.losses[0], rtol=1e-12)
    assert np.all(np.isnan(both.losses[1, 1:]))  # frozen from the divergence on
    assert np.all(np.isfinite(both.factors[0]))


def test_loss_levels_and_recording_every_k():
    X, y = _problem()
    model = LinearNetwork(depth=2, init_stddev=0.1)
    every = train(X, y, model, "gd", p=2, learning_rates=[3e-2], steps=300, record_every=1)
    levels = [every.losses[0, 0] * 0.5, every.losses[0, 0] * 0.2, 0.0]
    sparse = train(X, y, model, "gd", p=2, learning_rates=[3e-2], steps=300, record_every=20,
                   loss_levels=levels, chunk_steps=60)
    np.testing.assert_array_equal(sparse.steps, np.arange(0, 301, 20))
    np.testing.assert_allclose(sparse.losses[0], every.losses[0, ::20], rtol=1e-12)
    for level, found in zip(levels, sparse.level_steps[0]):
        below = np.flatnonzero(every.losses[0] <= level)
        assert found == (below[0] if below.size else -1)


def test_dtypes_and_jit_agree():
    X, y = _problem()
    model = LinearNetwork(depth=3, init_stddev=0.3)
    kwargs = dict(p=4, learning_rates=[1e-2], steps=200, record_every=10)
    ref = train(X, y, model, "gd", dtype="float64", **kwargs)
    graph = train(X, y, model, "gd", dtype="float64", jit_compile=False, **kwargs)
    mixed = train(X, y, model, "gd", dtype="mixed", **kwargs)
    single = train(X, y, model, "gd", dtype="float32", **kwargs)
    np.testing.assert_allclose(graph.losses, ref.losses, rtol=1e-10)
    np.testing.assert_allclose(mixed.losses, ref.losses, rtol=1e-5)
    np.testing.assert_allclose(single.losses, ref.losses, rtol=1e-4)
    assert "CPU" in ref.device or "GPU" in ref.device


# ---------------------------------------------------------------------------------------------
# Against Keras: its optimizers on the same gradients, and plain model.fit.
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def float64_keras():
    """Keras in float64, its optimizers' learning-rate variables included.

    The dtype policy is set too: Keras caches a global policy the first time any layer is built,
    and later set_floatx calls do not change it, so earlier tests would leave layers in float32.
    """
    previous_floatx, previous_policy = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    yield
    keras.config.set_floatx(previous_floatx)
    keras.config.set_dtype_policy(previous_policy)


def _keras_optimizer_run(optimizer, factors, X, y, p, steps):
    """Keras' own optimizer applied to the exact factor gradients (a tf loop, no fit)."""
    variables = [tf.Variable(f, dtype=tf.float64) for f in factors]
    Xt, yt = tf.constant(X), tf.constant(y[:, None])
    losses = []

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            out = Xt
            for v in variables:
                out = out @ v
            loss = tf.reduce_mean((out - yt) ** p) / p
        grads = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(grads, variables))
        return loss

    for _ in range(steps):
        losses.append(float(step()))
    return np.array(losses), [v.numpy() for v in variables]


@pytest.mark.parametrize("ours,theirs", [
    (Adagrad(), lambda lr: keras.optimizers.Adagrad(lr, initial_accumulator_value=0.1,
                                                   epsilon=1e-7)),
    (Adadelta(), lambda lr: keras.optimizers.Adadelta(lr, rho=0.95, epsilon=1e-7)),
    (Adam(), lambda lr: keras.optimizers.Adam(lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7)),
])
@pytest.mark.parametrize("depth", [1, 3])
def test_adaptive_optimizers_match_keras(ours, theirs, depth, float64_keras):
    X, y = _problem()
    model = LinearNetwork(depth=depth, init_stddev=0.3)
    lr = 0.5 if isinstance(ours, Adadelta) else 1e-2
    result = train(X, y, model, ours, p=4, learning_rates=[lr], steps=100, dtype="float64")
    factors = model.initial_factors(0, X.shape[1], 1)
    expected, final = _keras_optimizer_run(theirs(lr), factors, X, y, 4, 100)
    np.testing.assert_allclose(result.losses[0, :100], expected, rtol=1e-8)
    for got, want in zip(result.factors, final):
        np.testing.assert_allclose(got[0], want, rtol=1e-6, atol=1e-12)


def _fit_losses(model, optimizer, X, y, p, steps):
    model.compile(optimizer=optimizer, loss=tf_overparam.LpLoss(p))
    history = model.fit(X, y, batch_size=X.shape[0], epochs=steps, shuffle=False, verbose=0)
    return np.array(history.history["loss"])


def test_agrees_with_model_fit_on_a_deep_network(float64_keras):
    """Plain Keras: Sequential(OverparamDense(depth 3, width 1, no bias)), full batch, SGD."""
    X, y = _problem(n=128, d=8)
    steps, lr = 300, 2e-2
    keras.utils.set_random_seed(3)
    layer = tf_overparam.OverparamDense(1, depth=3, hidden_units=1, use_bias=False,
                                        kernel_initializer=keras.initializers.RandomNormal(0, 0.3))
    model = keras.Sequential([keras.Input((8,)), layer])
    initial = [w.numpy().copy() for w in layer.factors]
    fit = _fit_losses(model, keras.optimizers.SGD(lr), X, y, 4, steps)
    ours = train(X, y, LinearNetwork(depth=3, hidden_units=1), "gd", p=4, learning_rates=[lr],
                 steps=steps, initial_factors=initial, dtype="float64")
    np.testing.assert_allclose(ours.losses[0, :steps], fit, rtol=1e-9)
    for got, want in zip(ours.factors, layer.factors):
        np.testing.assert_allclose(got[0], want.numpy(), rtol=1e-7, atol=1e-12)


def test_agrees_with_model_fit_of_dense_and_end_to_end_sgd(float64_keras):
    """Dense(use_bias=False) with EndToEndSGD(depth 3), started from a deep net's kernel."""
    X, y = _problem(n=128, d=8)
    steps, lr = 200, 2e-2
    net = LinearNetwork(depth=3, init_stddev=0.3)
    start = np.linalg.multi_dot(net.initial_factors(7, 8, 1))
    dense = keras.layers.Dense(1, use_bias=False)
    model = keras.Sequential([keras.Input((8,)), dense])
    dense.kernel.assign(start)
    fit = _fit_losses(model, tf_overparam.EndToEndSGD(lr, depth=3), X, y, 4, steps)
    ours = train(X, y, net, EndToEnd(), p=4, learning_rates=[lr], seeds=[7], steps=steps,
                 dtype="float64")
    np.testing.assert_allclose(ours.losses[0, :steps], fit, rtol=1e-9)
    np.testing.assert_allclose(ours.factors[0][0], dense.kernel.numpy(), rtol=1e-7)


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda X, y: train(X, y, LinearNetwork(depth=2), "gd", p=3), "p must"),
        (lambda X, y: train(X, y, LinearNetwork(depth=2), "gd", steps=10, record_every=3), "record_every"),
        (lambda X, y: train(X, y, LinearNetwork(depth=2), "gd", steps=-1), "steps must"),
        (lambda X, y: train(X, y, LinearNetwork(depth=2), "gd", learning_rates=[-1e-3], steps=10), "learning_rates must"),
        (lambda X, y: train(X, y, LinearNetwork(depth=2), "gd", learning_rates=[], steps=10), "learning_rates and seeds"),
        (lambda X, y: train(X, y, LinearNetwork(depth=2), "gd", dtype="float16", steps=10), "dtype must"),
        (lambda X, y: train(X, y, LinearNetwork(depth=2), "gd", jit_compile="yes", steps=10), "jit_compile must"),
        (lambda X, y: train(X, y, LinearNetwork(depth=2), "sgd_with_momentum"), "optimizer"),
        (lambda X, y: LinearNetwork(depth=3, hidden_units=[1]), "hidden_units"),
        (lambda X, y: LinearNetwork(depth=0), "depth"),
        (lambda X, y: LinearNetwork(depth=2, init="orthogonal"), "init must"),
        (lambda X, y: LinearNetwork(depth=2, hidden_units=0), "hidden_units"),
        (lambda X, y: LinearNetwork(depth=2, init_stddev=-1.0), "init_stddev"),
        (lambda X, y: EndToEnd(depth=0), "depth"),
        (lambda X, y: train(X, y, LinearNetwork(depth=2), "gd", divergence_factor=0.5, steps=10), "divergence_factor"),
    ],
)
def test_input_validation_names_the_argument(call, argument):
    X, y = _problem()
    with pytest.raises(ValueError, match=argument):
        call(X, y)


def test_gram_form_of_the_l2_loss_matches_the_residual_form():
    X, y = _problem(n=80, d=5)
    model = LinearNetwork(depth=3, hidden_units=[3, 2], init_stddev=0.3)
    kwargs = dict(p=2, learning_rates=[1e-2, 5e-2], seeds=[0, 1], steps=150, dtype="float64")
    gram = train(X, y, model, "gd", gram=True, **kwargs)
    direct = train(X, y, model, "gd", gram=False, **kwargs)
    assert gram.gram and not direct.gram
    np.testing.assert_allclose(gram.losses, direct.losses, rtol=1e-12)
    for a, b in zip(gram.factors, direct.factors):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-14)
    with pytest.raises(ValueError, match="gram"):
        train(X, y, model, "gd", p=4, gram=True)


def test_auto_compilation_switches_to_xla_and_stops_when_all_diverged():
    X, y = _problem(n=32, d=4)
    model = LinearNetwork(depth=2, init_stddev=0.3)
    kwargs = dict(p=4, learning_rates=[1e-3, 30.0], steps=12_000, record_every=100,
                  dtype="float64")
    auto = train(X, y, model, "gd", **kwargs)  # 1,000 graph iterations, then XLA
    graph = train(X, y, model, "gd", jit_compile=False, **kwargs)
    assert auto.jit_compile and not graph.jit_compile
    np.testing.assert_allclose(auto.losses, graph.losses, rtol=1e-9)
    assert auto.diverged_at[1] >= 0
    dead = train(X, y, model, "gd", p=4, learning_rates=[30.0], steps=12_000, record_every=100)
    assert dead.total_steps < 12_000 and dead.losses.shape == (1, 121)
    assert np.all(np.isnan(dead.losses[0, 2:]))
