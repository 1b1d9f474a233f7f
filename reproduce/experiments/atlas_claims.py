"""The atlas's claims: what each README verdict says, and when it holds, is mixed, inconclusive or
fails (definitions version 2; their history: `reproduce.experiments.atlas_changelog`).

Speed is compared by two measures of a curve within the horizon (`selection.curve_measures`),
both lower-is-better: its *area*, the mean over the recorded iterations of log10(relative gap)
up to a divergence (what the figures' selection rule minimizes; it weighs early progress), and
its *end*, the lowest relative gap it reached (where it got to; spikes do not count against it).

A comparison "A faster than B" on one measure is *for* when every seed of A is below every seed
of B (the seed ranges are apart in the claim's direction), *against* when every seed of B is
below every seed of A (apart the other way), and a *tie* when the ranges overlap: the same bar
both ways. A claim made of comparisons *holds* when every comparison is for, *fails* when every
one is against, is *mixed* when both for and against occur, and *inconclusive* otherwise (no
direction clear). Swapping A and B turns for into against and holds into fails. The Figure 2
and Figure 5-left claims compare other things (`CLAIMS`) and combine them by the same rule.
Every definition is written into the atlas JSON.
"""

from __future__ import annotations

import math

import numpy as np

from ..lab import selection

THRESHOLDS = {
    # Figure 2: per seed, two curves "agree" when both their areas and their ends differ by at
    # most this many decades (log10 1.1: 10% in the geometric-mean gap and in the gap reached);
    # a pair agrees (for) when every seed does, disagrees (against) when no seed does. The paper
    # gives no number; 10% is far below the differences it calls out (its Figure 2 overlays).
    "agreement_decades": 0.0414,
    "difference_min_relative_gap": 1e-9,  # below this a pointwise difference is round-off
    # "Visible progress" = the loss below this fraction of the initial loss. The paper says
    # "visible"; 10% of the way is neutral: each claim's curves start at the same loss.
    "visible_progress_fraction": 0.9,
    # Figure 5-left, the paper: near-zero depth 4 "starts making visible progress after more
    # than 50K iterations". A late start is that, then converging to the horizon.
    "late_start_after": 50_000,
}

OUTCOMES = ("holds", "mixed", "inconclusive", "fails")

_COMPARE = ("each comparison on area and on end: for (seed ranges apart in the claim's "
            "direction), against (apart the other way) or tie; holds: all for; fails: all "
            "against; mixed: both; inconclusive: otherwise")
_ALL = ["normalization", "learning_rate_grid", "horizon", "selection_rule"]


def _speed(figure, claim, definition, depends_on=_ALL):
    return {"figure": figure, "claim": claim, "definition": f"{definition}; {_COMPARE}",
            "depends_on": depends_on}


CLAIMS = {
    "fig2_emulation": {
        "figure": "2", "claim": "the end-to-end rule (Eq. 11) emulates GD on the deep network",
        "definition": "per (loss, depth, width), the deep network against the rule, per seed "
                      "the larger absolute difference of areas and of log10 ends: for if every "
                      "seed's is ≤ agreement_decades, against if every seed's is larger, tie "
                      "otherwise; a pair where either curve diverges or makes no visible "
                      "progress is not comparable (left out); combined as the speed claims; "
                      "inconclusive when no pair is comparable",
        "depends_on": ["normalization", "horizon"]},
    "fig2_width": {
        "figure": "2", "claim": "hidden width 1 and width 100 converge alike",
        "definition": "per (loss, depth), deep GD's width-1 against its width-100 curves, "
                      "judged as for the emulation",
        "depends_on": ["normalization", "horizon"]},
    "fig3_l2": _speed("3", "ℓ2: depth does not accelerate (slightly hinders)",
                      "depth 1 faster than depth 2, and than depth 3"),
    "fig3_l4": _speed("3", "ℓ4: depth accelerates",
                      "depth 2 faster than depth 1, and depth 3 faster than depth 1"),
    "fig4l_gd_beats_adaptive": _speed("4-left", "depth-3 GD beats AdaGrad and AdaDelta",
                                      "depth-3 GD faster than AdaGrad, and than AdaDelta"),
    "fig4l_adagrad_slower": _speed("4-left", "AdaGrad is slower than plain GD (depth 1)",
                                   "depth-1 GD faster than AdaGrad"),
    "fig4r_adam": _speed("4-right", "depth accelerates Adam (lr 1e-3)",
                         "Adam on depth 2 faster than on depth 1, and depth 3 than depth 1",
                         ["normalization", "horizon"]),
    "fig5l_late_start": {
        "figure": "5-left", "claim": "near-zero init: depth 4 starts moving late (after 50K)",
        "definition": "per seed at the selected rate: for if its first visible progress comes "
                      "after late_start_after iterations and it then keeps converging (no "
                      "divergence, and its loss at the horizon is below its loss at that "
                      "start); against if the first visible progress comes earlier; tie "
                      "otherwise (no progress within the horizon, or a late start that "
                      "diverges or stalls); combined as the speed claims; n/a at horizons up "
                      "to late_start_after",
        "depends_on": _ALL},
    "fig5l_depth8_stuck": {
        "figure": "5-left", "claim": "near-zero init: depth 8 diverges or is stuck at every rate",
        "definition": "per rate of the grid: for if every seed diverges or makes no visible "
                      "progress within the horizon, against if every seed converges (visible "
                      "progress, no divergence), tie otherwise; combined as the speed claims",
        "depends_on": ["normalization", "learning_rate_grid", "horizon"]},
    "fig5l_identity": _speed("5-left", "identity init: depth 4 and 8 are faster than depth 1",
                             "identity-initialized depth 4 faster than (near-zero) depth 1, "
                             "and depth 8 than depth 1"),
}


