"""The claims on several data sets (`python -m reproduce datasets`): a set's verdict and the
separating statistic against hand-worked and brute-force oracles, the statistics against
numpy, the settings' checks, and `--quick` on the real data killed with SIGKILL, resumed and
compared with an uninterrupted run."""

import itertools
import json
import math
import os

import keras
import numpy as np
import pytest
from helpers import kill_and_rerun

from reproduce.experiments import atlas_claims
from reproduce.experiments import datasets
from reproduce.experiments import datasets_report
from reproduce.experiments import datasets_statistics
from reproduce.lab import configs

OUTCOMES = atlas_claims.OUTCOMES


def _counts(holds=0, mixed=0, inconclusive=0, fails=0):
    return {"holds": holds, "mixed": mixed, "inconclusive": inconclusive, "fails": fails,
            "n": holds + mixed + inconclusive + fails}


@pytest.mark.parametrize("counts, expected", [
    (_counts(holds=3), "holds"),
    (_counts(holds=2, mixed=1), "holds"),            # more than half, no failure
    (_counts(holds=2, inconclusive=2), "inconclusive"),  # half is not more than half
    (_counts(holds=1, fails=5), "mixed"),            # one conflicting outcome is enough
    (_counts(fails=3, inconclusive=2), "fails"),
    (_counts(mixed=4), "inconclusive"),
])
def test_set_verdict_by_hand(counts, expected):
    assert datasets.set_verdict(counts) == expected


def test_set_verdict_is_symmetric():
    # Swapping the claim's two sides swaps holds and fails, for every count up to 4 each.
    swap = {"holds": "fails", "fails": "holds", "mixed": "mixed", "inconclusive": "inconclusive"}
    for h, m, i, f in itertools.product(range(5), repeat=4):
        if h + m + i + f:
            assert datasets.set_verdict(_counts(f, m, i, h)) == swap[
                datasets.set_verdict(_counts(h, m, i, f))]


def _misplaced_brute_force(values, holds):
    """The fewest sets misplaced by any threshold (values between or beyond the data), either
    side: every candidate threshold tried."""
    points = sorted(set(values.values()))
    cuts = [points[0] - 1] + [(a + b) / 2 for a, b in zip(points, points[1:])] + [points[-1] + 1]
    best = len(values)
    for cut in cuts:
        above = {n for n, v in values.items() if v > cut}
        best = min(best, len(above ^ holds), len((set(values) - above) ^ holds))
    return best


def test_best_split_matches_brute_force_with_ties():
    rng = np.random.default_rng(0)
    names = ["a", "b", "c", "d", "e"]
    for _ in range(300):
        values = dict(zip(names, rng.integers(0, 4, size=5).astype(float)))  # many ties
        holds = {n for n in names if rng.random() < 0.5}
        split = datasets_statistics._best_split(values, holds)
        assert split["misplaced"] == _misplaced_brute_force(values, holds), (values, holds)
        if split["threshold"] is not None:  # the threshold does what it says
            side = {n for n, v in values.items()
                    if (v > split["threshold"]) == (split["holds_when"] == "above")}
            assert len(side ^ holds) == split["misplaced"]


def test_separation_names_the_perfect_splits_and_the_chance():
    statistics = {n: {"z-score": {"n_over_d": v, "condition_number": c}}
                  for n, v, c in [("a", 10, 5), ("b", 20, 1), ("c", 30, 4), ("d", 40, 2), ("e", 50, 3)]}
    verdicts = {"a": "fails", "b": "mixed", "c": "holds", "d": "holds", "e": "holds"}
    split = datasets_statistics.separation(verdicts, statistics)
    assert split["separating"] == ["n_over_d"] and split["splits"]["n_over_d"]["threshold"] == 25
    assert split["splits"]["condition_number"]["misplaced"] == 1
    assert split["chance_of_perfect_split_at_random"] == pytest.approx(2 / math.comb(5, 3))
    same = datasets_statistics.separation({n: "holds" for n in verdicts}, statistics)
    assert same["separating"] == [] and "every set" in same["why"]


