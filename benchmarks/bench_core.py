"""Core benchmarks: ratios measured side by side in one run.

    python benchmarks/bench_core.py [--rounds 5] [--jit {auto,on,off}]

Each case compiles two models that differ in one thing, then alternates epochs of `steps`
training steps between them (`steps_per_execution` amortizes Python overhead), timing each
epoch with a callback (fit's teardown is excluded). Printed: median seconds per step and the
ratio. Absolute times drift on shared machines; the ratio is the result.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import tf_overparam  # noqa: E402


class EpochTimer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds = time.perf_counter() - self.start


def build(layer, input_dim, optimizer, loss, jit):
    model = keras.Sequential([keras.Input((input_dim,)), layer])
    jit_compile = {"auto": "auto", "on": True, "off": False}[jit]
    model.compile(optimizer=optimizer, loss=loss, jit_compile=jit_compile, steps_per_execution=50)
    return model


def seconds_per_step(models, x, y, batch_size, rounds):
    """Alternate one epoch per model per round; median seconds per step for each model."""
    steps = len(x) // batch_size
    timer = EpochTimer()
    times = [[] for _ in models]
    for model in models:  # warm-up: trace and compile outside the timed epochs
        model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
    for _ in range(rounds):
        for index, model in enumerate(models):
            model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0, callbacks=[timer])
            times[index].append(timer.seconds / steps)
    return [statistics.median(t) for t in times]


def case(name, baseline, candidate, x, y, batch_size, rounds, goal):
    base, cand = seconds_per_step([baseline, candidate], x, y, batch_size, rounds)
    ratio = cand / base
    verdict = "meets" if ratio <= goal else "MISSES"
    print(f"| {name} | {base * 1e6:.0f} | {cand * 1e6:.0f} | {ratio:.2f}x | <= {goal}x ({verdict}) |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--jit", choices=["auto", "on", "off"], default="auto")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)

    print(f"keras {keras.__version__}, backend {keras.backend.backend()}, jit_compile={args.jit}")
    print("| case | baseline µs/step | candidate µs/step | ratio | goal |")
    print("|---|---|---|---|---|")

    # 128 → 1 regression (the paper's Ethanol shape), mini-batches of 256.
    x = rng.normal(size=(256 * 200, 128)).astype("float32")
    y = rng.normal(size=(256 * 200, 1)).astype("float32")
    sgd = lambda: keras.optimizers.SGD(1e-3)  # noqa: E731
    case(
        "OverparamDense(depth=2, hidden_units=1) vs Dense, SGD, 128→1",
        build(keras.layers.Dense(1), 128, sgd(), tf_overparam.LpLoss(2), args.jit),
        build(tf_overparam.OverparamDense(1, depth=2, hidden_units=1), 128, sgd(), tf_overparam.LpLoss(2), args.jit),
        x, y, 256, args.rounds, goal=1.10,
    )
    case(
        "EndToEndSGD(depth=3) vs SGD, Dense 128→1 (Eq. 11 path)",
        build(keras.layers.Dense(1), 128, sgd(), tf_overparam.LpLoss(2), args.jit),
        build(keras.layers.Dense(1), 128, tf_overparam.EndToEndSGD(1e-3, depth=3), tf_overparam.LpLoss(2), args.jit),
        x, y, 256, args.rounds, goal=1.2,
    )
    # 512 → 10 (SVD path).
    x = rng.normal(size=(256 * 100, 512)).astype("float32")
    y = rng.normal(size=(256 * 100, 10)).astype("float32")
    case(
        "EndToEndSGD(depth=3) vs SGD, Dense 512→10 (SVD path)",
        build(keras.layers.Dense(10), 512, sgd(), tf_overparam.LpLoss(2), args.jit),
        build(keras.layers.Dense(10), 512, tf_overparam.EndToEndSGD(1e-3, depth=3), tf_overparam.LpLoss(2), args.jit),
        x, y, 256, args.rounds, goal=2.0,
    )


if __name__ == "__main__":
    main()
