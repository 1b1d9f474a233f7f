"""Helpers shared by the library's tests (tests/library/) and the experiments' tests
(tests/experiments/), written once:

- `BLOCK_TENSORFLOW`, `python_without_tensorflow`: a Python subprocess in which
  `import tensorflow` fails, as on an accelerator machine that has JAX or PyTorch but no
  TensorFlow; proves that a JAX or PyTorch path never needs TensorFlow.
- `reproduce_command`, `run_reproduce`: `python -m reproduce ARGS` in a subprocess, optionally
  without TensorFlow, optionally killed by the run store after a given number of saved runs.
- `kill_and_rerun`: the kill-and-rerun harness: a reproduce command killed with SIGKILL (as
  `kill -9`) in the middle, rerun in the same folder, and run once more uninterrupted.

Importable as `helpers` from every test: the root conftest.py's folder is on `sys.path`.
"""

import os
import pathlib
import signal
import subprocess
import sys

#: The checkout's root (the folder holding pyproject.toml): subprocesses run there.
ROOT = pathlib.Path(__file__).resolve().parents[1]

#: The first line of a subprocess's code that makes every later `import tensorflow` fail.
BLOCK_TENSORFLOW = "import sys; sys.modules['tensorflow'] = None  # `import tensorflow` fails\n"

#: `python -m reproduce ARGS`, as code for `python -c CODE ARGS` (so that a line can precede it).
RUN_REPRODUCE = ("import runpy, sys; sys.argv = ['reproduce'] + sys.argv[1:]; "
                 "runpy.run_module('reproduce', run_name='__main__', alter_sys=True)")

def python_without_tensorflow(code, *args):
    """The command `python -c CODE ARGS` with `import tensorflow` failing inside CODE."""
    return [sys.executable, "-c", BLOCK_TENSORFLOW + code, *map(str, args)]


def reproduce_command(*args, block_tensorflow=False):
    """The command `python -m reproduce ARGS`; with block_tensorflow, `import tensorflow` fails
    in it (the backend is then chosen by KERAS_BACKEND or --backend)."""
    if block_tensorflow:
        return python_without_tensorflow(RUN_REPRODUCE, *args)
    return [sys.executable, "-m", "reproduce", *map(str, args)]


def run_reproduce(*args, env=None, block_tensorflow=False, kill_after=None, timeout=900):
    """Runs `python -m reproduce ARGS` from the checkout's root and returns the finished process.

    env: variables added to this process's environment. kill_after: the run store kills the
    process with SIGKILL right after its kill_after-th saved run (never killed when None)."""
    from reproduce.lab.run_store import KILL_AFTER_SAVES  # the run store's test hook

    environment = {**os.environ, **(env or {})}
    environment.pop(KILL_AFTER_SAVES, None)
    if kill_after:
        environment[KILL_AFTER_SAVES] = str(kill_after)
    return subprocess.run(reproduce_command(*args, block_tensorflow=block_tensorflow), cwd=ROOT,
                          env=environment, capture_output=True, text=True, timeout=timeout)


def kill_and_rerun(args, root, kill_after, *, env=None, block_tensorflow=False, after_kill=None):
    """The kill-and-rerun harness for `python -m reproduce ARGS --out FOLDER`.

    1. run into root/"killed", killed with SIGKILL right after its kill_after-th saved run;
       asserted: it died by SIGKILL and left no half-written file (no `.*.tmp`);
    2. after_kill(root/"killed"), if given: checks of what the kill left;
    3. rerun into the same folder (it resumes), asserted to exit 0;
    4. an uninterrupted run into root/"straight", asserted to exit 0.

    Returns (killed, resumed, straight): the three finished processes. Comparing the two
    folders' results is left to the test."""
    killed_folder, straight_folder = pathlib.Path(root) / "killed", pathlib.Path(root) / "straight"

    def run(out, kill=None):
        return run_reproduce(*args, "--out", out, env=env, block_tensorflow=block_tensorflow,
                             kill_after=kill)

    killed = run(killed_folder, kill_after)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert not list(killed_folder.rglob(".*.tmp"))  # every write finished or none
    if after_kill is not None:
        after_kill(killed_folder)
    resumed = run(killed_folder)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    straight = run(straight_folder)
    assert straight.returncode == 0, straight.stderr[-3000:]
    return killed, resumed, straight
