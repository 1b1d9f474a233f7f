"""JSON records of the experiments: numpy to JSON, atomic writes, rounding."""

from __future__ import annotations

import datetime
import json
import math
import os
import pathlib
import threading
import warnings

import numpy as np


def to_json(value):
    """numpy → JSON-friendly, recursively; non-finite floats become None."""
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, np.ndarray):
        return to_json(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


#: Held while a file is written; `stop_writes` takes it for good before a Ctrl-C exit.
_WRITING = threading.Lock()


def write_atomically(path, data: bytes) -> None:
    """Write to a temporary file, then rename: an interrupted run never leaves half a file."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # One temporary name per process and thread: processes sharing a folder (array shards)
    # may write the same file at once, and each rename must move a whole file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    with _WRITING:
        try:
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)  # failed or interrupted: no stray temporary file either
            raise


def move_aside(path, reason: str, folder=None) -> pathlib.Path:
    """Move an unusable state file into `folder` (default: `rejected/` beside it), never
    deleting it, and warn, naming the file, why, and where it went. Returns the new path."""
    path = pathlib.Path(path)
    folder = pathlib.Path(folder) if folder is not None else path.parent / "rejected"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    target = folder / f"{path.stem}.{stamp}{path.suffix}"
    os.replace(path, target)
    # One warning, shown once (on the command line as one line, see __main__.plain_warnings).
    warnings.warn(f"{path} is unusable ({reason}); moved to {target}", RuntimeWarning, stacklevel=3)
    return target


def read_json_object(path, what: str):
    """The JSON object stored at `path`; None if there is none, or if it is unreadable (not
    UTF-8, not JSON, not an object), in which case it is moved aside (`move_aside`), the
    warning calling it "not a readable {what}"."""
    path = pathlib.Path(path)
    if not path.is_file():
        return None
    try:
        document = json.loads(path.read_text())
        if not isinstance(document, dict):
            raise ValueError(f"a JSON {type(document).__name__}, not an object")
    except (ValueError, UnicodeDecodeError) as error:
        move_aside(path, f"not a readable {what}: {error}")
        return None
    return document


def stop_writes() -> None:
    """Wait for a write in progress (another thread's) to finish, then let none start.

    For a process about to exit on Ctrl-C without waiting for its worker threads: whatever
    they finish later is not written at all, rather than half."""
    _WRITING.acquire()


def write_json(path, document: dict) -> None:
    """`document` as indented JSON, written atomically."""
    text = json.dumps(to_json(document), indent=1, allow_nan=False) + "\n"
    write_atomically(path, text.encode())


def interim_path(path) -> pathlib.Path:
    """Where the interim record of `<stem>.json` goes while its run is going: `<stem>.partial.json`."""
    path = pathlib.Path(path)
    return path.with_name(f"{path.stem}.partial{path.suffix}")


def write_interim(path, document: dict) -> None:
    """A figure's record while it runs, marked `"complete": false`, at `interim_path(path)`:
    never at `path`, so an interrupted run leaves no file that looks like a result."""
    write_json(interim_path(path), {**document, "complete": False})


def write_result(path, document: dict) -> dict:
    """A figure's finished record at `path`, marked `"complete": true` (in `document` too, which
    is returned); the interim one goes."""
    document["complete"] = True
    write_json(path, document)
    interim_path(path).unlink(missing_ok=True)
    return document


def rounded(values, digits=7):
    """Floats rounded to `digits` significant digits (JSON size), NaN kept as None by to_json."""
    values = np.asarray(values, dtype=np.float64)
    out = np.full(values.shape, np.nan)
    finite = np.isfinite(values) & (values != 0)
    if finite.any():
        magnitude = np.floor(np.log10(np.abs(values[finite])))
        scale = 10.0 ** (digits - 1 - magnitude)
        out[finite] = np.round(values[finite] * scale) / scale
    out[values == 0] = 0.0
    return out
