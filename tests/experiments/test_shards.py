"""Array jobs: `--shard I/N` splits a part's runs over N processes sharing the run store, and a
run without `--shard` merges them. The split against its definition, the option's checks, and
`atlas --quick` as 2 shards in 2 processes at once plus the merge, against one process."""

import itertools
import json
import os
import subprocess

import keras
import pytest
from helpers import ROOT
from helpers import reproduce_command
from helpers import run_reproduce

from reproduce.lab import runner


class _Run:
    def __init__(self, key, cost):
        self.key, self.cost = key, cost


def test_assign_is_a_deterministic_balanced_partition():
    runs = {f"r{i}": _Run(f"k{i}", cost) for i, cost in enumerate([9, 7, 7, 5, 3, 3, 2, 1, 1])}
    for n in (1, 2, 3, 4, 12):
        shares = runner.assign(runs, n)
        assert len(shares) == n
        assert sorted(itertools.chain(*shares)) == sorted(runs)  # every run exactly once
        assert sum(map(len, shares)) == len(runs)
        loads = [sum(runs[k].cost for k in share) for share in shares]
        # Greedy to the least-loaded share: no share exceeds another by more than one run's cost.
        assert max(loads) - min(loads) <= max(r.cost for r in runs.values())
        # The same runs in another order give the same split (each process builds its own dict).
        assert runner.assign(dict(reversed(list(runs.items()))), n) == shares
    assert runner.assign(runs, 2) == [{"r0", "r3", "r4", "r6"}, {"r1", "r2", "r5", "r7", "r8"}]  # by hand


@pytest.mark.parametrize("shard", ["2/2", "-1/2", "a/b", "1", "0/0"])
def test_a_bad_shard_is_a_usage_error_before_any_work(shard, tmp_path):
    done = run_reproduce("figure3", "--quick", f"--shard={shard}", "--out", tmp_path / "out")
    assert done.returncode == 2, done.stderr
    assert "--shard wants I/N" in done.stderr and not (tmp_path / "out").exists()


def test_report_takes_no_shard(tmp_path):
    done = run_reproduce("report", "--shard", "0/2", "--out", tmp_path / "out")
    assert done.returncode == 2 and "--shard: report" in done.stderr


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="the experiments run in the TensorFlow run of the suite")
def test_atlas_quick_in_two_shards_then_merged_equals_one_process(tmp_path, shared_data_dir):
    shared, alone = tmp_path / "shared", tmp_path / "alone"
    environment = {**os.environ, "TF_OVERPARAM_WORKERS": "1"}
    shards = [subprocess.Popen(reproduce_command("atlas", "--quick", "--data-dir", shared_data_dir,
                                                 "--shard", f"{i}/2", "--out", shared),
                               cwd=ROOT, env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for i in range(2)]
    outputs = [process.communicate(timeout=900) for process in shards]
    for process, (stdout, stderr) in zip(shards, outputs):
        assert process.returncode == 0, stderr[-3000:]
    said = "".join(stdout for stdout, _ in outputs)
    # At least one shard finished before the other's runs were stored: it says what is left.
    assert "left to the other shards" in said or "atlas done" in said
    merged = run_reproduce("atlas", "--quick", "--data-dir", shared_data_dir, "--out", shared)
    assert merged.returncode == 0, merged.stderr[-3000:]
    straight = run_reproduce("atlas", "--quick", "--data-dir", shared_data_dir, "--out", alone)
    assert straight.returncode == 0, straight.stderr[-3000:]
    a, b = (json.loads((root / "atlas" / "atlas.json").read_text()) for root in (shared, alone))
    # The merge computed nothing: the two shards computed every run, each once.
    assert a["timing"]["runs_computed"] == 0
    assert a["timing"]["runs_reused_from_run_store"] == b["timing"]["runs_computed"]
    assert "shard" not in a
    computed_by_shards = sorted(p.name for p in (shared / "_runs").glob("*.npz")
                                if not p.name.startswith("optimum-"))
    computed_alone = sorted(p.name for p in (alone / "_runs").glob("*.npz")
                            if not p.name.startswith("optimum-"))
    assert computed_by_shards == computed_alone
    assert a["results"] == b["results"]  # number for number
    assert not list(shared.rglob(".*.tmp"))
