"""From curves to numbers: relative gaps, iterations to a gap, and the learning-rate selection
rule (which the paper does not define; ours is written into every figure's JSON).

- relative gap of a loss L: (L − L*) / (L₀ − L*), where L* is the optimum and L₀ = mean (1/p) y^p
  is the loss of the zero predictor (where near-zero initialization starts), common to all curves;
- "iterations to reach a relative gap g": the first iteration whose loss is ≤ L* + g (L₀ − L*),
  detected at every iteration inside the compiled loop;
- learning-rate selection ("fastest convergence"): among the grid's runs that did not diverge
  within the horizon, the one with the smallest mean over the recorded iterations of
  log10(relative gap), i.e. the smallest area under the plotted log curve; the runner-up rule
  "lowest final loss" is recorded too.

A run here is the dict the run store keeps: steps (R,), losses (B, R), learning_rates (B,),
seeds (B,), diverged_at (B,), level_steps (B, L).
"""

from __future__ import annotations

import math

import numpy as np

GAP_THRESHOLDS = (1e-1, 1e-2, 1e-3)
#: Floor for log10 of a relative gap in the selection score (a gap at or below round-off).
SCORE_FLOOR = 1e-12
#: A run whose final relative gap is at least this never left its starting loss ("stuck").
STUCK_RELATIVE_GAP = 0.99


def relative_gap(losses, optimum, reference):
    return (np.asarray(losses, dtype=np.float64) - optimum) / (reference - optimum)


def level_losses(optimum, reference):
    """The absolute losses of the GAP_THRESHOLDS."""
    return [optimum + g * (reference - optimum) for g in GAP_THRESHOLDS]


def selection_score(losses, optimum, reference) -> float:
    """Mean of log10(relative gap) over the recorded iterations (lower = faster); inf if NaN."""
    gap = relative_gap(losses, optimum, reference)
    if not np.all(np.isfinite(gap)):
        return float("inf")
    return float(np.mean(np.log10(np.maximum(gap, SCORE_FLOOR))))


def iterations_to_reach(level_steps) -> dict:
    """{"1e-01": iteration or "not reached", …} from a row of the trainer's level_steps."""
    return {f"{g:.0e}": (int(s) if s >= 0 else "not reached")
            for g, s in zip(GAP_THRESHOLDS, level_steps)}


def configuration_outcome(run, row: int) -> dict:
    """What happened to one configuration, without an optimum: divergence and loss change."""
    losses = run["losses"][row]
    diverged_at = int(run["diverged_at"][row])
    final = float(losses[-1]) if np.isfinite(losses[-1]) else None
    return {
        "learning_rate": float(run["learning_rates"][row]),
        "seed": int(run["seeds"][row]),
        "diverged_at": diverged_at if diverged_at >= 0 else None,
        "initial_loss": float(losses[0]),
        "final_loss": final,
        "final_loss_over_initial": None if final is None else final / float(losses[0]),
    }


def curve_summary(run, row: int, optimum: float, reference: float) -> dict:
    """Summary numbers of one configuration of a run, against the optimum."""
    gap = relative_gap(run["losses"][row], optimum, reference)
    finite = np.isfinite(gap)
    outcome = configuration_outcome(run, row)
    del outcome["final_loss_over_initial"]
    return {
        **outcome,
        "iterations_to_relative_gap": iterations_to_reach(run["level_steps"][row]),
        "final_relative_gap": float(gap[-1]) if finite[-1] else None,
        "min_relative_gap": float(np.nanmin(gap)) if finite.any() else None,
        "selection_score_mean_log10_gap": selection_score(run["losses"][row], optimum,
                                                          reference),
    }


def select_learning_rate(run, optimum: float, reference: float, seed: int = 0) -> dict:
    """Apply the selection rule to a grid run (rows of one seed); returns the choice and table."""
    rows = [b for b in range(len(run["learning_rates"])) if int(run["seeds"][b]) == seed]
    table = [curve_summary(run, b, optimum, reference) for b in rows]
    eligible = [(t["selection_score_mean_log10_gap"], b, t) for b, t in zip(rows, table)
                if t["diverged_at"] is None and math.isfinite(t["selection_score_mean_log10_gap"])]
    if not eligible:
        return {"row": None, "learning_rate": None, "rule": "no eligible learning rate",
                "grid": table, "rows": rows}
    score, row, chosen = min(eligible, key=lambda e: e[0])
    by_final = min(eligible, key=lambda e: (e[2]["final_loss"], e[0]))
    lrs = sorted(float(run["learning_rates"][b]) for b in rows)
    stuck = all((e[2]["final_relative_gap"] or 0.0) >= STUCK_RELATIVE_GAP for e in eligible)
    return {
        "row": row,
        "learning_rate": chosen["learning_rate"],
        # Every eligible rate ended where it started: the choice among them is arbitrary.
        "all_eligible_stuck": stuck,
        "at_grid_edge": chosen["learning_rate"] in (lrs[0], lrs[-1]),
        "learning_rate_by_final_loss": by_final[2]["learning_rate"],
        "grid": table,
        "rows": rows,  # the run's row of each grid entry (the grid holds one seed's rows)
    }


def max_relative_difference(a, b, optimum, reference, min_gap=1e-9) -> dict:
    """Largest relative difference between two loss curves recorded at the same iterations.

    Reported on the plotted quantity (the gap L − L*): max |L_a − L_b| / (L_a − L*) over the
    iterations where both are finite and a's relative gap is ≥ `min_gap` (below that the
    difference is round-off); and on the loss itself: max |L_a − L_b| / L_a.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    both = np.isfinite(a) & np.isfinite(b)
    gap_a = a - optimum
    usable = both & (gap_a >= min_gap * (reference - optimum))
    if not usable.any():
        return {"on_gap": None, "on_loss": None, "at_record": None, "compared_records": 0}
    on_gap = np.abs(a - b)[usable] / gap_a[usable]
    on_loss = np.abs(a - b)[usable] / np.abs(a[usable])
    where = int(np.flatnonzero(usable)[int(np.argmax(on_gap))])
    return {"on_gap": float(on_gap.max()), "on_loss": float(on_loss.max()),
            "at_record": where, "compared_records": int(usable.sum())}
