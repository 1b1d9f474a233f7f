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
Figure 3 (`reproduce._common.GRID_SETUP`); the depth-1 run is Figure 3's (shared run store).
"""

from __future__ import annotations

import pathlib

import numpy as np

from reproduce import _common as common

P = 4
#: "visible progress": the loss has fallen below this fraction of its initial value.
PROGRESS_FRACTION = 0.9


def make_config(quick: bool) -> dict:
    return {
        "losses": [P],
        "models": [[1, "near_zero"], [4, "near_zero"], [8, "near_zero"], [4, "identity"],
                   [8, "identity"]],
        "visible_progress_fraction_of_initial_loss": PROGRESS_FRACTION,
        **common.grid_setup(quick),
    }


CONFIG = make_config(False)


def first_progress(losses, steps, fraction=PROGRESS_FRACTION):
    """First recorded iteration whose loss is below `fraction` × the initial loss (or None)."""
    losses = np.asarray(losses, dtype=np.float64)
    below = np.flatnonzero(np.isfinite(losses) & (losses < fraction * losses[0]))
    return int(steps[below[0]]) if below.size else None


def run(out_dir=pathlib.Path("results/figure5_left"), data_dir=None, quick=False) -> dict:
    config = make_config(quick)
    session = common.FigureSession("figure5_left", out_dir, data_dir, quick, config)
    requests = {(depth, init): common.gd_grid_request(session, config, P, depth, init)
                for depth, init in config["models"]}
    runs = session.execute(list(requests.values()))
    curves = {key: (req.label, runs[req.label], session.selections[req.label])
              for key, req in requests.items()}
    selected = {}
    for (depth, init), (label, grid_run, selection) in curves.items():
        name = f"depth {depth} {init}"
        entry = {"learning_rate": selection["learning_rate"],
                 "at_grid_edge": selection.get("at_grid_edge"),
                 "learning_rate_by_final_loss": selection.get("learning_rate_by_final_loss"),
                 "all_eligible_stuck": selection.get("all_eligible_stuck"),
                 "grid_outcomes": [
                     {"learning_rate": g["learning_rate"], "diverged_at": g["diverged_at"],
                      "final_relative_gap": g["final_relative_gap"],
                      "visible_progress_at": first_progress(
                          grid_run["losses"][row], grid_run["steps"], PROGRESS_FRACTION)}
                     for row, g in zip(selection["rows"], selection["grid"])]}
        if selection["row"] is not None:
            full = session.curve(name, label, grid_run, selection["row"], P)
            entry.update({k: v for k, v in full.items() if k not in ("steps", "losses")})
            entry["visible_progress_at"] = first_progress(
                grid_run["losses"][selection["row"]], grid_run["steps"], PROGRESS_FRACTION)
        selected[name] = entry
    plot(session, curves, config)
    session.finish({**session.document["results"], "selected": selected})
    return session.document


def plot(session, curves, config):
    optimum = session.optima[P].loss
    with common.style():
        figure, ax = common.plt.subplots(figsize=(6.4, 4.4))
        for (depth, init), (label, grid_run, selection) in curves.items():
            if selection["row"] is None:
                ax.plot([], [], color=common.DEPTH_COLORS[depth],
                        ls="-" if init == "near_zero" else "--",
                        label=f"depth {depth}, {init.replace('_', '-')} init: every lr diverged")
                continue
            text = ("depth 1" if depth == 1 else
                    f"depth {depth}, {init.replace('_', '-')} init")
            text += f" (lr {common.lr_text(selection['learning_rate'])}"
            text += "; every lr stuck or diverged)" if selection.get("all_eligible_stuck") else ")"
            common.plot_gap(ax, grid_run["steps"], grid_run["losses"][selection["row"]],
                            optimum, text,
                            color=common.DEPTH_COLORS[depth],
                            ls="-" if init == "near_zero" else "--", lw=1.5)
        common.decorate_gap_axes(ax, session, P, title="Figure 5-left: depth 4 and 8, near-zero "
                                                       "vs identity init (ℓ4)")
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 0.05))
        figure.tight_layout()
        session.save_figure(figure)
