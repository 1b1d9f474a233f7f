"""The paper's figures, one command each.

From a checkout: `python -m reproduce <figure>`; installed from the wheel, where this folder is
the package `tf_overparam.reproduce`: `tf-overparam reproduce <figure>` (or
`python -m tf_overparam.reproduce <figure>`). Imports inside the package are relative so that
both names work.

The figure table (names, what each shows, measured times) lives in `tf_overparam_cli`, which
imports nothing heavy, so that `--help` and `tf-overparam list` answer at once.
"""

from __future__ import annotations

import importlib

from tf_overparam_cli import PARTS
from tf_overparam_cli import parts_table

__all__ = ["PARTS", "figure_module", "parts_table"]


def figure_module(name: str):
    """The module of part `name` (it exposes `run(out_dir, data_dir, quick) -> dict`)."""
    if name not in PARTS:
        raise ValueError(f"figure must be one of {', '.join(PARTS)}; got {name!r}.")
    return importlib.import_module(".experiments." + name, __package__)
