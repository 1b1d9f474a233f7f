"""The robustness atlas: does each regression verdict survive the choices the paper leaves open?

Every claim of the README's verdict table (`reproduce.experiments.atlas_claims.CLAIMS`, each with a written
definition of "holds", "partly" and "fails") is evaluated on every point of a declared grid:

- normalization: z-score of features and target (the figures' choice, and that of an independent
  PyTorch reproduction); features min-max scaled to [0, 1], target z-scored; features z-scored
  within each measurement batch (the usual drift compensation for this sensor data), target
  z-scored globally;
- learning-rate selection rule: the four of `reproduce.lab.selection.SELECTION_RULES`;
- horizon: 25K, 50K and 100K iterations (one 100K run serves all three; Figure 2's emulation
  runs are the figure's own 50K runs, so its claims have no 100K column);
- learning-rate grid: the paper's, and the paper's with the geometric midpoints of its
  neighbouring points added (19 rates);
- seeds: 3 per cell (Figure 4-right's Adam runs: its 5).

`python -m reproduce atlas [--quick] [--out DIR] [--data-dir DIR]` writes atlas.png/.pdf and
atlas.json into DIR/atlas (default results/atlas). Runs go through the run store shared with the
figures (results/_runs): a rerun after `kill -9` resumes, and the z-score runs on the paper's
grid are the figures' own.
"""

from __future__ import annotations

import itertools
import json
import pathlib
import sys

from ..lab import configs
from ..lab import regression
from ..lab import runner
from ..lab import selection
from . import atlas_claims
from . import figure2
from . import figure4_left
from . import figure4_right

#: Geometric midpoints of neighbouring points of the paper's grid, to 2 significant digits.
MIDPOINT_RATES = (2.2e-5, 7.1e-5, 2.2e-4, 7.1e-4, 2.2e-3, 7.1e-3, 2.2e-2, 7.1e-2, 2.2e-1)

CONFIG = {
    "losses": [2, 4],
    # name: [feature_normalization, target_normalization] of `load_ethanol`
    "normalizations": {"z-score": ["standardize", "standardize"],
                       "min-max features": ["minmax", "standardize"],
                       "per-batch z-score": ["standardize_per_batch", "standardize"]},
    "selection_rules": list(selection.SELECTION_RULES),
    "horizons": [25_000, 50_000, 100_000],
    "learning_rate_grids": {"paper": list(configs.PAPER_LR_GRID),
                            "paper + midpoints": sorted(configs.PAPER_LR_GRID
                                                        + MIDPOINT_RATES)},
    **{k: v for k, v in configs.GRID.items() if k not in ("learning_rates", "more_seeds")},
    # The grid models: (name, loss, depth, initializer, rule) with rule "gd", "adagrad" or
    # "adadelta" (Figure 4-left's settings).
    "grid_models": [["l2 GD depth 1", 2, 1, "near_zero", "gd"],
                    ["l2 GD depth 2", 2, 2, "near_zero", "gd"],
                    ["l2 GD depth 3", 2, 3, "near_zero", "gd"],
                    ["l4 GD depth 1", 4, 1, "near_zero", "gd"],
                    ["l4 GD depth 2", 4, 2, "near_zero", "gd"],
                    ["l4 GD depth 3", 4, 3, "near_zero", "gd"],
                    ["l4 AdaGrad depth 1", 4, 1, "near_zero", "adagrad"],
                    ["l4 AdaDelta depth 1", 4, 1, "near_zero", "adadelta"],
                    ["l4 GD depth 4", 4, 4, "near_zero", "gd"],
                    ["l4 GD depth 8", 4, 8, "near_zero", "gd"],
                    ["l4 GD depth 4 identity", 4, 4, "identity", "gd"],
                    ["l4 GD depth 8 identity", 4, 8, "identity", "gd"]],
    "claims": atlas_claims.THRESHOLDS,
}
QUICK = {"normalizations": {"z-score": ["standardize", "standardize"],
                            "min-max features": ["minmax", "standardize"]},
         "selection_rules": ["area", "before_divergence"],
         "horizons": [200, 400],
         "learning_rate_grids": {"paper": [1e-4, 1e-3, 1e-2],
                                 "paper + midpoints": [1e-4, 1e-3, 3e-3, 1e-2]},
         "claims": {**atlas_claims.THRESHOLDS, "late_start_after": 50},
         **{k: v for k, v in configs.GRID_QUICK.items() if k not in ("learning_rates",
                                                                     "more_seeds")}}


