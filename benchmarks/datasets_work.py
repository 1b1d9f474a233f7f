"""Benchmark: the arithmetic of `python -m reproduce datasets` per data set, and the floor it sets.

`figure_work.py`'s method, per set: from results/datasets/datasets.json, every trainer run (each
counted once), the configuration-iterations that touch X (ℓ4 runs, up to each configuration's
divergence; ℓ2 runs use XᵀX and are counted apart); divided by the fastest rate measured here,
in this run, of the two products with that set's X alone (`bench_trainer.jax_matmul`, float32,
one jitted loop, 10 / 30 / 90 / 240 configurations stacked, rounds alternating). The quotient
is a floor for one worker; the runs' loop seconds are compared with it per set.

Usage:
    python benchmarks/datasets_work.py [--data-dir DIR] [--results results] [--steps 2000] [--rounds 3]
"""

from __future__ import annotations

import json
import pathlib
import re
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import bench_trainer  # noqa: E402  (the one home of the matmul-ceiling loop)
from figure_work import STACKS  # noqa: E402
from figure_work import configuration_iterations  # noqa: E402
from figure_work import each_run  # noqa: E402
from figure_work import make_parser  # noqa: E402

LABEL = re.compile(r"^\[(?P<set>[^,\]]+), (?P<norm>[^\]]+)\] ")


def runs_by_set(document) -> dict:
    """{set: {spec key: (uses XᵀX, configuration-iterations, loop seconds)}}."""
    by_set = {}
    for label, run in each_run(document):
        info = run["info"]
        by_set.setdefault(LABEL.match(label)["set"], {})[info["spec_key"]] = (
            bool(info["gram"]), configuration_iterations(run), info["wall_time_s"])
    return by_set


def load_set(name, data_dir):
    if name == "ethanol":
        return bench_trainer.load(data_dir)[0]
    from tf_overparam.datasets import load_uci_regression

    return load_uci_regression(name, data_dir)[0]


def main(argv=None):
    parser = make_parser(__doc__.splitlines()[0])
    args = parser.parse_args(argv)
    path = pathlib.Path(args.results) / "datasets" / "datasets.json"
    if not path.is_file():
        parser.error(f"--results: no results at {path} (run `python -m reproduce datasets`)")
    document = json.loads(path.read_text())
    by_set = runs_by_set(document)
    data = {name: np.asarray(load_set(name, args.data_dir), np.float32) for name in by_set}
    samples = {(name, stack): [] for name in by_set for stack in STACKS}
    for _ in range(args.rounds):  # alternate, so that load on the shared machine hits each alike
        for name, stack in samples:
            samples[(name, stack)].append(bench_trainer.jax_matmul(data[name], stack, args.steps))
    print(f"{'set':<12} {'n × d':>10} {'best loop':>12} {'X work':>9} {'XᵀX work':>9} "
          f"{'floor':>8} {'loops':>9} {'ratio':>6}")
    totals = np.zeros(3)
    for name, runs in by_set.items():
        n, d = data[name].shape
        best = max(float(np.median(samples[(name, stack)])) for stack in STACKS)
        with_x = sum(w for gram, w, _ in runs.values() if not gram)
        with_gram = sum(w for gram, w, _ in runs.values() if gram)
        seconds = sum(s for *_, s in runs.values())
        floor = with_x / best
        totals += (floor, seconds, with_x * 4.0 * n * d)
        print(f"{name:<12} {f'{n}×{d}':>10} {best * 4.0 * n * d / 1e9:>7.1f} GF/s "
              f"{with_x / 1e6:>8.1f}M {with_gram / 1e6:>8.1f}M {floor:>7,.0f}s {seconds:>8,.0f}s "
              f"{seconds / floor:>5.1f}×")
    print(f"{'all':<12} {'':>10} {'':>12} {totals[2] / 1e12:>6.1f} TFLOP {'':>9} "
          f"{totals[0]:>7,.0f}s {totals[1]:>8,.0f}s {totals[1] / totals[0]:>5.1f}×")
    print("\nfloor: configuration-iterations with X ÷ the fastest products-only loop measured "
          "above for that set (one worker); loops: the runs' summed loop seconds, as recorded "
          "when they were computed (Ethanol's are the atlas's runs)")


if __name__ == "__main__":
    main()
