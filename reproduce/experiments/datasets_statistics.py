"""Simple statistics of a regression set, and which of them separates the sets where a claim
holds from the others.

Computed in float64 on each normalization of a set (X, y as the runs see them). The separation
uses the first normalization (z-score, the figures' choice): a statistic *separates* a claim when
one threshold puts every set where the claim holds on one side and every other set on the other.
With five sets a statistic drawn at random does that with probability 2 / C(5, k) (k sets
holding), so a perfect split is a description of these sets, not evidence of a law; the JSON
says that probability next to each split.
"""

from __future__ import annotations

import math

import numpy as np

from ..lab import configs

#: The statistics a separation is sought among: name -> what it is.
STATISTICS = {
    "n_over_d": "rows per input (n / d)",
    "condition_number": "λmax / λmin of XᵀX/n",
    "l2_stable_rates_in_paper_grid": "rates of the paper's grid below 2/λmax(XᵀX/n), where "
                                     "depth-1 GD on the ℓ2 loss converges",
    "l4_stable_rates_at_start": "rates of the paper's grid below 2/λmax of the ℓ4 loss's Hessian "
                                "at the zero predictor, 3 Xᵀdiag(y²)X/n",
    "l4_optimum_residual_kurtosis": "excess kurtosis of the residuals of the ℓ4 optimum",
    "l2_unexplained_fraction": "ℓ2 optimum's loss over the zero predictor's (1 − R²)",
}


def of_problem(problem) -> dict:
    """The statistics of one normalized set (`regression.Problem`), plus their ingredients."""
    from scipy import stats

    X = np.asarray(problem.X, np.float64)
    y = np.asarray(problem.y, np.float64).reshape(-1)
    n, d = X.shape
    eigenvalues = np.linalg.eigvalsh(X.T @ X / n)
    l4_start = np.linalg.eigvalsh(3.0 * (X * (y ** 2)[:, None]).T @ X / n)
    grid = np.asarray(configs.PAPER_LR_GRID)
    out = {"n": n, "d": d, "n_over_d": n / d,
           "lambda_max": float(eigenvalues[-1]), "lambda_min": float(eigenvalues[0]),
           "condition_number": float(eigenvalues[-1] / max(eigenvalues[0], np.finfo(float).tiny)),
           "l2_stable_rate_limit": float(2.0 / eigenvalues[-1]),
           "l2_stable_rates_in_paper_grid": int(np.sum(grid < 2.0 / eigenvalues[-1])),
           "l4_stable_rate_limit_at_start": float(2.0 / l4_start[-1]),
           "l4_stable_rates_at_start": int(np.sum(grid < 2.0 / l4_start[-1]))}
    if 4 in problem.optima:
        residuals = X @ np.asarray(problem.optima[4].weights, np.float64) - y
        out["l4_optimum_residual_kurtosis"] = float(stats.kurtosis(residuals))
    if 2 in problem.optima:
        optimum, zero = problem.gap(2)
        out["l2_unexplained_fraction"] = float(optimum / zero)
    return out


def describe(by_norm: dict, config) -> dict:
    """{normalization: statistics} of one set."""
    return {norm: of_problem(problem) for norm, problem in by_norm.items()}


def _best_split(values: dict, holds: set) -> dict:
    """The threshold on `values` ({set: value}) that misplaces the fewest sets, holding sets
    above or below it."""
    ordered = sorted(values, key=values.get)
    best = None
    for i in range(len(ordered) + 1):
        if 0 < i < len(ordered) and values[ordered[i - 1]] == values[ordered[i]]:
            continue  # no threshold falls between equal values
        below, above = set(ordered[:i]), set(ordered[i:])
        for side, inside in (("above", above), ("below", below)):
            errors = len(inside ^ holds)
            if best is None or errors < best["misplaced"]:
                lo = values[ordered[i - 1]] if i > 0 else None
                hi = values[ordered[i]] if i < len(ordered) else None
                threshold = (lo + hi) / 2 if lo is not None and hi is not None else None
                best = {"misplaced": errors, "holds_when": side, "threshold": threshold}
    return best


def separation(verdicts: dict, statistics: dict) -> dict:
    """Per statistic the best split of the sets where the claim holds from the others, and the
    statistics that split them perfectly (`verdicts`: {set: verdict})."""
    holds = {name for name, verdict in verdicts.items() if verdict == "holds"}
    if not holds or len(holds) == len(verdicts):
        outcome = "on every set" if holds else "on no set"
        return {"separating": [], "why": f"the claim holds {outcome}: nothing to separate",
                "splits": {}}
    first = {name: next(iter(by_norm.values())) for name, by_norm in statistics.items()}
    splits = {stat: _best_split({name: first[name][stat] for name in verdicts}, holds)
              for stat in STATISTICS if all(stat in first[name] for name in verdicts)}
    fewest = min(split["misplaced"] for split in splits.values())
    chance = 2 / math.comb(len(verdicts), len(holds))
    return {"separating": [s for s, split in splits.items() if split["misplaced"] == 0],
            "best": [s for s, split in splits.items() if split["misplaced"] == fewest],
            "fewest_misplaced": fewest, "splits": splits,
            "chance_of_perfect_split_at_random": min(1.0, chance),
            "why": ("holds on " + ", ".join(sorted(holds)) + "; not on "
                    + ", ".join(sorted(set(verdicts) - holds)))}
