"""Paper Figure 2: gradient descent on depth-2 and depth-3 linear networks (hidden width 1 and
100) against the end-to-end update rule (paper Eq. 11, N = 2, 3) on the single-layer model,
learning rate 1e-3; ℓ2 (top) and ℓ4 (bottom), width 1 (left) and 100 (right).

The paper's claims: "the preconditioning schemes reliably emulate deep network optimization",
and "hidden layers of size 1 (scalars) or 100 yielded similar convergence".

`python -m reproduce figure2 [--quick] [--out DIR] [--data-dir DIR]` writes figure2.png/.pdf and
figure2.json into DIR/figure2 (default results/figure2).

Every end-to-end run starts from the end-to-end kernel of the deep network it emulates (same
`LinearNetwork`, same seed), so each pair starts at the same point; the rule uses the library's
`tf_overparam.ops.end_to_end_direction` (Eq. 11 path, k = 1). Choices where the paper is silent
(also in CONFIG and the JSON): the horizon, five seeds (drawn as the median with a min–max band;
the JSON has every seed's curve), the loader's default normalization.
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
from ..lab.regression import header  # noqa: F401 - the experiment's JSON header
from ..lab.regression import prepare  # noqa: F401 - the experiment's data

CONFIG = {
    "data": configs.DATA,  # or your own table (`configs.DATA`)
    "losses": [2, 4],
    "learning_rate": 1e-3,
    "depths": [2, 3],
    "hidden_units": [1, 100],
    "kernel_initializer": "near_zero",
    "stddev": 0.01,
    "seeds": [0, 1, 2, 3, 4],
    # Emulation is compared seed by seed (deep net and rule from the same start); every curve is
    # drawn as the median over seeds with a min–max band. The balanced-start check uses one seed.
    "balanced_check_seed": 0,
    "steps": 50_000,
    "record_every": 50,
    "dtype": "mixed",
    "divergence_factor": 1e6,
    # Differences below this relative gap are round-off, not emulation error.
    "difference_min_relative_gap": 1e-9,
}
QUICK = {"seeds": [0], "steps": 400, "record_every": 10}


def make_config(quick=False, settings=None) -> dict:
    """The settings of a run: CONFIG, QUICK's with `quick`, then `settings` (`--set`)."""
    return configs.experiment_config(CONFIG, QUICK, quick, settings)


def runs(config, problem, done) -> dict:
    """Every network and its rule ("emulation", loss, depth, width, "deep" | "e2e"), and the
    balanced-start checks ("balanced", loss, depth)."""
    return {**{("emulation", *key): run for key, run in emulation_requests(problem, config).items()},
            **{("balanced", *key): run for key, run in balanced_requests(problem, config).items()}}


def run(out_dir=pathlib.Path("results/figure2"), data_dir=None, quick=False, settings=None) -> dict:
    return runner.run(sys.modules[__name__], out_dir, data_dir, quick, settings)


def _network(config, depth, width, kernel_initializer=None):
    from tf_overparam.fullbatch import LinearNetwork

    return LinearNetwork(depth=depth, hidden_units=configs.hidden_units_at(depth, width), stddev=config["stddev"],
                         kernel_initializer=kernel_initializer or config["kernel_initializer"])


def emulation_requests(problem, config) -> dict:
    """GD on each deep network, and the end-to-end rule from its initial end-to-end kernel."""
    from tf_overparam.fullbatch import end_to_end
    from tf_overparam.fullbatch import gd

    requests = {}
    for p in config["losses"]:
        for depth in config["depths"]:
            for width in config["hidden_units"]:
                model = _network(config, depth, width)
                for kind, rule in (("deep", gd()), ("e2e", end_to_end())):
                    label = (f"l{p} depth {depth} width {width} GD" if kind == "deep" else
                             f"l{p} end-to-end N={depth} from the width-{width} net")
                    requests[(p, depth, width, kind)] = problem.fit(
                        label, model, rule, p=p, learning_rates=[config["learning_rate"]],
                        seeds=config["seeds"], steps=config["steps"],
                        record_every=config["record_every"], dtype=config["dtype"],
                        divergence_factor=config["divergence_factor"])
    return requests


def balanced_requests(problem, config) -> dict:
    """Is the width-1 mismatch the unbalanced start? GD on the same architecture from exactly
    balanced factors (paper Eq. 7, `tf_overparam.Balanced`) of the same initial end-to-end kernel
    as the near-zero net of `balanced_check_seed`, which is where the end-to-end rule starts too. Not part
    of the paper's figure: a check of its assumption."""
    from tf_overparam import Balanced
    from tf_overparam.fullbatch import gd
    from tf_overparam.ops import chain_product

    seed, d = config["balanced_check_seed"], problem.X.shape[1]
    requests = {}
    for p in config["losses"]:
        for depth in config["depths"]:
            kernel = chain_product(_network(config, depth, 1).initial_factors(seed, d, 1))
            model = _network(config, depth, 1, Balanced(target=kernel))
            requests[(p, depth)] = problem.fit(
                f"l{p} depth {depth} width 1 GD from balanced factors", model, gd(), p=p,
                learning_rates=[config["learning_rate"]], seeds=[seed], steps=config["steps"],
                record_every=config["record_every"], dtype=config["dtype"],
                divergence_factor=config["divergence_factor"])
    return requests


