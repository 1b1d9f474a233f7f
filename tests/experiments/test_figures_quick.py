"""`--quick` runs of the five regression figures (2, 3, 4-left, 4-right, 5-left) on the real data,
plus the shared figure helpers (gap thresholds, learning-rate selection, resume)."""

import json
import math

import numpy as np
import pytest

from reproduce.lab import records
from reproduce.lab import run_store
from reproduce.lab import selection

FIGURES = ["figure3", "figure2", "figure4_left", "figure4_right", "figure5_left"]


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory, shared_data_dir):
    """Run every figure once in quick mode into one output root (so they share a run store)."""
    import importlib

    root = tmp_path_factory.mktemp("results_quick")
    documents = {}
    for name in FIGURES:
        module = importlib.import_module(f"reproduce.experiments.{name}")
        documents[name] = module.run(out_dir=root / name, data_dir=str(shared_data_dir),
                                     quick=True)
    return root, documents


@pytest.mark.parametrize("name", FIGURES)
def test_quick_figure_outputs(quick_results, name):
    root, documents = quick_results
    folder = root / name
    for suffix in (".png", ".pdf", ".json"):
        assert (folder / f"{name}{suffix}").stat().st_size > 1000
    document = json.loads((folder / f"{name}.json").read_text())
    assert document == json.loads(json.dumps(records.to_json(documents[name])))
    assert document["quick"] is True
    data = document["data"]
    assert data["rows"] in (1316, 2565)
    assert data["partial"] == (data["rows"] < 2565)
    assert data["feature_normalization"] == "standardize"
    for key in ("keras", "numpy", "scipy", "python", "keras_backend"):
        assert document["versions"][key]
    assert document["versions"]["keras_backend"] == document["device"]["backend"]
    assert document["device"]["default_device"]
    assert document["runs"], "no run recorded"
    for run in document["runs"].values():
        assert run["info"]["device"]
        for configuration in run["configurations"]:
            assert set(configuration["iterations_to_relative_gap"]) == {"1e-01", "1e-02", "1e-03"}
    for optimum in document["optimal_losses"].values():
        assert optimum["loss"] > 0 and optimum["loss"] < optimum["zero_predictor_loss"]
    assert document["results"]["curves"]
    assert "finished" in document


def test_figure2_summary_has_emulation_differences(quick_results):
    results = quick_results[1]["figure2"]["results"]
    for key, entry in results["emulation"].items():
        assert entry["max_relative_difference_on_gap_all_seeds"] is not None, key
        assert math.isfinite(entry["max_relative_difference_on_gap_all_seeds"])


def test_figure2_balanced_start_tracks_the_end_to_end_rule(quick_results):
    """Theorem 1's assumption: from balanced factors of the same kernel, deep GD ≈ the rule,
    and closer than from the (unbalanced) near-zero start."""
    checks = quick_results[1]["figure2"]["results"]["balanced_start"]
    assert set(checks) == {f"l{p} depth {d} width 1" for p in (2, 4) for d in (2, 3)}
    for key, entry in checks.items():
        assert entry["balanced_deep_vs_rule"]["on_gap"] < 0.01, key
    for p in (2, 4):
        entry = checks[f"l{p} depth 2 width 1"]
        assert entry["balanced_deep_vs_rule"]["on_gap"] < entry["near_zero_deep_vs_rule"]["on_gap"] / 10


def test_grid_figures_choose_learning_rates(quick_results):
    documents = quick_results[1]
    for name in ("figure3", "figure4_left", "figure5_left"):
        for label, run in documents[name]["runs"].items():
            if ", seeds " not in label:  # the chosen rate's extra seeds are not a grid
                assert "selection" in run, (name, label)
    selected = documents["figure3"]["results"]["selected"]
    assert set(selected) == {f"l{p} depth {d}" for p in (2, 4) for d in (1, 2, 3)}
    # Every plotted configuration: the grid's seeds and the extra ones, median and range.
    from reproduce.lab import configs

    seeds = configs.GRID_QUICK["seeds"] + configs.GRID_QUICK["more_seeds"]
    for name in ("figure3", "figure4_left", "figure5_left"):
        for curve in documents[name]["results"]["curves"].values():
            assert curve["seeds"] == seeds and len(curve["losses"]) == len(seeds), name
            gap = curve["final_relative_gap"]
            if gap["median"] is not None:
                assert gap["min"] <= gap["median"] <= gap["max"], name
    for curve in documents["figure4_right"]["results"]["curves"].values():
        assert len(curve["seeds"]) == 2 and len(curve["losses"]) == 2


