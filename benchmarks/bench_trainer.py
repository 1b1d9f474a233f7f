"""Benchmark: the full-batch trainer on each backend against hand-written loops, in one run.

Every method trains the same depth-3 linear network (hidden width 1, no bias) by full-batch
gradient descent on the same ℓ4 Ethanol problem (loader defaults; partial data if that is what
is there), for 1 configuration and for a batch of 10 learning rates:

- `tf_overparam.fullbatch.train` on TensorFlow (this process) and on JAX (a worker process:
  Keras fixes its backend per process), float32 and "mixed" precision;
- the previous trainer (`tf_overparam/trainer.py` at commit 99ed0c0,
  read from git), on TensorFlow: the "no regression" reference;
- a hand-written JAX loop: `jax.jit` + `lax.scan`, autograd, float32, `jax.vmap` over the 10
  learning rates (in the JAX worker);
- numpy float32 (10 configurations as one batched loop); `model.fit` (1 configuration);
- the same-shape matrix products alone (the two products with X per iteration, forward and
  back, nothing else), in a jitted JAX loop and in numpy: the throughput ceiling.

Rounds alternate between all methods (medians are reported), so that load on the shared machine
hits every method alike. GFLOP/s counts 4·n·d flops per configuration-iteration (the two
products with X; everything else is O(d) for width-1 chains).

Usage:
    python benchmarks/bench_trainer.py [--data-dir DIR] [--rounds 3] [--steps 20000] [--batches 1,10]
                                       [--precision]

`--batches` sets the configuration counts measured (default 1 and 10); larger stacks (30, 90,
240) show how close one compiled loop over many configurations gets to the matmul ceiling
(`benchmarks/figure_work.py` turns that ceiling into the figures' time floor).

`--precision` instead compares float32 and mixed precision with float64 on 100K-iteration ℓ4
runs (the check behind the figures' "mixed" setting).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
LR = 1e-4  # stable for every method (the loss value does not matter for timing)
DEPTH = 3
BATCHES = (1, 10)
LEGACY_COMMIT = "99ed0c0"


def load(data_dir):
    from tf_overparam.datasets import load_ethanol

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X, y, meta = load_ethanol(data_dir, allow_partial=True)
    return X, y, f"Ethanol, {meta['n_rows']} rows × {X.shape[1]} features"


def initial_factors(d):
    rng = np.random.default_rng(0)
    return [rng.normal(0, 0.01, size=s) for s in [(d, 1), (1, 1), (1, 1)]]


# ---- methods (each returns configuration-iterations per second) ------------------------------


def trainer(X, y, batch, steps, dtype, train=None, network=None):
    if train is None:
        from tf_overparam.fullbatch import LinearNetwork, train
        network = LinearNetwork(depth=DEPTH, hidden_units=1)
    result = train(X, y, network, "gd", p=4, learning_rates=[LR] * batch, steps=steps,
                   record_every=100, dtype=dtype, jit_compile=True)
    return result.steps_per_second * batch


def numpy_loop(X, y, batch, steps):
    """Batched float32 numpy GD: rows are configurations (K_1 as (B, d), scalars as (B,))."""
    X = X.astype(np.float32)
    XT = np.ascontiguousarray(X.T)
    y = y.astype(np.float32)
    K1, k2, k3 = (np.repeat(f.reshape(1, -1).astype(np.float32), batch, 0)
                  for f in initial_factors(X.shape[1]))
    k2, k3, lr, n = k2[:, 0], k3[:, 0], np.float32(LR), X.shape[0]
    start = time.perf_counter()
    for _ in range(steps):
        s = k2 * k3
        r = (K1 * s[:, None]) @ XT - y  # (B, n)
        G = (r * r * r) @ X / n  # (B, d)
        a = np.einsum("bd,bd->b", K1, G)
        K1, k2, k3 = K1 - lr * G * s[:, None], k2 - lr * a * k3, k3 - lr * a * k2
    return steps * batch / (time.perf_counter() - start)


def numpy_matmul(X, batch, steps):
    X = X.astype(np.float32)
    XT = np.ascontiguousarray(X.T)
    K = np.full((batch, X.shape[1]), 1e-3, np.float32)
    start = time.perf_counter()
    for _ in range(steps):
        K = K - np.float32(1e-9) * ((K @ XT) @ X)
    return steps * batch / (time.perf_counter() - start)


def model_fit(X, y, epochs=60):
    import keras

    import tf_overparam

    layer = tf_overparam.OverparamDense(1, depth=DEPTH, hidden_units=1, use_bias=False)
    model = keras.Sequential([keras.Input((X.shape[1],)), layer])
    for variable, value in zip(layer.factors, initial_factors(X.shape[1])):
        variable.assign(value.astype(np.float32))
    model.compile(optimizer=keras.optimizers.SGD(LR), loss=tf_overparam.LpLoss(4))
    stamps = []

    class Stamp(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            stamps.append(time.perf_counter())

    model.fit(X.astype(np.float32), y.astype(np.float32), batch_size=X.shape[0], epochs=epochs,
              shuffle=False, verbose=0, callbacks=[Stamp()])
    # From the start of epoch 2 to the start of the last: every step and fit's per-epoch work.
    return (len(stamps) - 2) / (stamps[-1] - stamps[1])


def legacy_module():
    """The previous trainer, tf_overparam/trainer.py at LEGACY_COMMIT, from git (None if unavailable)."""
    try:
        source = subprocess.run(["git", "show", f"{LEGACY_COMMIT}:tf_overparam/trainer.py"],
                                cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    path = pathlib.Path(tempfile.mkdtemp()) / "legacy_trainer.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("legacy_trainer", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["legacy_trainer"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


# ---- the JAX worker -----------------------------------------------------------------------------


def hand_written_jax(X, y, batch, steps):
    """jax.jit + lax.scan, autograd, float32; vmap over the learning rates for batch > 1."""
    import jax
    import jax.numpy as jnp

    Xj, Y = jnp.asarray(X, jnp.float32), jnp.asarray(y, jnp.float32)[:, None]
    start_factors = [jnp.asarray(f, jnp.float32) for f in initial_factors(X.shape[1])]

    def loss(params):
        K1, K2, K3 = params
        return jnp.mean((Xj @ (K1 @ (K2 @ K3)) - Y) ** 4) / 4

    def run(params, lr):
        def step(params, _):
            value, grads = jax.value_and_grad(loss)(params)
            return [p - lr * g for p, g in zip(params, grads)], value
        return jax.lax.scan(step, params, None, length=steps)

    if batch == 1:
        function, rates = jax.jit(run), jnp.float32(LR)
    else:
        function, rates = jax.jit(jax.vmap(run, in_axes=(None, 0))), jnp.full(batch, LR, jnp.float32)
    jax.block_until_ready(function(start_factors, rates))  # compile
    start = time.perf_counter()
    jax.block_until_ready(function(start_factors, rates))
    return steps * batch / (time.perf_counter() - start)


def jax_matmul(X, batch, steps):
    import jax
    import jax.numpy as jnp

    Xj = jnp.asarray(X, jnp.float32)
    XT = jnp.asarray(np.ascontiguousarray(X.T), jnp.float32)
    K = jnp.full((batch, X.shape[1]), 1e-3, jnp.float32)
    loop = jax.jit(lambda K: jax.lax.fori_loop(0, steps, lambda i, K: K - 1e-9 * ((K @ XT) @ Xj), K))
    jax.block_until_ready(loop(K))
    start = time.perf_counter()
    jax.block_until_ready(loop(K))
    return steps * batch / (time.perf_counter() - start)


def jax_worker(data_dir):
    """Answer one JSON command per stdin line with one JSON result line (KERAS_BACKEND=jax)."""
    X, y, _ = load(data_dir)
    for line in sys.stdin:
        command = json.loads(line)
        method, batch, steps = command["method"], command["batch"], command["steps"]
        if method == "trainer":
            value = trainer(X, y, batch, steps, command["dtype"])
        elif method == "hand":
            value = hand_written_jax(X, y, batch, steps)
        else:
            value = jax_matmul(X, batch, steps)
        print(json.dumps({"value": value}), flush=True)


class JaxWorker:
    def __init__(self, data_dir):
        env = {**os.environ, "KERAS_BACKEND": "jax"}
        command = [sys.executable, __file__, "--worker"]
        if data_dir:
            command += ["--data-dir", str(data_dir)]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, env=env, cwd=ROOT)

    def __call__(self, **command):
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the JAX worker stopped")
        return json.loads(line)["value"]

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=60)


def precision_check(X, y, steps=100_000):
    """Max relative difference of the ℓ4 gap curves, float32 / mixed against float64."""
    from tf_overparam.fullbatch import LinearNetwork, train
    from tf_overparam.optimal_loss import optimal_loss

    optimum = optimal_loss(X, y, 4).loss
    print(f"Precision (ℓ4, {steps:,} iterations, gap L − L* compared with float64 where both "
          "are finite):")
    for depth, lrs in ((1, [5e-4, 1e-3]), (3, [5e-4, 1e-3])):
        results = {dtype: train(X, y, LinearNetwork(depth=depth), "gd", p=4, learning_rates=lrs,
                                steps=steps, record_every=100, dtype=dtype)
                   for dtype in ("float64", "mixed", "float32")}
        reference = results["float64"].losses - optimum
        for dtype in ("mixed", "float32"):
            gap = results[dtype].losses - optimum
            both = np.isfinite(gap) & np.isfinite(reference)
            for row, lr in enumerate(lrs):
                diff = np.abs(gap[row] - reference[row])[both[row]] / reference[row][both[row]]
                print(f"  depth {depth} lr {lr:g} {dtype:<8} max rel. diff {diff.max():.1e}; "
                      f"diverged at {results[dtype].diverged_at[row]} vs "
                      f"{results['float64'].diverged_at[row]} (float64)")


# ---- the run ------------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--numpy-steps", type=int, default=2_000)
    parser.add_argument("--batches", default=",".join(map(str, BATCHES)),
                        help="comma-separated configuration counts (default 1,10)")
    parser.add_argument("--precision", action="store_true",
                        help="compare float32 / mixed with float64 over 100K iterations instead")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return jax_worker(args.data_dir)
    try:
        batches = tuple(int(b) for b in args.batches.split(","))
    except ValueError:
        batches = ()
    if not batches or min(batches) < 1:
        parser.error(f"--batches: comma-separated integers >= 1, got {args.batches!r}")
    os.environ["KERAS_BACKEND"] = "tensorflow"
    X, y, what = load(args.data_dir)
    if args.precision:
        return precision_check(X, y)
    n, d = X.shape
    legacy = legacy_module()
    worker = JaxWorker(args.data_dir)
    steps = args.steps
    methods = {}
    for batch in batches:
        methods[("trainer, JAX, float32", batch)] = lambda b=batch: worker(
            method="trainer", batch=b, steps=steps, dtype="float32")
        methods[("trainer, JAX, mixed", batch)] = lambda b=batch: worker(
            method="trainer", batch=b, steps=steps, dtype="mixed")
        methods[("trainer, TensorFlow, float32", batch)] = lambda b=batch: trainer(
            X, y, b, steps, "float32")
        methods[("trainer, TensorFlow, mixed", batch)] = lambda b=batch: trainer(
            X, y, b, steps, "mixed")
        if legacy is not None:
            network = legacy.LinearNetwork(depth=DEPTH, hidden_units=1)
            for dtype in ("float32", "mixed"):
                methods[(f"old trainer ({LEGACY_COMMIT}), TensorFlow, {dtype}", batch)] = (
                    lambda b=batch, t=dtype, net=network: trainer(X, y, b, steps, t, legacy.train,
                                                                  net))
        methods[("hand-written JAX loop (jit + scan" + (", vmap)" if batch > 1 else ")"),
                 batch)] = lambda b=batch: worker(method="hand", batch=b, steps=steps)
        methods[("numpy float32", batch)] = lambda b=batch: numpy_loop(X, y, b, args.numpy_steps)
        methods[("matrix products alone, JAX", batch)] = lambda b=batch: worker(
            method="matmul", batch=b, steps=steps)
        methods[("matrix products alone, numpy", batch)] = lambda b=batch: numpy_matmul(
            X, b, args.numpy_steps)
    methods[("model.fit", 1)] = lambda: model_fit(X, y)

    print(f"Problem: depth-{DEPTH} linear network (width 1), ℓ4 loss, full batch, lr {LR:g}; "
          f"data: {what}; {args.rounds} alternating rounds; load average "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", flush=True)
    samples = {key: [] for key in methods}
    for round_ in range(args.rounds):
        for key, method in methods.items():
            samples[key].append(method())
        print(f"  round {round_ + 1}/{args.rounds} done", flush=True)
    worker.close()
    median = {key: float(np.median(values)) for key, values in samples.items()}
    flops = 4.0 * n * d / 1e9
    print(f"\nconfiguration-iterations/s (median of {args.rounds}); GFLOP/s = 4·n·d per "
          "configuration-iteration")
    for batch in batches:
        hand = next(v for (name, b), v in median.items() if b == batch and name.startswith("hand"))
        ceiling = median[("matrix products alone, JAX", batch)]
        print(f"\n{batch} configuration{'s' if batch > 1 else ''}:")
        print(f"  {'method':<52}{'config-it/s':>12}{'GFLOP/s':>9}{'vs hand JAX':>13}"
              f"{'of matmul':>11}")
        for (name, b), value in median.items():
            if b == batch:
                print(f"  {name:<52}{value:>12,.0f}{value * flops:>9.1f}{value / hand:>12.2f}×"
                      f"{value / ceiling:>10.0%}")
    fit = median[("model.fit", 1)]
    print(f"\n  model.fit (1 configuration): {fit:,.0f} iterations/s; the best trainer is "
          f"{max(v for (k, b), v in median.items() if b == 1 and k.startswith('trainer')) / fit:,.0f}"
          "× faster")


if __name__ == "__main__":
    main()
