"""Beyond Ethanol: the paper's regression claims on five public regression sets.

The paper answers its question (does depth accelerate gradient descent for ℓp regression with
p > 2?) on one data set, UCI Ethanol. This experiment evaluates the claims that do not depend on
Ethanol-specific settings on Ethanol and on four more sets of the same UCI regression package
(`tf_overparam.datasets.load_uci_regression`: concrete, wine, parkinsons, pumadyn32nm), with
the atlas's axes (normalizations z-score and min-max features, the four selection rules, the
25K / 50K / 100K horizons, the paper's grid and the grid with midpoints), its symmetric
definitions (`reproduce.experiments.atlas_claims`) and its seeds (3 per cell; Adam 5).

Left out, and why: Figure 2's claims (the emulation is an identity of the update rule, checked
by the theory and the atlas, not a property of the data) and Figure 5-left's late start (its
threshold, 50K iterations, is the paper's number for Ethanol). Per-batch normalization needs
Ethanol's measurement batches, which the other sets do not have.

Each set gets one verdict per claim from its atlas cells (`SET_VERDICT`), and the JSON keeps
statistics of each set (`reproduce.experiments.datasets_statistics`) with, per claim, which of
them separates the sets where it holds from the others.

`python -m reproduce datasets [--quick] [--set data_sets=[...]]` writes datasets.json and
datasets.png (+ datasets_statistics.png) into results/datasets. Runs go through the shared run
store: Ethanol's are the atlas's own, and a rerun after `kill -9` resumes.
"""

from __future__ import annotations

import pathlib
import sys

from ..lab import configs
from ..lab import regression
from ..lab import runner
from . import atlas
from . import atlas_claims
from . import datasets_statistics

#: The claims evaluated on every set (`atlas_claims.CLAIMS`).
CLAIMS = ["fig3_l2", "fig3_l4", "fig4l_gd_beats_adaptive", "fig4l_adagrad_slower", "fig4r_adam",
          "fig5l_depth8_stuck", "fig5l_identity"]

#: A set's verdict on a claim, from the claim's distinct outcomes over the set's cells (the
#: atlas's counts: settings that select the same runs count once). Symmetric: swapping the
#: claim's two sides swaps holds and fails.
SET_VERDICT = {
    "holds": "holds in more than half of the distinct outcomes and fails in none",
    "fails": "fails in more than half of the distinct outcomes and holds in none",
    "mixed": "holds in at least one and fails in at least one",
    "inconclusive": "otherwise (mostly mixed or inconclusive cells, no conflict)",
}

CONFIG = {
    "data_sets": ["ethanol", "concrete", "wine", "parkinsons", "pumadyn32nm"],
    "claims_evaluated": CLAIMS,
    "normalizations": {"z-score": ["standardize", "standardize"],
                       "min-max features": ["minmax", "standardize"]},
}
QUICK = {"data_sets": ["concrete", "wine"],
         "normalizations": {"z-score": ["standardize", "standardize"]}}


def make_config(quick=False, settings=None) -> dict:
    """The atlas's settings (its quick ones with `quick`) without Figure 2's emulation and the
    depth-4 near-zero grid (only the late-start claim uses it), over `data_sets`."""
    config = atlas.make_config(quick)
    for key in ("data", "emulation"):
        config.pop(key)
    config["grid_models"] = [m for m in config["grid_models"] if m[0] != "l4 GD depth 4"]
    config.update(configs.make_config(CONFIG, QUICK, quick, replace=("normalizations",)))
    config["set_verdict"] = SET_VERDICT
    config = configs.apply_settings(config, settings)
    if not config["data_sets"]:
        raise configs.SettingError("setting 'data_sets' must name at least one data set")
    unknown = sorted(set(config["claims_evaluated"]) - set(CLAIMS))
    if unknown:
        raise configs.SettingError(f"setting 'claims_evaluated': {unknown} not among {CLAIMS}")
    per_batch = [n for n, (features, _) in config["normalizations"].items()
                 if features == "standardize_per_batch"]
    if per_batch:
        raise configs.SettingError(f"setting 'normalizations': {per_batch} need Ethanol's "
                                   "measurement batches, which the other sets do not have")
    return config


RECORD_CURVES = False


def prepare(config, data_dir, store, out_dir=None) -> dict:
    """{set: {normalization: its `regression.Problem`}}; every set is loaded (and checked)
    before any run starts."""
    problems = {}
    for name in config["data_sets"]:
        base = regression.Problem.load(data_dir, store, config["losses"], source=name)
        problems[name] = {norm: base.variant(*loader)
                          for norm, loader in config["normalizations"].items()}
    return problems


def header(problems) -> dict:
    return {"conventions": regression.CONVENTIONS,
            "data_sets": {name: {norm: p.provenance for norm, p in by_norm.items()}
                          for name, by_norm in problems.items()},
            "optimal_losses": {name: {norm: p.optimal_losses() for norm, p in by_norm.items()}
                               for name, by_norm in problems.items()}}


