"""The run store: finished training runs and optima on disk, so that a rerun resumes and figures
sharing a run compute it once.

Each entry is `<root>/<key>.npz`, where the key hashes everything the result depends on: the
data, every setting, the Keras backend and a fingerprint of the library code that computes
(`code_fingerprint`). Writes are atomic (temporary file, then rename), so `kill -9` leaves either
the old state or the new entry. Every entry is validated when read (keys, shapes, the settings
it was made with, finite values where they must be); a bad one is moved aside into
`<root>/rejected/` (never deleted), a warning names it, and the run is computed again.
"""

from __future__ import annotations

import ast
import concurrent.futures
import functools
import hashlib
import io
import json
import os
import pathlib
import signal
import threading
import time

import numpy as np

from tf_overparam._npz import read_npz

from .records import move_aside
from .records import to_json
from .records import write_atomically

#: Test hook: after this many entries saved by this process, SIGKILL it (simulates `kill -9`
#: at a known point of a figure, deterministically).
KILL_AFTER_SAVES = "TF_OVERPARAM_TEST_KILL_AFTER_SAVES"
#: Test hook: after exactly this many entries saved, send this process SIGINT (a Ctrl-C while
#: the other worker is still training).
INTERRUPT_AFTER_SAVES = "TF_OVERPARAM_TEST_INTERRUPT_AFTER_SAVES"

RUN_ARRAYS = {"steps": 1, "losses": 2, "learning_rates": 1, "seeds": 1, "diverged_at": 1,
              "level_steps": 2}


class BadEntry(ValueError):
    """A run-store entry that cannot be used (the message says why)."""


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of the library code whose arithmetic stored results depend on (the full-batch
    trainer, the ops, the initializers, the optimum solver): editing its code invalidates the
    store instead of reusing results an older version computed. Docstrings, comments and layout
    are left out (`_code_of`), so documenting the trainer keeps every stored run."""
    import tf_overparam

    # The installed package, not a path relative to this file: in the wheel these experiments
    # live inside it (tf_overparam/reproduce/), in a checkout beside it.
    root = pathlib.Path(tf_overparam.__file__).resolve().parent
    digest = hashlib.sha256()
    paths = [path for folder in ("fullbatch", "ops", "initializers")
             for path in sorted((root / folder).glob("*.py"))]
    for path in paths + [root / "optimal_loss.py"]:
        digest.update(_code_of(path.read_text(encoding="utf-8")).encode())
    return digest.hexdigest()[:16]


def _code_of(source: str) -> str:
    """`source` as code only: parsed, docstrings removed, written back by `ast.unparse` (which
    drops comments and normalizes layout)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                and node.body and isinstance(node.body[0], ast.Expr)
                and isinstance(node.body[0].value, ast.Constant)
                and isinstance(node.body[0].value.value, str)):
            node.body = node.body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def spec_key(spec: dict) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:20]