def summarize(config, problem, runs, done) -> dict:
    emulation, width_effect, curves = {}, {}, {}
    floor = config["difference_min_relative_gap"]
    for p in config["losses"]:
        optimum, reference = problem.gap(p)
        for depth in config["depths"]:
            for width in config["hidden_units"]:
                key = ("emulation", p, depth, width)
                label, deep = runs[(*key, "deep")].label, done[(*key, "deep")]
                e2e_label, e2e = runs[(*key, "e2e")].label, done[(*key, "e2e")]
                per_seed = {int(seed): selection.max_relative_difference(
                    deep["losses"][row], e2e["losses"][row], optimum, reference, floor)
                    for row, seed in enumerate(deep["seeds"])}
                emulation[f"l{p} depth {depth} width {width}"] = {
                    "deep_run": label, "end_to_end_run": e2e_label,
                    "max_relative_difference_on_gap_all_seeds":
                        max((v["on_gap"] or 0.0) for v in per_seed.values()),
                    "per_seed": per_seed}
                curves[f"l{p} depth {depth} width {width}"] = regression.seed_curves(
                    problem, label, deep, p)
                curves[f"l{p} end-to-end N={depth} (width-{width} start)"] = regression.seed_curves(
                    problem, e2e_label, e2e, p)
            if 1 in config["hidden_units"] and 100 in config["hidden_units"]:
                narrow = done[("emulation", p, depth, 1, "deep")]
                wide = done[("emulation", p, depth, 100, "deep")]
                width_effect[f"l{p} depth {depth}"] = {
                    int(seed): selection.max_relative_difference(
                        narrow["losses"][row], wide["losses"][row], optimum, reference, floor)
                    for row, seed in enumerate(narrow["seeds"])}
    return {"curves": curves, "emulation": emulation, "width_1_vs_100": width_effect,
            "initial_balancedness": initial_balancedness(problem, config),
            "balanced_start": balanced_start_check(problem, done, config)}


def initial_balancedness(problem, config) -> dict:
    """How far each initial network is from paper Eq. 7 (K_{j+1}K_{j+1}ᵀ = K_jᵀK_j), which the
    end-to-end rule assumes: max_j ‖K_{j+1}K_{j+1}ᵀ − K_jᵀK_j‖₂ (spectral), next to ‖K_e‖^{2/N} (the size
    of the terms of Eq. 9 at the start), per seed."""
    from tf_overparam.ops import chain_product

    table = {}
    d = problem.X.shape[1]
    for depth in config["depths"]:
        for width in config["hidden_units"]:
            model = _network(config, depth, width)
            rows = {}
            for seed in config["seeds"]:
                factors = model.initial_factors(seed, d, 1)
                kernel = chain_product(factors)
                imbalance = max(np.linalg.norm(factors[j + 1] @ factors[j + 1].T -
                                               factors[j].T @ factors[j], 2)
                                for j in range(depth - 1))
                rows[seed] = {"max_imbalance_spectral": float(imbalance),
                              "end_to_end_norm_power_2_over_N":
                                  float(np.linalg.norm(kernel) ** (2.0 / depth)),
                              "factor_norms": [float(np.linalg.norm(f)) for f in factors]}
            table[f"depth {depth} width {width}"] = rows
    return table


def balanced_start_check(problem, done, config) -> dict:
    """GD from balanced factors (`balanced_requests`) against the end-to-end rule, next to the
    near-zero start's difference."""
    seed, floor = config["balanced_check_seed"], config["difference_min_relative_gap"]
    table = {}
    for p in config["losses"]:
        optimum, reference = problem.gap(p)
        for depth in config["depths"]:
            e2e = done[("emulation", p, depth, 1, "e2e")]
            near_zero = done[("emulation", p, depth, 1, "deep")]
            row = list(e2e["seeds"]).index(seed)
            balanced_losses = done[("balanced", p, depth)]["losses"][0]
            table[f"l{p} depth {depth} width 1"] = {
                "balanced_deep_vs_rule": selection.max_relative_difference(
                    balanced_losses, e2e["losses"][row], optimum, reference, floor),
                "near_zero_deep_vs_rule": selection.max_relative_difference(
                    near_zero["losses"][row], e2e["losses"][row], optimum, reference, floor),
                "balanced_final_relative_gap": float(
                    selection.relative_gap(balanced_losses[-1], optimum, reference)),
            }
    return table


def plot(results, config, problem, out_dir):
    """One panel per (loss, width): deep GD at each depth and the end-to-end rule started from
    that network's initial end-to-end kernel, each the median over seeds with a min–max band."""
    widths, curves = config["hidden_units"], results["curves"]
    with plotting.style():
        figure, axes = plotting.plt.subplots(len(config["losses"]), len(widths), squeeze=False,
                                             figsize=(5.2 * len(widths), 3.9 * len(config["losses"])))
        for row_axes, p in zip(axes, config["losses"]):
            optimum = problem.gap(p)[0]
            for ax, width in zip(row_axes, widths):
                for depth in config["depths"]:
                    color = plotting.DEPTH_COLORS[depth]
                    plotting.plot_band(ax, curves[f"l{p} depth {depth} width {width}"], optimum,
                                       f"depth {depth}, GD", color=color, lw=2.2, alpha=0.55)
                    plotting.plot_band(ax, curves[f"l{p} end-to-end N={depth} (width-{width} start)"],
                                       optimum, f"end-to-end rule N={depth} (Eq. 11)", color="black",
                                       lw=1.0, band_alpha=0.08, dashes=(4, 3) if depth == 2 else (1.5, 2))
                plotting.decorate(ax, problem, p, f"ℓ{p} loss, hidden width {width}, lr "
                                                  f"{plotting.lr_text(config['learning_rate'])}",
                                  legend_y=0.06)
                plotting.seeds_note(ax, len(config["seeds"]))
        figure.suptitle("Figure 2: deep linear networks vs. the end-to-end update rule started "
                        "from each network's initial end-to-end kernel", fontsize=11)
        plotting.save(figure, out_dir, "figure2")
