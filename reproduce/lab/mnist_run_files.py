"""The files of one MNIST tutorial run (`mnist_trainer.train_model`), written atomically and
validated when read.

- `checkpoint.npz`: every model and optimizer variable, every record so far, the config hash.
- `losses.csv`: one row per step (iteration, total loss, cross-entropy, learning rate).
- `result.json`: the finished run's numbers, "complete": true, the config hash.

A file that cannot be used (unreadable, or inconsistent with itself or with the model) is moved
aside into `rejected/` beside it, never deleted, with a warning naming it: a damaged checkpoint
means starting over, a damaged result means the run is not complete. A readable checkpoint of
another configuration is not damaged; `train_model` refuses it instead.
"""

from __future__ import annotations

import hashlib
import io
import json
import pathlib

import numpy as np

from tf_overparam._npz import read_npz

from .mnist_tutorial import EVAL_FREQUENCY, NUM_STEPS
from .records import move_aside
from .records import read_json_object
from .records import write_atomically

#: Per-step records (one value per step), then per-evaluation and per-chunk records.
STEP_RECORDS = ("total", "cross_entropy", "learning_rate")
RECORD_DTYPES = {"total": np.float32, "cross_entropy": np.float32, "learning_rate": np.float32,
                 "eval_iteration": np.int64, "validation_error": np.float64,
                 "chunk_steps": np.int64, "chunk_seconds": np.float64, "chunk_first_in_process": bool}
LOSSES_HEADER = "iteration,total_loss,cross_entropy,learning_rate\n"


class BadRunFile(ValueError):
    """A run file that cannot be used (the message says why)."""


def full_config(run_config, num_steps, eval_frequency) -> dict:
    """What a run's hash covers: the caller's `run_config` plus the step counts."""
    return dict(run_config or {}, num_steps=num_steps, eval_frequency=eval_frequency)


def config_hash(config) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


def empty_records():
    return {key: np.zeros(0, dtype) for key, dtype in RECORD_DTYPES.items()}


def write_checkpoint(path, state, records, run_hash):
    arrays = {f"var_{i:03d}": value for i, value in enumerate(state)}
    arrays.update({f"record_{key}": np.asarray(value) for key, value in records.items()})
    arrays["config_hash"] = np.array(run_hash)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    write_atomically(path, buffer.getvalue())


def read_checkpoint(path):
    """(variables, records, config hash) as stored; BadRunFile if the file cannot be read."""
    try:
        data = read_npz(path)
        run_hash = str(data["config_hash"])
    except (OSError, ValueError) as error:  # UnreadableNpz or no file
        raise BadRunFile(f"not a readable checkpoint: {error}") from error
    except KeyError:
        raise BadRunFile("not a readable checkpoint: it has no `config_hash`") from None
    variables = [data[key] for key in sorted(k for k in data if k.startswith("var_"))]
    records = {key[len("record_"):]: data[key] for key in data if key.startswith("record_")}
    return variables, records, run_hash


def check_checkpoint(variables, records, shapes, num_steps):
    """BadRunFile unless the variables have `shapes` and the records are one consistent history
    of at most `num_steps` steps."""
    got = [tuple(v.shape) for v in variables]
    if got != [tuple(s) for s in shapes]:
        raise BadRunFile(f"its {len(got)} variables do not have the model and optimizer's {len(shapes)} shapes")
    if set(records) != set(RECORD_DTYPES):
        raise BadRunFile(f"its records are {sorted(records)}, expected {sorted(RECORD_DTYPES)}")
    steps = len(records["total"])
    if any(records[key].ndim != 1 for key in RECORD_DTYPES):
        raise BadRunFile("a record is not one-dimensional")
    if not 0 < steps <= num_steps or any(len(records[key]) != steps for key in STEP_RECORDS):
        raise BadRunFile(f"its per-step records are not all of one length in 1…{num_steps}")
    if len(records["eval_iteration"]) != len(records["validation_error"]):
        raise BadRunFile("its evaluation records differ in length")
    chunks = records["chunk_steps"]
    if len(records["chunk_seconds"]) != len(chunks) or len(records["chunk_first_in_process"]) != len(chunks) \
            or int(chunks.sum()) != steps:
        raise BadRunFile(f"its chunk records do not add up to its {steps} steps")


def write_losses(path, records, start=0):
    """Append rows start… of the per-step records (iteration = step + 1), or rewrite from 0."""
    lines = [
        f"{step + 1},{records['total'][step]:.9g},{records['cross_entropy'][step]:.9g},{records['learning_rate'][step]:.9g}\n"
        for step in range(start, len(records["total"]))
    ]
    if start == 0:
        write_atomically(path, (LOSSES_HEADER + "".join(lines)).encode())
    else:
        with path.open("a") as handle:
            handle.write("".join(lines))


def read_losses(path):
    """The per-step CSV as a dict of arrays: iteration, total_loss, cross_entropy, learning_rate."""
    table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return {name: table[:, i] for i, name in enumerate(LOSSES_HEADER.strip().split(","))}


def completed_result(out_dir, run_config=None, num_steps=NUM_STEPS, eval_frequency=EVAL_FREQUENCY):
    """The stored result of this run in `out_dir` (`run_config` and the step counts, as passed
    to `train_model`) if it is complete, else None (no
    such run, another configuration, or unfinished). A result that is unreadable, or whose
    losses.csv does not hold rows 1…`num_steps`, is moved aside (with that losses.csv): the run
    is then not complete, and resuming rebuilds both from the checkpoint."""
    out_dir = pathlib.Path(out_dir)
    result_path = out_dir / "result.json"
    result = read_json_object(result_path, "result")
    if result is None:
        return None
    if result.get("config_hash") != config_hash(full_config(run_config, num_steps, eval_frequency)) or result.get("complete") is not True:
        return None
    losses_path = out_dir / "losses.csv"
    try:
        iterations = read_losses(losses_path)["iteration"]
        if not np.array_equal(iterations, np.arange(1, num_steps + 1)):
            raise ValueError(f"{len(iterations)} rows, not iterations 1…{num_steps}")
    except (OSError, ValueError, IndexError) as error:
        reason = f"complete, but its losses.csv is unusable ({error})"
        if losses_path.exists():
            move_aside(losses_path, reason)
        move_aside(result_path, reason)
        return None
    return result
