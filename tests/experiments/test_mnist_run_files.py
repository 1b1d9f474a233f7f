"""The MNIST tutorial run's files on disk (`reproduce.lab.mnist_run_files`): validated when read, a
bad one moved aside (never deleted) and the run continued or redone to the same losses.

The oracle is an undisturbed run of the same configuration: whatever happened to the files, the
rerun's losses must equal it exactly (same backend, same process).
"""

import json
import warnings

import numpy as np
import pytest

from reproduce.lab import mnist_run_files as run_files
from reproduce.lab import mnist_trainer
from reproduce.lab import mnist_tutorial as mt
from reproduce.lab.records import move_aside

STEPS, EVERY = 6, 3
CONFIG = {"test": "run files"}


@pytest.fixture(scope="module")
def small(shared_data_dir):
    data = mt.load_tutorial_data(str(shared_data_dir))
    return {"train": data["train"], "validation": tuple(a[:200] for a in data["validation"]),
            "test": tuple(a[:200] for a in data["test"])}


def _train(small, folder, stop_after=None, run_config=CONFIG):
    return mnist_trainer.train_model(mt.build_model(), small, folder, num_steps=STEPS, eval_frequency=EVERY,
                                     checkpoint_every=EVERY, run_config=run_config, stop_after=stop_after,
                                     log=lambda line: None)


@pytest.fixture(scope="module")
def undisturbed(small, tmp_path_factory):
    folder = tmp_path_factory.mktemp("undisturbed")
    result = _train(small, folder)
    return result, run_files.read_losses(folder / "losses.csv")


def _same_run(folder, result, undisturbed):
    expected_result, expected_losses = undisturbed
    losses = run_files.read_losses(folder / "losses.csv")
    for column in expected_losses:
        np.testing.assert_array_equal(losses[column], expected_losses[column])
    assert result["test_error_percent"] == expected_result["test_error_percent"]
    assert result["validation"] == expected_result["validation"]


def _rejected(folder):
    return sorted(path.name for path in (folder / "rejected").iterdir())


def test_move_aside_keeps_the_bytes_and_names_the_file(tmp_path):
    path = tmp_path / "checkpoint.npz"
    path.write_bytes(b"\x00half a file")
    with pytest.warns(RuntimeWarning, match=r"checkpoint\.npz is unusable \(why\)"):
        target = move_aside(path, "why")
    assert not path.exists() and target.parent == tmp_path / "rejected"
    assert target.name.startswith("checkpoint.") and target.suffix == ".npz"
    assert target.read_bytes() == b"\x00half a file"


def _stopped_at_step_3(small, folder):
    assert _train(small, folder, stop_after=4) == {"complete": False, "steps_done": 4}
    assert (folder / "checkpoint.npz").exists() and not (folder / "result.json").exists()


@pytest.mark.parametrize("damage", ["truncated", "empty", "not a zip"])
def test_an_unreadable_checkpoint_is_moved_aside_and_the_run_starts_over(small, undisturbed, tmp_path, damage):
    _stopped_at_step_3(small, tmp_path)
    path = tmp_path / "checkpoint.npz"
    data = path.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 2], "empty": b"", "not a zip": b"{}"}[damage])
    damaged = path.read_bytes()
    with pytest.warns(RuntimeWarning, match="not a readable checkpoint"):
        result = _train(small, tmp_path)
    _same_run(tmp_path, result, undisturbed)
    [kept] = _rejected(tmp_path)
    assert (tmp_path / "rejected" / kept).read_bytes() == damaged  # moved, not deleted


def _rewrite_checkpoint(path, change):
    variables, records, run_hash = run_files.read_checkpoint(path)
    variables, records = change(variables, records)
    run_files.write_checkpoint(path, variables, records, run_hash)


@pytest.mark.parametrize("change, reason", [
    (lambda v, r: (v[1:], r), "shapes"),                                             # a variable missing
    (lambda v, r: ([np.zeros((3, 3))] + v[1:], r), "shapes"),                        # a wrong shape
    (lambda v, r: (v, {**r, "total": r["total"][:-1]}), "per-step records"),         # lengths disagree
    (lambda v, r: (v, {**r, "chunk_steps": r["chunk_steps"] + 1}), "chunk records"),
    (lambda v, r: (v, {k: a for k, a in r.items() if k != "validation_error"}), "records are"),
])
def test_an_inconsistent_checkpoint_is_moved_aside_before_any_weight_changes(small, undisturbed, tmp_path,
                                                                            change, reason):
    _stopped_at_step_3(small, tmp_path)
    _rewrite_checkpoint(tmp_path / "checkpoint.npz", change)
    with pytest.warns(RuntimeWarning, match=reason):
        result = _train(small, tmp_path)
    _same_run(tmp_path, result, undisturbed)  # the fresh start began from untouched initial weights
    assert len(_rejected(tmp_path)) == 1


def test_a_checkpoint_of_another_configuration_is_refused_and_left_in_place(small, tmp_path):
    _stopped_at_step_3(small, tmp_path)
    before = (tmp_path / "checkpoint.npz").read_bytes()
    with pytest.raises(RuntimeError, match="another configuration"):
        _train(small, tmp_path, run_config={"test": "something else"})
    assert (tmp_path / "checkpoint.npz").read_bytes() == before
    assert not (tmp_path / "rejected").exists()


@pytest.mark.parametrize("text", ["{\"complete\": tr", "[1, 2]", "\udcff"])
def test_an_unreadable_result_is_moved_aside_and_the_run_is_finished_again(small, undisturbed, tmp_path, text):
    _train(small, tmp_path)
    (tmp_path / "result.json").write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.warns(RuntimeWarning, match="not a readable result"):
        assert run_files.completed_result(tmp_path, CONFIG, STEPS, EVERY) is None
    assert _rejected(tmp_path)[0].startswith("result.")
    result = _train(small, tmp_path)  # resumes from the final checkpoint: no step retrained
    _same_run(tmp_path, result, undisturbed)
    assert run_files.completed_result(tmp_path, CONFIG, STEPS, EVERY) == json.loads((tmp_path / "result.json").read_text())


@pytest.mark.parametrize("damage", ["missing", "short", "garbled"])
def test_a_complete_result_without_its_losses_is_not_complete(small, undisturbed, tmp_path, damage):
    _train(small, tmp_path)
    losses = tmp_path / "losses.csv"
    lines = losses.read_text().splitlines(keepends=True)
    if damage == "missing":
        losses.unlink()
    else:
        losses.write_text("".join(lines[:-1]) if damage == "short" else "".join(lines[:3]) + "x,y\n")
    with pytest.warns(RuntimeWarning, match="losses.csv is unusable"):
        assert run_files.completed_result(tmp_path, CONFIG, STEPS, EVERY) is None
    names = _rejected(tmp_path)
    assert [n.split(".")[0] for n in names] == (["result"] if damage == "missing" else ["losses", "result"])
    result = _train(small, tmp_path)
    _same_run(tmp_path, result, undisturbed)


def test_a_sound_complete_run_is_read_back_without_warnings(small, undisturbed, tmp_path):
    first = _train(small, tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert run_files.completed_result(tmp_path, CONFIG, STEPS, EVERY) == first
        assert run_files.completed_result(tmp_path, {"test": "other"}, STEPS, EVERY) is None
        assert _train(small, tmp_path) == first  # kept, not retrained
    assert not (tmp_path / "rejected").exists()
