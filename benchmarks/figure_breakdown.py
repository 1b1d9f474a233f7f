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

EXPERIMENTS = ("figure2", "figure3", "figure4_left", "figure4_right", "figure5_left", "atlas",
               "datasets")
PARTS = ("l4 loops", "l2 loops", "compile", "rest")


def breakdown(document, seen: set) -> dict:
    """{part: seconds, "runs": count} of the runs of one JSON not in `seen` (then added to it)."""
    out = dict.fromkeys(PARTS, 0.0)
    out["runs"] = 0
    for group in ("runs", "variant_runs"):
        for run in document.get(group, {}).values():
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


if __name__ == "__main__":
    main()
