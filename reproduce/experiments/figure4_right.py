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

from ..lab import configs
from ..lab import plotting
from ..lab.session import FigureSession

P = 4

CONFIG = {
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


def run(out_dir=pathlib.Path("results/figure4_right"), data_dir=None, quick=False, settings=None) -> dict:
    from tf_overparam.fullbatch import LinearNetwork
    from tf_overparam.fullbatch import adam

    config = make_config(quick, settings)
    session = FigureSession("figure4_right", out_dir, data_dir, quick, config, settings=settings)
    requests = {}
    for depth in config["depths"]:
        model = LinearNetwork(depth=depth, hidden_units=configs.hidden_units_at(depth, config["hidden_units"]),
                              kernel_initializer=config["kernel_initializer"],
                              stddev=config["stddev"])
        requests[depth] = session.request(
            f"l{P} Adam depth {depth}", model, adam(**config["adam"]), p=P,
            learning_rates=[config["learning_rate"]], seeds=config["seeds"],
            steps=config["steps"], record_every=config["record_every"], dtype=config["dtype"],
            divergence_factor=config["divergence_factor"])
    done = session.execute(list(requests.values()))
    curves = {depth: done[req.label] for depth, req in requests.items()}
    summary = {f"depth {depth}": session.seed_curves(f"Adam depth {depth}", requests[depth].label,
                                                     curves[depth], P)
               for depth in config["depths"]}
    plot(session, curves, config)
    return session.finish({"summary": summary})


def plot(session, curves, config):
    optimum = session.gap(P)[0]
    with plotting.style():
        figure, ax = plotting.plt.subplots(figsize=(6.0, 4.2))
        for depth, seeds in curves.items():
            plotting.plot_band(ax, seeds, optimum, f"Adam, depth {depth}",
                               color=plotting.DEPTH_COLORS[depth], lw=1.5)
        session.decorate(ax, P, f"Figure 4-right: Adam (lr "
                                f"{plotting.lr_text(config['learning_rate'])}), depth 1 vs 2 vs 3 (ℓ4)")
        plotting.seeds_note(ax, len(config["seeds"]))
        session.save_figure(figure)