def describe(config) -> dict:
    from .atlas_changelog import CHANGELOG
    from .atlas_changelog import VERSION

    return {"version": VERSION, "comparison": __doc__.split("\n\n")[1:3],
            "thresholds": config["claims"], "claims": CLAIMS, "changelog": CHANGELOG}


# ---- comparisons and their combination ---------------------------------------------------------


def compare(a, b) -> str:
    """"for", "against" or "tie": is every value of `a` below every value of `b` (for), every
    value of `b` below every value of `a` (against), or do the ranges overlap (tie)?"""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if np.max(a) < np.min(b):
        return "for"
    return "against" if np.max(b) < np.min(a) else "tie"


def combine(comparisons) -> str:
    """holds (all for), fails (all against), mixed (both occur) or inconclusive."""
    found = set(comparisons)
    if found == {"for"}:
        return "holds"
    if found == {"against"}:
        return "fails"
    return "mixed" if {"for", "against"} <= found else "inconclusive"


def _finite(value):
    return float(value) if math.isfinite(value) else None


def speed_claim(pairs, measures, chosen) -> dict:
    """pairs: [(faster name, slower name)]; measures: {name: {"area": [...], "end": [...]}};
    chosen: the grid models' selections (their rates are what decides the outcome)."""
    comparisons = {f"{a} faster than {b}, {m}": compare(measures[a][m], measures[b][m])
                   for a, b in pairs for m in ("area", "end")}
    names = list(dict.fromkeys(n for pair in pairs for n in pair))
    return {"outcome": combine(comparisons.values()), "comparisons": comparisons,
            "area": {n: [_finite(v) for v in measures[n]["area"]] for n in names},
            "end_log10_relative_gap": {n: [_finite(v) for v in measures[n]["end"]]
                                       for n in names},
            "decided_by": {n: chosen[n]["learning_rate"] for n in names if n in chosen}}


def chosen_curves(run, gap, rule, horizon, rates) -> dict:
    """The selected rate of a grid run and each of its seeds' measures within the horizon."""
    choice = selection.select_learning_rate(run, *gap, rule=rule, horizon=horizon,
                                            learning_rates=rates)
    n_seeds = len(choice["seeds"])
    if choice["learning_rate"] is None:
        return {"learning_rate": None, "rows": [], "area": [math.inf] * n_seeds,
                "end": [math.inf] * n_seeds}
    return {"learning_rate": choice["learning_rate"], "rows": choice["rows"],
            **_measures(run, choice["rows"], gap, horizon)}


def _measures(run, rows, gap, horizon) -> dict:
    """{"area": [...], "end": [...]} (end as log10 of the lowest relative gap) of some rows."""
    measures = [selection.curve_measures(run, b, *gap, horizon) for b in rows]
    return {"area": [m["area"] for m in measures],
            "end": [math.log10(max(m["best"], selection.SCORE_FLOOR)) for m in measures]}


# ---- the cell --------------------------------------------------------------------------------


