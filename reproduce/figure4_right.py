"""Paper Figure 4-right: Adam at TensorFlow's default learning rate (1e-3) on the single-layer
model and on depth-2 and depth-3 linear networks (scalar hidden layers); ℓ4 loss.

The paper's claim: "depth improves speed, suggesting that the acceleration of
overparameterization may be somewhat orthogonal to explicit acceleration methods".

`python -m reproduce figure4_right [--quick] [--out DIR] [--data-dir DIR]` writes
figure4_right.png/.pdf and figure4_right.json into DIR/figure4_right.

Adam follows Keras 3's update rule with TensorFlow 1's defaults (beta_1 0.9, beta_2 0.999,
epsilon 1e-8; Keras' own epsilon is 1e-7), applied to every factor; `tf_overparam.fullbatch.adam` is tested against
`keras.optimizers.Adam`. Choices where the paper is silent: the horizon (that of the grid
figures, 100,000 iterations), three seeds (0 plotted, all in the JSON).
"""

from __future__ import annotations

import pathlib

from reproduce import configs
from reproduce import plotting
from reproduce import selection
from reproduce.session import FigureSession

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
    "seeds": [0, 1, 2],
    "plotted_seed": 0,
    "steps": configs.GRID["steps"],
    "record_every": configs.GRID["record_every"],
    "dtype": configs.GRID["dtype"],
    "divergence_factor": configs.GRID["divergence_factor"],
}
QUICK = {"seeds": [0], "steps": configs.GRID_QUICK["steps"],
         "record_every": configs.GRID_QUICK["record_every"]}


def run(out_dir=pathlib.Path("results/figure4_right"), data_dir=None, quick=False) -> dict:
    from tf_overparam.fullbatch import LinearNetwork
    from tf_overparam.fullbatch import adam

    config = configs.make_config(CONFIG, QUICK, quick)
    session = FigureSession("figure4_right", out_dir, data_dir, quick, config)
    requests = {}
    for depth in config["depths"]:
        model = LinearNetwork(depth=depth, hidden_units=config["hidden_units"],
                              kernel_initializer=config["kernel_initializer"],
                              stddev=config["stddev"])
        requests[depth] = session.request(
            f"l{P} Adam depth {depth}", model, adam(**config["adam"]), p=P,
            learning_rates=[config["learning_rate"]], seeds=config["seeds"],
            steps=config["steps"], record_every=config["record_every"], dtype=config["dtype"],
            divergence_factor=config["divergence_factor"])
    done = session.execute(list(requests.values()))
    runs = {depth: (req.label, done[req.label]) for depth, req in requests.items()}
    summary = {}
    for depth, (label, run_) in runs.items():
        row = list(run_["seeds"]).index(config["plotted_seed"])
        entry = session.curve(f"Adam depth {depth}", label, run_, row, P)
        summary[f"depth {depth}"] = {
            "plotted_seed": {k: v for k, v in entry.items() if k not in ("steps", "losses")},
            "all_seeds_final_relative_gap": [
                selection.curve_summary(run_, b, *session.gap(P))["final_relative_gap"]
                for b in range(len(run_["seeds"]))],
        }
    plot(session, runs, config)
    return session.finish({"summary": summary})


def plot(session, runs, config):
    optimum = session.gap(P)[0]
    with plotting.style():
        figure, ax = plotting.plt.subplots(figsize=(6.0, 4.2))
        for depth, (label, run_) in runs.items():
            row = list(run_["seeds"]).index(config["plotted_seed"])
            plotting.plot_gap(ax, run_["steps"], run_["losses"][row], optimum,
                              f"Adam, depth {depth}", color=plotting.DEPTH_COLORS[depth], lw=1.5)
            for other in range(len(run_["seeds"])):
                if other != row:
                    plotting.plot_gap(ax, run_["steps"], run_["losses"][other], optimum, None,
                                      color=plotting.DEPTH_COLORS[depth], lw=0.6, alpha=0.35)
        session.decorate(ax, P, f"Figure 4-right: Adam (lr "
                                f"{plotting.lr_text(config['learning_rate'])}), depth 1 vs 2 vs 3 (ℓ4)")
        if len(config["seeds"]) > 1:  # top right: clear of the curves and threshold labels
            ax.text(0.99, 0.98, f"thick: seed {config['plotted_seed']}; thin: seeds "
                                f"{', '.join(str(s) for s in config['seeds'][1:])}",
                    transform=ax.transAxes, ha="right", va="top", fontsize=7, color="0.4")
        session.save_figure(figure)
