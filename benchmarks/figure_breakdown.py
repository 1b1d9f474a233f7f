"""Where the regression experiments' seconds go, run by run, from the timings the results record.

Every trainer run's record keeps, from when it was computed, the seconds in the compiled loop
(`wall_time_s`), in tracing and compiling (`compile_time_s`) and in all (`total_time_s`: setup,
transfers and building the result are the rest). This adds them up per experiment, each run
counted once (in the first experiment that has it: the figures share runs, and the atlas and the
data sets reuse theirs), split into the ℓ4 loops (products with X), the ℓ2 loops (with XᵀX),
compilation and the rest. No timing is taken here: it reads the committed JSON.

Usage:
    python benchmarks/figure_breakdown.py [--results results]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from figure_work import configuration_iterations  # noqa: E402  (the one count of the work)
from figure_work import each_run  # noqa: E402

EXPERIMENTS = ("figure2", "figure3", "figure4_left", "figure4_right", "figure5_left", "atlas",
               "datasets")
PARTS = ("l4 loops", "l2 loops", "compile", "rest")


def breakdown(document, seen: set) -> dict:
    """{part: seconds, "runs": count} of the runs of one JSON not in `seen` (then added to it)."""
    out = dict.fromkeys(PARTS, 0.0)
    out["runs"] = 0
    for _, run in each_run(document):
        info = run["info"]
        if info["spec_key"] in seen:
            continue
        seen.add(info["spec_key"])
        loop, compile_s = info["wall_time_s"], info["compile_time_s"]
        out["l2 loops" if info["gram"] else "l4 loops"] += loop
        out["compile"] += compile_s
        out["rest"] += max(0.0, info["total_time_s"] - loop - compile_s)
        out["runs"] += 1
    return out


#: Configurations per ℓ4 run, in classes (upper bounds) for the per-batch-size view.
BATCH_CLASSES = (2, 5, 15, 30, None)


def by_batch_size(documents) -> dict:
    """{upper bound: [runs, configuration-iterations, loop seconds]} of the ℓ4 runs (with X),
    each counted once: what one configuration-iteration cost, by the run's number of
    configurations."""
    out, seen = {bound: [0, 0, 0.0] for bound in BATCH_CLASSES}, set()
    for document in documents:
        for _, run in each_run(document):
            info = run["info"]
            if info["spec_key"] in seen or info["gram"]:
                continue
            seen.add(info["spec_key"])
            size = len(run["configurations"])
            bound = next(b for b in BATCH_CLASSES if b is None or size <= b)
            out[bound][0] += 1
            out[bound][1] += configuration_iterations(run)
            out[bound][2] += info["wall_time_s"]
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results")
    args = parser.parse_args(argv)
    paths = {name: pathlib.Path(args.results) / name / f"{name}.json" for name in EXPERIMENTS}
    found = {name: path for name, path in paths.items() if path.is_file()}
    if not found:
        parser.error(f"--results: no results of {', '.join(EXPERIMENTS)} in {args.results}")
    seen, rows = set(), {}
    for name, path in found.items():
        rows[name] = breakdown(json.loads(path.read_text()), seen)
    print(f"{'experiment':<14} {'runs':>5} " + " ".join(f"{p:>16}" for p in PARTS) + f" {'sum':>9}")
    for name, row in rows.items():
        total = sum(row[p] for p in PARTS)
        cells = " ".join(f"{row[p]:>8,.0f}s ({row[p] / total:>4.0%})" if total else f"{'—':>16}"
                         for p in PARTS)
        print(f"{name:<14} {row['runs']:>5} {cells} {total:>8,.0f}s")
    print("\nseconds summed over the runs as recorded when computed (two workers run side by side, "
          "so a part's wall time is about half); runs shared between experiments are counted in "
          "the first")
    print("\nl4 loops on Ethanol (the figures and the atlas) by the run's number of "
          "configurations:")
    low = 1
    for bound, (runs, work, seconds) in by_batch_size(
            json.loads(path.read_text()) for name, path in found.items()
            if name != "datasets").items():
        label = f"{low}-{bound}" if bound else f">{low - 1}"
        low = (bound or 0) + 1
        if runs:
            print(f"  {label:>6} configurations: {runs:>3} runs, {work / 1e6:>6.1f}M "
                  f"configuration-iterations, {seconds:>7,.0f} s, "
                  f"{seconds / work * 1e6:>6.1f} µs each")


if __name__ == "__main__":
    main()
