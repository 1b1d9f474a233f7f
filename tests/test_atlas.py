"""The robustness atlas: the selection rules and claim definitions on hand-made curves (each
outcome worked out by hand), and `python -m reproduce atlas --quick` on the real data, killed
with SIGKILL on JAX without TensorFlow, resumed, and compared with an uninterrupted run."""

import json
import math
import os
import pathlib
import signal
import subprocess
import sys

import keras
import numpy as np
import pytest

from reproduce import atlas_claims
from reproduce import run_store
from reproduce import selection

ROOT = pathlib.Path(__file__).resolve().parents[1]
NAN = float("nan")

# Relative gaps (optimum 0, zero-predictor loss 1: a loss is its relative gap), every 10 steps.
FAST_START = [1.0, 0.05, 0.04, 0.04, 0.04]  # area -1.11, final 0.04, gap 1e-1 at step 10
SLOW_BEST_END = [1.0, 0.9, 0.5, 0.1, 0.001]  # area -0.87, final 0.001, gap 1e-1 at step 30
BEST_THEN_DIVERGES = [1.0, 0.01, 0.001, NAN, NAN]  # diverges at 30; area before it -1.67


def _run(curves, lrs, seeds=None, diverged=None, levels=None):
    losses = np.asarray(curves, dtype=float)
    n = len(curves)
    return {"steps": np.arange(losses.shape[1]) * 10, "losses": losses,
            "learning_rates": np.asarray(lrs, dtype=float),
            "seeds": np.asarray(seeds if seeds is not None else [0] * n),
            "diverged_at": np.asarray(diverged if diverged is not None else [-1] * n),
            "level_steps": np.asarray(levels if levels is not None else [[-1] * 3] * n)}


def _three_rates():
    return _run([FAST_START, SLOW_BEST_END, BEST_THEN_DIVERGES], [1e-3, 1e-2, 1e-1],
                diverged=[-1, -1, 30], levels=[[10, -1, -1], [30, 40, -1], [10, 10, 20]])


def test_curve_measures_by_hand():
    measures = selection.curve_measures(_three_rates(), 0, 0.0, 1.0)
    assert measures["area"] == pytest.approx(np.mean(np.log10(FAST_START)))
    assert measures["best"] == 0.04 and measures["final"] == 0.04 and measures["to_1e-1"] == 10
    diverging = selection.curve_measures(_three_rates(), 2, 0.0, 1.0)
    assert diverging["diverged"] and diverging["final"] == math.inf
    assert diverging["area"] == pytest.approx((0 - 2 - 3) / 3)
    early = selection.curve_measures(_three_rates(), 2, 0.0, 1.0, horizon=20)
    assert not early["diverged"] and early["final"] == 0.001


@pytest.mark.parametrize("rule, horizon, expected", [
    ("area", None, 1e-3),  # the fast start has the smaller area; 1e-1 diverged
    ("final", None, 1e-2),  # the slow start ends lowest
    ("fastest", None, 1e-3),  # first to a gap of 1e-1 among those that did not diverge
    ("before_divergence", None, 1e-1),  # the diverging rate counts up to its divergence
    ("area", 20, 1e-1),  # within 20 iterations 1e-1 has not diverged yet, and is best
])
def test_selection_rules_by_hand(rule, horizon, expected):
    choice = selection.select_learning_rate(_three_rates(), 0.0, 1.0, rule=rule,
                                            horizon=horizon)
    assert choice["learning_rate"] == expected


def test_selection_uses_every_seed_and_respects_a_sub_grid():
    # Seed 1 of the slow-start rate diverges: that rate is out for the rules that exclude
    # divergence; the other rates' seeds agree.
    run = _run([FAST_START, FAST_START, SLOW_BEST_END, BEST_THEN_DIVERGES],
               [1e-3, 1e-3, 1e-2, 1e-2], seeds=[0, 1, 0, 1], diverged=[-1, -1, -1, 30])
    choice = selection.select_learning_rate(run, 0.0, 1.0, rule="final")
    assert choice["learning_rate"] == 1e-3 and choice["rows"] == [0, 1]
    assert choice["grid"][1]["diverged_seeds"] == [1]
    sub = selection.select_learning_rate(_three_rates(), 0.0, 1.0, rule="before_divergence",
                                         learning_rates=[1e-3, 1e-2])
    assert sub["learning_rate"] == 1e-3 and len(sub["grid"]) == 2
    with pytest.raises(ValueError, match="rule"):
        selection.select_learning_rate(run, 0.0, 1.0, rule="best")


def test_seed_summary_median_and_range():
    run = _run([[1.0, 0.5], [1.0, 0.2], [1.0, 0.3]], [1e-3] * 3, seeds=[0, 1, 2],
               levels=[[10, -1, -1], [10, -1, -1], [-1, -1, -1]])
    summary = selection.seed_summary(run, 0.0, 1.0)
    assert summary["final_relative_gap"] == {"median": 0.3, "min": 0.2, "max": 0.5,
                                             "seeds_with_a_value": 3}
    # One seed never reaches 1e-1: no median is claimed, the range is over the seeds that did.
    reach = summary["iterations_to_relative_gap_1e-01"]
    assert reach["median"] is None and reach["seeds_with_a_value"] == 2