def evaluate_cell(chosen, grid_runs, fixed, gaps, setting, rates, config) -> dict:
    """Every claim's outcome, and its deciding numbers, in one cell of the atlas."""
    horizon, limits = setting["horizon"], config["claims"]
    area = {name: {"area": c["area"], "end": c["end"]} for name, c in chosen.items()}
    for name, run in fixed["adam"].items():
        area[name] = _measures(run, range(len(run["seeds"])), gaps[4], horizon)
    pairs = {
        "fig3_l2": [("l2 GD depth 1", "l2 GD depth 2"), ("l2 GD depth 1", "l2 GD depth 3")],
        "fig3_l4": [("l4 GD depth 2", "l4 GD depth 1"), ("l4 GD depth 3", "l4 GD depth 1")],
        "fig4l_gd_beats_adaptive": [("l4 GD depth 3", "l4 AdaGrad depth 1"),
                                    ("l4 GD depth 3", "l4 AdaDelta depth 1")],
        "fig4l_adagrad_slower": [("l4 GD depth 1", "l4 AdaGrad depth 1")],
        "fig4r_adam": [("Adam depth 2", "Adam depth 1"), ("Adam depth 3", "Adam depth 1")],
        "fig5l_identity": [("l4 GD depth 4 identity", "l4 GD depth 1"),
                           ("l4 GD depth 8 identity", "l4 GD depth 1")],
    }
    out = {claim: speed_claim(p, area, chosen) for claim, p in pairs.items()}
    if "l4 GD depth 4" in grid_runs:  # an experiment may leave the late-start claim out
        out["fig5l_late_start"] = late_start(grid_runs["l4 GD depth 4"], chosen["l4 GD depth 4"],
                                             horizon, limits)
    out["fig5l_depth8_stuck"] = stuck(grid_runs["l4 GD depth 8"], horizon, rates, limits)
    out["fig5l_depth8_stuck"]["decided_by"] = {"rates": [float(r) for r in rates]}
    out.update(emulation(fixed["emulation"], gaps, horizon, limits))
    return out


def _not_applicable(why) -> dict:
    return {"outcome": "n/a", "why": why}


def _grid_rows(run, rates):
    lrs = np.asarray(run["learning_rates"])
    return {lr: np.flatnonzero(np.isclose(lrs, lr, rtol=1e-9)).tolist() for lr in rates}


def _first_progress(losses, steps, horizon, fraction):
    """The first recorded iteration ≤ horizon with loss < fraction × the initial loss, or None."""
    losses = np.asarray(losses, dtype=np.float64)[np.asarray(steps) <= horizon]
    below = np.flatnonzero(np.isfinite(losses) & (losses < fraction * losses[0]))
    return int(np.asarray(steps)[below[0]]) if below.size else None


def _diverged(run, row, horizon) -> bool:
    return 0 <= int(run["diverged_at"][row]) <= horizon


def late_start(run, chosen, horizon, limits) -> dict:
    fraction, after = limits["visible_progress_fraction"], limits["late_start_after"]
    if horizon <= after:
        return _not_applicable(f"a start after {after:,} iterations cannot be seen within "
                               f"{horizon:,}")
    if chosen["learning_rate"] is None:
        return {"outcome": "inconclusive", "why": "no rate was selected (every rate diverged)",
                "decided_by": {"l4 GD depth 4": None}}
    steps = np.asarray(run["steps"])
    seeds, first = [], []
    for row in chosen["rows"]:
        start = _first_progress(run["losses"][row], steps, horizon, fraction)
        first.append(start)
        if start is None:
            seeds.append("tie")  # never starts within the horizon: neither early nor late
        elif start <= after:
            seeds.append("against")
        else:
            losses = np.asarray(run["losses"][row], dtype=np.float64)
            at_start, at_end = losses[steps == start][0], losses[steps <= horizon][-1]
            keeps = not _diverged(run, row, horizon) and np.isfinite(at_end) and at_end < at_start
            seeds.append("for" if keeps else "tie")
    return {"outcome": combine(seeds), "seeds": seeds, "first_progress": first,
            "decided_by": {"l4 GD depth 4": chosen["learning_rate"]}}


def stuck(run, horizon, rates, limits) -> dict:
    fraction = limits["visible_progress_fraction"]
    by_rate, converged = {}, {}
    for lr, rows in _grid_rows(run, rates).items():
        moves = [_first_progress(run["losses"][b], run["steps"], horizon, fraction) is not None
                 and not _diverged(run, b, horizon) for b in rows]
        converged[f"{lr:g}"] = moves
        by_rate[f"{lr:g}"] = ("for" if not any(moves) else
                              "against" if all(moves) else "tie")
    return {"outcome": combine(by_rate.values()), "by_rate": by_rate,
            "converged_by_rate": converged}


