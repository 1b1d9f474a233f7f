"""Paper Figure 4-left: gradient descent on a depth-3 linear network against AdaGrad and AdaDelta
on the single-layer model, each at its best learning rate from the paper's grid; ℓ4 loss.

The paper's claim: "the implicit acceleration of overparameterization outperforms both AdaGrad
and AdaDelta (former is actually slower than plain gradient descent)".

`python -m reproduce figure4_left [--quick] [--out DIR] [--data-dir DIR]` writes
figure4_left.png/.pdf and figure4_left.json into DIR/figure4_left (default results/figure4_left).

AdaGrad and AdaDelta follow Keras 3's update rules (AdaGrad initial_accumulator_value 0.1,
epsilon 1e-7; AdaDelta rho 0.95 and TensorFlow 1's epsilon 1e-8, Keras' being 1e-7); the rules
(`tf_overparam.fullbatch.adagrad` / `adadelta`) are tested against `keras.optimizers.Adagrad` /
`Adadelta`. Depth-1 plain GD is drawn too, as the reference the caption refers to. Grid, horizon
and selection rule: those of Figure 3 (`reproduce.lab.configs.GRID`); the GD runs are Figure 3's
(shared run store).
"""

from __future__ import annotations

import pathlib
import sys

from ..lab import configs
from ..lab import plotting
from ..lab import regression
from ..lab import runner
from ..lab.regression import header  # noqa: F401 - the experiment's JSON header
from ..lab.regression import prepare  # noqa: F401 - the experiment's data

P = 4

CONFIG = {
    "losses": [P],
    "gd_depths": [3, 1],  # depth 3 is the paper's curve; depth 1 is the caption's reference
    "adaptive_depth": 1,
    "adagrad": {"initial_accumulator_value": 0.1, "epsilon": 1e-7},
    "adadelta": {"rho": 0.95, "epsilon": 1e-8},  # TensorFlow 1's ε, which the paper ran
    "kernel_initializer": "near_zero",
    **configs.GRID,
}
QUICK = configs.GRID_QUICK


def make_config(quick=False, settings=None) -> dict:
    """The settings of a run: CONFIG, QUICK's with `quick`, then `settings` (`--set`)."""
    return configs.experiment_config(CONFIG, QUICK, quick, settings)


def grids(config, problem) -> dict:
    from tf_overparam.fullbatch import LinearNetwork
    from tf_overparam.fullbatch import adadelta
    from tf_overparam.fullbatch import adagrad

    found = {f"GD depth {depth}": problem.gd_grid(config, P, depth) for depth in config["gd_depths"]}
    model = LinearNetwork(depth=config["adaptive_depth"], stddev=config["stddev"])
    for name, rule in (("AdaGrad", adagrad(**config["adagrad"])),
                       ("AdaDelta", adadelta(**config["adadelta"]))):
        found[name] = problem.grid(f"l{P} {name} depth {config['adaptive_depth']}", model, rule,
                                   config, P)
    return found


def runs(config, problem, done) -> dict:
    """The grids, then each grid's chosen rate with the extra seeds."""
    found = grids(config, problem)
    return {**found, **regression.more_seed_runs(found, done, config["more_seeds"])}


def summarize(config, problem, runs, done) -> dict:
    selected, stored = regression.summarize_grids(grids(config, problem), done)
    return {"curves": stored, "selected": selected}


def run(out_dir=pathlib.Path("results/figure4_left"), data_dir=None, quick=False, settings=None) -> dict:
    return runner.run(sys.modules[__name__], out_dir, data_dir, quick, settings)


def plot(results, config, problem, out_dir):
    colors = {"GD depth 3": plotting.DEPTH_COLORS[3], "GD depth 1": plotting.DEPTH_COLORS[1],
              "AdaGrad": "#ff7f0e", "AdaDelta": "#17becf"}
    names = {"GD depth 3": "GD, depth-3 network", "GD depth 1": "GD, depth 1 (reference)",
             "AdaGrad": "AdaGrad, depth 1", "AdaDelta": "AdaDelta, depth 1"}
    optimum = problem.gap(P)[0]
    with plotting.style():
        figure, ax = plotting.plt.subplots(figsize=(6.0, 4.2))
        for name, entry in results["curves"].items():
            plotting.plot_band(
                ax, entry, optimum, f"{names[name]} (lr {plotting.lr_text(entry['learning_rate'])})",
                color=colors[name], lw=1.0 if name == "GD depth 1" else 1.6,
                ls="--" if name == "GD depth 1" else "-")
        plotting.decorate(ax, problem, P,
                          "Figure 4-left: depth-3 GD vs AdaGrad, AdaDelta (ℓ4, best lr each)")
        plotting.seeds_note(ax, len(config["seeds"]) + len(config["more_seeds"]))
        plotting.save(figure, out_dir, "figure4_left")