def test_comparisons_and_their_combination():
    assert atlas_claims.compare([1, 2], [3, 4]) == "clear"
    assert atlas_claims.compare([1, 3.5], [3, 4]) == "median"
    assert atlas_claims.compare([3, 4], [1, 2]) == "against"
    starts_slow_ends_low = {"area": [3, 4], "end": [1, 2]}
    assert atlas_claims.compare_both({"area": [1, 2], "end": [1, 2]},
                                     {"area": [3, 4], "end": [3, 4]}) == "clear"
    assert atlas_claims.compare_both(starts_slow_ends_low, {"area": [1, 2], "end": [3, 4]}) \
        == "mixed"
    assert atlas_claims.compare_both({"area": [3, 4], "end": [3, 4]},
                                     {"area": [1, 2], "end": [1, 2]}) == "against"
    assert atlas_claims.combine(["clear", "clear"]) == "holds"
    assert atlas_claims.combine(["clear", "mixed"]) == "partly"
    assert atlas_claims.combine(["clear", "against"]) == "partly"
    assert atlas_claims.combine(["against", "against"]) == "fails"


LIMITS = {**atlas_claims.THRESHOLDS, "late_start_after": 15}
STUCK, MOVES_LATE, MOVES_EARLY = [1.0] * 5, [1.0, 1.0, 0.95, 0.5, 0.3], [1.0, 0.5, 0.3, 0.2, 0.1]


def test_late_start_and_stuck_definitions_by_hand():
    run = _run([STUCK, STUCK, MOVES_LATE, [1.0, 1.0, 0.5, NAN, NAN]], [1e-3, 1e-3, 1e-2, 1e-2],
               seeds=[0, 1, 0, 1], diverged=[-1, -1, -1, 30])
    rates = [1e-3, 1e-2]
    late = atlas_claims._late_start(run, {"learning_rate": 1e-3, "rows": [0, 1]}, 40, rates,
                                    LIMITS)
    assert late["outcome"] == "partly"  # the selected rate is stuck; 1e-2 moves at 20 and 30
    assert late["first_progress_by_rate"] == {"0.001": [None, None], "0.01": [30, 20]}
    held = atlas_claims._late_start(run, {"learning_rate": 1e-2, "rows": [2, 3]}, 40, rates,
                                    LIMITS)
    assert held["outcome"] == "holds"
    assert atlas_claims._late_start(run, {"learning_rate": 1e-3, "rows": [0, 1]}, 10, rates,
                                    LIMITS)["outcome"] == "fails"  # nothing moves by 10
    # Stuck: seed 0 at 1e-2 converges (moves, never diverges), seed 1 diverges: partly.
    assert atlas_claims._stuck(run, 40, rates, LIMITS)["outcome"] == "partly"
    assert atlas_claims._stuck(run, 10, rates, LIMITS)["outcome"] == "holds"
    every_seed = _run([MOVES_EARLY, MOVES_LATE], [1e-2, 1e-2], seeds=[0, 1])
    assert atlas_claims._stuck(every_seed, 40, [1e-2], LIMITS)["outcome"] == "fails"


# --------------------------------------------------------------------------------------------
# python -m reproduce atlas --quick on the real data
# --------------------------------------------------------------------------------------------

WITHOUT_TENSORFLOW = ("import runpy, sys; sys.modules['tensorflow'] = None; "
                      "sys.argv = ['reproduce'] + sys.argv[1:]; "
                      "runpy.run_module('reproduce', run_name='__main__', alter_sys=True)")


def _atlas_on_jax(out, data_dir, kill_after=None):
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    env.pop(run_store.KILL_AFTER_SAVES, None)
    if kill_after:
        env[run_store.KILL_AFTER_SAVES] = str(kill_after)
    return subprocess.run([sys.executable, "-c", WITHOUT_TENSORFLOW, "atlas", "--quick",
                           "--out", str(out), "--data-dir", str(data_dir)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="driven from the TensorFlow run of the suite")
def test_atlas_quick_on_jax_killed_resumes_to_the_uninterrupted_results(tmp_path,
                                                                        shared_data_dir):
    killed = _atlas_on_jax(tmp_path / "killed", shared_data_dir, kill_after=12)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert not list((tmp_path / "killed").rglob(".*.tmp"))
    resumed = _atlas_on_jax(tmp_path / "killed", shared_data_dir)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    straight = _atlas_on_jax(tmp_path / "straight", shared_data_dir)
    assert straight.returncode == 0, straight.stderr[-3000:]
    a, b = (json.loads((tmp_path / name / "atlas" / "atlas.json").read_text())
            for name in ("killed", "straight"))
    assert a["versions"]["keras_backend"] == "jax"
    assert a["timing"]["runs_reused_from_run_store"] == 12
    assert b["timing"]["runs_reused_from_run_store"] == 0
    # Same backend, same runs: the resumed atlas is the uninterrupted one, number for number.
    assert a["results"] == b["results"]
    for suffix in (".png", ".pdf"):
        assert (tmp_path / "killed" / "atlas" / f"atlas{suffix}").stat().st_size > 1000

    config, cells = b["config"], b["results"]["cells"]
    assert len(cells) == (len(config["normalizations"]) * len(config["learning_rate_grids"])
                          * len(config["horizons"]) * len(config["selection_rules"]))
    for cell in cells:
        assert set(cell["claims"]) == set(atlas_claims.CLAIMS), cell
        for claim in cell["claims"].values():
            assert claim["outcome"] in ("holds", "partly", "fails", "n/a")
    for name, entry in b["results"]["summary"].items():
        assert entry["holds"] + entry["partly"] + entry["fails"] == entry["settings"] > 0, name
    assert b["results"]["claims"]["claims"] == json.loads(json.dumps(atlas_claims.CLAIMS))
