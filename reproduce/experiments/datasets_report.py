"""The data-set verdicts as text, written from results/datasets/datasets.json: the README's
sentences (one per claim: on how many sets it holds) and docs/beyond_ethanol.md. Nothing here
is typed from the results; `python -m reproduce report` writes both."""

from __future__ import annotations

from .atlas_claims import CLAIMS
from .atlas_claims import OUTCOMES
from .datasets_statistics import STATISTICS

PAGE = "beyond_ethanol.md"


def _claim_name(claim) -> str:
    return f"Fig. {CLAIMS[claim]['figure']}, {CLAIMS[claim]['claim']}"


def _sets_by_verdict(results, claim) -> dict:
    by = {}
    for name, verdicts in results["verdicts"].items():
        by.setdefault(verdicts[claim]["verdict"], []).append(name)
    return by


def claim_sentence(results, claim) -> str:
    """"<claim>: holds on k of n sets (a, b); fails on …" from the JSON."""
    by, n = _sets_by_verdict(results, claim), len(results["verdicts"])
    holds = by.get("holds", [])
    parts = [f"holds on {len(holds)} of {n} sets" + (f" ({', '.join(holds)})" if holds else "")]
    parts += [f"{verdict} on {', '.join(by[verdict])}" for verdict in OUTCOMES[1:] if by.get(verdict)]
    return f"{_claim_name(claim)}: " + "; ".join(parts) + "."


def floor_sentence(results, where="on the page") -> str:
    """Where the seeds' ends reach the relative-gap floor, and what that does to the verdicts."""
    at_floor = {name: entry["ends_at_the_floor"] for name, entry in results["sets"].items()
                if "ends_at_the_floor" in entry}
    if not at_floor:
        return ""
    said = ", ".join(f"{name} {share:.0%}" for name, share in at_floor.items())
    return (f"Share of the speed claims' seed ends at the relative-gap floor (1e-12): {said}. "
            "Where curves reach it, their end comparisons tie and a speed claim can neither hold "
            "nor fail; the comparisons by area alone (a view added after the results were read) "
            f"are {where}.")


def by_measure_table(results) -> list[str]:
    """Per speed claim and set: holds/mixed/inconclusive/fails of n on area, then on end."""
    sets = list(results["verdicts"])
    claims = [c for c in results["claims"]
              if any(c in results["sets"][s].get("by_measure", {}) for s in sets)]
    lines = ["| claim | " + " | ".join(sets) + " |", "|---" * (len(sets) + 1) + "|"]
    for claim in claims:
        row = []
        for name in sets:
            entry = results["sets"][name].get("by_measure", {}).get(claim, {})
            row.append("; ".join(f"{m}: " + "/".join(str(entry[m][k]) for k in OUTCOMES)
                                 + f" of {entry[m]['n']}" for m in ("area", "end") if m in entry))
        lines.append(f"| {_claim_name(claim)} | " + " | ".join(row) + " |")
    return lines


def readme_sentences(doc, link="docs/beyond_ethanol.md") -> list[str]:
    """The README's lines on the data sets (empty without their JSON)."""
    if doc is None:
        return []
    results = doc["results"]
    sets = list(results["verdicts"])
    return ["", f"**Beyond Ethanol.** The same claims on {len(sets)} regression sets "
            f"({', '.join(sets)}), each judged over the atlas's settings without per-batch "
            f"scaling ([{link.rsplit('/', 1)[-1]}]({link})):", ""] + [
        f"- {claim_sentence(results, claim)}" for claim in results["claims"]] + (
        ["", floor_sentence(results)] if floor_sentence(results) else [])


def _separation_sentence(results, claim) -> str:
    split = results["separation"][claim]
    if not split.get("best"):
        return f"{_claim_name(claim)}: {split['why']}."
    chance = split["chance_of_perfect_split_at_random"]
    if split["separating"]:
        said = "; ".join(
            f"{stat} (holds {split['splits'][stat]['holds_when']} "
            f"{split['splits'][stat]['threshold']:.3g})" for stat in split["separating"])
        return (f"{_claim_name(claim)}: {split['why']}. Separated by {said}. A statistic drawn "
                f"at random separates these sets with probability {chance:.2f}.")
    return (f"{_claim_name(claim)}: {split['why']}. No statistic separates them; the best "
            f"({', '.join(split['best'])}) misplaces {split['fewest_misplaced']} set(s).")


def _statistics_table(results) -> list[str]:
    shown = ["n", "d", *STATISTICS]
    lines = ["| set | " + " | ".join(shown) + " |", "|---" * (len(shown) + 1) + "|"]
    for name, by_norm in results["statistics"].items():
        first = next(iter(by_norm.values()))
        lines.append(f"| {name} | " + " | ".join(
            f"{first[s]:,}" if isinstance(first.get(s), int) else
            f"{first[s]:.3g}" if s in first else "—" for s in shown) + " |")
    return lines


