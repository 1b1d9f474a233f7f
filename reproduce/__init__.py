"""The paper's figures, one command each.

From a checkout: `python -m reproduce <figure>`; installed from the wheel, where this folder is
the package `tf_overparam.reproduce`: `tf-overparam reproduce <figure>`. Imports inside the
package are relative so that both names work.

This module is the one home of the figure table (names, what each shows, measured times): the
`--help` of both commands and `tf-overparam list` print it. It imports nothing heavy.
"""

from __future__ import annotations

import importlib
from typing import NamedTuple


class Part(NamedTuple):
    """One part of the reproduction: its module is `reproduce.<name>`."""

    shows: str       # one line: what it shows
    full_time: str   # measured with the full settings on the project's 2-core CPU, empty run store


#: name -> Part, in the order `all` runs them (cheap and data-free first).
PARTS = {
    "theory": Part("Sections 3 and 7, Claim 1, Theorem 2, computed (no data needed)", "23 s"),
    "figure2": Part("the end-to-end rule (Eq. 11) emulates deep GD; width 1 vs 100 (Ethanol)",
                    "167 s"),
    "figure3": Part("l2 vs l4 regression at depths 1, 2, 3: depth accelerates l4 (Ethanol)",
                    "203 s"),
    "figure4_left": Part("depth-3 GD against AdaGrad and AdaDelta, l4 (Ethanol)", "113 s"),
    "figure4_right": Part("Adam with and without depth, l4 (Ethanol)", "42 s"),
    "figure5_left": Part("near-zero vs identity initialization at depths 4 and 8 (Ethanol)",
                         "167 s"),
    "figure5_right": Part("the MNIST convnet with overparameterized dense layers (any backend)",
                          "4 models × 5 seeds: 11 min per run, 70 for the emulated model"),
    "conv_overparam": Part("beyond the paper: overparameterized convolutions, MNIST and "
                           "Fashion-MNIST, 3 seeds, 600 steps", "31 min (on a shared CPU)"),
    "atlas": Part("every regression claim over normalizations, selection rules, horizons, grids",
                  "46 min after the figures (reuses their runs)"),
}

#: Parts that run on the TensorFlow backend only (none since the MNIST tutorial's port is Keras-only).
NEEDS_TENSORFLOW: set[str] = set()


def figure_module(name: str):
    """The module of part `name` (it exposes `run(out_dir, data_dir, quick) -> dict`)."""
    if name not in PARTS:
        raise ValueError(f"figure must be one of {', '.join(PARTS)}; got {name!r}.")
    return importlib.import_module("." + name, __package__)


def parts_table() -> str:
    """The figure table as text: name, measured full-setting time, what it shows."""
    width = max(map(len, PARTS))
    lines = [f"  {name:<{width}}  {part.shows}\n  {'':<{width}}  full settings: {part.full_time}"
             for name, part in PARTS.items()]
    return ("figures (times measured with the full settings on a 2-core CPU; --quick runs "
            "each in seconds):\n" + "\n".join(lines))
