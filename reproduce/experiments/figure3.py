"""Paper Figure 3: gradient descent on depth 1, 2, 3 (scalar hidden layers), each at its best
learning rate from the paper's grid; ℓ2 (left) and ℓ4 (right).

The paper's claim: "with ℓ2 loss, depth (slightly) hinders optimization, whereas with ℓ4 loss it
leads to significant acceleration".

`python -m reproduce figure3 [--quick] [--out DIR] [--data-dir DIR]` writes figure3.png/.pdf and
figure3.json into DIR/figure3 (default results/figure3).

Choices where the paper is silent (also in CONFIG and the JSON): 100,000 iterations (the horizon
the paper states for Figure 5-left, whose "setup is identical to that of Figure 3-right"), the
loader's default normalization (features and target standardized), one seed (0), the selection
rule of `reproduce.lab.selection` (smallest mean log10 relative gap among runs that never diverged).
The same grids are also run under the loader's other normalizations (a sensitivity check).
"""

from __future__ import annotations

import pathlib
import sys

from ..lab import configs
from ..lab import plotting
from ..lab import regression
from ..lab import runner
from ..lab import selection
from ..lab.regression import header  # noqa: F401 - the experiment's JSON header
from ..lab.regression import prepare  # noqa: F401 - the experiment's data

CONFIG = {
    "losses": [2, 4],
    "depths": [1, 2, 3],
    "kernel_initializer": "near_zero",
    **configs.GRID,
}
QUICK = configs.GRID_QUICK


def make_config(quick=False, settings=None) -> dict:
    """The settings of a run: CONFIG, QUICK's with `quick`, then `settings` (`--set`)."""
    return configs.experiment_config(CONFIG, QUICK, quick, settings)


def grids(config, problem) -> dict:
    return {(p, depth): problem.gd_grid(config, p, depth)
            for p in config["losses"] for depth in config["depths"]}


def runs(config, problem, done) -> dict:
    """The grids, then each grid's chosen rate with the extra seeds."""
    found = grids(config, problem)
    return {**found, **regression.more_seed_runs(found, done, config["more_seeds"])}


def summarize(config, problem, runs, done) -> dict:
    selected, stored = regression.summarize_grids(grids(config, problem), done,
                                                  name_of=lambda key: f"l{key[0]} depth {key[1]}")
    return {"curves": stored, "selected": selected, "claims": compare_depths(selected, config),
            "other_normalizations": "see the atlas"}


def run(out_dir=pathlib.Path("results/figure3"), data_dir=None, quick=False, settings=None) -> dict:
    return runner.run(sys.modules[__name__], out_dir, data_dir, quick, settings)


def compare_depths(selected: dict, config: dict) -> dict:
    """Depth ordering at each loss: medians over seeds of the final relative gap and of the
    iterations to each threshold."""
    def median(entry, key):
        return (entry.get(key) or {}).get("median")

    claims = {}
    for p in config["losses"]:
        rows = {d: selected.get(f"l{p} depth {d}", {}) for d in config["depths"]}
        finals = {d: median(r, "final_relative_gap") for d, r in rows.items()}
        claims[f"l{p}"] = {
            "median_final_relative_gap": finals,
            "median_iterations_to_relative_gap": {
                d: {f"{g:.0e}": median(r, f"iterations_to_relative_gap_{g:.0e}")
                    for g in selection.GAP_THRESHOLDS} for d, r in rows.items()},
            "learning_rate": {d: r.get("learning_rate") for d, r in rows.items()},
            "final_gap_ratio_depth_vs_depth1": {
                d: (finals[d] / finals[1] if finals.get(1) and finals[d] else None)
                for d in config["depths"]},
        }
    return claims


def plot(results, config, problem, out_dir):
    curves = results["curves"]
    with plotting.style():
        figure, axes = plotting.plt.subplots(1, len(config["losses"]),
                                             figsize=(5.2 * len(config["losses"]), 3.9))
        axes = list(axes) if len(config["losses"]) > 1 else [axes]
        for ax, p in zip(axes, config["losses"]):
            optimum = problem.gap(p)[0]
            for depth in config["depths"]:
                entry = curves.get(f"l{p} depth {depth}")
                if entry is None:
                    continue
                plotting.plot_band(ax, entry, optimum,
                                   f"depth {depth} (lr {plotting.lr_text(entry['learning_rate'])})",
                                   color=plotting.DEPTH_COLORS[depth], lw=1.4)
            plotting.decorate(ax, problem, p, f"ℓ{p} loss, best learning rate per depth")
            plotting.log_iterations(ax, config["record_every"])  # ℓ2's claim is in the first 1K
            plotting.seeds_note(ax, len(config["seeds"]) + len(config["more_seeds"]))
        figure.suptitle("Figure 3: gradient descent, depth 1 vs 2 vs 3 (hidden width 1)",
                        fontsize=11)
        plotting.save(figure, out_dir, "figure3")
