"""MNIST tutorial benchmark: training-step time, overparameterized against original.

    python benchmarks/bench_mnist.py [--rounds 7] [--steps 50] [--jit {off,on,both}] [--data-dir DIR]

Both models train with the exact step of the reproduction (`reproduce.lab.mnist_trainer.Trainer`:
TF1 momentum, staircase rate, L2, dropout, batch 64 in the tutorial's data order) on the Keras
backend in use: on TensorFlow compiled as a `tf.function` loop of `--steps` steps (`--jit`
XLA-compiles the step; TensorFlow only), on JAX a jitted step per call, on PyTorch eager steps. The models alternate, one chunk each per round, after a
warm-up chunk that traces them (ABBA order: the order flips every round); printed: median
seconds per step of each, their ratio, and the median of the per-round paired ratios (goal
≤ 1.10×). With `--jit both` each model also runs with the step XLA-compiled, side by side.
Absolute times drift on shared machines; the ratios are the result. Real MNIST is used when
found (--data-dir, $TF_OVERPARAM_DATA_DIR), else random images of the same shape (step time
does not depend on pixel values).
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from reproduce.lab import mnist_trainer  # noqa: E402
from reproduce.lab import provenance  # noqa: E402
from reproduce.lab import mnist_tutorial as mt  # noqa: E402


def training_data(data_dir):
    try:
        return mt.load_tutorial_data(data_dir)["train"], "MNIST"
    except Exception as error:  # noqa: BLE001 - any failure: fall back to random pixels
        print(f"(MNIST not loaded: {type(error).__name__}; using random images)")
        rng = np.random.default_rng(0)
        images = mt.scale_images(rng.integers(0, 256, (mt.TRAIN_SIZE, 28, 28), dtype=np.uint8))
        return (images, rng.integers(0, 10, mt.TRAIN_SIZE).astype(np.int64)), "random"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=50, help="steps per timed chunk")
    parser.add_argument("--jit", choices=["off", "on", "both"], default="off")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()

    train, source = training_data(args.data_dir)
    jit_modes = {"off": [False], "on": [True], "both": [False, True]}[args.jit]
    cases = []
    for jit in jit_modes:
        for name in ("original", "overparameterized"):
            model = mt.build_model()
            if name == "overparameterized":
                model = mt.build_overparameterized(model)
            cases.append({"name": name, "jit": jit, "trainer": mnist_trainer.Trainer(model, train, jit_compile=jit), "step": 0, "times": []})
    for case in cases:  # warm-up: trace (and XLA-compile) outside the timed chunks
        case["trainer"].train(0, args.steps)
        case["step"] = args.steps
    for round_index in range(args.rounds):
        for case in cases if round_index % 2 == 0 else cases[::-1]:  # ABBA order cancels drift
            start = time.perf_counter()
            case["trainer"].train(case["step"], args.steps)
            case["times"].append((time.perf_counter() - start) / args.steps)
            case["step"] += args.steps
    median = {(c["name"], c["jit"]): statistics.median(c["times"]) for c in cases}
    times = {(c["name"], c["jit"]): c["times"] for c in cases}

    device = provenance.device_description()
    print(f"device: {device['type']} {device['name']} ({device['count']}); data: {source}; "
          f"{args.rounds} rounds x {args.steps} steps, batch {mt.BATCH_SIZE}")
    print("| jit | original ms/step | overparameterized ms/step | ratio of medians | median paired ratio | goal |")
    print("|---|---|---|---|---|---|")
    for jit in jit_modes:
        base, cand = median[("original", jit)], median[("overparameterized", jit)]
        ratio = cand / base
        # Each round's two chunks ran back to back: their ratio is less exposed to load drift.
        paired = statistics.median(c / b for b, c in zip(times[("original", jit)], times[("overparameterized", jit)]))
        verdict = "meets" if paired <= 1.10 else "MISSES"
        print(f"| {'on' if jit else 'off'} | {base * 1e3:.1f} | {cand * 1e3:.1f} | {ratio:.2f}x | {paired:.2f}x "
              f"| <= 1.10x ({verdict}) |", flush=True)
    if len(jit_modes) == 2:
        for name in ("original", "overparameterized"):
            print(f"XLA on/off, {name}: {median[(name, True)] / median[(name, False)]:.2f}x")


if __name__ == "__main__":
    main()