def make_config(quick=False, settings=None) -> dict:
    """The atlas's settings: its own, with the emulation (Figure 2's), Adam (Figure 4-right's)
    and the adaptive methods (Figure 4-left's) taken from those figures; then `settings`."""
    config = configs.make_config(CONFIG, QUICK, quick, replace=("normalizations",))
    figures = {"emulation": figure2.make_config(quick), "adam": figure4_right.make_config(quick),
               "adaptive": figure4_left.make_config(quick)}
    config["emulation"] = {k: figures["emulation"][k] for k in (
        "learning_rate", "depths", "hidden_units", "seeds", "steps", "record_every")}
    if quick:  # one depth, two narrow widths: the claims' code paths, in fewer compilations
        config["emulation"].update(depths=[2], hidden_units=[1, 2])
    config["adam"] = {k: figures["adam"][k] for k in ("learning_rate", "adam", "seeds", "depths")}
    config["adaptive"] = {k: figures["adaptive"][k] for k in ("adagrad", "adadelta")}
    config = configs.apply_settings(config, settings)
    per_batch = [name for name, (features, _) in config["normalizations"].items()
                 if features == "standardize_per_batch"]
    if config["data"] != "ethanol" and per_batch:
        without = {name: loader for name, loader in config["normalizations"].items()
                   if name not in per_batch}
        raise ValueError(f"setting 'normalizations': {per_batch} need the Ethanol measurement batches; "
                         f"the data {config['data']!r} has none: set normalizations without it, "
                         f"e.g. --set 'normalizations={json.dumps(without)}'")
    return config


#: The JSON keeps each run's settings and outcomes, not its curves.
RECORD_CURVES = False


def prepare(config, data_dir, store, out_dir=None) -> dict:
    """{normalization: its `regression.Problem`} (the figures' data under its own name)."""
    base = regression.prepare(config, data_dir, store)
    return {name: base.variant(*loader) for name, loader in config["normalizations"].items()}


def header(problems) -> dict:
    base = next(iter(problems.values()))  # the first normalization: the figures' own
    return {**regression.header(base),
            "data_by_normalization": {n: p.provenance for n, p in problems.items()}}


def runs(config, problems, done) -> dict:
    requests = {}
    for name, problem in problems.items():
        requests.update(problem_requests(name, problem, config))
    return requests


def summarize(config, problems, runs, done) -> dict:
    cells = evaluate(problems, done, config)
    return {"claims": atlas_claims.describe(config),
            "summary": atlas_claims.summarize(cells, config), "cells": cells}


def plot(results, config, problems, out_dir):
    from . import atlas_plot

    atlas_plot.plot(out_dir, results["cells"], results["summary"], config)


def run(out_dir=pathlib.Path("results/atlas"), data_dir=None, quick=False, settings=None) -> dict:
    return runner.run(sys.modules[__name__], out_dir, data_dir, quick, settings)


def _rule(name, config):
    from tf_overparam.fullbatch import adadelta
    from tf_overparam.fullbatch import adagrad
    from tf_overparam.fullbatch import gd

    adaptive = config["adaptive"]
    return {"gd": gd, "adagrad": lambda: adagrad(**adaptive["adagrad"]),
            "adadelta": lambda: adadelta(**adaptive["adadelta"])}[name]()


