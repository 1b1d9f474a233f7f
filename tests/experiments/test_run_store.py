"""The run store: damaged entries are moved aside (never deleted), named in a warning and
recomputed; a figure killed with SIGKILL resumes to the same results as an uninterrupted run."""

import json
import os

import numpy as np
import pytest
from helpers import kill_and_rerun

from reproduce.lab.regression import FullBatchRun
from reproduce.lab.run_store import RunStore


class _Model:
    def widths(self, d, k):
        return [d, k]


class _Problem:
    X = np.zeros((4, 3))


class _Run(FullBatchRun):
    """A full-batch run whose training is `_run`: the store's side of the protocol, alone."""

    computed = []

    def compute(self, name=""):
        self.computed.append(self)
        return _run(self)


def _request(steps=20, record_every=10, lrs=(1e-3, 1e-2), seeds=(0,), levels=(0.5,)):
    spec = {"code": "test", "learning_rates": list(lrs), "seeds": list(seeds), "steps": steps,
            "record_every": record_every, "loss_levels": list(levels)}
    return _Run("label", _Model(), None, spec, _Problem())


def _run(request):
    spec = request.spec
    rows = len(spec["learning_rates"]) * len(spec["seeds"])
    records = spec["steps"] // spec["record_every"] + 1
    return {"steps": np.arange(records) * spec["record_every"],
            "losses": np.linspace(2.0, 1.0, rows * records).reshape(rows, records),
            "learning_rates": np.repeat(spec["learning_rates"], len(spec["seeds"])),
            "seeds": np.tile(spec["seeds"], len(spec["learning_rates"])),
            "diverged_at": np.full(rows, -1), "level_steps": np.full((rows, 1), -1),
            "info": {"total_time_s": 1.0}}


def _damage(path, how):
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "corrupted":
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 64])
                         + data[middle + 64:])
    elif how == "empty":
        path.write_bytes(b"")


@pytest.mark.parametrize("how", ["truncated", "corrupted", "empty"])
def test_damaged_entries_are_moved_aside_and_recomputed(tmp_path, how):
    store, request = RunStore(tmp_path), _request()
    store.save(request, _run(request))
    path = store.path(request.key)
    _damage(path, how)
    with pytest.warns(RuntimeWarning, match=path.name):
        assert store.load(request) is None
    assert not path.exists()
    rejected = list((tmp_path / "rejected").iterdir())
    assert len(rejected) == 1 and rejected[0].name.startswith(request.key)
    _Run.computed = []
    runs = store.execute({"label": request})
    assert _Run.computed == [request]  # recomputed, then stored again
    np.testing.assert_array_equal(runs["label"]["losses"], _run(request)["losses"])
    assert store.load(request)["info"]["spec_key"] == request.key
    assert len(list((tmp_path / "rejected").iterdir())) == 1  # the damaged file is kept


@pytest.mark.parametrize("defect", ["shape", "settings", "non_finite", "missing"])
def test_readable_but_wrong_entries_are_rejected(tmp_path, defect):
    store, request = RunStore(tmp_path), _request()
    run = _run(request)
    if defect == "shape":
        run["losses"] = run["losses"][:, :-1]
    elif defect == "non_finite":
        run["losses"][0, 1] = np.nan  # yet diverged_at says it never diverged
    store.save(_request(steps=40) if defect == "settings" else request, run)
    if defect == "settings":  # an entry made for other settings, under this request's name
        os.replace(store.path(_request(steps=40).key), store.path(request.key))
    if defect == "missing":
        with np.load(store.path(request.key)) as stored:
            arrays = {k: stored[k] for k in stored.files if k != "level_steps"}
        np.savez(store.path(request.key), **arrays)
    with pytest.warns(RuntimeWarning, match="unusable"):
        assert store.load(request) is None
    assert len(list((tmp_path / "rejected").iterdir())) == 1


def test_a_damaged_optimum_is_moved_aside_and_recomputed(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 3)), rng.normal(size=50)
    store = RunStore(tmp_path)
    first = store.optimum(X, y, 4, "data")
    (path,) = tmp_path.glob("optimum-*.npz")
    _damage(path, "truncated")
    with pytest.warns(RuntimeWarning, match=path.name):
        again = store.optimum(X, y, 4, "data")
    assert again.loss == first.loss
    assert len(list((tmp_path / "rejected").iterdir())) == 1


def test_a_garbage_optimum_gets_the_projects_message_and_one_warning(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 3)), rng.normal(size=50)
    store = RunStore(tmp_path)
    first = store.optimum(X, y, 4, "data")
    (path,) = tmp_path.glob("optimum-*.npz")
    path.write_bytes(b"not an archive at all\n" * 10)
    with pytest.warns(RuntimeWarning) as caught:
        again = store.optimum(X, y, 4, "data")
    assert again.loss == first.loss
    assert len(caught) == 1  # one warning ...
    message = str(caught[0].message)
    assert path.name in message and "not an .npz archive" in message
    assert "pickle" not in message  # not numpy's advice to load it unsafely
    assert capsys.readouterr().out == ""  # ... and not printed a second time


def test_kill_9_in_the_middle_then_rerun_gives_the_uninterrupted_results(tmp_path,
                                                                         shared_data_dir):
    def what_the_kill_left(killed):
        stored = [p for p in (killed / "_runs").glob("*.npz") if not p.name.startswith("optimum")]
        assert len(stored) == 2  # two of the three runs finished before the kill
        figure = killed / "figure4_right"  # no result yet, only the interim record
        assert not (figure / "figure4_right.json").exists()
        assert json.loads((figure / "figure4_right.partial.json").read_text())["complete"] is False

    # Killed (SIGKILL) after two saved runs, no half-written file; resumed; run uninterrupted.
    kill_and_rerun(("figure4_right", "--quick", "--data-dir", shared_data_dir), tmp_path,
                   kill_after=2, env={"TF_CPP_MIN_LOG_LEVEL": "3"}, after_kill=what_the_kill_left)
    a = json.loads((tmp_path / "killed" / "figure4_right" / "figure4_right.json").read_text())
    b = json.loads((tmp_path / "straight" / "figure4_right" / "figure4_right.json").read_text())
    assert a["results"] == b["results"]
    for label in b["runs"]:
        assert a["runs"][label]["losses"] == b["runs"][label]["losses"], label
        assert a["runs"][label]["configurations"] == b["runs"][label]["configurations"]
    assert sum(run["info"]["cached"] for run in a["runs"].values()) == 2


def test_the_code_fingerprint_ignores_docstrings_comments_and_layout_only():
    from reproduce.lab.run_store import _code_of

    source = 'def f(x):\n    return x * 2\n'
    documented = ('"""A module."""\n\n\ndef f(x):  # doubled\n    """Twice x."""\n\n'
                  '    return (x *\n            2)\n')
    assert _code_of(documented) == _code_of(source)
    assert _code_of('def f(x):\n    """Only a docstring."""\n') == _code_of(
        "def f(x):\n    pass\n")
    # Anything that computes differently is a different fingerprint, a string value included.
    assert _code_of('def f(x):\n    return x * 3\n') != _code_of(source)
    assert _code_of('def f(x):\n    y = "a"\n    return y\n') != _code_of(
        'def f(x):\n    y = "b"\n    return y\n')
