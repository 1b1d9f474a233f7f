"""benchmarks/figure_work.py: the work it counts from a results JSON (hand-counted oracle), and
its refusal of a folder without results; benchmarks/bench_trainer.py's refusal of bad
`--batches`. The throughput they measure is not tested (timing)."""

import importlib.util
import json

import pytest
from helpers import ROOT


def load_module(name="figure_work"):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(key, p, gram, steps, diverged, seconds):
    return {"settings": {"steps": steps, "p": p},
            "info": {"spec_key": key, "gram": gram, "wall_time_s": seconds},
            "configurations": [{"diverged_at": d} for d in diverged]}


def test_counts_iterations_up_to_divergence_and_each_run_once(tmp_path):
    figure_work = load_module()
    document = {"runs": {"a": run("k1", 4, False, 1000, [None, 250, None], 2.0),
                         "b": run("k2", 2, True, 500, [None, None], 0.5)},
                "variant_runs": {"c": run("k3", 4, False, 100, [10], 1.0),
                                 "a again": run("k1", 4, False, 1000, [None, 250, None], 2.0)}}
    path = tmp_path / "figure.json"
    path.write_text(json.dumps(document))
    runs = figure_work.runs_of(path)
    assert set(runs) == {"k1", "k2", "k3"}
    assert runs["k1"] == (4, False, 1000 + 250 + 1000, 2.0)
    with_x, with_gram, seconds = figure_work.work(runs)
    assert (with_x, with_gram, seconds) == (2250 + 10, 1000, 3.5)


def test_a_folder_without_results_is_refused_before_any_measurement(tmp_path, capsys):
    figure_work = load_module()
    with pytest.raises(SystemExit):
        figure_work.main(["--results", str(tmp_path)])
    assert "--results" in capsys.readouterr().err


@pytest.mark.parametrize("batches", ["0", "x", "10,", "3,-1", ""])
def test_bench_trainer_refuses_bad_batches_before_loading_data(batches, monkeypatch, capsys):
    bench_trainer = load_module("bench_trainer")

    def no_data(*args, **kwargs):
        raise AssertionError("data was loaded before --batches was checked")

    monkeypatch.setattr(bench_trainer, "load", no_data)
    with pytest.raises(SystemExit) as exit_info:
        bench_trainer.main(["--batches", batches])
    assert exit_info.value.code == 2
    assert f"--batches: comma-separated integers >= 1, got {batches!r}" in capsys.readouterr().err


def test_datasets_work_groups_runs_by_set_and_counts_each_once(tmp_path, capsys):
    datasets_work = load_module("datasets_work")
    document = {"variant_runs": {
        "[concrete, z-score] l4 GD depth 1 (paper rates)": run("k1", 4, False, 100, [None, 40], 1.0),
        "[concrete, min-max features] l2 GD depth 1 (all rates)": run("k2", 2, True, 50, [None], 0.5),
        "[wine, z-score] l4 Adam depth 2": run("k3", 4, False, 10, [None, None, 5], 2.0)}}
    by_set = datasets_work.runs_by_set(document)
    assert by_set == {"concrete": {"k1": (False, 140, 1.0), "k2": (True, 50, 0.5)},
                      "wine": {"k3": (False, 25, 2.0)}}
    with pytest.raises(SystemExit):
        datasets_work.main(["--results", str(tmp_path)])
    assert "no results at" in capsys.readouterr().err


def test_breakdown_splits_each_run_once_into_loops_compile_and_rest(tmp_path, capsys):
    figure_breakdown = load_module("figure_breakdown")

    def timed(key, gram, loop, compile_s, total):
        return {"info": {"spec_key": key, "gram": gram, "wall_time_s": loop,
                         "compile_time_s": compile_s, "total_time_s": total}}

    seen = set()
    first = figure_breakdown.breakdown({"runs": {"a": timed("k1", False, 10.0, 2.0, 13.0),
                                                 "b": timed("k2", True, 4.0, 1.0, 5.5)}}, seen)
    assert first == {"l4 loops": 10.0, "l2 loops": 4.0, "compile": 3.0, "rest": 1.5, "runs": 2}
    again = figure_breakdown.breakdown({"variant_runs": {"a": timed("k1", False, 10.0, 2.0, 13.0),
                                                         "c": timed("k3", False, 1.0, 0.5, 1.5)}}, seen)
    assert again == {"l4 loops": 1.0, "l2 loops": 0.0, "compile": 0.5, "rest": 0.0, "runs": 1}
    with pytest.raises(SystemExit):
        figure_breakdown.main(["--results", str(tmp_path)])
    assert "no results of" in capsys.readouterr().err


def test_breakdown_by_batch_size_counts_each_l4_run_once_up_to_divergence():
    figure_breakdown = load_module("figure_breakdown")

    def timed(key, gram, diverged, loop):
        return {"info": {"spec_key": key, "gram": gram, "wall_time_s": loop},
                "settings": {"steps": 100}, "configurations": [{"diverged_at": d} for d in diverged]}

    documents = [{"runs": {"a": timed("k1", False, [None, 40], 1.0),      # 2 configurations
                           "b": timed("k2", True, [None] * 4, 9.0),       # l2: not counted
                           "c": timed("k3", False, [None] * 40, 4.0)}},   # > 30
                 {"variant_runs": {"a": timed("k1", False, [None, 40], 1.0),  # seen already
                                   "d": timed("k4", False, [None] * 3, 0.5)}}]  # 3 to 5
    assert figure_breakdown.by_batch_size(documents) == {
        2: [1, 140, 1.0], 5: [1, 300, 0.5], 15: [0, 0, 0.0], 30: [0, 0, 0.0], None: [1, 4000, 4.0]}


def test_wall_time_counts_only_commands_that_computed_their_runs(tmp_path):
    figure_work = load_module()
    computed, read = tmp_path / "a.json", tmp_path / "b.json"
    computed.write_text(json.dumps({"timing": {"this_invocation_s": 90.0, "runs_computed": 3}}))
    read.write_text(json.dumps({"timing": {"this_invocation_s": 2.0, "runs_computed": 0}}))
    assert figure_work.invocation_seconds([computed]) == (90.0, True)
    assert figure_work.invocation_seconds([computed, read]) == (92.0, False)
