"""The atlas's claims: what each README verdict says, and when it holds, partly holds or fails.

Speed is compared by two measures of a curve within the horizon (`selection.curve_measures`),
both lower-is-better: its *area*, the mean over the recorded iterations of log10(relative gap)
up to a divergence (what the figures' selection rule minimizes; it weighs early progress), and
its *end*, the lowest relative gap it reached (where it got to; spikes do not count against it).

A comparison "A faster than B" over seeds, on one measure, is *clear* when every seed of A is
below every seed of B (the seed ranges do not overlap), *by the median* when only the medians are
in that order, and *against* otherwise. On both measures: clear if clear on both, against if
against on both, *mixed* otherwise (e.g. B starts faster and A ends lower). A claim made of
comparisons holds when all are clear, fails when all are against, and holds partly otherwise.
The Figure 2 and Figure 5-left claims have their own definitions (`CLAIMS`). Every definition is
written into the atlas JSON.
"""

from __future__ import annotations

import math

import numpy as np

from . import selection

THRESHOLDS = {
    # Figure 2: two curves "agree" when, in the median over seeds, both their areas and their
    # ends differ by at most this many decades (log10 1.1: 10% in the geometric-mean gap and in
    # the gap reached). A first definition, the largest pointwise relative difference of the gap
    # curves ≤ 5% (10% for widths), failed in every cell, also for curves drawn on top of each
    # other: a steep descent shifted by a few iterations makes large pointwise ratios. It was
    # replaced after that run; its numbers stay in the JSON ("max_relative_difference").
    "agreement_decades": 0.0414,
    "difference_min_relative_gap": 1e-9,  # below this a pointwise difference is round-off
    # Figure 5-left: "visible progress" = loss below this fraction of the initial loss ...
    "visible_progress_fraction": 0.9,
    # ... and a "late start" is visible progress after this many iterations (identity-
    # initialized nets move within a few hundred).
    "late_start_after": 10_000,
}

_COMPARE = ("each comparison on area and end; holds: every comparison is clear on both "
            "(the seed ranges do not overlap); fails: every comparison goes against the claim "
            "on both (by the median); partly: otherwise")
_ALL = ["normalization", "learning_rate_grid", "horizon", "selection_rule"]

CLAIMS = {
    "fig2_emulation": {
        "figure": "2", "claim": "the end-to-end rule (Eq. 11) emulates GD on the deep network",
        "definition": "per (loss, depth, width): the deep network's and the rule's curves "
                      "agree: the median over seeds of the larger absolute difference, of areas "
                      "and of log10 ends, is ≤ agreement_decades; holds: every pair; partly: at "
                      "least half; fails: fewer",
        "depends_on": ["normalization", "horizon"]},
    "fig2_width": {
        "figure": "2", "claim": "hidden width 1 and width 100 converge alike",
        "definition": "per (loss, depth): deep GD's width-1 and width-100 curves agree (as "
                      "for the emulation); holds: every pair; partly: at least half; fails: "
                      "fewer",
        "depends_on": ["normalization", "horizon"]},
    "fig3_l2": {"figure": "3", "claim": "ℓ2: depth does not accelerate (slightly hinders)",
                "definition": "depth 1 faster than depth 2, and than depth 3; " + _COMPARE,
                "depends_on": _ALL},
    "fig3_l4": {"figure": "3", "claim": "ℓ4: depth accelerates",
                "definition": "depth 2 faster than depth 1, and depth 3 faster than depth 1; "
                              + _COMPARE, "depends_on": _ALL},
    "fig4l_gd_beats_adaptive": {
        "figure": "4-left", "claim": "depth-3 GD beats AdaGrad and AdaDelta",
        "definition": "depth-3 GD faster than AdaGrad, and than AdaDelta; " + _COMPARE,
        "depends_on": _ALL},
    "fig4l_adagrad_slower": {
        "figure": "4-left", "claim": "AdaGrad is slower than plain GD (depth 1)",
        "definition": "depth-1 GD faster than AdaGrad; " + _COMPARE, "depends_on": _ALL},
    "fig4r_adam": {
        "figure": "4-right", "claim": "depth accelerates Adam (lr 1e-3)",
        "definition": "Adam on depth 2 faster than on depth 1, and depth 3 than depth 1; "
                      + _COMPARE, "depends_on": ["normalization", "horizon"]},
    "fig5l_late_start": {
        "figure": "5-left", "claim": "near-zero init: depth 4 starts moving late",
        "definition": "holds: every seed at the selected rate makes visible progress after "
                      "late_start_after iterations and within the horizon; partly: otherwise, "
                      "if some (rate, seed) of the grid does (even if it diverges later); "
                      "fails: none does",
        "depends_on": _ALL},
    "fig5l_depth8_stuck": {
        "figure": "5-left", "claim": "near-zero init: depth 8 diverges or is stuck at every rate",
        "definition": "a (rate, seed) converges if it makes visible progress and does not "
                      "diverge within the horizon; holds: none converges; partly: some do, but "
                      "at no rate do all seeds; fails: at some rate every seed converges",
        "depends_on": ["normalization", "learning_rate_grid", "horizon"]},
    "fig5l_identity": {
        "figure": "5-left", "claim": "identity init: depth 4 and 8 are faster than depth 1",
        "definition": "identity-initialized depth 4 faster than (near-zero) depth 1, and depth 8 "
                      "than depth 1; " + _COMPARE, "depends_on": _ALL},
}


