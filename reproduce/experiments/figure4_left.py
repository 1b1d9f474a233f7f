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

from ..lab import configs
from ..lab import plotting
from ..lab.session import FigureSession

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


def run(out_dir=pathlib.Path("results/figure4_left"), data_dir=None, quick=False, settings=None) -> dict:
    from tf_overparam.fullbatch import LinearNetwork
    from tf_overparam.fullbatch import adadelta
    from tf_overparam.fullbatch import adagrad

    config = make_config(quick, settings)
    session = FigureSession("figure4_left", out_dir, data_dir, quick, config, settings=settings)
    requests = {f"GD depth {depth}": session.gd_grid(config, P, depth)
                for depth in config["gd_depths"]}
    model = LinearNetwork(depth=config["adaptive_depth"], stddev=config["stddev"])
    for name, rule in (("AdaGrad", adagrad(**config["adagrad"])),
                       ("AdaDelta", adadelta(**config["adadelta"]))):
        requests[name] = session.grid_request(f"l{P} {name} depth {config['adaptive_depth']}",
                                              model, rule, config, P)
    runs = session.execute(list(requests.values()))
    curves = session.with_more_seeds(requests, config["more_seeds"], runs)
    selected = {}
    for name, request in requests.items():
        choice = session.selections[request.label]
        entry = {"learning_rate": choice["learning_rate"],
                 "at_grid_edge": choice.get("at_grid_edge"),
                 "learning_rate_by_final_loss": choice.get("learning_rate_by_final_loss")}
        if curves[name] is not None:
            entry.update(session.seed_curves(name, request.label, curves[name], P))
        selected[name] = entry
    plot(session, curves, config)
    return session.finish({"selected": selected})


def plot(session, curves, config):
    colors = {"GD depth 3": plotting.DEPTH_COLORS[3], "GD depth 1": plotting.DEPTH_COLORS[1],
              "AdaGrad": "#ff7f0e", "AdaDelta": "#17becf"}
    names = {"GD depth 3": "GD, depth-3 network", "GD depth 1": "GD, depth 1 (reference)",
             "AdaGrad": "AdaGrad, depth 1", "AdaDelta": "AdaDelta, depth 1"}
    optimum = session.gap(P)[0]
    with plotting.style():
        figure, ax = plotting.plt.subplots(figsize=(6.0, 4.2))
        for name, seeds in curves.items():
            if seeds is None:
                continue
            plotting.plot_band(
                ax, seeds, optimum,
                f"{names[name]} (lr {plotting.lr_text(seeds['learning_rates'][0])})",
                color=colors[name], lw=1.0 if name == "GD depth 1" else 1.6,
                ls="--" if name == "GD depth 1" else "-")
        session.decorate(ax, P, "Figure 4-left: depth-3 GD vs AdaGrad, AdaDelta (ℓ4, best lr each)")
        plotting.seeds_note(ax, len(config["seeds"]) + len(config["more_seeds"]))
        session.save_figure(figure)
