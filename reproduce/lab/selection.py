"""From curves to numbers: relative gaps, iterations to a gap, and the learning-rate selection
rule (which the paper does not define; ours is written into every figure's JSON).

- relative gap of a loss L: (L − L*) / (L₀ − L*), where L* is the optimum and L₀ = mean (1/p) y^p
  is the loss of the zero predictor (where near-zero initialization starts), common to all curves;
- "iterations to reach a relative gap g": the first iteration whose loss is ≤ L* + g (L₀ − L*),
  detected at every iteration inside the compiled loop;
- learning-rate selection ("fastest convergence"): the figures use rule "area" of
  `SELECTION_RULES`: among the rates at which no seed of the grid diverged within the horizon,
  the smallest median over seeds of the mean over the recorded iterations of log10(relative
  gap), i.e. the smallest area under the plotted log curve; the rate "lowest final loss" would
  choose is recorded too. The atlas (`reproduce.experiments.atlas`) also applies the other rules.

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


#: The learning-rate selection rules (the paper says only "fastest convergence"). Every rule
#: looks at the grid's curves up to a horizon, over all the grid's seeds.
SELECTION_RULES = {
    "area": "among rates where no seed diverged within the horizon, the smallest median over "
            "seeds of the mean over recorded iterations of log10(relative gap) (the area under "
            "the plotted log curve)",
    "final": "among rates where no seed diverged within the horizon, the smallest median final "
             "relative gap",
    "fastest": "among rates where no seed diverged within the horizon, the fewest median "
               "iterations to a relative gap of 1e-1 (not reached counts as never), ties broken "
               "by the median final relative gap",
    "before_divergence": "every rate; a curve that diverges counts up to its divergence: the "
                         "smallest median area (as in 'area') over the records before it",
}


def curve_measures(run, row: int, optimum: float, reference: float, horizon=None) -> dict:
    """One configuration's curve up to `horizon` (default: all of it): whether it diverged
    within it, its area (mean log10 relative gap over the records before any divergence), its
    lowest and final relative gaps, and the iterations to a relative gap of 1e-1 (inf: never)."""
    steps = np.asarray(run["steps"])
    horizon = int(steps[-1]) if horizon is None else int(horizon)
    gap = relative_gap(np.asarray(run["losses"][row])[steps <= horizon], optimum, reference)
    diverged_at = int(run["diverged_at"][row])
    diverged = 0 <= diverged_at <= horizon
    finite = np.isfinite(gap)
    reached = int(run["level_steps"][row][0])
    return {
        "diverged": diverged,
        "area": (float(np.mean(np.log10(np.maximum(gap[finite], SCORE_FLOOR))))
                 if finite.any() else math.inf),
        "best": float(np.min(gap[finite])) if finite.any() else math.inf,
        "final": float(gap[-1]) if finite[-1] and not diverged else math.inf,
        "to_1e-1": reached if 0 <= reached <= horizon else math.inf,
    }


def _median(values) -> float:
    return float(np.median(np.asarray(values, dtype=np.float64)))


def select_learning_rate(run, optimum: float, reference: float, *, rule: str = "area",
                         horizon=None, learning_rates=None) -> dict:
    """Apply a selection rule (`SELECTION_RULES`) to a grid run over all its seeds.

    Returns the chosen learning rate, `rows` (the run's row of each seed at that rate; `row` the
    first), and `grid`: per rate, its rows, which seeds diverged and the median measures.
    `learning_rates`: restrict the grid to these rates (a sub-grid of the run's).
    """
    if rule not in SELECTION_RULES:
        raise ValueError(f"`rule` must be one of {sorted(SELECTION_RULES)}, got {rule!r}.")
    lr_column = np.asarray(run["learning_rates"], dtype=np.float64)
    seed_column = np.asarray(run["seeds"])
    seeds = sorted(set(int(s) for s in seed_column))
    rates = sorted(set(float(lr) for lr in lr_column))
    if learning_rates is not None:
        rates = [lr for lr in rates if any(math.isclose(lr, w, rel_tol=1e-9)
                                           for w in learning_rates)]
    grid, candidates = [], []
    for lr in rates:
        rows = [int(np.flatnonzero((lr_column == lr) & (seed_column == s))[0]) for s in seeds]
        measures = [curve_measures(run, b, optimum, reference, horizon) for b in rows]
        entry = {"learning_rate": lr, "rows": rows, "seeds": seeds,
                 "diverged_seeds": [s for s, m in zip(seeds, measures) if m["diverged"]],
                 **{f"median_{k}": _median([m[k] for m in measures])
                    for k in ("area", "best", "final", "to_1e-1")}}
        grid.append(entry)
        if rule != "before_divergence" and entry["diverged_seeds"]:
            continue
        score = {"area": (entry["median_area"],), "final": (entry["median_final"],),
                 "fastest": (entry["median_to_1e-1"], entry["median_final"]),
                 "before_divergence": (entry["median_area"],)}[rule]
        if math.isfinite(score[-1]):
            candidates.append((score, entry))
    base = {"rule": rule, "horizon": horizon, "grid": grid, "seeds": seeds}
    if not candidates:
        return {**base, "row": None, "rows": [], "learning_rate": None}
    chosen = min(candidates, key=lambda c: c[0])[1]
    eligible = [e for _, e in candidates if not e["diverged_seeds"]]
    return {
        **base,
        "row": chosen["rows"][0],
        "rows": chosen["rows"],
        "learning_rate": chosen["learning_rate"],
        # Every eligible rate ended where it started: the choice among them is arbitrary.
        "all_eligible_stuck": bool(eligible) and all(e["median_final"] >= STUCK_RELATIVE_GAP
                                                     for e in eligible),
        "at_grid_edge": chosen["learning_rate"] in (rates[0], rates[-1]),
        "learning_rate_by_final_loss": (min(eligible, key=lambda e: e["median_final"])
                                        ["learning_rate"] if eligible else None),
    }


def take_rows(run, rows) -> dict:
    """The configurations `rows` of a run, as a run."""
    rows = list(rows)
    return {"steps": np.asarray(run["steps"]),
            **{k: np.asarray(run[k])[rows] for k in ("losses", "learning_rates", "seeds",
                                                     "diverged_at", "level_steps")}}


def stack_runs(*runs) -> dict:
    """Configurations of runs recorded at the same iterations, as one run."""
    if any(not np.array_equal(runs[0]["steps"], r["steps"]) for r in runs):
        raise ValueError("runs recorded at different iterations cannot be stacked")
    return {"steps": np.asarray(runs[0]["steps"]),
            **{k: np.concatenate([np.asarray(r[k]) for r in runs])
               for k in ("losses", "learning_rates", "seeds", "diverged_at", "level_steps")}}


def seed_summary(curves: dict, optimum: float, reference: float) -> dict:
    """Median and range over seeds of one selected configuration's numbers.

    `curves`: {"steps", "losses" (S, R), "level_steps" (S, L), "diverged_at" (S,), "seeds"}."""
    per_seed = [curve_summary(curves, s, optimum, reference) for s in range(len(curves["seeds"]))]
    numbers = {"final_relative_gap": [c["final_relative_gap"] for c in per_seed],
               "selection_score_mean_log10_gap": [c["selection_score_mean_log10_gap"]
                                                  for c in per_seed]}
    for g in GAP_THRESHOLDS:
        key = f"{g:.0e}"
        numbers[f"iterations_to_relative_gap_{key}"] = [
            c["iterations_to_relative_gap"][key] for c in per_seed]
    out = {"seeds": [int(s) for s in curves["seeds"]], "per_seed": numbers}
    for name, values in numbers.items():
        finite = [float(v) for v in values if isinstance(v, (int, float)) and v is not None
                  and math.isfinite(v)]
        out[name] = {"median": _median(finite) if len(finite) == len(values) else None,
                     "min": min(finite) if finite else None,
                     "max": max(finite) if finite else None,
                     "seeds_with_a_value": len(finite)}
    return out


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
