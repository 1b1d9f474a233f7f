"""Every Python example in README.md runs as written (they contain their own assertions)."""

import re

import pytest
from helpers import ROOT

README = ROOT / "README.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_examples():
    assert len(EXAMPLES) >= 6


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_readme_example_runs(index, request, monkeypatch):
    import keras

    if "fullbatch" in EXAMPLES[index] and keras.backend.backend() == "torch":
        pytest.skip("the full-batch trainer runs on TensorFlow and JAX; its torch error is "
                    "tested in test_fullbatch_backends.py")
    if "TF_OVERPARAM_DATA_DIR" in EXAMPLES[index]:
        # The example reads the data folder a user names there; the tests' one data fixture
        # (which also finds ../shared/data) names it, so no variable has to be set by hand.
        data_dir = request.getfixturevalue("shared_data_dir")
        monkeypatch.setenv("TF_OVERPARAM_DATA_DIR", str(data_dir))
    exec(compile(EXAMPLES[index], f"README.md example {index}", "exec"), {"__name__": "readme_example"})
