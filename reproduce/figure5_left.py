"""Paper Figure 5-left: gradient descent on the single-layer model against depth-4 and depth-8
linear networks (scalar hidden layers), each with near-zero and near-identity initialization,
each at its best learning rate from the paper's grid; ℓ4 loss; 100,000 iterations.

The paper's claims: with near-zero initialization "the depth-4 network starts making visible
progress after more than 50K iterations, whereas the depth-8 network seems stuck even after 100K
iterations"; "under identity initialization, both networks immediately make progress, and again
depth serves as an implicit accelerator"; and (Appendix B.1) for depth 8 with near-zero
initialization "all learning rates led either to divergence, or to a failure to converge".

`python -m reproduce figure5_left [--quick] [--out DIR] [--data-dir DIR]` writes
figure5_left.png/.pdf and figure5_left.json into DIR/figure5_left.

Identity initialization: 1 added to the diagonal of every factor, rectangular ones included
(paper Appendix B.1), on top of the N(0, 0.01²) noise. Grid, horizon and selection rule: those of
Figure 3 (`reproduce.configs.GRID`); the depth-1 run is Figure 3's (shared run store).
"""

from __future__ import annotations

import pathlib

import numpy as np

from reproduce import configs
from reproduce import plotting
from reproduce.session import FigureSession

P = 4
#: "visible progress": the loss has fallen below this fraction of its initial value.
PROGRESS_FRACTION = 0.9

CONFIG = {
    "losses": [P],
    "models": [[1, "near_zero"], [4, "near_zero"], [8, "near_zero"], [4, "identity"],
               [8, "identity"]],
    "visible_progress_fraction_of_initial_loss": PROGRESS_FRACTION,
    **configs.GRID,
}
QUICK = configs.GRID_QUICK


def first_progress(losses, steps, fraction=PROGRESS_FRACTION):
    """First recorded iteration whose loss is below `fraction` × the initial loss (or None)."""
    losses = np.asarray(losses, dtype=np.float64)
    below = np.flatnonzero(np.isfinite(losses) & (losses < fraction * losses[0]))
    return int(steps[below[0]]) if below.size else None


def run(out_dir=pathlib.Path("results/figure5_left"), data_dir=None, quick=False) -> dict:
    config = configs.make_config(CONFIG, QUICK, quick)
    session = FigureSession("figure5_left", out_dir, data_dir, quick, config)
    requests = {(depth, init): session.gd_grid(config, P, depth, init)
                for depth, init in config["models"]}
    runs = session.execute(list(requests.values()))
    curves = {key: (req.label, runs[req.label], session.selections[req.label])
              for key, req in requests.items()}
    fraction = config["visible_progress_fraction_of_initial_loss"]
    selected = {}
    for (depth, init), (label, grid_run, choice) in curves.items():
        entry = {"learning_rate": choice["learning_rate"],
                 "at_grid_edge": choice.get("at_grid_edge"),
                 "learning_rate_by_final_loss": choice.get("learning_rate_by_final_loss"),
                 "all_eligible_stuck": choice.get("all_eligible_stuck"),
                 "grid_outcomes": [
                     {"learning_rate": g["learning_rate"], "diverged_at": g["diverged_at"],
                      "final_relative_gap": g["final_relative_gap"],
                      "visible_progress_at": first_progress(
                          grid_run["losses"][row], grid_run["steps"], fraction)}
                     for row, g in zip(choice["rows"], choice["grid"])]}
        if choice["row"] is not None:
            full = session.curve(f"depth {depth} {init}", label, grid_run, choice["row"], P)
            entry.update({k: v for k, v in full.items() if k not in ("steps", "losses")})
            entry["visible_progress_at"] = first_progress(
                grid_run["losses"][choice["row"]], grid_run["steps"], fraction)
        selected[f"depth {depth} {init}"] = entry
    plot(session, curves, selected)
    return session.finish({"selected": selected})


def moving_before_divergence(entry):
    """For a model whose every non-diverging rate is stuck: the smallest rate that made visible
    progress before it diverged (the paper's late start), else None."""
    if not entry.get("all_eligible_stuck"):
        return None
    moved = [g for g in entry["grid_outcomes"]
             if g["visible_progress_at"] is not None and g["diverged_at"] is not None]
    return min(moved, key=lambda g: g["learning_rate"]) if moved else None


def plot(session, curves, selected):
    optimum = session.gap(P)[0]
    # Stuck lines lie on each other at the initial loss: distinct dashes and widths tell them apart.
    stuck_style = {4: {"ls": (0, (6, 2)), "lw": 2.6}, 8: {"ls": (0, (1, 1.5)), "lw": 1.4}}
    with plotting.style():
        figure, ax = plotting.plt.subplots(figsize=(6.4, 4.4))
        for (depth, init), (label, grid_run, choice) in curves.items():
            ls = "-" if init == "near_zero" else "--"
            name = "depth 1" if depth == 1 else f"depth {depth}, {init.replace('_', '-')} init"
            color = plotting.DEPTH_COLORS[depth]
            if choice["row"] is None:
                ax.plot([], [], color=color, ls=ls, label=f"{name}: every lr diverged")
                continue
            style = {"ls": ls, "lw": 1.5}
            text = f"{name} (lr {plotting.lr_text(choice['learning_rate'])})"
            if choice.get("all_eligible_stuck"):
                style = stuck_style.get(depth, style)
                text = f"{name}: every lr that does not diverge is stuck"
            plotting.plot_gap(ax, grid_run["steps"], grid_run["losses"][choice["row"]],
                              optimum, text, color=color, **style)
            moved = moving_before_divergence(selected[f"depth {depth} {init}"])
            if moved is not None:
                row = list(grid_run["learning_rates"]).index(moved["learning_rate"])
                plotting.plot_gap(
                    ax, grid_run["steps"], grid_run["losses"][row], optimum,
                    f"{name}, lr {plotting.lr_text(moved['learning_rate'])}: moves at "
                    f"{moved['visible_progress_at']:,}, diverges at {moved['diverged_at']:,}",
                    color=color, ls="-", lw=1.0, alpha=0.8)
        session.decorate(ax, P, "Figure 5-left: depth 4 and 8, near-zero vs identity init (ℓ4)")
        session.save_figure(figure)
