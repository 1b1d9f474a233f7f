"""JSON records of the experiments: numpy to JSON, atomic writes, rounding."""

from __future__ import annotations

import json
import math
import os
import pathlib

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


def write_atomically(path, data: bytes) -> None:
    """Write to a temporary file, then rename: an interrupted run never leaves half a file."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_json(path, document: dict) -> None:
    """`document` as indented JSON, written atomically."""
    text = json.dumps(to_json(document), indent=1, allow_nan=False) + "\n"
    write_atomically(path, text.encode())


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