@pytest.mark.parametrize("settings, message", [
    ({"data_sets": []}, "at least one"),
    ({"claims_evaluated": ["fig2_width"]}, "fig2_width"),
    ({"normalizations": {"z-score": ["standardize_per_batch", "standardize"]}}, "batches"),
    ({"data": "concrete"}, "data_sets"),  # the setting here is data_sets, and the error says so
])
def test_bad_settings_are_refused_before_any_work(settings, message):
    with pytest.raises(configs.SettingError, match=message):
        datasets.make_config(False, settings)


def test_config_is_the_atlas_without_the_ethanol_specific_parts():
    config = datasets.make_config(False)
    from reproduce.experiments import atlas

    full = atlas.make_config(False)
    assert "emulation" not in config and "data" not in config
    assert [m[0] for m in config["grid_models"]] == [
        m[0] for m in full["grid_models"] if m[0] != "l4 GD depth 4"]
    for key in ("selection_rules", "horizons", "learning_rate_grids", "seeds", "steps", "adam"):
        assert config[key] == full[key], key
    assert config["data_sets"] == ["ethanol", "concrete", "wine", "parkinsons", "pumadyn32nm"]


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="the experiments run in the TensorFlow run of the suite")
def test_quick_killed_resumes_to_the_uninterrupted_results(tmp_path, shared_data_dir):
    if not (shared_data_dir / "uci_regression" / "wine.csv.gz").is_file():
        message = f"no uci_regression/ in the data folder {shared_data_dir}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    _, resumed, straight = kill_and_rerun(("datasets", "--quick", "--data-dir", shared_data_dir),
                                          tmp_path, kill_after=9)
    a, b = (json.loads((tmp_path / name / "datasets" / "datasets.json").read_text())
            for name in ("killed", "straight"))
    assert a["timing"]["runs_reused_from_run_store"] == 9
    assert b["timing"]["runs_reused_from_run_store"] == 0
    assert a["results"] == b["results"]  # same runs, same numbers
    assert "LayoutWarning" not in resumed.stderr + straight.stderr
    for stem in ("datasets", "datasets_statistics"):
        assert (tmp_path / "straight" / "datasets" / f"{stem}.png").stat().st_size > 1000

    results, config = b["results"], b["config"]
    assert list(results["verdicts"]) == config["data_sets"] == ["concrete", "wine"]
    for name, verdicts in results["verdicts"].items():
        assert set(verdicts) == set(datasets.CLAIMS)
        for claim, entry in verdicts.items():  # the verdict is the definition applied
            assert entry["verdict"] == datasets.set_verdict(entry), (name, claim)
            assert sum(entry[k] for k in OUTCOMES) == entry["n"] > 0
        cells = results["sets"][name]["cells"]
        assert len(cells) == (len(config["normalizations"]) * len(config["learning_rate_grids"])
                              * len(config["horizons"]) * len(config["selection_rules"]))
        assert all("fig2_emulation" not in c["claims"] and "fig5l_late_start" not in c["claims"]
                   for c in cells)
    # The statistics against numpy, on the data as the runs saw it (z-score).
    from tf_overparam.datasets import load_uci_regression

    X, y, _ = load_uci_regression("wine", shared_data_dir)
    X, y = np.asarray(X, np.float64), np.asarray(y, np.float64).reshape(-1)
    stats = results["statistics"]["wine"]["z-score"]
    singular = np.linalg.svd(X, compute_uv=False)
    assert stats["lambda_max"] == pytest.approx(singular[0] ** 2 / len(X), rel=1e-9)
    assert stats["condition_number"] == pytest.approx((singular[0] / singular[-1]) ** 2, rel=1e-6)
    assert stats["n_over_d"] == pytest.approx(1599 / 11)
    weights, *_ = np.linalg.lstsq(X, y, rcond=None)
    assert stats["l2_unexplained_fraction"] == pytest.approx(
        np.mean((X @ weights - y) ** 2) / np.mean(y ** 2), rel=1e-6)
    assert stats["l2_stable_rates_in_paper_grid"] == sum(
        lr < 2 / stats["lambda_max"] for lr in configs.PAPER_LR_GRID)
    # The generated sentences say what the JSON says.
    for claim in results["claims"]:
        sentence = datasets_report.claim_sentence(results, claim)
        holding = [n for n, v in results["verdicts"].items() if v[claim]["verdict"] == "holds"]
        assert f"holds on {len(holding)} of 2 sets" in sentence
