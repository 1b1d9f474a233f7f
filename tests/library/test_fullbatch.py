"""The full-batch trainer against independent implementations: numpy loops, Keras' own
optimizers and `model.fit`. Runs on TensorFlow and on JAX (test.sh runs it on both)."""

import numpy as np
import pytest

import keras

import tf_overparam
from numpy_oracles import eq11_direction
from tf_overparam import fullbatch
from tf_overparam.fullbatch import LinearNetwork, train

pytestmark = pytest.mark.skipif(keras.backend.backend() not in ("tensorflow", "jax"),
                                reason="the trainer runs on TensorFlow and JAX; "
                                       "test_fullbatch_backends.py checks the torch error")


def _problem(n=64, d=6, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) * 0.5 + 0.3 * rng.normal(size=n)
    return X, y * scale


def _numpy_gradients(X, y, factors, p):
    """Loss and ∂L/∂K_j for x ↦ x K_1⋯K_N, loss mean (1/p) r^p, written with explicit products."""
    kernel = np.linalg.multi_dot(factors) if len(factors) > 1 else factors[0]
    r = X @ kernel[:, 0] - y
    G = (X.T @ r ** (p - 1) / X.shape[0])[:, None]
    grads = []
    for j in range(len(factors)):
        left = factors[:j]
        right = factors[j + 1:]
        g = G if not left else (np.linalg.multi_dot(left) if len(left) > 1 else left[0]).T @ G
        g = g if not right else g @ (np.linalg.multi_dot(right) if len(right) > 1 else right[0]).T
        grads.append(g)
    return np.mean(r ** p) / p, grads


def _numpy_gd(X, y, factors, lr, steps, p):
    factors = [f.copy() for f in factors]
    losses = []
    for _ in range(steps):
        loss, grads = _numpy_gradients(X, y, factors, p)
        losses.append(loss)
        factors = [f - lr * g for f, g in zip(factors, grads)]
    losses.append(_numpy_gradients(X, y, factors, p)[0])
    return np.array(losses), factors


@pytest.mark.parametrize("depth,hidden,p", [(1, None, 2), (2, 1, 4), (3, 1, 4), (3, [4, 3], 2)])
def test_gradient_descent_matches_numpy(depth, hidden, p):
    X, y = _problem()
    model = LinearNetwork(depth=depth, hidden_units=hidden, stddev=0.3)
    result = train(X, y, model, "gd", p=p, learning_rates=[1e-2, 3e-2], seeds=[0, 5],
                   steps=120, record_every=1, dtype="float64")
    assert result.losses.shape == (4, 121)
    for b in range(4):
        factors = model.initial_factors(int(result.seeds[b]), X.shape[1], 1)
        expected, final = _numpy_gd(X, y, factors, result.learning_rates[b], 120, p)
        np.testing.assert_allclose(result.losses[b], expected, rtol=1e-10)
        for got, want in zip(result.factors, final):
            np.testing.assert_allclose(got[b], want, rtol=1e-8, atol=1e-12)


def test_non_even_p_matches_numpy():
    """p = 3: |r|³/3 with gradient sign(r) r², a convex loss the trainer also trains."""
    X, y = _problem()
    model = LinearNetwork(depth=2, stddev=0.3)
    result = train(X, y, model, "gd", p=3, learning_rates=[1e-2], steps=50, dtype="float64")
    factors = model.initial_factors(0, X.shape[1], 1)
    losses = []
    for _ in range(50):
        kernel = factors[0] @ factors[1]
        r = X @ kernel[:, 0] - y
        losses.append(np.mean(np.abs(r) ** 3) / 3)
        G = (X.T @ (np.sign(r) * r ** 2) / len(y))[:, None]
        factors = [factors[0] - 1e-2 * G @ factors[1].T, factors[1] - 1e-2 * factors[0].T @ G]
    np.testing.assert_allclose(result.losses[0, :50], losses, rtol=1e-10)


def test_configuration_order_and_seeds():
    X, y = _problem()
    result = train(X, y, LinearNetwork(depth=2), "gd", learning_rates=[1e-3, 1e-2],
                   seeds=[0, 1, 2], steps=10)
    np.testing.assert_array_equal(result.learning_rates, [1e-3] * 3 + [1e-2] * 3)
    np.testing.assert_array_equal(result.seeds, [0, 1, 2] * 2)
    np.testing.assert_array_equal(result.losses[:3, 0], result.losses[3:, 0])
    assert result.index(1e-2, 1) == 4
    np.testing.assert_array_equal(result.curve(1e-2, 1), result.losses[4])