def describe(config) -> dict:
    return {"comparison": __doc__.split("\n\n")[1:3], "thresholds": config["claims"],
            "claims": CLAIMS}


def chosen_curves(run, gap, rule, horizon, rates) -> dict:
    """The selected rate of a grid run and each of its seeds' measures within the horizon."""
    choice = selection.select_learning_rate(run, *gap, rule=rule, horizon=horizon,
                                            learning_rates=rates)
    n_seeds = len(choice["seeds"])
    if choice["learning_rate"] is None:
        return {"learning_rate": None, "rows": [], "area": [math.inf] * n_seeds,
                "end": [math.inf] * n_seeds}
    measures = [selection.curve_measures(run, b, *gap, horizon) for b in choice["rows"]]
    return {"learning_rate": choice["learning_rate"], "rows": choice["rows"],
            "area": [m["area"] for m in measures],
            "end": [math.log10(max(m["best"], selection.SCORE_FLOOR)) for m in measures]}


def compare(faster, slower) -> str:
    """"clear", "median" or "against": is `faster` (one measure per seed) below `slower`?"""
    faster, slower = np.asarray(faster, float), np.asarray(slower, float)
    if np.max(faster) < np.min(slower):
        return "clear"
    return "median" if np.median(faster) < np.median(slower) else "against"


def compare_both(faster: dict, slower: dict) -> str:
    """"clear", "mixed" or "against" on the two measures ("area", "end")."""
    outcomes = {compare(faster[m], slower[m]) for m in ("area", "end")}
    if outcomes == {"clear"}:
        return "clear"
    return "against" if outcomes == {"against"} else "mixed"


def combine(comparisons) -> str:
    if all(c == "clear" for c in comparisons):
        return "holds"
    return "fails" if all(c == "against" for c in comparisons) else "partly"


def _speed_claim(pairs, measures, chosen) -> dict:
    """pairs: [(faster name, slower name)]; measures: {name: {"area": [...], "end": [...]}};
    chosen: the grid models' selections (for the rates used)."""
    comparisons = {f"{a} faster than {b}": compare_both(measures[a], measures[b])
                   for a, b in pairs}
    names = list(dict.fromkeys(n for pair in pairs for n in pair))
    return {"outcome": combine(comparisons.values()), "comparisons": comparisons,
            "by_measure": {m: combine([compare(measures[a][m], measures[b][m])
                                       for a, b in pairs]) for m in ("area", "end")},
            "area": {n: [_finite(v) for v in measures[n]["area"]] for n in names},
            "end_log10_relative_gap": {n: [_finite(v) for v in measures[n]["end"]]
                                       for n in names},
            "learning_rates": {n: chosen[n]["learning_rate"] for n in names if n in chosen}}