def test_rerun_resumes_from_the_run_store(quick_results, shared_data_dir):
    from reproduce.experiments import figure4_right

    root, _ = quick_results
    document = figure4_right.run(out_dir=root / "figure4_right", data_dir=str(shared_data_dir),
                                 quick=True)
    assert all(run["info"]["cached"] for run in document["runs"].values())
    # Shared grids: Figure 4-left's GD runs are Figure 3's.
    left = json.loads((root / "figure4_left" / "figure4_left.json").read_text())
    assert left["runs"]["l4 GD depth 3"]["info"]["cached"] is True


def test_changed_code_invalidates_the_run_store(quick_results, shared_data_dir, monkeypatch):
    """Results computed by another version of the trainer must be recomputed, not reused."""
    from reproduce.experiments import figure4_right

    root, _ = quick_results
    monkeypatch.setattr(run_store, "code_fingerprint", lambda: "another-version")
    from reproduce.lab import regression
    monkeypatch.setattr(regression, "code_fingerprint", lambda: "another-version")
    document = figure4_right.run(out_dir=root / "figure4_right_changed", data_dir=str(shared_data_dir),
                                 quick=True)
    assert not any(run["info"]["cached"] for run in document["runs"].values())


# --------------------------------------------------------------------------------------------
# Helpers on synthetic runs (fast)
# --------------------------------------------------------------------------------------------


def _run(losses, lrs, diverged=None, levels=None):
    losses = np.asarray(losses, dtype=float)
    return {"steps": np.arange(losses.shape[1]) * 10, "losses": losses,
            "learning_rates": np.asarray(lrs, dtype=float), "seeds": np.zeros(len(lrs), int),
            "diverged_at": np.asarray(diverged if diverged is not None else [-1] * len(lrs)),
            "level_steps": np.asarray(levels if levels is not None else [[-1] * 3] * len(lrs))}


def test_selection_rule_prefers_fastest_and_skips_diverged():
    optimum, reference = 1.0, 2.0
    slow = [2.0, 1.8, 1.6, 1.4, 1.2]
    fast = [2.0, 1.2, 1.1, 1.05, 1.01]
    fastest_but_diverged = [2.0, 1.01, 1.001, np.nan, np.nan]
    run = _run([slow, fast, fastest_but_diverged], [1e-3, 1e-2, 1e-1], diverged=[-1, -1, 30])
    choice = selection.select_learning_rate(run, optimum, reference)
    assert choice["learning_rate"] == 1e-2 and choice["row"] == 1
    assert choice["grid"][2]["diverged_seeds"] == [0]
    assert choice["all_eligible_stuck"] is False
    stuck = _run([[2.0] * 5, [2.0] * 5], [1e-3, 1e-2])
    assert selection.select_learning_rate(stuck, optimum, reference)["all_eligible_stuck"]
    none = _run([fastest_but_diverged], [1e-1], diverged=[30])
    assert selection.select_learning_rate(none, optimum, reference)["row"] is None


def test_gap_summaries():
    assert selection.iterations_to_reach([5, -1, -1]) == {"1e-01": 5, "1e-02": "not reached",
                                                       "1e-03": "not reached"}
    np.testing.assert_allclose(selection.relative_gap([2.0, 1.5, 1.0], 1.0, 2.0), [1.0, 0.5, 0.0])
    diff = selection.max_relative_difference([2.0, 1.5, 1.1], [2.0, 1.4, 1.1], 1.0, 2.0)
    assert diff["on_gap"] == pytest.approx(0.2) and diff["at_record"] == 1
    assert records.rounded([1.234567891234, np.nan], 4)[0] == pytest.approx(1.235)
    assert records.to_json({"a": np.float64(np.inf), "b": np.arange(2)}) == {"a": None, "b": [0, 1]}


def test_cli_rejects_a_missing_data_dir_before_any_work(tmp_path, capsys):
    from reproduce.__main__ import main

    with pytest.raises(SystemExit):
        main(["all", "--quick", "--out", str(tmp_path / "out"), "--data-dir", str(tmp_path / "missing")])
    assert "--data-dir" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