def test_initializers_share_the_keras_definitions():
    """Names and distributions of `OverparamDense`'s initializers; a seed fixes the network."""
    identity = LinearNetwork(depth=3, hidden_units=[2, 5], kernel_initializer="identity",
                             stddev=0.0)
    factors = identity.initial_factors(0, 4, 1)
    np.testing.assert_array_equal(factors[0], np.eye(4, 2))
    np.testing.assert_array_equal(factors[1], np.eye(2, 5))
    np.testing.assert_array_equal(factors[2], np.eye(5, 1))
    near_zero = LinearNetwork(depth=2, hidden_units=300, stddev=0.02).initial_factors(3, 200, 1)
    assert abs(np.std(near_zero[0]) - 0.02) < 0.002 and abs(np.mean(near_zero[0])) < 0.002
    np.testing.assert_array_equal(
        near_zero[0], LinearNetwork(depth=2, hidden_units=300, stddev=0.02).initial_factors(
            3, 200, 1)[0])
    assert isinstance(LinearNetwork(kernel_initializer="near_zero").kernel_initializer,
                      tf_overparam.NearZero)
    assert LinearNetwork(depth=3).hidden_units is None
    assert LinearNetwork(depth=3).widths(128, 1) == [128, 1, 1, 1]  # min(d, k), as the layer


def test_balanced_initialization_by_name_satisfies_eq7():
    model = LinearNetwork(depth=3, hidden_units=[3, 2], kernel_initializer="balanced", stddev=0.5)
    factors = model.initial_factors(4, 6, 2)
    for j in range(2):  # K_{j+1} K_{j+1}ᵀ = K_jᵀ K_j (paper Eq. 7, Keras layout)
        np.testing.assert_allclose(factors[j + 1] @ factors[j + 1].T, factors[j].T @ factors[j],
                                   atol=1e-12)
    target = np.random.default_rng(4).normal(0.0, 0.5, size=(6, 2))  # the drawn target kernel
    np.testing.assert_allclose(np.linalg.multi_dot(factors), target, atol=1e-12)
    fixed = LinearNetwork(depth=2, kernel_initializer=tf_overparam.Balanced(target=target))
    np.testing.assert_allclose(np.linalg.multi_dot(fixed.initial_factors(9, 6, 2)), target,
                               atol=1e-12)
    assert fixed.describe()["kernel_initializer"] == "balanced"


@pytest.mark.parametrize("depth", [2, 3])
def test_end_to_end_matches_a_numpy_eq11_loop(depth):
    X, y = _problem()
    model = LinearNetwork(depth=depth, stddev=0.3)
    result = train(X, y, model, "end_to_end", p=4, learning_rates=[1e-2], steps=50,
                   dtype="float64")
    kernel = np.linalg.multi_dot(model.initial_factors(0, X.shape[1], 1))
    np.testing.assert_allclose(result.initial_end_to_end[0], kernel)
    losses = []
    for _ in range(50):
        r = X @ kernel[:, 0] - y
        losses.append(np.mean(r ** 4) / 4)
        G = (X.T @ r ** 3 / len(y))[:, None]
        kernel = kernel - 1e-2 * eq11_direction(kernel, G, depth)  # independent numpy Eq. 11
    np.testing.assert_allclose(result.losses[0, :50], losses, rtol=1e-10)
    np.testing.assert_allclose(result.factors[0][0], kernel, rtol=1e-8)
    assert result.optimizer == {"rule": "end_to_end", "depth": depth, "weight_decay": 0.0}


def test_end_to_end_weight_decay_matches_numpy():
    """K ← (1 − ηλN) K − η P(G) (Eq. 9 with the factors' weight decay λ)."""
    X, y = _problem()
    model = LinearNetwork(depth=3, stddev=0.3)
    lr, decay = 1e-2, 0.5
    result = train(X, y, model, fullbatch.end_to_end(weight_decay=decay), p=2,
                   learning_rates=[lr], steps=40, dtype="float64", gram=False)
    kernel = np.linalg.multi_dot(model.initial_factors(0, X.shape[1], 1))
    for _ in range(40):
        G = (X.T @ (X @ kernel[:, 0] - y) / len(y))[:, None]
        kernel = (1 - lr * decay * 3) * kernel - lr * eq11_direction(kernel, G, 3)
    np.testing.assert_allclose(result.factors[0][0], kernel, rtol=1e-9)