def runs(config, problems, done) -> dict:
    """Every set's atlas runs, keyed (set, normalization, kind, name[, part])."""
    requests = {}
    for name, by_norm in problems.items():
        for norm, problem in by_norm.items():
            for key, run in atlas.problem_requests(norm, problem, config,
                                                   label=f"{name}, {norm}").items():
                requests[(name, *key)] = run
    return requests


def set_verdict(counts: dict) -> str:
    """`SET_VERDICT` applied to a claim's counts ({outcome: k, "n": n})."""
    holds, fails, n = counts["holds"], counts["fails"], counts["n"]
    if holds and fails:
        return "mixed"
    if holds * 2 > n:
        return "holds"
    if fails * 2 > n:
        return "fails"
    return "inconclusive"


#: Added after the results were read (the verdicts above are unchanged by it).
BY_MEASURE = (
    "added after the results were read: where every curve reaches the relative-gap floor "
    "(selection.SCORE_FLOOR) within the horizon, each 'end' comparison ties and a speed claim "
    "cannot hold or fail, whatever the areas say. This view combines each speed claim's "
    "comparisons on one measure at a time (area: early progress; end: the gap reached), by the "
    "same rule and over the same distinct outcomes; the verdicts are unchanged by it")


def by_measure(cells, claims) -> dict:
    """{claim: {measure: {outcome: count, "n": n}}}: the speed claims' comparisons on one
    measure at a time (`BY_MEASURE`), over the distinct outcomes (`atlas_claims.evidence_key`)."""
    out = {}
    for claim in claims:
        per_measure = {}
        for measure in ("area", "end"):
            distinct = {}
            for cell in cells:
                entry = cell["claims"].get(claim, {})
                if "comparisons" not in entry:
                    continue
                found = [v for k, v in entry["comparisons"].items() if k.endswith(f", {measure}")]
                distinct.setdefault(atlas_claims.evidence_key(cell, claim),
                                    atlas_claims.combine(found))
            if distinct:
                per_measure[measure] = {**{k: sum(v == k for v in distinct.values())
                                           for k in atlas_claims.OUTCOMES}, "n": len(distinct)}
        if per_measure:
            out[claim] = per_measure
    return out


def ends_at_floor(cells, claims) -> float:
    """The fraction of the speed claims' seed ends (log10 lowest relative gap) at the floor."""
    import math

    from ..lab.selection import SCORE_FLOOR

    ends = [v for cell in cells for claim in claims
            for values in cell["claims"].get(claim, {}).get("end_log10_relative_gap", {}).values()
            for v in values]
    floor = math.log10(SCORE_FLOOR)
    return sum(v is not None and v <= floor for v in ends) / len(ends) if ends else 0.0


def summarize(config, problems, runs, done) -> dict:
    claims = config["claims_evaluated"]
    per_set, verdicts = {}, {}
    for name, by_norm in problems.items():
        view = {key[1:]: run for key, run in done.items() if key[0] == name}
        cells = atlas.evaluate(by_norm, view, config)
        summary = atlas_claims.summarize(cells, config)
        verdicts[name] = {claim: {**{k: summary[claim][k] for k in (*atlas_claims.OUTCOMES, "n")},
                                  "verdict": set_verdict(summary[claim]),
                                  "at_the_figures_setting": summary[claim]["at_the_figures_setting"]}
                          for claim in claims}
        per_set[name] = {"by_measure": by_measure(cells, claims),
                         "ends_at_the_floor": ends_at_floor(cells, claims), "cells": cells}
    statistics = {name: datasets_statistics.describe(by_norm, config)
                  for name, by_norm in problems.items()}
    outcomes = {claim: {name: verdicts[name][claim]["verdict"] for name in problems}
                for claim in claims}
    return {
        "claims": {claim: atlas_claims.CLAIMS[claim] for claim in claims},
        "definitions": {**atlas_claims.describe(config), "set_verdict": SET_VERDICT,
                        "by_measure": BY_MEASURE},
        "verdicts": verdicts,
        "holds_on": {claim: {"sets": [n for n, v in by_set.items() if v == "holds"],
                             "of": len(by_set)} for claim, by_set in outcomes.items()},
        "statistics": statistics,
        "separation": {claim: datasets_statistics.separation(by_set, statistics)
                       for claim, by_set in outcomes.items()},
        "sets": per_set,
    }


def plot(results, config, problems, out_dir):
    from . import datasets_plot

    datasets_plot.plot(out_dir, results, config)


def run(out_dir=pathlib.Path("results/datasets"), data_dir=None, quick=False, settings=None) -> dict:
    return runner.run(sys.modules[__name__], out_dir, data_dir, quick, settings)
