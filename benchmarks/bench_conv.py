"""OverparamConv2D benchmark: training-step and inference-step time ratios.

    python benchmarks/bench_conv.py [--rounds 7] [--steps 20] [--batch 64]

1. Training step of `OverparamConv2D(depth=2)` ÷ `Conv2D`, on the MNIST tutorial's two conv
   shapes (conv1: 28×28×1 → 32, conv2: 14×14×32 → 64; 5×5, "same", batch 64), each a one-layer
   model trained with SGD on the mean squared output (`train_on_batch`). The OverparamConv2D runs
   with the path chooser ("auto") and with each path forced, to show the chooser picks the faster
   one. Goal ≤ 1.3×.
2. Inference step (`predict_on_batch`, batch 500) of the whole tutorial convnet after
   `collapse(overparameterize(model, layer_types=(Dense, Conv2D)))` ÷ the original convnet:
   the same graph, goal ≤ 1.02×.

Every case runs one warm-up chunk (tracing), then `--rounds` rounds of `--steps` steps, the
cases alternating (the order flips each round, ABBA, which cancels drift). Printed: the median
seconds per step of each case and the median of the per-round ratios. Random inputs (time does
not depend on values). Backend-neutral (KERAS_BACKEND=jax works); absolute times drift on shared
machines, the ratios are the result. Not a test: nothing is asserted.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import tf_overparam  # noqa: E402
from reproduce.experiments import conv_overparam  # noqa: E402

#: (name, input shape (h, w, c_in), filters): the tutorial's conv layers.
CONV_SHAPES = [("conv1", (28, 28, 1), 32), ("conv2", (14, 14, 32), 64)]


def conv_model(layer, input_shape):
    model = keras.Sequential([keras.Input(input_shape), layer])
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    return model


def training_cases(batch):
    rng = np.random.default_rng(0)
    groups = []
    for name, shape, filters in CONV_SHAPES:
        x = rng.normal(size=(batch,) + shape).astype("float32")
        y = np.zeros((batch,) + shape[:2] + (filters,), "float32")
        cases = {"Conv2D": conv_model(keras.layers.Conv2D(filters, 5, padding="same"), shape)}
        for path in ("auto", "end_to_end", "factored"):
            layer = tf_overparam.OverparamConv2D(filters, 5, depth=2, padding="same", forward_path=path)
            cases[f"OverparamConv2D {path}"] = conv_model(layer, shape)
        chosen = cases["OverparamConv2D auto"].layers[0].choose_path((batch,) + shape)
        steps = {label: (lambda m=model, x=x, y=y: m.train_on_batch(x, y)) for label, model in cases.items()}
        groups.append((f"training step, {name} {shape} → {filters} (auto chose {chosen})", "Conv2D", steps))
    return groups


def inference_cases():
    config = conv_overparam.make_config(quick=False)
    original = conv_overparam.build_original(0, config)
    deep = tf_overparam.overparameterize(original, depth=2, layer_types=(keras.layers.Dense, keras.layers.Conv2D))
    collapsed = tf_overparam.collapse(deep)
    x = np.random.default_rng(1).normal(size=(500, 28, 28, 1)).astype("float32")
    steps = {"original": lambda: original.predict_on_batch(x), "collapsed": lambda: collapsed.predict_on_batch(x)}
    return [("inference step, tutorial convnet, batch 500", "original", steps)]


def measure(steps, rounds, chunk):
    labels = list(steps)
    for label in labels:  # warm-up: trace outside the timed chunks
        for _ in range(2):
            steps[label]()
    times = {label: [] for label in labels}
    for round_index in range(rounds):
        for label in labels if round_index % 2 == 0 else labels[::-1]:
            start = time.perf_counter()
            for _ in range(chunk):
                steps[label]()
            times[label].append((time.perf_counter() - start) / chunk)
    return times


def report(title, reference, times):
    print(f"\n{title}")
    print(f"  {'case':28s} {'ms/step':>9s} {'÷ ' + reference:>12s}")
    for label, values in times.items():
        ratios = [a / b for a, b in zip(values, times[reference])]
        print(f"  {label:28s} {1e3 * statistics.median(values):9.2f} {statistics.median(ratios):11.3f}×")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=20, help="steps per timed chunk")
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    print(f"backend {keras.backend.backend()}, keras {keras.__version__}, {args.rounds} rounds of "
          f"{args.steps} steps, medians")
    for title, reference, steps in training_cases(args.batch) + inference_cases():
        report(title, reference, measure(steps, args.rounds, args.steps))


if __name__ == "__main__":
    main()