class RunStore:
    """Finished runs under `root`, validated on read; see the module docstring."""

    def __init__(self, root):
        self.root = pathlib.Path(root)
        self.saves = 0  # entries saved by this process (the test hooks count them)
        self._counting = threading.Lock()

    def path(self, key: str, suffix: str = ".npz") -> pathlib.Path:
        return self.root / f"{key}{suffix}"

    # ---- runs of every kind ---------------------------------------------------------------

    def load(self, run):
        """The stored result of `run`, or None (absent, or bad: moved aside with a warning).
        `run.read(store)` reads and validates its own kind of entry, raising BadEntry."""
        try:
            return run.read(self)
        except BadEntry as error:
            self.reject(run.stored_at(self), str(error))
            return None

    def save(self, run, result) -> None:
        """Store `result` atomically (`run.write(store, result)`); the test hooks may then
        kill or interrupt this process, as `kill -9` or Ctrl-C would."""
        run.write(self, result)
        with self._counting:  # two workers saving at once still count 1, then 2
            self.saves += 1
            saves = self.saves
        limit = os.environ.get(KILL_AFTER_SAVES)
        if limit and saves >= int(limit):
            os.kill(os.getpid(), signal.SIGKILL)
        if os.environ.get(INTERRUPT_AFTER_SAVES) == str(saves):
            os.kill(os.getpid(), signal.SIGINT)

    def reject(self, path: pathlib.Path, reason: str) -> pathlib.Path:
        """Move a bad entry into `rejected/` beside it (kept for inspection) and warn, naming
        it; for the store's own entries that is `<root>/rejected/`."""
        return move_aside(path, f"run store: {reason}; recomputing")

    def execute(self, runs: dict, workers=1, on_done=None, name="", compute=True) -> dict:
        """Load or compute every run of {name: run}: stored ones are loaded, the others computed
        (`run.compute(name)`) `workers` at a time in threads, largest first, each saved as soon as
        it is done; `on_done(name, run, result)` follows each (stored ones first). Returns
        {name: result}; with `compute=False` only the stored ones (`run.skip()` for the rest)."""
        results, pending = {}, []
        for key, run in runs.items():
            result = self.load(run)
            if result is None:
                pending.append(key)
                continue
            result["info"] = {**result["info"], "cached": True}
            results[key] = result
            if on_done:
                on_done(key, run, result)
        if not compute:
            for key in pending:
                getattr(runs[key], "skip", lambda: None)()
            return results
        pending.sort(key=lambda key: -runs[key].cost)
        if not all(getattr(runs[key], "parallel", True) for key in pending):
            workers = 1  # a kind that trains a Keras model runs alone (Keras state is global)

        def compute_and_save(key):
            result = runs[key].compute(name)
            self.save(runs[key], result)
            return result

        if pending and workers == 1:  # in this thread: a Ctrl-C stops the run where it is
            for key in pending:
                results[key] = compute_and_save(key)
                if on_done:
                    on_done(key, runs[key], results[key])
        elif pending:
            pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers)
            try:
                futures = {pool.submit(compute_and_save, key): key for key in pending}
                for future in concurrent.futures.as_completed(futures):
                    key = futures[future]
                    results[key] = future.result()
                    if on_done:
                        on_done(key, runs[key], results[key])
            except BaseException as error:
                # A failed run drops the queued ones; a Ctrl-C does not wait minutes for the
                # running ones either (the command line then exits at once, see records).
                pool.shutdown(wait=not isinstance(error, KeyboardInterrupt), cancel_futures=True)
                raise
            pool.shutdown()
        return {key: results[key] for key in runs if key in results}

    # ---- optima ---------------------------------------------------------------------------

    def optimum(self, X, y, p, data_fingerprint):
        """`tf_overparam.optimal_loss.optimal_loss`, computed once per data set and p.

        The ℓ4 solve takes ~1 s on an idle machine but can take a minute when BLAS threads
        compete with other processes, so every figure reuses the first result."""
        from tf_overparam.optimal_loss import OptimalLoss
        from tf_overparam.optimal_loss import optimal_loss

        path = self.root / f"optimum-{data_fingerprint}-p{p}-{code_fingerprint()}.npz"
        if path.exists():
            try:
                stored = _read_npz(path)
                info = dict(stored["info"])
                weights = stored["weights"]
                loss = info.pop("loss", None)
                if (info.pop("p", None) != p or not isinstance(loss, float)
                        or not np.isfinite(loss) or weights.shape != (X.shape[1],)
                        or not np.all(np.isfinite(weights))):
                    raise BadEntry("not an optimum of this problem")
                return OptimalLoss(p=p, loss=loss, weights=weights, method=info.pop("method"),
                                   gradient_norm=float(info.pop("gradient_norm")), details=info)
            except (BadEntry, KeyError, TypeError) as error:
                self.reject(path, str(error) or type(error).__name__)
        start = time.perf_counter()
        result = optimal_loss(X, y, p)
        details = {**result.details, "compute_time_s": time.perf_counter() - start}
        result = OptimalLoss(p=result.p, loss=result.loss, weights=result.weights,
                             method=result.method, gradient_norm=result.gradient_norm,
                             details=details)
        buffer = io.BytesIO()
        np.savez(buffer, weights=result.weights,
                 info=np.array(json.dumps(to_json(result.as_json()))))
        write_atomically(path, buffer.getvalue())
        return result


