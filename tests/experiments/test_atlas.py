"""The robustness atlas: the selection rules and claim definitions on hand-made curves (each
outcome worked out by hand), and `python -m reproduce atlas --quick` on the real data, killed
with SIGKILL on JAX without TensorFlow, resumed, and compared with an uninterrupted run."""

import json
import math

import keras
import numpy as np
import pytest
from helpers import kill_and_rerun

from reproduce.experiments import atlas_claims
from reproduce.lab import selection
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
    assert atlas_claims.compare([1, 2], [3, 4]) == "for"
    assert atlas_claims.compare([1, 3.5], [3, 4]) == "tie"  # medians in order is not enough
    assert atlas_claims.compare([3, 4], [1, 2]) == "against"
    assert atlas_claims.compare([1, math.inf], [2, 3]) == "tie"
    assert atlas_claims.combine(["for", "for"]) == "holds"
    assert atlas_claims.combine(["for", "tie"]) == "inconclusive"
    assert atlas_claims.combine(["tie", "tie"]) == "inconclusive"
    assert atlas_claims.combine(["for", "against", "tie"]) == "mixed"
    assert atlas_claims.combine(["against", "tie"]) == "inconclusive"
    assert atlas_claims.combine(["against", "against"]) == "fails"


def test_area_and_end_are_separate_comparisons():
    starts_slow_ends_low = {"area": [3, 4], "end": [1, 2]}
    starts_fast_ends_high = {"area": [1, 2], "end": [3, 4]}
    claim = atlas_claims.speed_claim([("A", "B")], {"A": starts_slow_ends_low,
                                                    "B": starts_fast_ends_high}, {})
    assert claim["comparisons"] == {"A faster than B, area": "against",
                                    "A faster than B, end": "for"}
    assert claim["outcome"] == "mixed"


@pytest.mark.parametrize("seed", range(60))
def test_swapping_the_two_sides_turns_for_into_against_and_holds_into_fails(seed):
    """The same bar both ways, on random seed ranges (ties included): the claim "B faster than
    A" has every comparison and the outcome of "A faster than B" mirrored."""
    rng = np.random.default_rng(seed)
    measures = {name: {m: list(rng.integers(0, 6, size=3) + rng.random()) for m in ("area", "end")}
                for name in "ABC"}
    pairs = [("A", "B"), ("C", "B")][:1 + seed % 2]
    forward = atlas_claims.speed_claim(pairs, measures, {})
    backward = atlas_claims.speed_claim([(b, a) for a, b in pairs], measures, {})
    mirror = {"for": "against", "against": "for", "tie": "tie", "holds": "fails", "fails": "holds",
              "mixed": "mixed", "inconclusive": "inconclusive"}
    assert list(backward["comparisons"].values()) == [mirror[c] for c in forward["comparisons"].values()]
    assert backward["outcome"] == mirror[forward["outcome"]]


LIMITS = {**atlas_claims.THRESHOLDS, "late_start_after": 15}
STUCK, MOVES_LATE, MOVES_EARLY = [1.0] * 5, [1.0, 1.0, 0.95, 0.5, 0.3], [1.0, 0.5, 0.3, 0.2, 0.1]
LATE_THEN_STALLS = [1.0, 1.0, 0.95, 0.5, 0.6]


def test_late_start_by_hand():
    run = _run([STUCK, STUCK, MOVES_LATE, [1.0, 1.0, 0.5, NAN, NAN], MOVES_EARLY, LATE_THEN_STALLS],
               [1e-3, 1e-3, 1e-2, 1e-2, 1e-1, 1e-1], seeds=[0, 1, 0, 1, 0, 1],
               diverged=[-1, -1, -1, 30, -1, -1])

    def at(rows, horizon=40):
        return atlas_claims.late_start(run, {"learning_rate": 1.0, "rows": rows}, horizon, LIMITS)

    # MOVES_LATE: visible progress at 30 (> 15), then keeps converging: for.
    assert at([2])["seeds"] == ["for"] and at([2])["first_progress"] == [30]
    assert at([2, 2])["outcome"] == "holds"
    assert at([0])["seeds"] == ["tie"]  # never moves: neither early nor late
    assert at([3])["seeds"] == ["tie"]  # starts late (20), then diverges at 30
    assert at([5])["seeds"] == ["tie"]  # starts late, then its loss goes back up
    assert at([4])["seeds"] == ["against"] and at([4, 4])["outcome"] == "fails"  # starts at 10
    assert at([2, 4])["outcome"] == "mixed" and at([2, 0])["outcome"] == "inconclusive"
    assert at([2], horizon=15)["outcome"] == "n/a"  # a start after 15 cannot be seen by 15
    none = atlas_claims.late_start(run, {"learning_rate": None, "rows": []}, 40, LIMITS)
    assert none["outcome"] == "inconclusive"


def test_stuck_by_hand():
    run = _run([STUCK, STUCK, MOVES_LATE, [1.0, 1.0, 0.5, NAN, NAN]], [1e-3, 1e-3, 1e-2, 1e-2],
               seeds=[0, 1, 0, 1], diverged=[-1, -1, -1, 30])
    # 1e-3: both stuck (for); 1e-2: seed 0 converges, seed 1 diverges (tie).
    found = atlas_claims.stuck(run, 40, [1e-3, 1e-2], LIMITS)
    assert found["by_rate"] == {"0.001": "for", "0.01": "tie"} and found["outcome"] == "inconclusive"
    assert atlas_claims.stuck(run, 10, [1e-3, 1e-2], LIMITS)["outcome"] == "holds"  # none moved yet
    every_seed = _run([MOVES_EARLY, MOVES_LATE, STUCK, STUCK], [1e-2, 1e-2, 1e-3, 1e-3],
                      seeds=[0, 1, 0, 1])
    assert atlas_claims.stuck(every_seed, 40, [1e-2], LIMITS)["outcome"] == "fails"
    assert atlas_claims.stuck(every_seed, 40, [1e-2, 1e-3], LIMITS)["outcome"] == "mixed"