def _finite(value):
    return float(value) if math.isfinite(value) else None


def _first_progress(losses, steps, horizon, fraction):
    losses = np.asarray(losses, dtype=np.float64)[np.asarray(steps) <= horizon]
    below = np.flatnonzero(np.isfinite(losses) & (losses < fraction * losses[0]))
    return int(steps[below[0]]) if below.size else None


def _share(outcomes) -> str:
    ok = sum(outcomes)
    return "holds" if ok == len(outcomes) else ("partly" if 2 * ok >= len(outcomes) else "fails")


def evaluate_cell(chosen, grid_runs, fixed, gaps, setting, rates, config) -> dict:
    """Every claim's outcome, and its deciding numbers, in one cell of the atlas."""
    horizon, limits = setting["horizon"], config["claims"]
    area = {name: {"area": c["area"], "end": c["end"]} for name, c in chosen.items()}
    for name, run in fixed["adam"].items():
        area[name] = _measures(run, range(len(run["seeds"])), gaps[4], horizon)
    out = {
        "fig3_l2": _speed_claim([("l2 GD depth 1", "l2 GD depth 2"),
                                 ("l2 GD depth 1", "l2 GD depth 3")], area, chosen),
        "fig3_l4": _speed_claim([("l4 GD depth 2", "l4 GD depth 1"),
                                 ("l4 GD depth 3", "l4 GD depth 1")], area, chosen),
        "fig4l_gd_beats_adaptive": _speed_claim([("l4 GD depth 3", "l4 AdaGrad depth 1"),
                                                 ("l4 GD depth 3", "l4 AdaDelta depth 1")],
                                                area, chosen),
        "fig4l_adagrad_slower": _speed_claim([("l4 GD depth 1", "l4 AdaGrad depth 1")], area, chosen),
        "fig4r_adam": _speed_claim([("Adam depth 2", "Adam depth 1"),
                                    ("Adam depth 3", "Adam depth 1")], area, chosen),
    }
    out["fig5l_identity"] = _speed_claim([("l4 GD depth 4 identity", "l4 GD depth 1"),
                                          ("l4 GD depth 8 identity", "l4 GD depth 1")], area,
                                         chosen)
    out["fig5l_late_start"] = _late_start(grid_runs["l4 GD depth 4"], chosen["l4 GD depth 4"],
                                          horizon, rates, limits)
    out["fig5l_depth8_stuck"] = _stuck(grid_runs["l4 GD depth 8"], horizon, rates, limits)
    out.update(_emulation(fixed["emulation"], gaps, horizon, limits))
    return out


def _measures(run, rows, gap, horizon) -> dict:
    """{"area": [...], "end": [...]} (end as log10 of the lowest relative gap) of some rows."""
    measures = [selection.curve_measures(run, b, *gap, horizon) for b in rows]
    return {"area": [m["area"] for m in measures],
            "end": [math.log10(max(m["best"], selection.SCORE_FLOOR)) for m in measures]}


def _not_applicable(why) -> dict:
    return {"outcome": "n/a", "why": why}


def _grid_rows(run, rates):
    lrs = np.asarray(run["learning_rates"])
    return {lr: np.flatnonzero(np.isclose(lrs, lr, rtol=1e-9)).tolist() for lr in rates}


def _late_start(run, chosen, horizon, rates, limits) -> dict:
    fraction, after = limits["visible_progress_fraction"], limits["late_start_after"]

    def late(row):
        start = _first_progress(run["losses"][row], run["steps"], horizon, fraction)
        return start is not None and start > after, start

    selected = [late(b) for b in chosen["rows"]]
    anywhere = {lr: [late(b)[1] for b in rows] for lr, rows in _grid_rows(run, rates).items()}
    if selected and all(ok for ok, _ in selected):
        outcome = "holds"
    elif any(s is not None and s > after for starts in anywhere.values() for s in starts):
        outcome = "partly"
    else:
        outcome = "fails"
    return {"outcome": outcome, "selected_rate": chosen["learning_rate"],
            "selected_first_progress": [s for _, s in selected],
            "first_progress_by_rate": {f"{lr:g}": s for lr, s in anywhere.items()}}