def test_end_to_end_from_zero_never_moves_and_depth_one_is_gd():
    X, y = _problem()
    zero = [np.zeros((6, 1)), np.zeros((1, 1)), np.zeros((1, 1))]
    stuck = train(X, y, LinearNetwork(depth=3), "end_to_end", learning_rates=[0.1], steps=20,
                  initial_factors=zero)
    assert np.all(stuck.factors[0] == 0)
    assert np.all(stuck.losses == stuck.losses[0, 0])
    flat = LinearNetwork(depth=1, stddev=0.1)
    a = train(X, y, flat, fullbatch.end_to_end(depth=1), p=4, learning_rates=[1e-2], steps=30)
    b = train(X, y, flat, "gd", p=4, learning_rates=[1e-2], steps=30)
    np.testing.assert_allclose(a.losses, b.losses, rtol=1e-12)


@pytest.mark.parametrize("rule,unstable", [("gd", 50.0), ("adam", 1e4)])
def test_divergence_freezes_only_that_configuration(rule, unstable):
    """The diverged configuration is frozen and leaves the loop between chunks; the other one
    (and its optimizer state, e.g. Adam's moments and step count) goes on as if alone."""
    X, y = _problem()
    model = LinearNetwork(depth=2, stddev=0.1)
    both = train(X, y, model, rule, p=4, learning_rates=[1e-2, unstable], steps=300,
                 record_every=10, chunk_steps=50)
    alone = train(X, y, model, rule, p=4, learning_rates=[1e-2], steps=300, record_every=10)
    assert both.diverged_at[0] == -1 and both.diverged_at[1] >= 0
    assert list(both.diverged) == [False, True]
    np.testing.assert_allclose(both.losses[0], alone.losses[0], rtol=1e-12)
    assert np.all(np.isnan(both.losses[1, both.diverged_at[1] // 10 + 1:]))  # frozen from then on
    assert np.all(np.isfinite(both.factors[0]))


def test_loss_levels_and_recording_every_k():
    X, y = _problem()
    model = LinearNetwork(depth=2, stddev=0.1)
    every = train(X, y, model, "gd", p=2, learning_rates=[3e-2], steps=300, record_every=1)
    levels = [every.losses[0, 0] * 0.5, every.losses[0, 0] * 0.2, 0.0]
    sparse = train(X, y, model, "gd", p=2, learning_rates=[3e-2], steps=300, record_every=20,
                   loss_levels=levels, chunk_steps=60)
    np.testing.assert_array_equal(sparse.steps, np.arange(0, 301, 20))
    np.testing.assert_allclose(sparse.losses[0], every.losses[0, ::20], rtol=1e-12)
    for level, found in zip(levels, sparse.level_steps[0]):
        below = np.flatnonzero(every.losses[0] <= level)
        assert found == (below[0] if below.size else -1)


def test_progress_callback_reports_every_chunk():
    X, y = _problem()
    calls = []
    train(X, y, LinearNetwork(depth=2), "gd", learning_rates=[1e-3, 2e-3], steps=3000,
          record_every=10, chunk_steps=1000, progress=lambda d, t, l: calls.append((d, t, l)))
    assert [c[0] for c in calls][-1] == 3000 and all(c[1] == 3000 for c in calls)
    assert all(c[2].shape == (2,) and np.all(np.isfinite(c[2])) for c in calls)
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)


def test_dtypes_agree():
    X, y = _problem()
    model = LinearNetwork(depth=3, stddev=0.3)
    kwargs = dict(p=4, learning_rates=[1e-2], steps=200, record_every=10)
    ref = train(X, y, model, "gd", dtype="float64", **kwargs)
    mixed = train(X, y, model, "gd", dtype="mixed", **kwargs)
    single = train(X, y, model, "gd", dtype="float32", **kwargs)
    # float32 round-off, not amplified by 200 steps of GD at this rate. Measured (TensorFlow with
    # oneDNN on and off, JAX): mixed 1.8e-7, float32 7.9e-7 at most; 50x and 100x below.
    np.testing.assert_allclose(mixed.losses, ref.losses, rtol=1e-5)
    np.testing.assert_allclose(single.losses, ref.losses, rtol=1e-4)
    assert ref.backend == keras.backend.backend()
    assert "cpu" in ref.device.lower() or "gpu" in ref.device.lower() or "cuda" in ref.device


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="jit_compile=False (a plain graph) exists on TensorFlow only")
def test_graph_and_xla_agree_and_auto_switches_to_xla():
    X, y = _problem(n=32, d=4)
    model = LinearNetwork(depth=2, stddev=0.3)
    kwargs = dict(p=4, learning_rates=[1e-3, 30.0], steps=12_000, record_every=100,
                  dtype="float64")
    auto = train(X, y, model, "gd", **kwargs)  # 1,000 graph iterations, then XLA
    graph = train(X, y, model, "gd", jit_compile=False, **kwargs)
    assert auto.jit_compile and not graph.jit_compile
    np.testing.assert_allclose(auto.losses, graph.losses, rtol=1e-9)
    assert auto.diverged_at[1] >= 0


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="JAX refuses jit_compile=False")
def test_jax_refuses_a_plain_graph_naming_the_argument():
    X, y = _problem()
    with pytest.raises(ValueError, match="`jit_compile=False`"):
        train(X, y, LinearNetwork(depth=2), "gd", jit_compile=False, steps=10)


