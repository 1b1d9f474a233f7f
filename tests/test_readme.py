"""Every Python example in README.md runs as written (they contain their own assertions)."""

import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_examples():
    assert len(EXAMPLES) >= 6


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_readme_example_runs(index):
    import keras

    if "fullbatch" in EXAMPLES[index] and keras.backend.backend() == "torch":
        pytest.skip("the full-batch trainer runs on TensorFlow and JAX; its torch error is "
                    "tested in test_fullbatch_backends.py")
    exec(compile(EXAMPLES[index], f"README.md example {index}", "exec"), {"__name__": "readme_example"})