def _emulation_runs(deep, e2e, deep_wide=None, diverged=(-1, -1)):
    return {(4, 2, w, kind): _run(curves, [1e-3] * len(curves), seeds=list(range(len(curves))),
                                  diverged=list(diverged) if kind == "deep" and w == 1 else None)
            for w, kind, curves in [(1, "deep", deep), (1, "e2e", e2e),
                                    (100, "deep", deep_wide or deep), (100, "e2e", e2e)]}


def test_figure2_agreement_and_pairs_that_are_not_comparable():
    gaps = {4: (0.0, 1.0)}
    same = atlas_claims.emulation(_emulation_runs([MOVES_EARLY] * 2, [MOVES_EARLY] * 2), gaps, 40,
                                  LIMITS)
    assert same["fig2_emulation"]["outcome"] == "holds" and same["fig2_width"]["outcome"] == "holds"
    apart = atlas_claims.emulation(_emulation_runs([MOVES_EARLY] * 2, [MOVES_LATE] * 2), gaps, 40,
                                   LIMITS)
    assert apart["fig2_emulation"]["outcome"] == "fails"
    one_seed = atlas_claims.emulation(_emulation_runs([MOVES_EARLY] * 2, [MOVES_EARLY, MOVES_LATE]),
                                      gaps, 40, LIMITS)
    assert one_seed["fig2_emulation"]["pairs"]["l4 depth 2 width 1"]["comparison"] == "tie"
    # Two stuck curves are identical, yet not agreement: not comparable.
    stuck = atlas_claims.emulation(_emulation_runs([STUCK] * 2, [STUCK] * 2), gaps, 40, LIMITS)
    assert stuck["fig2_emulation"]["outcome"] == "inconclusive"
    assert stuck["fig2_emulation"]["pairs"]["l4 depth 2 width 1"] == {
        "comparison": "not comparable", "why": "seed 0 makes no visible progress",
        "decades": [0.0, 0.0]}
    diverging = atlas_claims.emulation(
        _emulation_runs([MOVES_EARLY, [1.0, 0.5, NAN, NAN, NAN]], [MOVES_EARLY] * 2,
                        deep_wide=[MOVES_EARLY] * 2, diverged=(-1, 20)),
        gaps, 40, LIMITS)
    pairs = diverging["fig2_emulation"]["pairs"]
    assert pairs["l4 depth 2 width 1"]["comparison"] == "not comparable"
    assert pairs["l4 depth 2 width 100"]["comparison"] == "for"
    assert diverging["fig2_emulation"]["outcome"] == "holds"  # over the comparable pair only


def test_settings_that_select_the_same_runs_count_once():
    config = {"normalizations": {"z-score": None}}

    def cell(rule, horizon, rate):
        claim = {"outcome": "holds", "decided_by": {"l4 GD depth 1": 1e-3, "l4 AdaGrad depth 1": rate}}
        return {"normalization": "z-score", "learning_rate_grid": "paper", "horizon": horizon,
                "selection_rule": rule, "claims": {"fig4l_adagrad_slower": claim}}

    cells = [cell("area", 100, 1e-2), cell("final", 100, 1e-2), cell("fastest", 100, 1e-1),
             cell("area", 50, 1e-2)]
    summary = atlas_claims.summarize(cells, config)["fig4l_adagrad_slower"]
    assert summary["cells"] == 4 and summary["n"] == 3 and summary["holds"] == 3
    assert summary["at_the_figures_setting"] == "holds"


# --------------------------------------------------------------------------------------------
# python -m reproduce atlas --quick on the real data
# --------------------------------------------------------------------------------------------


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="driven from the TensorFlow run of the suite")
def test_atlas_quick_on_jax_killed_resumes_to_the_uninterrupted_results(tmp_path,
                                                                        shared_data_dir):
    # On JAX with `import tensorflow` failing: killed (SIGKILL) after 12 saved runs, no
    # half-written file; resumed in the same folder; run uninterrupted into another.
    _, resumed, straight = kill_and_rerun(
        ("atlas", "--quick", "--data-dir", shared_data_dir), tmp_path, kill_after=12,
        env={"KERAS_BACKEND": "jax"}, block_tensorflow=True)
    a, b = (json.loads((tmp_path / name / "atlas" / "atlas.json").read_text())
            for name in ("killed", "straight"))
    assert a["versions"]["keras_backend"] == "jax"
    assert "LayoutWarning" not in resumed.stderr + straight.stderr  # the heatmap reads well
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
            assert claim["outcome"] in ("holds", "mixed", "inconclusive", "fails", "n/a")
    for name, entry in b["results"]["summary"].items():
        assert sum(entry[k] for k in atlas_claims.OUTCOMES) == entry["n"] > 0, name
        assert entry["n"] <= entry["cells"]
    described = b["results"]["claims"]
    assert described["claims"] == json.loads(json.dumps(atlas_claims.CLAIMS))
    assert described["version"] == 2 and [c["version"] for c in described["changelog"]] == [0, 1, 2]