def problem_requests(norm, problem, config, label=None) -> dict:
    """Every run of one normalization: keys (norm, kind, name[, part]); each run's label starts
    with `[label]` (default: the normalization's name)."""
    from tf_overparam.fullbatch import LinearNetwork
    from tf_overparam.fullbatch import adam
    from tf_overparam.fullbatch import end_to_end
    from tf_overparam.fullbatch import gd

    def request(label, model, rule, p, learning_rates, seeds, steps, record_every):
        return problem.fit(
            f"[{tag}] {label}", model, rule, p=p, learning_rates=learning_rates, seeds=seeds,
            steps=steps, record_every=record_every, dtype=config["dtype"],
            divergence_factor=config["divergence_factor"])

    tag = norm if label is None else label
    grids = config["learning_rate_grids"]
    paper = grids["paper"]
    extra = sorted(set(lr for grid in grids.values() for lr in grid) - set(paper))
    requests = {}
    for name, p, depth, init, rule in config["grid_models"]:
        model = LinearNetwork(depth=depth, hidden_units=configs.hidden_units_at(depth, config["hidden_units"]),
                              kernel_initializer=init, stddev=config["stddev"])
        # On the figures' data, two requests, so that the paper-grid one is the figures' own
        # run (same settings); elsewhere one, as one batch is cheaper than two.
        parts = ((("paper", paper), ("midpoints", extra)) if problem.description is None
                 else (("all", sorted(paper + extra)),))
        for part, rates in parts:
            if rates:
                requests[(norm, "grid", name, part)] = request(
                    f"{name} ({part} rates)", model, _rule(rule, config), p, rates,
                    config["seeds"], config["steps"], config["record_every"])
    adam_settings = config["adam"]
    for depth in adam_settings["depths"]:
        model = LinearNetwork(depth=depth, hidden_units=configs.hidden_units_at(depth, config["hidden_units"]),
                              stddev=config["stddev"])
        requests[(norm, "adam", f"Adam depth {depth}")] = request(
            f"l4 Adam depth {depth}", model, adam(**adam_settings["adam"]), 4,
            [adam_settings["learning_rate"]], adam_settings["seeds"], config["steps"],
            config["record_every"])
    emulation = config.get("emulation") or {"depths": [], "hidden_units": []}  # optional
    for p, depth, width in itertools.product(config["losses"], emulation["depths"],
                                             emulation["hidden_units"]):
        model = LinearNetwork(depth=depth, hidden_units=configs.hidden_units_at(depth, width),
                              stddev=config["stddev"])
        for kind, rule in (("deep", gd()), ("e2e", end_to_end())):
            requests[(norm, "emulation", (p, depth, width, kind))] = request(
                f"l{p} depth {depth} width {width} {kind}", model, rule, p,
                [emulation["learning_rate"]], emulation["seeds"], emulation["steps"],
                emulation["record_every"])
    return requests


def evaluate(problems, runs, config) -> list:
    """Every cell: (normalization, learning-rate grid, horizon, selection rule) → each claim's
    outcome and the numbers that decide it."""
    cells = []
    for norm, problem in problems.items():
        gaps = {p: problem.gap(p) for p in problem.losses}
        grid_runs = {}
        for name, *_ in config["grid_models"]:
            parts = [runs[(norm, "grid", name, part)] for part in ("paper", "midpoints", "all")
                     if (norm, "grid", name, part) in runs]
            grid_runs[name] = selection.stack_runs(*parts)
        fixed = {"adam": {k[2]: r for k, r in runs.items() if k[0] == norm and k[1] == "adam"},
                 "emulation": {k[2]: r for k, r in runs.items()
                               if k[0] == norm and k[1] == "emulation"}}
        for (grid_name, rates), horizon, rule in itertools.product(
                config["learning_rate_grids"].items(), config["horizons"],
                config["selection_rules"]):
            setting = {"normalization": norm, "learning_rate_grid": grid_name,
                       "horizon": horizon, "selection_rule": rule}
            chosen = {name: atlas_claims.chosen_curves(grid_runs[name], gaps[p],
                                                       rule, horizon, rates)
                      for name, p, *_ in config["grid_models"]}
            cells.append({**setting, "claims": atlas_claims.evaluate_cell(
                chosen, grid_runs, fixed, gaps, setting, rates, config)})
    return cells
