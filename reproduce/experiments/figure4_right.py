"""Paper Figure 4-right: Adam at TensorFlow's default learning rate (1e-3) on the single-layer
model and on depth-2 and depth-3 linear networks (scalar hidden layers); ℓ4 loss.

The paper's claim: "depth improves speed, suggesting that the acceleration of
overparameterization may be somewhat orthogonal to explicit acceleration methods".

`python -m reproduce figure4_right [--quick] [--out DIR] [--data-dir DIR]` writes
figure4_right.png/.pdf and figure4_right.json into DIR/figure4_right.

Adam follows Keras 3's update rule with TensorFlow 1's defaults (beta_1 0.9, beta_2 0.999,
epsilon 1e-8; Keras' own epsilon is 1e-7), applied to every factor; `tf_overparam.fullbatch.adam` is tested against
`keras.optimizers.Adam`. Choices where the paper is silent: the horizon (that of the grid
figures, 100,000 iterations), five seeds (median and min–max band drawn).
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
    "data": configs.DATA,  # or your own table (`configs.DATA`)
    "losses": [P],
    "depths": [1, 2, 3],
    "learning_rate": 1e-3,  # TensorFlow's (and Keras') default for Adam
    # TensorFlow 1's defaults, which the paper ran (Keras' ε is 1e-7).
    "adam": {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8},
    "kernel_initializer": "near_zero",
    "hidden_units": configs.GRID["hidden_units"],
    "stddev": configs.GRID["stddev"],
    "seeds": [0, 1, 2, 3, 4],
    "steps": configs.GRID["steps"],
    "record_every": configs.GRID["record_every"],
    "dtype": configs.GRID["dtype"],
    "divergence_factor": configs.GRID["divergence_factor"],
}
QUICK = {"seeds": [0, 1], "steps": configs.GRID_QUICK["steps"],
         "record_every": configs.GRID_QUICK["record_every"]}


def make_config(quick=False, settings=None) -> dict:
    """The settings of a run: CONFIG, QUICK's with `quick`, then `settings` (`--set`)."""
    return configs.experiment_config(CONFIG, QUICK, quick, settings)


def runs(config, problem, done) -> dict:
    """Adam at its one rate on each depth, every seed."""
    from tf_overparam.fullbatch import LinearNetwork
    from tf_overparam.fullbatch import adam

    found = {}
    for depth in config["depths"]:
        model = LinearNetwork(depth=depth, hidden_units=configs.hidden_units_at(depth, config["hidden_units"]),
                              kernel_initializer=config["kernel_initializer"],
                              stddev=config["stddev"])
        found[depth] = problem.fit(
            f"l{P} Adam depth {depth}", model, adam(**config["adam"]), p=P,
            learning_rates=[config["learning_rate"]], seeds=config["seeds"],
            steps=config["steps"], record_every=config["record_every"], dtype=config["dtype"],
            divergence_factor=config["divergence_factor"])
    return found


def summarize(config, problem, runs, done) -> dict:
    stored = {f"Adam depth {depth}": regression.seed_curves(problem, runs[depth].label, done[depth], P)
              for depth in config["depths"]}
    return {"curves": stored,
            "summary": {f"depth {depth}": regression.without_curve(stored[f"Adam depth {depth}"])
                        for depth in config["depths"]}}


def run(out_dir=pathlib.Path("results/figure4_right"), data_dir=None, quick=False, settings=None) -> dict:
    return runner.run(sys.modules[__name__], out_dir, data_dir, quick, settings)


def plot(results, config, problem, out_dir):
    optimum = problem.gap(P)[0]
    with plotting.style():
        figure, ax = plotting.plt.subplots(figsize=(6.0, 4.2))
        for depth in config["depths"]:
            plotting.plot_band(ax, results["curves"][f"Adam depth {depth}"], optimum,
                               f"Adam, depth {depth}", color=plotting.DEPTH_COLORS[depth], lw=1.5)
        plotting.decorate(ax, problem, P, f"Figure 4-right: Adam (lr "
                                          f"{plotting.lr_text(config['learning_rate'])}), depth 1 vs 2 vs 3 (ℓ4)")
        plotting.seeds_note(ax, len(config["seeds"]))
        plotting.save(figure, out_dir, "figure4_right")
