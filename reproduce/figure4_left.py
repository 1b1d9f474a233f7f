"""Paper Figure 4-left: gradient descent on a depth-3 linear network against AdaGrad and AdaDelta
on the single-layer model, each at its best learning rate from the paper's grid; ℓ4 loss.

The paper's claim: "the implicit acceleration of overparameterization outperforms both AdaGrad
and AdaDelta (former is actually slower than plain gradient descent)".

`python -m reproduce figure4_left [--quick] [--out DIR] [--data-dir DIR]` writes
figure4_left.png/.pdf and figure4_left.json into DIR/figure4_left (default results/figure4_left).

AdaGrad and AdaDelta follow Keras 3's update rules with Keras' defaults pinned (AdaGrad
initial_accumulator_value 0.1, epsilon 1e-7; AdaDelta rho 0.95, epsilon 1e-7); the trainer's
implementations are tested against `keras.optimizers.Adagrad` / `Adadelta`. Depth-1 plain GD is
drawn too, as the reference the caption refers to. Grid, horizon and selection rule: those of
Figure 3 (`reproduce._common.GRID_SETUP`); the GD runs are Figure 3's (shared run store).
"""

from __future__ import annotations

import pathlib

from reproduce import _common as common

P = 4


def make_config(quick: bool) -> dict:
    return {
        "losses": [P],
        "gd_depths": [3, 1],  # depth 3 is the paper's curve; depth 1 is the caption's reference
        "adaptive_depth": 1,
        "adagrad": {"initial_accumulator_value": 0.1, "epsilon": 1e-7},
        "adadelta": {"rho": 0.95, "epsilon": 1e-7},
        "init": "near_zero",
        **common.grid_setup(quick),
    }


CONFIG = make_config(False)


def run(out_dir=pathlib.Path("results/figure4_left"), data_dir=None, quick=False) -> dict:
    from tf_overparam.trainer import Adadelta, Adagrad, LinearNetwork

    config = make_config(quick)
    session = common.FigureSession("figure4_left", out_dir, data_dir, quick, config)
    requests = {f"GD depth {depth}": common.gd_grid_request(session, config, P, depth)
                for depth in config["gd_depths"]}
    model = LinearNetwork(depth=config["adaptive_depth"], init_stddev=config["init_stddev"])
    for name, optimizer in (("AdaGrad", Adagrad(**config["adagrad"])),
                            ("AdaDelta", Adadelta(**config["adadelta"]))):
        requests[name] = common.grid_request(session, config, P, model, optimizer,
                                             f"l{P} {name} depth {config['adaptive_depth']}")
    runs = session.execute(list(requests.values()))
    curves = {name: (req.label, runs[req.label], session.selections[req.label])
              for name, req in requests.items()}
    selected = {}
    for name, (label, grid_run, selection) in curves.items():
        entry = {"learning_rate": selection["learning_rate"],
                 "at_grid_edge": selection.get("at_grid_edge"),
                 "learning_rate_by_final_loss": selection.get("learning_rate_by_final_loss")}
        if selection["row"] is not None:
            full = session.curve(name, label, grid_run, selection["row"], P)
            entry.update({k: v for k, v in full.items() if k not in ("steps", "losses")})
        selected[name] = entry
    plot(session, curves, config)
    session.finish({**session.document["results"], "selected": selected})
    return session.document


def plot(session, curves, config):
    colors = {"GD depth 3": common.DEPTH_COLORS[3], "GD depth 1": common.DEPTH_COLORS[1],
              "AdaGrad": "#ff7f0e", "AdaDelta": "#17becf"}
    names = {"GD depth 3": "GD, depth-3 network", "GD depth 1": "GD, depth 1 (reference)",
             "AdaGrad": "AdaGrad, depth 1", "AdaDelta": "AdaDelta, depth 1"}
    optimum = session.optima[P].loss
    with common.style():
        figure, ax = common.plt.subplots(figsize=(6.0, 4.2))
        for name, (label, grid_run, selection) in curves.items():
            if selection["row"] is None:
                continue
            common.plot_gap(ax, grid_run["steps"], grid_run["losses"][selection["row"]],
                            optimum, f"{names[name]} (lr {common.lr_text(selection['learning_rate'])})",
                            color=colors[name], lw=1.0 if name == "GD depth 1" else 1.6,
                            ls="--" if name == "GD depth 1" else "-")
        common.decorate_gap_axes(ax, session, P, title="Figure 4-left: depth-3 GD vs AdaGrad, "
                                                       "AdaDelta (ℓ4, best lr each)")
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 0.05))
        figure.tight_layout()
        session.save_figure(figure)