def test_stops_when_every_configuration_diverged():
    X, y = _problem(n=32, d=4)
    dead = train(X, y, LinearNetwork(depth=2, stddev=0.3), "gd", p=4, learning_rates=[30.0],
                 steps=12_000, record_every=100)
    assert dead.total_steps < 12_000 and dead.losses.shape == (1, 121)
    assert np.all(np.isnan(dead.losses[0, 2:]))


def test_gram_form_of_the_l2_loss_matches_the_residual_form():
    X, y = _problem(n=80, d=5)
    model = LinearNetwork(depth=3, hidden_units=[3, 2], stddev=0.3)
    kwargs = dict(p=2, learning_rates=[1e-2, 5e-2], seeds=[0, 1], steps=150, dtype="float64")
    gram = train(X, y, model, "gd", gram=True, **kwargs)
    direct = train(X, y, model, "gd", gram=False, **kwargs)
    assert gram.gram and not direct.gram
    np.testing.assert_allclose(gram.losses, direct.losses, rtol=1e-12)
    for a, b in zip(gram.factors, direct.factors):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-14)


# ---------------------------------------------------------------------------------------------
# Against Keras: its optimizers step by step on the same gradients, and plain model.fit.
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def float64_keras():
    """Keras in float64, its optimizers' learning-rate variables included (the dtype policy
    too: Keras caches a global policy the first time any layer is built)."""
    previous_floatx, previous_policy = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    yield
    keras.config.set_floatx(previous_floatx)
    keras.config.set_dtype_policy(previous_policy)


def _keras_optimizer_run(optimizer, factors, X, y, p, steps):
    """Keras' own optimizer applied eagerly to the exact numpy factor gradients."""
    variables = [keras.Variable(f, dtype="float64") for f in factors]
    losses = []
    for _ in range(steps):
        loss, grads = _numpy_gradients(X, y, [np.asarray(v.numpy()) for v in variables], p)
        losses.append(loss)
        optimizer.apply_gradients(zip(grads, variables))
    return np.array(losses), [np.asarray(v.numpy()) for v in variables]


# Momentum 0.75 is exact in float32, in which Keras keeps it.
KERAS_TWINS = [
    ("adagrad", lambda lr: keras.optimizers.Adagrad(lr, initial_accumulator_value=0.1,
                                                    epsilon=1e-7), 1e-2),
    ("adadelta", lambda lr: keras.optimizers.Adadelta(lr, rho=0.95, epsilon=1e-7), 0.5),
    # β exact in float32: Keras' TensorFlow Adam rounds β to float32, its JAX Adam does not.
    (fullbatch.adam(beta_1=0.875, beta_2=1 - 2**-9),
     lambda lr: keras.optimizers.Adam(lr, beta_1=0.875, beta_2=1 - 2**-9, epsilon=1e-7), 1e-2),
    (fullbatch.momentum(0.75), lambda lr: keras.optimizers.SGD(lr, momentum=0.75), 1e-2),
    (fullbatch.momentum(0.75, nesterov=True),
     lambda lr: keras.optimizers.SGD(lr, momentum=0.75, nesterov=True), 1e-2),
    ("gd", lambda lr: keras.optimizers.SGD(lr), 1e-2),
]


