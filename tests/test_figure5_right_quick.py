"""`python -m reproduce figure5_right --quick` on the real MNIST (issue 5; CI runs this)."""

import json

import numpy as np

from reproduce import __main__ as cli
from reproduce import figure5_right
from reproduce import mnist_trainer


def test_quick_run_completes_and_lowers_the_batch_loss(shared_data_dir, tmp_path, capsys):
    assert cli.main(["figure5_right", "--quick", "--out", str(tmp_path), "--data-dir", str(shared_data_dir)]) == 0
    out = tmp_path / "figure5_right"
    for name in ("figure5_right.png", "figure5_right.pdf", "figure5_right.json"):
        assert (out / name).stat().st_size > 0
    summary = json.loads((out / "figure5_right.json").read_text())
    assert summary["config"]["quick"] and summary["config"]["num_steps"] == 300
    for name, params in (("original", 1_663_370), ("overparameterized", 1_925_614)):
        model = summary["models"][name]
        assert model["complete"] and model["parameters"] == params
        assert model["device"]["type"] in ("CPU", "GPU") and model["seconds_per_step_median"] > 0
        assert model["test_error_percent"] < 15
        assert model["validation"]["iteration"] == [1, 101, 201, 300]
        losses = mnist_trainer.read_losses(out / name / "losses.csv")
        np.testing.assert_array_equal(losses["iteration"], np.arange(1, 301))
        assert losses["total_loss"][-20:].mean() < 0.7 * losses["total_loss"][:20].mean()
        assert losses["cross_entropy"][-20:].mean() < 0.3 * losses["cross_entropy"][:20].mean()
        smoothed = model["total_loss"]["smoothed_at"]
        assert smoothed["300"] < smoothed["100"] < smoothed["1"]
    assert "step_time_ratio_overparameterized_to_original" in summary

    # A second call finds both runs complete and only redraws (resume of a finished run).
    capsys.readouterr()
    figure5_right.run(out_dir=out, data_dir=str(shared_data_dir), quick=True)
    assert capsys.readouterr().out.count("complete, kept") == 2
