"""Benchmark: where a second of the full-batch trainer's compiled loop goes, piece by piece.

The regression experiments spend 86–96% of their run seconds in the compiled loops
(`figure_breakdown.py`), and those loops run 2–7× slower than the products with X alone
(`figure_work.py`'s floor). This takes the loop of the figures' commonest run, an ℓ4 gradient-
descent grid of a depth-3 network of hidden width 1 on Ethanol in "mixed" precision, and times,
side by side in one process (JAX, alternating rounds, medians), loops that each add one piece of
the trainer's iteration to the previous, built from the library's own functions:

    products    the two float32 products with X alone (the floor's loop: `bench_trainer.jax_matmul`)
    objective   `Objective.loss_and_gradient`: + casts, residual powers, loss (float64 around)
    network     + the chain product K_e = K_1 K_2 K_3 and the three factor gradients
    update      + the gradient-descent update: the iteration without the trainer's bookkeeping
    trainer     `fullbatch.train` itself: + divergence and level checks, the selection of frozen
                configurations, the loss records, chunking (its recorded loop seconds)

Each row's "adds" column is its difference from the row above, per configuration-iteration.

Usage:
    KERAS_BACKEND=jax python benchmarks/loop_profile.py [--data-dir DIR] [--steps 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import bench_trainer  # noqa: E402  (the data loader and the floor's loop)

STAGES = ("products", "objective", "network", "update", "trainer")
BATCHES = (2, 5, 15, 30, 90)
DEPTH, P, LR = 3, 4, 1e-4


def stage_loops(X, y, batch, steps):
    """{stage: seconds per configuration-iteration} for the loops before "trainer"."""
    import jax
    from keras import ops

    from tf_overparam.fullbatch import LinearNetwork
    from tf_overparam.fullbatch import updates
    from tf_overparam.fullbatch.objective import Objective
    from tf_overparam.ops.chain import chain_product
    from tf_overparam.ops.chain import factor_gradients
    from tf_overparam.ops.chain import suffix_products

    objective = Objective(X, y.reshape(-1, 1), P, "mixed")
    network = LinearNetwork(depth=DEPTH, hidden_units=1)
    factors = [np.stack([f] * batch) for f in network.initial_factors(0, X.shape[1], 1)]
    rule = updates.get("gd")

    # Each step returns the loss too, as the trainer needs it: a loss nobody reads would be
    # removed by the compiler, and with it the pass over the (B, n) residuals it costs.
    def objective_step(data, params):
        loss, gradient = objective.loss_and_gradient(data, params[0])
        return [p - LR * gradient for p in params], loss

    def network_step(data, params):
        suffixes = suffix_products(params)
        loss, gradient = objective.loss_and_gradient(data, chain_product(params, suffixes))
        grads = factor_gradients(params, gradient, suffixes)
        return [p - LR * g for p, g in zip(params, grads)], loss

    def update_step(data, params):
        suffixes = suffix_products(params)
        loss, gradient = objective.loss_and_gradient(data, chain_product(params, suffixes))
        new, _ = rule.update(factor_gradients(params, gradient, suffixes), (), params, LR)
        return new, loss

    def looped(step):
        """The data as an argument, as in the trainer (a captured constant may be folded)."""
        def loop(data, params):
            def body(i, carry):
                params, total = carry
                params, loss = step(data, params)
                return params, total + loss
            return jax.lax.fori_loop(0, steps, body, (params, ops.zeros((batch,), "float64")))
        return jax.jit(loop)

    out = {}
    with jax.enable_x64(True):
        data = objective.arrays()
        for stage, step in (("objective", objective_step), ("network", network_step),
                            ("update", update_step)):
            params = [ops.convert_to_tensor(f, "float64") for f in
                      ([chain_product(factors)] if stage == "objective" else factors)]
            loop = looped(step)
            jax.block_until_ready(loop(data, params))
            start = time.perf_counter()
            jax.block_until_ready(loop(data, params))
            out[stage] = (time.perf_counter() - start) / (steps * batch)
    return out


def trainer_loop(X, y, batch, steps):
    from tf_overparam.fullbatch import LinearNetwork
    from tf_overparam.fullbatch import train

    result = train(X, y, LinearNetwork(depth=DEPTH, hidden_units=1), "gd", p=P,
                   learning_rates=[LR] * batch, steps=steps, record_every=100, dtype="mixed",
                   loss_levels=[0.1, 0.01], devices=1)
    return result.wall_time_s / (steps * batch)


def measure(X, y, batch, steps):
    out = {"products": 1.0 / bench_trainer.jax_matmul(X, batch, steps)}
    out.update(stage_loops(X, y, batch, steps))
    out["trainer"] = trainer_loop(X, y, batch, steps)
    return out


def table(medians, source) -> str:
    lines = [f"Loop body of an ℓ4 GD depth-3 grid ({source}), microseconds per "
             "configuration-iteration (median of the rounds) and what each piece adds:", "",
             "| configurations | " + " | ".join(STAGES) + " | trainer / products |",
             "|---|" + "---|" * (len(STAGES) + 1)]
    for batch, stages in medians.items():
        cells = []
        for i, stage in enumerate(STAGES):
            value = stages[stage] * 1e6
            added = "" if i == 0 else f" (+{(stages[stage] - stages[STAGES[i - 1]]) * 1e6:.2f})"
            cells.append(f"{value:.2f}{added}")
        ratio = stages["trainer"] / stages["products"]
        lines.append(f"| {batch} | " + " | ".join(cells) + f" | {ratio:.1f}× |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    if os.environ.get("KERAS_BACKEND") != "jax":
        parser.error("run with KERAS_BACKEND=jax (the loops are timed with jax.jit)")
    X, y, source = bench_trainer.load(args.data_dir)
    rounds = {batch: [] for batch in BATCHES}
    for _ in range(args.rounds):  # alternating, so that the machine's load hits every row alike
        for batch in BATCHES:
            rounds[batch].append(measure(X, y, batch, args.steps))
    medians = {batch: {stage: float(np.median([r[stage] for r in runs])) for stage in STAGES}
               for batch, runs in rounds.items()}
    print(table(medians, source))
    return medians


if __name__ == "__main__":
    main()
