"""Griffe extension for the API reference: an `Example:` heading in a docstring is read as a
Google-style `Examples:` section (rendered as code), as `Examples:` is.

Why not rewrite those docstrings: they sit in the full-batch trainer's sources (fullbatch/, ops/,
initializers/, optimal_loss.py), whose bytes key the experiments' run store
(`reproduce/lab/run_store.code_fingerprint`); editing them would discard every stored run.
"""

from __future__ import annotations

import re

import griffe

_SINGULAR = re.compile(r"(?m)^(\s*)Example:\s*$")


class ExampleSections(griffe.Extension):
    def on_object(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None and _SINGULAR.search(obj.docstring.value):
            obj.docstring.value = _SINGULAR.sub(r"\1Examples:", obj.docstring.value)
