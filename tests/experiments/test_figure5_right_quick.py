"""`python -m reproduce figure5_right --quick` on the real MNIST (CI runs this): the
original, the overparameterized and the emulated variant (the original trained by the
end-to-end rule), one seed, 100 steps."""

import json

import numpy as np
import pytest

from reproduce import __main__ as cli
from reproduce.experiments import figure5_right
from reproduce.lab import mnist_run_files
from reproduce.lab import mnist_tutorial as tutorial


def test_quick_run_completes_and_lowers_the_batch_loss(shared_data_dir, tmp_path, capsys):
    assert cli.main(["figure5_right", "--quick", "--out", str(tmp_path), "--data-dir", str(shared_data_dir)]) == 0
    out = tmp_path / "figure5_right"
    for name in ("figure5_right.png", "figure5_right.pdf", "figure5_right.json"):
        assert (out / name).stat().st_size > 0
    document = json.loads((out / "figure5_right.json").read_text())
    summary = document["results"]
    assert document["config"]["quick"] and document["config"]["num_steps"] == 100
    assert document["config"]["seeds"] == 1 and document["complete"]
    for name, params in (("original", 1_663_370), ("overparameterized", 1_925_614), ("emulated", 1_663_370)):
        model = summary["models"][name]
        assert model["complete"] and model["parameters"] == params
        assert model["device"]["type"] in ("CPU", "GPU") and model["seconds_per_step_median"] > 0
        assert model["test_error_percent"] < 30
        assert model["validation"]["iteration"] == [1, 100]
        losses = mnist_run_files.read_losses(out / name / "losses.csv")
        np.testing.assert_array_equal(losses["iteration"], np.arange(1, 101))
        assert losses["total_loss"][-20:].mean() < 0.85 * losses["total_loss"][:20].mean()
        assert losses["cross_entropy"][-20:].mean() < 0.5 * losses["cross_entropy"][:20].mean()
        smoothed = model["total_loss"]["smoothed_at"]
        assert smoothed["100"] < smoothed["50"] < smoothed["1"]
        # One seed: the tutorial's, in the old folder; the spread over seeds is that one value.
        assert list(summary["by_seed"][name]) == [str(tutorial.SEED)]
        over = summary["over_seeds"][name]
        assert over["seeds"] == [tutorial.SEED]
        assert over["test_error_percent"]["median"] == model["test_error_percent"] == over["test_error_percent"]["max"]
    assert summary["models"]["emulated"]["optimizer"] == "EndToEndSGD"
    assert summary["models"]["original"]["optimizer"] == "TF1Momentum"
    configs = {name: json.loads((out / name / "result.json").read_text())["config"] for name in ("original", "emulated")}
    assert configs["emulated"]["optimizer"]["depth"] == 2 and "optimizer" not in configs["original"]
    # The emulated variant is the original model (same weights, same dropout): the same first loss.
    first = {name: mnist_run_files.read_losses(out / name / "losses.csv")["total_loss"][0] for name in configs}
    assert first["emulated"] == pytest.approx(first["original"], rel=1e-6)
    for name in ("overparameterized", "emulated"):
        ratio = summary["over_seeds"][name]["smoothed_ratio_to_original_by_range"]["cross_entropy"]["0-100"]
        assert ratio["n"] == 1 and ratio["median"] == summary["smoothed_ratio_to_original_by_range"][name]["cross_entropy"]["0-100"]
        assert f"step_time_ratio_{name}_to_original" in summary

    # A second call finds every run complete and only redraws (resume of a finished run).
    capsys.readouterr()
    figure5_right.run(out_dir=out, data_dir=str(shared_data_dir), quick=True)
    assert capsys.readouterr().out.count("complete, kept") == 3

    # summary_only over two seeds: seed 1 of the original is missing, and an unfinished seed-1 run of
    # the overparameterized model (half its losses, "complete": false) must not enter the JSON or
    # the ratios; nothing is trained.
    unfinished = out / "overparameterized_seed1"
    unfinished.mkdir()
    lines = (out / "overparameterized" / "losses.csv").read_text().splitlines()
    (unfinished / "losses.csv").write_text("\n".join(lines[:51]) + "\n")
    stored = json.loads((out / "overparameterized" / "result.json").read_text())
    (unfinished / "result.json").write_text(json.dumps({**stored, "complete": False}))
    before = (out / "figure5_right.json").read_text()
    capsys.readouterr()
    figure5_right.run(out_dir=out, data_dir=str(shared_data_dir), quick=True, seeds=2, summary_only=True)
    printed = capsys.readouterr().out
    assert printed.count(": complete") == 3 and printed.count("missing (not complete), left out") == 3
    assert "steps" not in printed  # nothing trained
    document = json.loads((out / "figure5_right.json").read_text())
    again = document["results"]
    assert document["config"]["seeds"] == 2 and document["settings"] == {"seeds": 2}
    for name in ("original", "overparameterized", "emulated"):
        assert list(again["by_seed"][name]) == [str(tutorial.SEED)]
    assert again["models"] == json.loads(before)["results"]["models"]
    assert again["smoothed_ratio_to_original_by_range"] == summary["smoothed_ratio_to_original_by_range"]
    assert again["plotted"]["overparameterized"] == {"seeds": 1, "median_with_min_max_band": False,
                                                     "raw_curve_of_the_first_seed": True}


