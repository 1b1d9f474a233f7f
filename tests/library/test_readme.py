"""Every Python example in README.md, on the documentation's home page and in the user guide
(docs/guide/*.md) runs as written (they contain their own assertions)."""

import re

import pytest
from helpers import ROOT

README = ROOT / "README.md"
GUIDE = sorted((ROOT / "docs" / "guide").glob("*.md"))
HOME = ROOT / "docs" / "index.md"


def examples(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)


#: (file, index of the example in it, its code).
EXAMPLES = [(path.relative_to(ROOT).as_posix(), index, code)
            for path in [README, HOME, *GUIDE] for index, code in enumerate(examples(path))]


def test_readme_has_a_quickstart():
    (quickstart,) = examples(README)
    assert "OverparamDense" in quickstart and "EndToEndSGD" in quickstart
    assert ".fit(" in quickstart and "assert " in quickstart
    assert len(quickstart.splitlines()) <= 20


def test_the_guide_has_examples():
    assert len(GUIDE) >= 9
    assert len(EXAMPLES) >= 10
    every_name = " ".join(code for _, _, code in EXAMPLES)
    for name in ("OverparamDense", "OverparamConv2D", "EndToEndSGD", "LpLoss", "overparameterize",
                 "collapse", "Balanced", "end_to_end_direction", "load_ethanol", "load_table",
                 "fullbatch.train"):
        assert name in every_name, name


@pytest.mark.parametrize("path, index, code", EXAMPLES,
                         ids=[f"{path}-{index}" for path, index, _ in EXAMPLES])
def test_example_runs(path, index, code, request, monkeypatch):
    import keras

    if "fullbatch" in code and keras.backend.backend() == "torch":
        pytest.skip("the full-batch trainer runs on TensorFlow and JAX; its torch error is "
                    "tested in test_fullbatch_backends.py")
    if "TF_OVERPARAM_DATA_DIR" in code:
        # The example reads the data folder a user names there; the tests' one data fixture
        # names it, so no variable has to be set by hand.
        data_dir = request.getfixturevalue("shared_data_dir")
        monkeypatch.setenv("TF_OVERPARAM_DATA_DIR", str(data_dir))
    exec(compile(code, f"{path} example {index}", "exec"), {"__name__": "readme_example"})