@pytest.mark.parametrize("ours,theirs,lr", KERAS_TWINS)
@pytest.mark.parametrize("depth", [1, 3])
def test_rules_match_keras_optimizers(ours, theirs, lr, depth, float64_keras):
    X, y = _problem()
    model = LinearNetwork(depth=depth, stddev=0.3)
    result = train(X, y, model, ours, p=4, learning_rates=[lr], steps=60, dtype="float64")
    expected, final = _keras_optimizer_run(theirs(lr), model.initial_factors(0, X.shape[1], 1),
                                           X, y, 4, 60)
    np.testing.assert_allclose(result.losses[0, :60], expected, rtol=1e-8)
    for got, want in zip(result.factors, final):
        np.testing.assert_allclose(got[0], want, rtol=1e-6, atol=1e-12)


def test_tf1_momentum_rescales_the_accumulator_with_the_new_rate():
    """TF1: a ← μa + g; w ← w − η_t a. Keras' momentum differs once η changes; the rule is pure,
    so it is driven here with a changing rate directly."""
    rule = fullbatch.tf1_momentum(0.9)
    rng = np.random.default_rng(0)
    params = [rng.normal(size=(3, 2))]
    state = rule.init(params)
    w, a = params[0].copy(), np.zeros((3, 2))
    for step, rate in enumerate([0.1, 0.1, 0.05, 0.05, 0.01]):
        g = rng.normal(size=(3, 2))
        params, state = rule.update([g], state, params, rate)
        a = 0.9 * a + g
        w = w - rate * a
        np.testing.assert_allclose(keras.ops.convert_to_numpy(params[0]), w, rtol=1e-12)


def test_agrees_with_model_fit_on_a_deep_network(float64_keras):
    """Plain Keras: Sequential(OverparamDense(depth 3, width 1, no bias)), full batch, SGD."""
    X, y = _problem(n=128, d=8)
    steps, lr = 200, 2e-2
    keras.utils.set_random_seed(3)
    layer = tf_overparam.OverparamDense(1, depth=3, hidden_units=1, use_bias=False,
                                        kernel_initializer=keras.initializers.RandomNormal(0, 0.3))
    model = keras.Sequential([keras.Input((8,)), layer])
    initial = [np.array(keras.ops.convert_to_numpy(w)) for w in layer.factors]
    model.compile(optimizer=keras.optimizers.SGD(lr), loss=tf_overparam.LpLoss(4))
    fit = model.fit(X, y, batch_size=128, epochs=steps, shuffle=False, verbose=0)
    ours = train(X, y, LinearNetwork(depth=3, hidden_units=1), "gd", p=4, learning_rates=[lr],
                 steps=steps, initial_factors=initial, dtype="float64")
    np.testing.assert_allclose(ours.losses[0, :steps], fit.history["loss"], rtol=1e-9)
    for got, want in zip(ours.factors, layer.factors):
        np.testing.assert_allclose(got[0], keras.ops.convert_to_numpy(want), rtol=1e-7,
                                   atol=1e-12)


def test_agrees_with_model_fit_of_dense_and_end_to_end_sgd(float64_keras):
    """Dense(use_bias=False) with EndToEndSGD(depth 3, weight decay), from a deep net's kernel."""
    X, y = _problem(n=128, d=8)
    # λ = 0.125 is exact in float32, in which Keras keeps it on TensorFlow (not on JAX).
    steps, lr, decay = 150, 2e-2, 0.125
    net = LinearNetwork(depth=3, stddev=0.3)
    dense = keras.layers.Dense(1, use_bias=False)
    model = keras.Sequential([keras.Input((8,)), dense])
    dense.kernel.assign(np.linalg.multi_dot(net.initial_factors(7, 8, 1)))
    model.compile(optimizer=tf_overparam.EndToEndSGD(lr, depth=3, weight_decay=decay),
                  loss=tf_overparam.LpLoss(4))
    fit = model.fit(X, y, batch_size=128, epochs=steps, shuffle=False, verbose=0)
    ours = train(X, y, net, fullbatch.end_to_end(weight_decay=decay), p=4,
                 learning_rates=[lr], seeds=[7], steps=steps, dtype="float64")
    np.testing.assert_allclose(ours.losses[0, :steps], fit.history["loss"], rtol=1e-9)
    np.testing.assert_allclose(ours.factors[0][0], keras.ops.convert_to_numpy(dense.kernel),
                               rtol=1e-7)


