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
Figure 3 (`reproduce.lab.configs.GRID`); the depth-1 run is Figure 3's (shared run store).
"""

from __future__ import annotations

import pathlib
import sys

import numpy as np

from ..lab import configs
from ..lab import plotting
from ..lab import regression
from ..lab import runner
from ..lab import selection
from ..lab.records import rounded
from ..lab.regression import header  # noqa: F401 - the experiment's JSON header
from ..lab.regression import prepare  # noqa: F401 - the experiment's data

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


def make_config(quick=False, settings=None) -> dict:
    """The settings of a run: CONFIG, QUICK's with `quick`, then `settings` (`--set`)."""
    return configs.experiment_config(CONFIG, QUICK, quick, settings)


def grids(config, problem) -> dict:
    return {(depth, init): problem.gd_grid(config, P, depth, init) for depth, init in config["models"]}


def runs(config, problem, done) -> dict:
    """The grids, then each grid's chosen rate with the extra seeds."""
    found = grids(config, problem)
    return {**found, **regression.more_seed_runs(found, done, config["more_seeds"])}


def summarize(config, problem, runs, done) -> dict:
    found = grids(config, problem)
    fraction = config["visible_progress_fraction_of_initial_loss"]
    selected, stored = regression.summarize_grids(
        found, done, name_of=lambda key: f"depth {key[0]} {key[1]}",
        extra=lambda key, seeds: {"visible_progress_at": [first_progress(row, seeds["steps"], fraction)
                                                         for row in seeds["losses"]]})
    for (depth, init), grid in found.items():
        grid_run, choice = done[(depth, init)], regression.choice_of(grid, done, (depth, init))
        name = f"depth {depth} {init}"
        entry = selected[name]
        entry.update({"all_eligible_stuck": choice.get("all_eligible_stuck"), "grid_outcomes": [
            {"learning_rate": g["learning_rate"], "diverged_seeds": g["diverged_seeds"],
             "diverged_at": [_or_none(grid_run["diverged_at"][b]) for b in g["rows"]],
             "median_final_relative_gap": g["median_final"],
             "visible_progress_at": [first_progress(grid_run["losses"][b], grid_run["steps"], fraction)
                                     for b in g["rows"]]}
            for g in choice["grid"]]})
        late = moving_before_divergence(entry)
        if late is not None:  # the seeds that moved, at that rate: drawn, so stored
            rows = next(g["rows"] for g in choice["grid"] if g["learning_rate"] == late["learning_rate"])
            moved = selection.take_rows(
                grid_run, [b for b, v in zip(rows, late["visible_progress_at"]) if v is not None])
            stored[f"{name}, moving before divergence"] = {
                "run": grid.label, "learning_rate": late["learning_rate"],
                "seeds": [int(s) for s in moved["seeds"]], "steps": moved["steps"],
                "losses": [rounded(row, 8) for row in moved["losses"]]}
            entry["moving_before_divergence"] = late
    return {"curves": stored, "selected": selected}


def run(out_dir=pathlib.Path("results/figure5_left"), data_dir=None, quick=False, settings=None) -> dict:
    return runner.run(sys.modules[__name__], out_dir, data_dir, quick, settings)


def _or_none(step):
    return int(step) if step >= 0 else None


def moving_before_divergence(entry):
    """For a model whose every non-diverging rate is stuck: the smallest rate at which some seed
    made visible progress and then diverged (the paper's late start), else None."""
    if not entry.get("all_eligible_stuck"):
        return None
    moved = [g for g in entry["grid_outcomes"]
             if any(v is not None and d is not None
                    for v, d in zip(g["visible_progress_at"], g["diverged_at"]))]
    return min(moved, key=lambda g: g["learning_rate"]) if moved else None


def _span(values):
    values = [v for v in values if v is not None]
    if not values:
        return "never"
    low, high = min(values), max(values)
    return f"{low:,}" if low == high else f"{low:,}–{high:,}"


def plot(results, config, problem, out_dir):
    """One panel per depth of the deep networks (4, 8): depth 1, then that depth from near-zero
    and from identity initialization, each line labelled with the learning rate drawn."""
    optimum = problem.gap(P)[0]
    models = [tuple(m) for m in config["models"]]
    deep = sorted({depth for depth, _ in models if depth > 1})
    with plotting.style():
        figure, axes = plotting.plt.subplots(1, len(deep), figsize=(5.6 * len(deep), 4.4),
                                             sharey=True, squeeze=False)
        for ax, depth in zip(axes[0], deep):
            for key in [m for m in models if m[0] == 1] + [m for m in models if m[0] == depth]:
                _plot_model(ax, key, results, optimum)
            plotting.decorate(ax, problem, P, f"depth {depth} against depth 1 (ℓ4)")
            ax.yaxis.set_tick_params(labelleft=True)  # shared scale, numbers on both panels
            plotting.seeds_note(ax, len(config["seeds"]) + len(config["more_seeds"]))
        figure.suptitle("Figure 5-left: near-zero vs identity initialization, gradient descent",
                        fontsize=11)
        plotting.save(figure, out_dir, "figure5_left")


def _plot_model(ax, key, results, optimum):
    depth, init = key
    name_key = f"depth {depth} {init}"
    entry, seeds = results["selected"][name_key], results["curves"].get(name_key)
    ls = "-" if init == "near_zero" else "--"
    name = "depth 1" if depth == 1 else f"depth {depth}, {init.replace('_', '-')} init"
    color = plotting.DEPTH_COLORS[depth] if init == "identity" or depth == 1 else "#8c564b"
    if seeds is None:
        ax.plot([], [], color=color, ls=ls, label=f"{name}: every lr diverged")
        return
    rate = plotting.lr_text(entry["learning_rate"])
    text = f"{name}, lr {rate}"
    if entry.get("all_eligible_stuck"):
        text = f"{name}, lr {rate}: stuck (so is every lr that does not diverge)"
    plotting.plot_band(ax, seeds, optimum, text, color=color, ls=ls, lw=1.5)
    moved = results["curves"].get(f"{name_key}, moving before divergence")
    if moved is not None:
        late = entry["moving_before_divergence"]
        for i, losses in enumerate(moved["losses"]):
            plotting.plot_gap(
                ax, moved["steps"], losses, optimum,
                None if i else (f"{name}, lr {plotting.lr_text(late['learning_rate'])}, seed "
                                f"{', '.join(map(str, moved['seeds']))} (of "
                                f"{len(late['visible_progress_at'])}): moves at "
                                f"{_span(late['visible_progress_at'])}, diverges at "
                                f"{_span(late['diverged_at'])}"),
                color=color, ls=":", lw=1.0, alpha=0.9)