def _stuck(run, horizon, rates, limits) -> dict:
    fraction = limits["visible_progress_fraction"]
    converged = {}
    for lr, rows in _grid_rows(run, rates).items():
        converged[f"{lr:g}"] = [
            _first_progress(run["losses"][b], run["steps"], horizon, fraction) is not None
            and not 0 <= int(run["diverged_at"][b]) <= horizon for b in rows]
    if not any(any(v) for v in converged.values()):
        outcome = "holds"
    else:
        outcome = "fails" if any(all(v) for v in converged.values()) else "partly"
    return {"outcome": outcome, "converged_by_rate": converged}


def _emulation(runs, gaps, horizon, limits) -> dict:
    if not runs:
        return {}
    steps = np.asarray(next(iter(runs.values()))["steps"])
    if horizon > steps[-1]:
        why = f"the emulation runs are {steps[-1]:,} iterations (Figure 2's horizon)"
        return {"fig2_emulation": _not_applicable(why), "fig2_width": _not_applicable(why)}
    keep = steps <= horizon
    floor, limit = limits["difference_min_relative_gap"], limits["agreement_decades"]

    def difference(a, b, p):
        """Median over seeds of max(|Δ area|, |Δ log10 end|), and of the strict pointwise one."""
        ma, mb = (_measures(r, range(len(r["seeds"])), gaps[p], horizon) for r in (a, b))
        decades = [max(abs(x - y), abs(u - v)) for x, y, u, v in
                   zip(ma["area"], mb["area"], ma["end"], mb["end"])]
        pointwise = [selection.max_relative_difference(
            a["losses"][s][keep], b["losses"][s][keep], *gaps[p], floor)["on_gap"] or 0.0
            for s in range(len(a["seeds"]))]
        return float(np.median(decades)), float(np.median(pointwise))

    emulation = {f"l{p} depth {d} width {w}": difference(runs[(p, d, w, "deep")],
                                                         runs[(p, d, w, "e2e")], p)
                 for p, d, w, kind in runs if kind == "deep"}
    widths = sorted({w for _, _, w, _ in runs})
    width = {f"l{p} depth {d}": difference(runs[(p, d, widths[0], "deep")],
                                           runs[(p, d, widths[-1], "deep")], p)
             for p, d, w, kind in runs if kind == "deep" and w == widths[0]}

    def claim(table):
        return {"outcome": _share([v[0] <= limit for v in table.values()]),
                "median_difference_decades": {k: v[0] for k, v in table.items()},
                "median_max_relative_difference": {k: v[1] for k, v in table.items()}}

    return {"fig2_emulation": claim(emulation), "fig2_width": claim(width)}


def summarize(cells, config) -> dict:
    """Per claim: how many distinct settings (of the axes it depends on) it holds, partly holds
    and fails in, and its outcome at the figures' own setting."""
    figures = {"normalization": next(iter(config["normalizations"])),
               "learning_rate_grid": "paper", "selection_rule": "area"}
    summary = {}
    for claim, meta in CLAIMS.items():
        seen = {}
        for cell in cells:
            outcome = cell["claims"].get(claim, {}).get("outcome", "n/a")
            if outcome != "n/a":
                seen.setdefault(tuple(cell[a] for a in meta["depends_on"]), outcome)
        counts = {k: sum(v == k for v in seen.values()) for k in ("holds", "partly", "fails")}
        at_figure = [c["claims"][claim]["outcome"] for c in cells
                     if all(c[a] == v for a, v in figures.items())
                     and c["claims"].get(claim, {}).get("outcome", "n/a") != "n/a"]
        summary[claim] = {**counts, "settings": len(seen),
                          "at_the_figures_setting": at_figure[-1] if at_figure else None,
                          "claim": meta["claim"], "figure": meta["figure"]}
    return summary
