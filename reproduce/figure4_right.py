"""Paper Figure 4-right: Adam at TensorFlow's default learning rate (1e-3) on the single-layer
model and on depth-2 and depth-3 linear networks (scalar hidden layers); ℓ4 loss.

The paper's claim: "depth improves speed, suggesting that the acceleration of
overparameterization may be somewhat orthogonal to explicit acceleration methods".

`python -m reproduce figure4_right [--quick] [--out DIR] [--data-dir DIR]` writes
figure4_right.png/.pdf and figure4_right.json into DIR/figure4_right.

Adam follows Keras 3's update rule with its defaults pinned (beta_1 0.9, beta_2 0.999,
epsilon 1e-7), applied to every factor; the trainer's Adam is tested against
`keras.optimizers.Adam`. Choices where the paper is silent: the horizon (that of the grid
figures, 100,000 iterations), three seeds (0 plotted, all in the JSON).
"""

from __future__ import annotations

import pathlib

import numpy as np

from reproduce import _common as common

P = 4


def make_config(quick: bool) -> dict:
    setup = common.grid_setup(quick)
    return {
        "losses": [P],
        "depths": [1, 2, 3],
        "learning_rate": 1e-3,  # TensorFlow's (and Keras') default for Adam
        "adam": {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
        "init": "near_zero",
        "hidden_units": setup["hidden_units"],
        "init_stddev": setup["init_stddev"],
        "seeds": [0] if quick else [0, 1, 2],
        "plotted_seed": 0,
        "steps": setup["steps"],
        "record_every": setup["record_every"],
        "dtype": setup["dtype"],
        "divergence_factor": setup["divergence_factor"],
    }


CONFIG = make_config(False)


def run(out_dir=pathlib.Path("results/figure4_right"), data_dir=None, quick=False) -> dict:
    from tf_overparam.trainer import Adam, LinearNetwork

    config = make_config(quick)
    session = common.FigureSession("figure4_right", out_dir, data_dir, quick, config)
    requests = {}
    for depth in config["depths"]:
        model = LinearNetwork(depth=depth, hidden_units=config["hidden_units"],
                              init=config["init"], init_stddev=config["init_stddev"])
        requests[depth] = session.request(
            f"l{P} Adam depth {depth}", model, Adam(**config["adam"]), p=P,
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
                common.curve_summary(run_, b, session.optima[P].loss,
                                     session.references[P])["final_relative_gap"]
                for b in range(len(run_["seeds"]))],
        }
    plot(session, runs, config)
    session.finish({**session.document["results"], "summary": summary})
    return session.document


def plot(session, runs, config):
    optimum = session.optima[P].loss
    with common.style():
        figure, ax = common.plt.subplots(figsize=(6.0, 4.2))
        for depth, (label, run_) in runs.items():
            row = list(run_["seeds"]).index(config["plotted_seed"])
            common.plot_gap(ax, run_["steps"], run_["losses"][row], optimum,
                            f"Adam, depth {depth}", color=common.DEPTH_COLORS[depth], lw=1.5)
            for other in range(len(run_["seeds"])):
                if other != row:
                    common.plot_gap(ax, run_["steps"], run_["losses"][other], optimum, None,
                                    color=common.DEPTH_COLORS[depth], lw=0.6, alpha=0.35)
        common.decorate_gap_axes(
            ax, session, P, title=f"Figure 4-right: Adam (lr {common.lr_text(config['learning_rate'])}), "
                                  "depth 1 vs 2 vs 3 (ℓ4)")
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 0.05))
        if len(config["seeds"]) > 1:
            ax.text(0.99, 0.05, f"thick: seed {config['plotted_seed']}; thin: seeds "
                                f"{', '.join(str(s) for s in config['seeds'][1:])}",
                    transform=ax.transAxes, ha="right", fontsize=7, color="0.4")
        figure.tight_layout()
        session.save_figure(figure)
