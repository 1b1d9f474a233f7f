"""Benchmark: the compiled trainer against a naive `model.fit` loop and a plain numpy loop.

All three train the same depth-3 linear network (hidden width 1, no bias) by full-batch gradient
descent on the same ℓ4 Ethanol problem (loader defaults; partial data if that is what is there),
measured side by side in one process, and the script prints the ratios:

- naive Keras: `Sequential([OverparamDense(1, depth=3, hidden_units=1, use_bias=False)])`,
  SGD, `LpLoss(4)`, `fit(X, y, batch_size=n, epochs=E)`: one full batch per epoch; steps are
  timed with a callback (first epoch excluded: tracing), not by fit's wall time;
- numpy: the same iteration written in numpy (float64 and float32), one configuration;
- the trainer (`tf_overparam.trainer.train`), one configuration (the like-for-like ratio) and a
  batch of 10 learning rates (how the figures use it), in each dtype.

Usage:
    python benchmarks/bench_trainer.py [--data-dir DIR] [--precision] [--figures]

`--precision` compares float32 and mixed precision with float64 on 100K-iteration ℓ4 runs.
`--figures` also times `python -m reproduce <figure>` for the five regression figures at full
settings, each in a fresh process writing into a temporary folder (minutes).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

LR = 1e-4  # a stable rate for all three (the loss value does not matter for timing)
DEPTH = 3
REGRESSION_FIGURES = ["figure2", "figure3", "figure4_left", "figure4_right", "figure5_left"]


def load(data_dir):
    try:
        from tf_overparam.datasets import load_ethanol

        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            X, y, meta = load_ethanol(data_dir, allow_partial=True)
        return X, y, f"Ethanol, {meta['n_rows']} rows (partial={meta['partial']})"
    except Exception as exc:  # noqa: BLE001 - a benchmark should still run without the data
        rng = np.random.default_rng(0)
        X = rng.normal(size=(1316, 128))
        y = X @ rng.normal(size=128) / 12 + rng.normal(size=1316) * 0.3
        return X, y, f"synthetic 1316 x 128 (data not found: {type(exc).__name__})"


def initial_factors(d, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(0, 0.01, size=(d, 1)), rng.normal(0, 0.01, size=(1, 1)),
            rng.normal(0, 0.01, size=(1, 1))]


def bench_fit(X, y, epochs):
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
            stamps.append(("begin", time.perf_counter()))

        def on_train_batch_end(self, batch, logs=None):
            stamps.append(("end", time.perf_counter()))

    model.fit(X.astype(np.float32), y.astype(np.float32), batch_size=X.shape[0],
              epochs=epochs, shuffle=False, verbose=0, callbacks=[Stamp()])
    begins = [t for kind, t in stamps if kind == "begin"]
    ends = [t for kind, t in stamps if kind == "end"]
    # From the start of epoch 2 to the end of the last: every step and all per-epoch overhead
    # of fit (callbacks, logs), i.e. what one iteration of a model.fit loop costs.
    return (len(begins) - 1) / (ends[-1] - begins[1])


def bench_numpy(X, y, steps, dtype):
    X = X.astype(dtype)
    y = y.astype(dtype)
    K1, k2, k3 = (f.astype(dtype) for f in initial_factors(X.shape[1]))
    n = X.shape[0]
    start = time.perf_counter()
    for _ in range(steps):
        s2 = k2 @ k3  # (1, 1)
        kernel = K1 @ s2  # (d, 1)
        r = X @ kernel - y[:, None]
        G = X.T @ (r * r * r) / n
        g1 = G @ s2.T
        a2 = K1.T @ G
        g2 = a2 @ k3.T
        g3 = k2.T @ a2
        K1, k2, k3 = K1 - LR * g1, k2 - LR * g2, k3 - LR * g3
    return steps / (time.perf_counter() - start)


def bench_trainer(X, y, steps, dtype, batch, jit=True):
    from tf_overparam.trainer import LinearNetwork, train

    result = train(X, y, LinearNetwork(depth=DEPTH, hidden_units=1), "gd", p=4,
                   learning_rates=[LR] * batch, steps=steps, record_every=100, dtype=dtype,
                   jit_compile=jit)
    return result.steps_per_second, result.compile_time_s, result.device


def precision_check(X, y, steps=100_000):
    """Max relative difference of the ℓ4 gap curves, float32 / mixed against float64."""
    from tf_overparam.optimal_loss import optimal_loss
    from tf_overparam.trainer import LinearNetwork, train

    optimum = optimal_loss(X, y, 4).loss
    print(f"\nPrecision (l4, {steps:,} iterations, gap L - L* compared with float64 where both "
          "are finite):")
    for depth, lrs in ((1, [5e-4, 1e-3]), (3, [5e-4, 1e-3])):
        curves, rates = {}, {}
        for dtype in ("float64", "mixed", "float32"):
            result = train(X, y, LinearNetwork(depth=depth), "gd", p=4, learning_rates=lrs,
                           steps=steps, record_every=100, dtype=dtype)
            curves[dtype], rates[dtype] = result, result.steps_per_second
        reference = curves["float64"].losses - optimum
        for dtype in ("mixed", "float32"):
            gap = curves[dtype].losses - optimum
            both = np.isfinite(gap) & np.isfinite(reference)
            for row, lr in enumerate(lrs):
                diff = np.abs(gap[row] - reference[row])[both[row]] / reference[row][both[row]]
                print(f"  depth {depth} lr {lr:g} {dtype:<8} max rel. diff {diff.max():.1e}; "
                      f"diverged at {curves[dtype].diverged_at[row]} vs "
                      f"{curves['float64'].diverged_at[row]} (float64); "
                      f"{rates[dtype] / rates['float64']:.1f}x the float64 speed")


def time_figures(data_dir):
    rows = []
    with tempfile.TemporaryDirectory() as out:
        for name in REGRESSION_FIGURES:
            command = [sys.executable, "-m", "reproduce", name, "--out", out]
            if data_dir:
                command += ["--data-dir", str(data_dir)]
            start = time.perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL,
                           cwd=pathlib.Path(__file__).resolve().parents[1])
            rows.append((name, time.perf_counter() - start))
            print(f"  {name:<14} {rows[-1][1]:7.1f} s", flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--fit-epochs", type=int, default=60)
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--numpy-steps", type=int, default=3_000)
    parser.add_argument("--precision", action="store_true",
                        help="also compare float32 / mixed against float64 over 100K iterations")
    parser.add_argument("--figures", action="store_true",
                        help="also time the five regression figures at full settings")
    args = parser.parse_args(argv)

    X, y, what = load(args.data_dir)
    print(f"Problem: depth-{DEPTH} linear network (width 1), l4 loss, full batch, lr {LR:g}; "
          f"data: {what}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    fit = bench_fit(X, y, args.fit_epochs)
    numpy64 = bench_numpy(X, y, args.numpy_steps, np.float64)
    numpy32 = bench_numpy(X, y, args.numpy_steps, np.float32)
    rows = []
    device = None
    for dtype in ("mixed", "float32", "float64"):
        for batch in (1, 10):
            rate, compile_s, device = bench_trainer(X, y, args.steps, dtype, batch)
            rows.append((dtype, batch, rate, compile_s, "XLA"))
    for batch in (1, 10):
        rate, compile_s, _ = bench_trainer(X, y, args.steps, "mixed", batch, jit=False)
        rows.append(("mixed", batch, rate, compile_s, "no XLA"))

    print(f"\nTrainer device: {device}")
    print(f"{'method':<44}{'iterations/s':>14}{'config-iter/s':>15}{'vs fit':>9}{'vs numpy64':>12}")
    print(f"{'model.fit (float32, 1 config)':<44}{fit:>14,.0f}{fit:>15,.0f}{1.0:>9.1f}"
          f"{fit / numpy64:>12.2f}")
    print(f"{'numpy loop float64 (1 config)':<44}{numpy64:>14,.0f}{numpy64:>15,.0f}"
          f"{numpy64 / fit:>9.1f}{1.0:>12.2f}")
    print(f"{'numpy loop float32 (1 config)':<44}{numpy32:>14,.0f}{numpy32:>15,.0f}"
          f"{numpy32 / fit:>9.1f}{numpy32 / numpy64:>12.2f}")
    for dtype, batch, rate, compile_s, mode in rows:
        label = f"trainer {dtype} {mode} ({batch} config{'s' if batch > 1 else ''})"
        print(f"{label:<44}{rate:>14,.0f}{rate * batch:>15,.0f}{rate * batch / fit:>9.0f}"
              f"{rate * batch / numpy64:>12.1f}   (compile {compile_s:.1f} s)")
    like = {dtype: rate for dtype, batch, rate, _, mode in rows if batch == 1 and mode == "XLA"}
    print(f"\nLike for like (one configuration, mixed precision): trainer / model.fit = "
          f"{like['mixed'] / fit:.0f}x (goal >= 100x); trainer / numpy float64 = "
          f"{like['mixed'] / numpy64:.1f}x (goal >= 1x)")
    if args.precision:
        precision_check(X, y)
    if args.figures:
        print("\nFive regression figures at full settings (fresh processes, empty run store):")
        times = time_figures(args.data_dir)
        total = sum(t for _, t in times)
        print(f"  {'total':<14} {total:7.1f} s (goal <= 300 s); load average "
              f"{os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
