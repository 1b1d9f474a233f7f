"""The command line behaves: `--help` lists the figures and answers without importing Keras,
bad options are refused before any work (exit 2), missing data is one message and exit 3, `all`
ends with a summary, progress is bars on a terminal (fitting 80 columns) and lines elsewhere,
Ctrl-C exits 130 leaving finished runs, no half-written file and no final-looking JSON. Offline:
data folders are empty ones or the real data root."""

import io
import json
import os
import pathlib
import pty
import re
import select
import shlex
import signal
import subprocess
import sys
import time
import types

import pytest
from rich.cells import cell_len
from helpers import ROOT
from helpers import reproduce_command
from rich.console import Console

import reproduce
import tf_overparam_cli
from reproduce import __main__ as cli
from reproduce.lab import configs
from reproduce.lab import progress
from reproduce.lab import run_store
from tf_overparam.datasets import DataNotFoundError


def offline_env(tmp_path, **extra):
    """The environment of a subprocess that finds no data and could not download any: the data
    folder and the cache are empty folders (a named folder is never downloaded into)."""
    empty = tmp_path / "empty"
    empty.mkdir(exist_ok=True)
    env = {**os.environ, "TF_OVERPARAM_DATA_DIR": str(empty),
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONUNBUFFERED": "1", **extra}
    env.pop(run_store.KILL_AFTER_SAVES, None)
    return env, empty


# ---- --help and the figure table ---------------------------------------------------------------

def test_help_lists_every_figure_with_what_it_shows_and_its_time(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    for name, part in reproduce.PARTS.items():
        line = next(line for line in text.splitlines() if line.strip().startswith(name + " "))
        assert part.shows in line, name
        assert f"full settings: {part.full_time}" in text, name
    assert "exit status" in text and "130" in text
    for status in ("0 all done", "1 a part failed", "2 usage error", "3 data missing", "130"):
        assert status in " ".join(text.split()), status


def test_help_and_list_import_neither_keras_nor_tensorflow():
    code = ("import sys, contextlib, io, tf_overparam_cli\n"
            "for argv in (['list'], ['--help'], ['reproduce', '--help']):\n"
            "    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
            "        tf_overparam_cli.main(argv)\n"
            "print(sorted(m for m in ('keras', 'tensorflow', 'jax', 'torch', 'tf_overparam') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_the_figure_table_has_every_module_and_the_measured_times():
    assert list(reproduce.PARTS)[0] == "theory" and list(reproduce.PARTS)[-1] == "datasets"
    assert reproduce.PARTS["figure3"].full_time == "203 s"
    for name in reproduce.PARTS:
        assert (ROOT / "reproduce" / "experiments" / f"{name}.py").is_file(), name
    with pytest.raises(ValueError, match="figure must be one of"):
        reproduce.figure_module("figure9")


def test_each_figures_help_says_what_it_answers_its_time_an_example_and_its_docs_page(capsys):
    for name, part in reproduce.PARTS.items():
        with pytest.raises(SystemExit) as exit_:
            tf_overparam_cli.main(["reproduce", name, "--help"])
        assert exit_.value.code == 0
        text = capsys.readouterr().out
        assert text.startswith(f"tf-overparam reproduce {name}: {part.shows}"), name
        assert " ".join(part.question.split()) in " ".join(text.split()), name
        assert part.full_time in text and "--quick" in text, name
        assert f"tf-overparam reproduce {part.example}" in text, name
        assert f"docs/{part.page}" in text and (ROOT / "docs" / part.page).is_file(), name
    # Two figures, or none: the command's whole help.
    for argv in (["reproduce", "figure2", "figure3", "--help"], ["reproduce", "--help"]):
        with pytest.raises(SystemExit):
            tf_overparam_cli.main(argv)
        assert "--set [FIGURE:]KEY=VALUE" in capsys.readouterr().out


@pytest.mark.parametrize("part", list(reproduce.PARTS))
def test_each_figures_example_command_is_valid(part, capsys):
    """The example a figure's help prints passes the option checks, and its settings apply."""
    argv = shlex.split(reproduce.PARTS[part].example)
    if "--backend" in argv:  # a valid choice; this process's Keras has its backend already
        at = argv.index("--backend")
        assert argv.pop(at + 1) in tf_overparam_cli.BACKENDS
        argv.pop(at)
    assert cli.main([*argv, "--show-config"]) == 0
    config = json.loads(capsys.readouterr().out)
    settings = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--set"]
    assert settings
    for setting in settings:
        key, expected = configs.parse_setting(setting)
        value = config
        for step in key.split("."):
            value = value[step]
        assert value == expected, setting


def test_the_top_help_teaches_with_examples_and_the_docs():
    done = subprocess.run([sys.executable, "tf_overparam_cli.py", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert "tf-overparam reproduce figure3 --quick" in done.stdout
    page = re.search(r"docs/(\S+\.md)", done.stdout).group(1)
    assert (ROOT / "docs" / page).is_file()


# ---- settings -----------------------------------------------------------------------------------

def test_show_config_prints_the_config_with_the_settings_and_runs_nothing(tmp_path, capsys):
    status = cli.main(["figure3", "--quick", "--set", "steps=50", "--set", "learning_rates=[1e-3]",
                       "--show-config", "--out", str(tmp_path / "out")])
    assert status == 0
    config = json.loads(capsys.readouterr().out)
    assert config["steps"] == 50 and config["learning_rates"] == [1e-3]
    assert config["losses"] == [2, 4]  # the rest as --quick has it
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("part", list(reproduce.PARTS))
def test_every_part_shows_its_config_and_takes_settings(part, capsys):
    """--show-config and --set work for every experiment: the first setting changed shows."""
    assert cli.main([part, "--quick", "--show-config"]) == 0
    config = json.loads(capsys.readouterr().out)

    def integers(mapping, path=()):  # (dotted key, value) of every integer setting
        for key, value in mapping.items():
            if isinstance(value, dict):
                yield from integers(value, path + (key,))
            elif isinstance(value, int) and not isinstance(value, bool):
                yield ".".join(path + (key,)), value

    key, value = next(integers(config))
    assert cli.main([part, "--quick", "--set", f"{key}={value + 1}", "--show-config"]) == 0
    changed = json.loads(capsys.readouterr().out)
    for step in key.split("."):
        changed = changed[step]
    assert changed == value + 1


def test_settings_reach_the_run_and_its_json(tmp_path, shared_data_dir):
    out = tmp_path / "out"
    assert cli.main(["figure4_right", "--quick", "--set", "steps=60", "--set", "record_every=20",
                     "--out", str(out), "--data-dir", str(shared_data_dir)]) == 0
    record = json.loads((out / "figure4_right" / "figure4_right.json").read_text())
    assert record["settings"] == {"steps": 60, "record_every": 20}
    assert record["config"]["steps"] == 60
    assert all(run["settings"]["steps"] == 60 for run in record["runs"].values())
    assert record["command"].endswith("--set steps=60 --set record_every=20 --out "
                                      f"{out} --data-dir {shared_data_dir}")


@pytest.mark.parametrize("argv, message", [
    (["figure3", "--set", "steps=2.5"], "setting 'steps' must be an integer (like 100000), got 2.5"),
    (["figure3", "--set", "normalisation=minmax"], "no setting 'normalisation'; settings: data, depths, "),
    (["atlas", "--set", "adam.beta=1"], "no setting 'adam.beta' of 'adam'"),
    (["report", "--set", "steps=1"], "report has no settings"),
    (["theory", "figure3", "--set", "theory:steps=1"], "--set for theory: no setting 'steps'"),
])
def test_bad_settings_are_usage_errors_naming_the_valid_keys(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv + ["--out", str(tmp_path / "out")])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# ---- missing data -----------------------------------------------------------------------------

def test_missing_data_is_one_message_and_exit_3_without_traceback(tmp_path):
    env, empty = offline_env(tmp_path)
    done = subprocess.run(reproduce_command("figure3", "--quick", "--out", tmp_path / "out",
                                            "--data-dir", empty),
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 3, done.stderr[-3000:]
    assert "Traceback" not in done.stderr + done.stdout
    assert "Could not load the UCI gas-sensor drift batch files" in done.stderr
    assert f"{empty} (data_dir argument): no such files" in done.stderr
    assert "python -m pydoc tf_overparam.datasets" in done.stderr
    assert "\x1b[" not in done.stdout + done.stderr  # not a terminal: no bars, no colours
    assert not (tmp_path / "out" / "figure3").exists()  # nothing found, nothing made


@pytest.mark.parametrize("case", ["a file", "under a file", "not writable"])
def test_a_bad_out_is_a_usage_error_before_any_work(tmp_path, capsys, case):
    file = tmp_path / "taken"
    file.write_text("")
    # /proc takes no new files, not even from root (a chmod'ed folder would not stop root).
    out, expected = {"a file": (file, "is a file, not a folder"),
                     "under a file": (file / "sub", "cannot be created"),
                     "not writable": (pathlib.Path("/proc/tf_overparam_out"), "is not writable")}[case]
    with pytest.raises(SystemExit) as exit_:
        cli.main(["theory", "--quick", "--out", str(out)])
    assert exit_.value.code == tf_overparam_cli.EXIT_USAGE == 2
    err = capsys.readouterr().err
    assert f"--out {str(out)!r} {expected}" in err
    assert [p.name for p in tmp_path.iterdir()] == ["taken"] and file.read_text() == ""


def test_debug_shows_the_traceback(tmp_path, capsys, monkeypatch):
    env, empty = offline_env(tmp_path)
    monkeypatch.setenv("TF_OVERPARAM_DATA_DIR", str(empty))
    status = cli.main(["figure3", "--quick", "--out", str(tmp_path / "out"), "--data-dir",
                       str(empty), "--debug"])
    assert status == 3
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "DataNotFoundError" in err


# ---- all: a summary, and the exit status --------------------------------------------------------

def test_all_quick_without_data_runs_the_theory_and_says_what_it_skipped(tmp_path, capsys,
                                                                         monkeypatch):
    env, empty = offline_env(tmp_path)
    monkeypatch.setenv("TF_OVERPARAM_DATA_DIR", str(empty))
    status = cli.main(["all", "--quick", "--out", str(tmp_path / "out"), "--data-dir",
                       str(empty)])
    assert status == 3  # only missing data went wrong
    skipped = len(reproduce.PARTS) - 1
    rows = summary_rows(capsys.readouterr().out, f"Summary: 1 done, {skipped} skipped, 0 failed")
    assert list(rows) == list(reproduce.PARTS)
    assert "done" in rows["theory"] and (tmp_path / "out" / "theory" / "theory.json").is_file()
    record = json.loads((tmp_path / "out" / "theory" / "theory.json").read_text())
    assert record["command"] == (f"python -m reproduce all --quick --out {tmp_path / 'out'} "
                                 f"--data-dir {empty}")  # as given, options included
    assert record["complete"] is True
    assert not (tmp_path / "out" / "theory" / "theory.partial.json").exists()
    assert tf_overparam_cli.command_line() is None  # only while the command runs
    for name in ("figure2", "figure3", "figure4_left", "figure4_right", "figure5_left",
                 "atlas"):
        assert "skipped  data not found: the UCI gas-sensor drift batch files" in rows[name]
    assert "skipped  data not found: MNIST" in rows["figure5_right"]
    assert "skipped  data not found" in rows["conv_overparam"]


def summary_rows(out: str, heading: str) -> dict:
    """{part: its summary row} of the summary that starts with `heading`."""
    return {line.split()[0]: line for line in out[out.index(heading):].splitlines()[1:]}


def test_all_goes_on_after_a_failure_and_exits_1(tmp_path, capsys, monkeypatch):
    def part(error=None):
        def run(out_dir, data_dir, quick, settings=None):
            if error is not None:
                raise error
            return {}
        return types.SimpleNamespace(run=run)

    parts = {"theory": part(), "figure2": part(RuntimeError("boom\nsecond line")),
             "figure3": part(DataNotFoundError("Could not load MNIST (files): none found."))}
    monkeypatch.setattr(cli, "PARTS", dict.fromkeys(parts))
    monkeypatch.setattr(cli, "figure_module", parts.__getitem__)
    args = cli.build_parser().parse_args(["all", "--out", str(tmp_path)])
    args.parts, args.part_settings = list(parts), {}  # what the option checks set for `all`
    assert cli.run(args) == 1
    captured = capsys.readouterr()
    rows = summary_rows(captured.out, "Summary: 1 done, 1 skipped, 1 failed")
    assert rows["theory"].split()[1] == "done"
    assert rows["figure2"].split(None, 1)[1] == "failed   RuntimeError: boom"
    assert rows["figure3"].split(None, 1)[1] == "skipped  data not found: MNIST"
    assert "Traceback" in captured.err and "RuntimeError: boom" in captured.err  # a bug: shown


def test_exit_status():
    done, data = cli.Outcome("done", ""), cli.Outcome("skipped", "data", missing_data=True)
    assert cli.exit_status([done, done]) == 0
    assert cli.exit_status([done, data]) == 3
    assert cli.exit_status([data, cli.Outcome("skipped", "needs TensorFlow")]) == 1
    assert cli.exit_status([done, cli.Outcome("failed", "ValueError: x")]) == 1


# ---- progress: bars on a terminal, lines elsewhere ---------------------------------------------

def test_on_a_terminal_the_bars_are_drawn():
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=140, color_system=None)
    with progress.bars(3, console) as overall:
        overall.start("figure3")
        run = progress.RunProgress("l4 GD depth 2", 10_000, intro="(not printed on a terminal)")
        run.update(2_000, 10_000, "2 configuration(s) running")
        time.sleep(0.05)
        run.update(4_000, 10_000, "2 configuration(s) running")
        progress._live.refresh()  # draw now, not at the next 1/4 s tick
        run.finish("    l4 GD depth 2: done in 1.0 s")
        overall.done()
    text = buffer.getvalue()
    assert "figure3 (parts done)" in text and "1/3" in text
    assert "l4 GD depth 2" in text and "4000/10000" in text
    assert "it/s" in text and "left" in text and "━" in text
    assert "l4 GD depth 2: done in 1.0 s" in text
    assert "(not printed on a terminal)" not in text
    assert progress._live is None


def test_at_80_columns_every_number_is_shown_whole():
    """Only the label gives way: count, speed and times stay whole on one line each."""
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=80, color_system=None)
    label = "l4 GD depth 8 identity init, lr 0.0005, seeds 3, 4"
    with progress.bars(9, console) as overall:
        overall.start("figure5_left")
        run = progress.RunProgress(label, 100_000, intro="")
        run.update(20_000, 100_000, "")
        time.sleep(0.3)
        run.update(40_000, 100_000, "")
        progress._live.refresh()
        run.close()
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "\n", buffer.getvalue())
    line = [line for line in re.split(r"[\r\n]", text) if "40000/100000" in line][-1]
    assert cell_len(line) <= 80, line
    assert re.search(r" [0-9,]+ it/s ", line) and re.search(r"left [0-9:]+$", line.rstrip()), line
    assert "…" in line and label not in line  # the label, and only the label, was cut


def test_without_a_terminal_plain_lines(capsys, monkeypatch):
    monkeypatch.setattr(progress, "PLAIN_EVERY_S", 0.0)
    with progress.bars(2, Console(file=io.StringIO())) as overall:  # not a terminal: inert
        overall.start("figure3")
        run = progress.RunProgress("l4 GD depth 2", 10_000, intro="  [figure3] l4 GD depth 2: …")
        run.update(4_000, 10_000, "2 configuration(s) running")
        run.finish("    l4 GD depth 2: done in 1.0 s")
        overall.done()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "  [figure3] l4 GD depth 2: …"
    assert lines[1].startswith("    l4 GD depth 2: 4,000/10,000 iterations, 2 configuration(s) "
                               "running, ")
    assert lines[2] == "    l4 GD depth 2: done in 1.0 s"


def test_a_figure_in_a_pseudo_terminal_draws_its_bars(tmp_path, shared_data_dir):
    env, _ = offline_env(tmp_path, COLUMNS="140", TERM="xterm")
    controller, terminal = pty.openpty()
    process = subprocess.Popen(reproduce_command("figure4_right", "--quick", "--out",
                                                 tmp_path / "out", "--data-dir",
                                                 shared_data_dir),
                               cwd=ROOT, env=env, stdin=terminal, stdout=terminal,
                               stderr=terminal)
    os.close(terminal)
    output = b""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(controller, 1 << 16)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    os.close(controller)
    assert process.wait(timeout=60) == 0, output[-3000:]
    text = output.decode("utf-8", "replace")
    assert "━" in text and "\x1b[" in text  # drawn, with cursor control
    assert "figure4_right (parts done)" in text
    assert "l4 Adam depth 3" in text and "/400" in text  # a trainer run's bar
    assert "l4 Adam depth 3: done in" in text
    assert (tmp_path / "out" / "figure4_right" / "figure4_right.png").is_file()


# ---- Ctrl-C ------------------------------------------------------------------------------------

def _interrupted_cleanly(done, out):
    assert done.returncode == 130, done.stderr[-3000:]
    assert "Interrupted: finished runs are kept in" in done.stderr
    assert "Traceback" not in done.stderr
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp") or ".tmp." in p.name]


def test_ctrl_c_during_the_theory_exits_130_with_nothing_half_written(tmp_path):
    env, _ = offline_env(tmp_path)
    out = tmp_path / "out"
    process = subprocess.Popen(reproduce_command("theory", "--quick", "--out", out), cwd=ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, preexec_fn=lambda: signal.signal(signal.SIGINT,
                                                                           signal.SIG_DFL))
    lines = []
    for line in process.stdout:  # two of its four parts are over (the first recorded): stop
        lines.append(line)
        if line.startswith("  two_point:"):
            process.send_signal(signal.SIGINT)
            break
    stdout, stderr = process.communicate(timeout=120)
    done = subprocess.CompletedProcess(process.args, process.returncode, "".join(lines) + stdout,
                                       stderr)
    _interrupted_cleanly(done, out)
    assert "== theory done" not in done.stdout
    # No final-looking record: the interim one says it is not complete.
    assert not (out / "theory" / "theory.json").exists()
    interim = json.loads((out / "theory" / "theory.partial.json").read_text())
    assert interim["complete"] is False and "warmup" in interim["runs"] and "theorem2" not in interim["runs"]


def test_ctrl_c_between_runs_keeps_the_finished_runs(tmp_path, shared_data_dir):
    # SIGINT sent by the process itself right after its first run was saved, while the other
    # worker is still training: deterministic, unlike a timer.
    env, _ = offline_env(tmp_path, **{run_store.INTERRUPT_AFTER_SAVES: "1"})
    out = tmp_path / "out"
    done = subprocess.run(reproduce_command("figure4_right", "--quick", "--out", out,
                                            "--data-dir", shared_data_dir),
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    _interrupted_cleanly(done, out)
    stored = [p for p in (out / "_runs").glob("*.npz") if not p.name.startswith("optimum")]
    assert 1 <= len(stored) < 3  # figure4_right --quick has three runs
    for path in stored:  # complete entries, readable as the store reads them
        entry = run_store._read_npz(path)
        assert entry["losses"].ndim == 2 and entry["info"]["spec_key"] == path.stem