# ---------------------------------------------------------------------------------------------
# Bad input: a ValueError naming the argument, before any work.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda X, y: train(X, y, LinearNetwork(depth=2), "gd", p=1), "`p`"),
        (lambda X, y: train(X, y, LinearNetwork(depth=2), "gd", p="4"), "`p`"),
        (lambda X, y: train(X, y, LinearNetwork(depth=2), "gd", steps=10, record_every=3), "`record_every`"),
        (lambda X, y: train(X, y, LinearNetwork(depth=2), "gd", steps=-1), "`steps`"),
        (lambda X, y: train(X, y, LinearNetwork(depth=2), "gd", learning_rates=[-1e-3], steps=10), "`learning_rates`"),
        (lambda X, y: train(X, y, LinearNetwork(depth=2), "gd", learning_rates=[], steps=10), "`learning_rates` and `seeds`"),
        (lambda X, y: train(X, y, LinearNetwork(depth=2), "gd", dtype="float16", steps=10), "`dtype`"),
        (lambda X, y: train(X, y, LinearNetwork(depth=2), "gd", jit_compile="yes", steps=10), "`jit_compile`"),
        (lambda X, y: train(X, y, LinearNetwork(depth=2), "sgd_with_nothing"), "`optimizer`"),
        (lambda X, y: train(X, y, "not a network", "gd"), "`model`"),
        (lambda X, y: train(X, y, LinearNetwork(depth=2), "gd", divergence_factor=0.5, steps=10), "`divergence_factor`"),
        (lambda X, y: train(X, y, LinearNetwork(depth=2), "gd", p=4, gram=True), "`gram=True`"),
        (lambda X, y: train(X[:, :2], y[:3], LinearNetwork(depth=2), "gd"), "`X`"),
        (lambda X, y: train(X, y, LinearNetwork(depth=2), "gd", initial_factors=[np.ones((6, 1))]), "`initial_factors`"),
        (lambda X, y: LinearNetwork(depth=3, hidden_units=[1]), "`hidden_units`"),
        (lambda X, y: LinearNetwork(depth=0), "`depth`"),
        (lambda X, y: LinearNetwork(depth=2, kernel_initializer="orthogonal"), "`kernel_initializer`"),
        (lambda X, y: LinearNetwork(depth=2, hidden_units=0), "`hidden_units`"),
        (lambda X, y: LinearNetwork(depth=2, stddev=-1.0), "`stddev`"),
        (lambda X, y: fullbatch.end_to_end(depth=0), "`depth`"),
        (lambda X, y: fullbatch.end_to_end(weight_decay=-1), "`weight_decay`"),
        (lambda X, y: fullbatch.adam(beta_1=1.0), "`beta_1`"),
        (lambda X, y: fullbatch.adadelta(rho=-0.1), "`rho`"),
        (lambda X, y: fullbatch.adagrad(epsilon=float("nan")), "`epsilon`"),
        (lambda X, y: fullbatch.momentum(momentum=1.5), "`momentum`"),
        (lambda X, y: fullbatch.momentum(nesterov="yes"), "`nesterov`"),
        (lambda X, y: fullbatch.tf1_momentum(momentum=-1), "`momentum`"),
    ],
)
def test_input_validation_names_the_argument(call, argument):
    X, y = _problem()
    with pytest.raises(ValueError, match=argument):
        call(X, y)


def test_every_registered_rule_trains():
    """Adding a rule is one registered factory: the trainer then runs it by name."""
    X, y = _problem()
    assert set(fullbatch.RULES) == {"gd", "end_to_end", "adagrad", "adadelta", "adam",
                                    "momentum", "tf1_momentum"}
    for name in fullbatch.RULES:
        result = train(X, y, LinearNetwork(depth=2, stddev=0.3), name, p=4,
                       learning_rates=[1e-2], steps=50)
        assert result.optimizer["rule"] == name
        assert result.losses[0, -1] < result.losses[0, 0], name