def page(doc) -> str:
    """docs/beyond_ethanol.md."""
    lines = ["# Beyond Ethanol: the claims on five regression sets", "",
             "Written by `python -m reproduce report` from `results/datasets/datasets.json`; do "
             "not edit by hand (a test compares this page with what the command writes).", "",
             "```bash",
             "python -m reproduce datasets --data-dir DATA                  # full settings",
             "python -m reproduce datasets --quick --data-dir DATA          # seconds",
             "python -m reproduce datasets --set \"data_sets=['concrete','my_table.csv']\"",
             "```", "",
             "The paper answers its question on one data set. This experiment asks every "
             "regression claim that does not depend on Ethanol-specific settings on Ethanol and "
             "on four public regression sets of the same UCI regression package "
             "([Data sets](datasets.md)), with the [robustness atlas](atlas.md)'s axes and its "
             "symmetric definitions. Left out: Figure 2's emulation claims (a property of the "
             "update rule, not of the data) and Figure 5-left's late start (its 50K threshold is "
             "the paper's number for Ethanol); per-batch scaling needs Ethanol's batches."]
    if doc is None:
        return "\n".join(lines + ["", "No results yet: run `python -m reproduce datasets`, "
                                  "then `python -m reproduce report`.", ""])
    results, config = doc["results"], doc["config"]
    n_cells = len(next(iter(results["sets"].values()))["cells"])
    lines += ["", "## How a set's verdict is decided", "",
              f"Each set has {n_cells} atlas cells ({len(config['normalizations'])} normalizations "
              f"× {len(config['learning_rate_grids'])} learning-rate grids × "
              f"{len(config['horizons'])} horizons × {len(config['selection_rules'])} selection "
              f"rules), {len(config['seeds'])} seeds per cell (Adam: "
              f"{len(config['adam']['seeds'])}). In each cell a claim holds, is mixed, "
              "inconclusive or fails by the atlas's definitions; settings that select the same "
              "runs count once. The set's verdict, fixed before any result was read:", ""]
    lines += [f"- **{k}**: {v}" for k, v in results["definitions"]["set_verdict"].items()]
    lines += ["", "## Verdicts", "", "![Verdicts per data set](../results/datasets/datasets.png)", "",
              "Each entry: the verdict, then holds / mixed / inconclusive / fails of n distinct "
              "outcomes.", "",
              "| claim | " + " | ".join(results["verdicts"]) + " |",
              "|---" * (len(results["verdicts"]) + 1) + "|"]
    for claim in results["claims"]:
        lines.append(f"| {_claim_name(claim)} | " + " | ".join(
            f"**{v[claim]['verdict']}** " + "/".join(str(v[claim][k]) for k in OUTCOMES)
            + f" of {v[claim]['n']}" for v in results["verdicts"].values()) + " |")
    lines += ["", *[f"- {claim_sentence(results, claim)}" for claim in results["claims"]], ""]
    if "by_measure" in results["definitions"]:
        lines += ["## The comparisons by measure (a view added after the results were read)", "",
                  results["definitions"]["by_measure"][0].upper()
                  + results["definitions"]["by_measure"][1:] + ".", "", floor_sentence(results, "below"), "",
                  "Each entry: holds / mixed / inconclusive / fails of n, on area, then on end.", "",
                  *by_measure_table(results), ""]
    lines += ["## What separates the sets", "",
              "Statistics of each set under the figures' normalization (z-score), computed in "
              "float64 (`reproduce.experiments.datasets_statistics`):", ""]
    lines += [f"- **{name}**: {text}" for name, text in STATISTICS.items()]
    lines += ["", *_statistics_table(results), "",
              "A statistic separates a claim when one threshold puts every set where it holds on "
              "one side and every other set on the other. With five sets that is a description "
              "of these sets, not a law: the chance that an unrelated statistic does it is given "
              "with each split.", ""]
    lines += [f"- {_separation_sentence(results, claim)}" for claim in results["claims"]]
    lines += ["", "![Each varying claim against its best statistic]"
              "(../results/datasets/datasets_statistics.png)", "", "## Time", ""]
    timing = doc.get("timing", {})
    lines.append(f"This invocation: {timing.get('this_invocation_s', 0):,.0f} s; its runs, when "
                 f"computed, took {timing.get('sum_of_run_times_when_computed_s', 0):,.0f} s "
                 f"summed over {timing.get('workers', 1)} workers ({timing.get('runs_computed', 0)} "
                 f"computed now, {timing.get('runs_reused_from_run_store', 0)} read from the run "
                 "store). The floor this machine sets for the same arithmetic, per set: "
                 "`python benchmarks/datasets_work.py` ([Benchmarks](benchmarks.md#the-five-data-sets-work-and-its-floor)).")
    return "\n".join(lines + [""])