def test_summary_only_needs_runs_to_summarize(tmp_path, shared_data_dir):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        figure5_right.run(out_dir=tmp_path / "absent", data_dir=str(shared_data_dir), quick=True, summary_only=True)
    assert not (tmp_path / "absent").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no complete run"):
        figure5_right.run(out_dir=tmp_path / "empty", data_dir=str(shared_data_dir), quick=True, summary_only=True)
    assert list((tmp_path / "empty").iterdir()) == []


@pytest.mark.parametrize("overrides, named", [
    ({"seeds": 0}, "`seeds`"), ({"seeds": -1}, "`seeds`"), ({"seeds": True}, "`seeds`"), ({"seeds": []}, "`seeds`"),
    ({"seeds": [0, 0]}, "`seeds`"), ({"seeds": [1, -2]}, "`seeds`"), ({"seeds": 2.5}, "`seeds`"),
    ({"models": []}, "`models`"), ({"models": ["original", "deeper"]}, "`models`"),
    ({"models": ["original", "original"]}, "`models`"), ({"num_steps": 0}, "`num_steps`"),
    ({"num_steps": 10.0}, "`num_steps`"), ({"mnist_source": "tfrecord"}, "`mnist_source`"),
    ({"stop_after": 0}, "`stop_after`"), ({"summary_only": "yes"}, "`summary_only`"),
    ({"summary_only": 1}, "`summary_only`"),
])
def test_bad_arguments_are_refused_before_any_work(tmp_path, overrides, named, monkeypatch):
    def no_data(*args, **kwargs):
        raise AssertionError("data was read before the arguments were checked")

    monkeypatch.setattr(tutorial, "load_tutorial_data", no_data)
    out = tmp_path / "never"
    with pytest.raises(ValueError, match=named) as error:
        figure5_right.run(out_dir=out, data_dir=str(tmp_path), **overrides)
    assert "got" in str(error.value)
    assert not out.exists()


def test_argument_check_returns_the_overrides():
    assert figure5_right.check_arguments() == {}
    assert figure5_right.check_arguments(seeds=np.int64(5), models="emulated", num_steps=200) == {
        "seeds": 5, "models": ["emulated"], "num_steps": 200}
    assert figure5_right.check_arguments(seeds=(0, 3), models=figure5_right.ALL_MODELS) == {
        "seeds": [0, 3], "models": figure5_right.ALL_MODELS}


def test_argument_check_speaks_the_callers_names():
    with pytest.raises(ValueError, match=r"^--steps must be an integer >= 1, got 0\.$"):
        figure5_right.check_arguments(num_steps=0, names={"num_steps": "--steps"})
    with pytest.raises(ValueError, match=r"^`seeds` must be"):  # names not mapped keep run's spelling
        figure5_right.check_arguments(seeds=0, names={"num_steps": "--steps"})