def read_fullbatch(store: RunStore, run) -> dict | None:
    """A full-batch run's entry `<key>.npz`: its arrays and info, validated against the run's
    settings; None if there is none, BadEntry if it is unusable."""
    path = store.path(run.key)
    if not path.exists():
        return None
    entry = _read_npz(path)
    validate_run(entry, run.spec, run.key)
    entry["info"] = {k: v for k, v in entry["info"].items() if k != "spec"}
    return entry


def write_fullbatch(store: RunStore, run, result: dict) -> None:
    arrays = {name: np.asarray(result[name]) for name in RUN_ARRAYS}
    info = {**result["info"], "spec": run.spec, "spec_key": run.key}
    buffer = io.BytesIO()
    np.savez(buffer, info=np.array(json.dumps(to_json(info))), **arrays)
    write_atomically(store.path(run.key), buffer.getvalue())


def _read_npz(path: pathlib.Path) -> dict:
    """The arrays of an .npz entry and its parsed `info`; BadEntry if it cannot be read."""
    try:
        entry = read_npz(path)
        entry["info"] = json.loads(str(entry["info"]))
    except (OSError, ValueError) as error:  # UnreadableNpz, or `info` missing or not JSON
        raise BadEntry(f"unreadable: {error}") from None
    except KeyError:
        raise BadEntry("unreadable: it has no `info`") from None
    if not isinstance(entry["info"], dict):
        raise BadEntry("its info is not a JSON object")
    return entry


def validate_run(run: dict, spec: dict, key: str) -> None:
    """Raise BadEntry unless `run` is a complete, consistent result of `spec`."""
    missing = [name for name in RUN_ARRAYS if name not in run]
    if missing:
        raise BadEntry(f"missing arrays {missing}")
    for name, ndim in RUN_ARRAYS.items():
        if run[name].ndim != ndim:
            raise BadEntry(f"`{name}` has {run[name].ndim} dimensions, expected {ndim}")
    info = run["info"]
    if info.get("spec_key") != key or info.get("spec") != json.loads(json.dumps(spec)):
        raise BadEntry("made with other settings or another code version")
    rows = len(spec["learning_rates"]) * len(spec["seeds"])
    records = spec["steps"] // spec["record_every"] + 1
    expected = {"steps": (records,), "losses": (rows, records), "learning_rates": (rows,),
                "seeds": (rows,), "diverged_at": (rows,),
                "level_steps": (rows, len(spec["loss_levels"]))}
    for name, shape in expected.items():
        if run[name].shape != shape:
            raise BadEntry(f"`{name}` has shape {run[name].shape}, expected {shape}")
    if not np.array_equal(run["steps"], np.arange(records) * spec["record_every"]):
        raise BadEntry("`steps` are not the recorded iterations")
    if not (np.array_equal(run["learning_rates"], np.repeat(spec["learning_rates"],
                                                              len(spec["seeds"])))
            and np.array_equal(run["seeds"], np.tile(spec["seeds"], len(spec["learning_rates"])))):
        raise BadEntry("its configurations differ from the settings")
    never_diverged = run["diverged_at"] < 0
    if not np.all(np.isfinite(run["losses"][never_diverged])):
        raise BadEntry("non-finite losses in configurations that never diverged")
    if not np.all(np.isfinite(run["losses"][:, 0])):
        raise BadEntry("non-finite initial losses")
