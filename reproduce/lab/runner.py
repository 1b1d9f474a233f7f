"""The one runner: config → runs → the run store → summary → plot → the JSON, for every
experiment.

An experiment is a module with

- `make_config(quick, settings)`: its config, plain data;
- `prepare(config, data_dir, store, out_dir)`: what its runs are made from (the data, its
  optima, where its runs live), or None; a missing data set raises here, before anything is
  written;
- `runs(config, context, done)`: {name: run} it needs, given the results `done` so far (a run
  of a second stage, such as a grid's chosen rate with more seeds, appears once the results
  it depends on are done); each run is a value with a `key` that the store knows;
- `summarize(config, context, runs, done)`: the results, plain data (the JSON's "results");
- `plot(results, config, context, out_dir)`: its figure, drawn from the results alone;
- optionally `header(context)`: more top-level JSON entries (the data's provenance);
  `to_record(results)`: the results as the JSON keeps them (default: as they are); and
  `RECORD_CURVES = False` to keep the runs' curves out of the JSON.

`run(module, ...)` asks for runs until none is missing, has the store load or compute them, and
records each finished run in the interim JSON (`<name>.partial.json`) as it comes; the result,
`<name>.json`, is written once the figure is drawn.

Array jobs: with `shard=(i, n)` (`--shard I/N`, or `with sharded((i, n))`) a process computes
only the runs `assign` gives shard i of n and reads the others from the store when they are
there. N such processes sharing the run store on a common filesystem compute every run once;
a run of the part without a shard then merges them (it computes whatever is still missing: a
later stage, such as a grid's chosen rate with more seeds, or the runs of a shard that failed).
"""

from __future__ import annotations

import contextlib
import datetime
import os
import pathlib
import time

from . import provenance as prov
from .records import write_interim
from .records import write_result
from .run_store import RunStore

PAPER = "Arora, Cohen, Hazan, ICML 2018 (arXiv 1802.06509)"


def workers() -> int:
    """Runs executed side by side: $TF_OVERPARAM_WORKERS, else min(2, CPU count).

    Each XLA loop runs on one core, so two runs side by side use both cores of a 2-core machine.
    """
    value = os.environ.get("TF_OVERPARAM_WORKERS")
    return max(1, int(value)) if value else max(1, min(2, os.cpu_count() or 1))


_SHARD = None  # (i, n) inside `sharded`


@contextlib.contextmanager
def sharded(shard):
    """Every `run` inside computes only shard (i, n)'s runs (None: every run)."""
    global _SHARD
    previous, _SHARD = _SHARD, shard
    try:
        yield
    finally:
        _SHARD = previous


def assign(runs: dict, n: int) -> list[set]:
    """The keys of {key: run} split into n sets of about equal cost: the costliest first, each to
    the set with the least cost so far (the first such). Deterministic: every process given the
    same runs makes the same split."""
    loads, shares = [0.0] * n, [set() for _ in range(n)]
    for key in sorted(runs, key=lambda k: (-runs[k].cost, runs[k].key)):
        share = loads.index(min(loads))
        loads[share] += runs[key].cost
        shares[share].add(key)
    return shares


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


class Record:
    """An experiment's JSON: the header (command, settings, config, data, versions, device), a
    record per finished run, then the results and the timing; interim until `finish`."""

    def __init__(self, name, out_dir, data_dir, quick, settings, config, header, curves=True):
        self.path = pathlib.Path(out_dir) / f"{name}.json"
        self.started, self.curves = time.perf_counter(), curves
        self.document = {"figure": name, "paper": PAPER, "quick": quick,
                         "command": prov.invocation(name, out_dir, data_dir, quick),
                         "settings": dict(settings or {}), "config": config, **header,
                         "versions": prov.software_versions(),
                         "device": prov.device_description(), "started": now(),
                         "runs": {}, "results": {}}
        self.write()

    def add_run(self, name, run, result) -> None:
        section, record = run.record(result, self.curves)
        self.document.setdefault(section, {})[run.label] = record
        self.write()

    def write(self, final=False) -> None:
        self.document["elapsed_s"] = time.perf_counter() - self.started
        (write_result if final else write_interim)(self.path, self.document)

    def finish(self, results: dict, final: bool = True) -> dict:
        self.document["results"] = results
        infos = [run["info"] for section in ("runs", "variant_runs")
                 for run in self.document.get(section, {}).values()]
        self.document["timing"] = {
            "this_invocation_s": time.perf_counter() - self.started,
            "runs_reused_from_run_store": sum(bool(i.get("cached")) for i in infos),
            "runs_computed": sum(not i.get("cached") for i in infos),
            # Seconds each run took when it was computed (also for reused runs); runs execute
            # `workers()` at a time, so the figure's wall time is less than this sum.
            "sum_of_run_times_when_computed_s": sum(i.get("total_time_s", 0.0) for i in infos),
            "workers": workers(),
        }
        self.document["finished"] = now()
        self.write(final=final)
        return self.document


def run(module, out_dir, data_dir=None, quick=False, settings=None, options=None,
        compute=True, shard=None) -> dict:
    """Run the experiment `module` into `out_dir` (its runs in `out_dir`'s sibling `_runs/`,
    shared by every experiment there); returns the JSON document written. `options` go to its
    `prepare`; `compute=False` trains nothing (the stored runs only; `run.skip()` says which
    are left out). The JSON is the result if the module's optional `finished(context, done)`
    says so (default: always), else it stays interim. `shard` (i, n) (default: `sharded`'s)
    computes shard i's runs only; if others are missing then, the JSON stays interim and says
    how many ("shard")."""
    shard = shard if shard is not None else _SHARD
    name = module.__name__.rsplit(".", 1)[-1]
    config = module.make_config(quick, settings)
    out_dir = pathlib.Path(out_dir)
    store = RunStore(out_dir.parent / "_runs")
    context = module.prepare(config, data_dir, store, out_dir, **(options or {}))
    out_dir.mkdir(parents=True, exist_ok=True)  # only now: missing data leaves no folder behind
    header = module.header(context) if hasattr(module, "header") else {}
    record = Record(name, out_dir, data_dir, quick, settings, config, header,
                    curves=getattr(module, "RECORD_CURVES", True))
    done, tried = {}, set()
    while True:
        wanted = module.runs(config, context, done)
        pending = {key: run for key, run in wanted.items() if key not in tried}
        if not pending:
            break
        tried.update(pending)
        mine = pending if shard is None else {key: pending[key]
                                              for key in assign(pending, shard[1])[shard[0]]}
        done.update(store.execute(mine, workers(), record.add_run, name, compute=compute))
        others = {key: run for key, run in pending.items() if key not in mine}
        done.update(store.execute(others, workers(), record.add_run, name, compute=False))
    missing = [key for key in wanted if key not in done]
    if shard is not None and missing:  # the other shards' part: merged by a run without --shard
        record.document["shard"] = {"index": shard[0], "of": shard[1], "runs_missing": len(missing),
                                    "runs_done": len(done)}
        record.write()
        return record.document
    results = module.summarize(config, context, wanted, done)
    module.plot(results, config, context, out_dir)
    final = getattr(module, "finished", lambda context, done: True)(context, done)
    return record.finish(getattr(module, "to_record", lambda results: results)(results), final=final)