def emulation(runs, gaps, horizon, limits) -> dict:
    """Figure 2's two claims from the emulation runs {(p, depth, width, "deep"|"e2e"): run}."""
    if not runs:
        return {}
    steps = np.asarray(next(iter(runs.values()))["steps"])
    if horizon > steps[-1]:
        why = f"the emulation runs are {steps[-1]:,} iterations (Figure 2's horizon)"
        return {"fig2_emulation": _not_applicable(why), "fig2_width": _not_applicable(why)}
    fraction, limit = limits["visible_progress_fraction"], limits["agreement_decades"]

    def unusable(run) -> str | None:
        for s in range(len(run["seeds"])):
            if _diverged(run, s, horizon):
                return f"seed {int(run['seeds'][s])} diverges"
            if _first_progress(run["losses"][s], steps, horizon, fraction) is None:
                return f"seed {int(run['seeds'][s])} makes no visible progress"
        return None

    def pair(a, b, p) -> dict:
        why = unusable(a) or unusable(b)
        ma, mb = (_measures(r, range(len(r["seeds"])), gaps[p], horizon) for r in (a, b))
        decades = [max(abs(x - y), abs(u - v)) for x, y, u, v in
                   zip(ma["area"], mb["area"], ma["end"], mb["end"])]
        if why is not None:
            return {"comparison": "not comparable", "why": why,
                    "decades": [_finite(d) for d in decades]}
        agree = [d <= limit for d in decades]
        return {"comparison": "for" if all(agree) else "against" if not any(agree) else "tie",
                "decades": decades}

    emulated = {f"l{p} depth {d} width {w}": pair(runs[(p, d, w, "deep")], runs[(p, d, w, "e2e")], p)
                for p, d, w, kind in runs if kind == "deep"}
    widths = sorted({w for _, _, w, _ in runs})
    width = {f"l{p} depth {d}": pair(runs[(p, d, widths[0], "deep")], runs[(p, d, widths[-1], "deep")], p)
             for p, d, w, kind in runs if kind == "deep" and w == widths[0]}

    def claim(table) -> dict:
        comparable = [v["comparison"] for v in table.values() if v["comparison"] != "not comparable"]
        return {"outcome": combine(comparable) if comparable else "inconclusive",
                "pairs": table, "decided_by": {}}

    return {"fig2_emulation": claim(emulated), "fig2_width": claim(width)}


# ---- the summary -------------------------------------------------------------------------------


def evidence_key(cell, claim) -> tuple:
    """What decides a claim in a cell: the normalization and horizon where the claim depends on
    them, and the runs selected (their rates; for the depth-8 claim, the grid). Settings with
    the same key select identical runs and have one outcome: they count once."""
    meta = CLAIMS[claim]
    axes = tuple(cell[a] for a in meta["depends_on"] if a in ("normalization", "horizon"))
    decided = cell["claims"][claim].get("decided_by", {})
    return axes + tuple(sorted((k, str(v)) for k, v in decided.items()))


def figures_setting(config) -> dict:
    return {"normalization": next(iter(config["normalizations"])),
            "learning_rate_grid": "paper", "selection_rule": "area"}


def summarize(cells, config) -> dict:
    """Per claim: over the distinct outcomes (`evidence_key`), how many hold, are mixed,
    inconclusive or fail (n); how many cells that is; and the outcome at the figures' setting
    (its longest horizon)."""
    figures = figures_setting(config)
    summary = {}
    for claim, meta in CLAIMS.items():
        distinct, cells_counted = {}, 0
        for cell in cells:
            outcome = cell["claims"].get(claim, {}).get("outcome", "n/a")
            if outcome != "n/a":
                cells_counted += 1
                distinct.setdefault(evidence_key(cell, claim), outcome)
        counts = {k: sum(v == k for v in distinct.values()) for k in OUTCOMES}
        at_figure = [c["claims"][claim]["outcome"] for c in cells
                     if all(c[a] == v for a, v in figures.items())
                     and c["claims"].get(claim, {}).get("outcome", "n/a") != "n/a"]
        summary[claim] = {**counts, "n": len(distinct), "cells": cells_counted,
                          "at_the_figures_setting": at_figure[-1] if at_figure else None,
                          "claim": meta["claim"], "figure": meta["figure"]}
    return summary
