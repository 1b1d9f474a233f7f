"""The built wheel, installed (not editable) away from the checkout, works: no top-level
`reproduce`, every subpackage shipped, the `tf-overparam` command (whose messages name only
commands that exist in that install) and the README's and the user guide's examples run against it. Offline: the wheel is built without build isolation (no download of
setuptools) and installed without dependencies (the test environment's are used)."""

import json
import os
import re
import subprocess
import sys
import zipfile

import pytest
from helpers import ROOT

# slow: builds the wheel and the sdist, installs the wheel and runs its command and the README
# examples in fresh processes (about 55 s)
pytestmark = pytest.mark.slow

#: Run in the installed environment: every example of the README, the documentation's home page
#: and the user guide, as tests/library/test_readme.py does.
README_EXAMPLES = """
import pathlib, re, sys
for path in sys.argv[1:]:
    text = pathlib.Path(path).read_text(encoding="utf-8")
    for index, example in enumerate(re.findall(r"```python\\n(.*?)```", text, flags=re.S)):
        exec(compile(example, f"{path} example {index}", "exec"), {"__name__": "readme_example"})
        print(pathlib.Path(path).name, "example", index, "ok", flush=True)
"""
EXAMPLE_FILES = [ROOT / "README.md", ROOT / "docs" / "index.md",
                 *sorted((ROOT / "docs" / "guide").glob("*.md"))]


def _run(command, **kwargs):
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, **kwargs)
    assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-3000:])
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
          "--no-index", "-q", "-w", str(folder)], cwd=ROOT)
    (path,) = folder.glob("tf_overparam-*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    """(environment, folder to run in): the wheel installed into its own folder, first on the
    path, run from an empty folder so that the checkout is not importable."""
    target = tmp_path_factory.mktemp("site")
    _run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target",
          str(target), str(wheel)])
    cwd = tmp_path_factory.mktemp("elsewhere")
    env = {**os.environ, "PYTHONPATH": str(target), "TF_CPP_MIN_LOG_LEVEL": "3",
           "XDG_CACHE_HOME": str(cwd / "cache")}
    env.pop("TF_OVERPARAM_DATA_DIR", None)
    return env, cwd, target


def test_the_wheel_ships_the_library_and_the_experiments_only(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"tf_overparam", "tf_overparam_cli.py",
                    f"{wheel.name.split('-py3')[0]}.dist-info"}, tops
    assert "tf_overparam/reproduce/__main__.py" in names
    assert "tf_overparam/reproduce/experiments/figure3.py" in names
    for init in ROOT.glob("tf_overparam/*/__init__.py"):  # the hand-kept list in pyproject.toml
        assert init.relative_to(ROOT).as_posix() in names, init
    for module in (ROOT / "reproduce").rglob("*.py"):
        assert f"tf_overparam/{module.relative_to(ROOT).as_posix()}" in names, module
    assert not [name for name in names if "tests/" in name or name.startswith("reproduce/")]
    metadata = next(name for name in names if name.endswith("/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "License-Expression: Apache-2.0" in text
    entry_points = zipfile.ZipFile(wheel).read(metadata.replace("METADATA", "entry_points.txt"))
    assert re.search(r"tf-overparam\s*=\s*tf_overparam_cli:main", entry_points.decode())


def test_the_installed_command_lists_describes_and_reproduces(installed, tmp_path):
    env, cwd, target = installed
    where = _run([sys.executable, "-c", "import tf_overparam.reproduce as r; print(r.__file__);"
                  "import importlib.util as u; print(u.find_spec('reproduce'))"],
                 cwd=cwd, env=env).stdout.split()
    assert where == [str(target / "tf_overparam" / "reproduce" / "__init__.py"), "None"]

    command = [str(target / "bin" / "tf-overparam")]  # the console script pip wrote
    listed = _run(command + ["list"], cwd=cwd, env=env).stdout
    assert "figure5_right" in listed and "203 s" in listed
    # Every command a message names exists in this install: no `python -m reproduce` here.
    for argv in (["--help"], ["reproduce", "--help"]):
        assert "python -m reproduce" not in _run(command + argv, cwd=cwd, env=env).stdout
    usage = _run([sys.executable, "-m", "tf_overparam.reproduce", "--help"], cwd=cwd, env=env).stdout
    assert usage.startswith("usage: python -m tf_overparam.reproduce ")
    missing = subprocess.run(command + ["reproduce", "figure3", "--data-dir", str(cwd)], cwd=cwd,
                             env=env, capture_output=True, text=True, timeout=300)
    assert missing.returncode == 3, missing.stderr[-2000:]
    assert "python -m pydoc tf_overparam.datasets" in missing.stderr
    assert "docs/" not in missing.stderr
    assert "NAME" in _run([sys.executable, "-m", "pydoc", "tf_overparam.datasets"], cwd=cwd,
                          env=env).stdout  # what that message points at is in the wheel

    done = _run(command + ["info", "--data-dir", str(cwd)], cwd=cwd, env={**env, "TF_CPP_MIN_LOG_LEVEL": ""})
    assert "cuInit" not in done.stderr and "oneDNN" not in done.stderr  # TF's C++ start-up lines
    described = done.stdout
    for package in ("python", "keras", "tensorflow", "jax", "torch", "numpy", "Keras backend",
                    "device", "Ethanol data", "MNIST data"):
        assert re.search(rf"^{package}\s", described, flags=re.M), package
    assert "not found" in described

    out = tmp_path / "out"
    _run(command + ["reproduce", "theory", "--quick", "--out", str(out)], cwd=cwd, env=env)
    for name in ("theory.json", "claim1_spectrum.png", "theorem2.pdf"):
        assert (out / "theory" / name).stat().st_size > 0, name
    record = json.loads((out / "theory" / "theory.json").read_text())
    assert record["versions"]["git_commit"] is None and record["complete"] is True
    assert record["command"] == f"tf-overparam reproduce theory --quick --out {out}"


def test_the_readme_examples_run_against_the_installed_wheel(installed, shared_data_dir):
    env, cwd, _ = installed
    env = {**env, "TF_OVERPARAM_DATA_DIR": str(shared_data_dir)}  # the tf.data example reads it
    done = _run([sys.executable, "-c", README_EXAMPLES, *map(str, EXAMPLE_FILES)], cwd=cwd,
                env=env)
    assert done.stdout.count(" ok") >= 10


def test_build_gives_a_wheel_and_an_sdist_that_twine_accepts(tmp_path):
    pytest.importorskip("build")
    pytest.importorskip("twine")
    done = _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp_path),
                 str(ROOT)], cwd=ROOT)
    assert "project.license` as a TOML table is deprecated" not in done.stdout + done.stderr
    built = sorted(path.name for path in tmp_path.iterdir())
    assert built == ["tf_overparam-0.1.0-py3-none-any.whl", "tf_overparam-0.1.0.tar.gz"], built
    checked = _run([sys.executable, "-m", "twine", "check", "--strict",
                    *map(str, tmp_path.iterdir())])
    assert checked.stdout.count("PASSED") == 2
