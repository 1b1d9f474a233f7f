"""Benchmark: the arithmetic the regression figures and the atlas do, and the time floor it sets.

The goal: the five regression figures in ≤ 300 s and the atlas in ≤ 20 minutes on the
2-core CPU. Both are far above what the trainer delivers, and the question is how far any loop
could go. This reads the committed results (every trainer run each JSON records, each counted
once: the figures and the atlas share runs), counts the configuration-iterations that touch X
(ℓ4 runs, up to each configuration's divergence; ℓ2 runs use XᵀX and are counted apart), and
divides by a throughput measured here, side by side in this run: the two products with X alone
(`bench_trainer.jax_matmul`, float32, jitted) for 10, 30, 90 and 240 configurations stacked in
one loop. That quotient is a floor: no trainer that does this work can beat it on this machine.

Usage:
    python benchmarks/figure_work.py [--data-dir DIR] [--results results] [--steps 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import bench_trainer  # noqa: E402  (the one home of the matmul-ceiling loop)

FIGURES = ("figure2", "figure3", "figure4_left", "figure4_right", "figure5_left")
STACKS = (10, 30, 90, 240)


def each_run(document):
    """(label, run) of every trainer run a results JSON records."""
    for group in ("runs", "variant_runs"):
        yield from document.get(group, {}).items()


def configuration_iterations(run) -> int:
    """The iterations a run's configurations did, each up to its divergence."""
    steps = run["settings"]["steps"]
    return sum(c["diverged_at"] or steps for c in run["configurations"])


def runs_of(path):
    """{spec key: (p, uses XᵀX, configuration-iterations, loop seconds)} of one results JSON."""
    runs = {}
    for _, run in each_run(json.loads(pathlib.Path(path).read_text())):
        info = run["info"]
        runs[info["spec_key"]] = (run["settings"]["p"], bool(info["gram"]),
                                  configuration_iterations(run), info["wall_time_s"])
    return runs


def work(runs):
    """(X configuration-iterations, XᵀX configuration-iterations, summed loop seconds)."""
    with_x = sum(w for p, gram, w, _ in runs.values() if not gram)
    with_gram = sum(w for p, gram, w, _ in runs.values() if gram)
    return with_x, with_gram, sum(seconds for *_, seconds in runs.values())


def invocation_seconds(paths):
    """(wall seconds of the commands that wrote these JSONs, True when each computed runs):
    with runs read from the run store instead, a JSON's wall time says nothing of the trainer."""
    timings = [json.loads(pathlib.Path(path).read_text()).get("timing", {}) for path in paths]
    return (sum(t.get("this_invocation_s", 0.0) for t in timings),
            all(t.get("runs_computed", 0) > 0 for t in timings))


def make_parser(description) -> argparse.ArgumentParser:
    """The options of this benchmark and of datasets_work.py."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--results", default="results")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    return parser


def main(argv=None):
    parser = make_parser(__doc__.splitlines()[0])
    args = parser.parse_args(argv)
    results = pathlib.Path(args.results)
    paths = [results / name / f"{name}.json" for name in FIGURES] + [results / "atlas" / "atlas.json"]
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        parser.error(f"--results: no committed results at {', '.join(missing)}")
    figures = {}
    for path in paths[:-1]:
        figures.update(runs_of(path))
    atlas = runs_of(paths[-1])
    atlas_new = {key: run for key, run in atlas.items() if key not in figures}

    X, _, what = bench_trainer.load(args.data_dir)
    n, d = X.shape
    samples = {stack: [] for stack in STACKS}
    for _ in range(args.rounds):  # alternate, so that load on the shared machine hits each alike
        for stack in STACKS:
            samples[stack].append(bench_trainer.jax_matmul(X, stack, args.steps))
    ceiling = {stack: float(np.median(values)) for stack, values in samples.items()}

    flops = 4.0 * n * d
    print(f"data: {what}; the two products with X: {flops / 1e6:.2f} MFLOP per configuration-iteration")
    print("\nthe products alone, float32, one jitted loop (median of "
          f"{args.rounds} alternating rounds):")
    for stack, rate in ceiling.items():
        print(f"  {stack:>4} configurations: {rate:>9,.0f} configuration-iterations/s "
              f"({rate * flops / 1e9:5.1f} GFLOP/s), {rate / ceiling[STACKS[0]]:.2f}× the rate at {STACKS[0]}")
    best = max(ceiling.values())
    for label, runs, written_by in (("five regression figures", figures, paths[:-1]),
                                    ("atlas, runs beyond the figures'", atlas_new, paths[-1:])):
        with_x, with_gram, loop_seconds = work(runs)
        print(f"\n{label}: {len(runs)} trainer runs, {with_x / 1e6:.1f}M configuration-iterations with X "
              f"({with_x * flops / 1e12:.1f} TFLOP), {with_gram / 1e6:.1f}M with XᵀX; "
              f"their loops took {loop_seconds:,.0f} s (summed over workers)")
        for stack, rate in ceiling.items():
            print(f"  floor at the {stack}-configuration ceiling: {with_x / rate:6,.0f} s")
        print(f"  trainer as run: {with_x * flops / loop_seconds / 1e9:.1f} GFLOP/s per worker; "
              f"the best ceiling is {best * flops / 1e9:.1f} GFLOP/s")
        wall, computed = invocation_seconds(written_by)
        if computed:
            ratios = ", ".join(f"{wall / (with_x / rate):.2f}× at {stack}"
                               for stack, rate in ceiling.items())
            print(f"  wall time as run: {wall:,.0f} s = {wall / (with_x / best):.2f}× the floor "
                  f"(the best ceiling's); {ratios}")
        else:
            print("  wall time: not comparable (these JSONs read runs from the run store "
                  "instead of computing them)")


if __name__ == "__main__":
    main()
