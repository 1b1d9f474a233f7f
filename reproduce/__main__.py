"""`python -m reproduce <figure>`: reproduce one figure of the paper, or `all` of them.

Installed from the wheel the same code is `tf-overparam reproduce <figure>` and
`python -m tf_overparam.reproduce <figure>`. The options, their checks and the exit status
(see `tf_overparam_cli.EXIT_STATUS_TEXT`) are shared with `tf-overparam`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pathlib
import re
import sys
import time
import traceback
import warnings
from typing import NamedTuple

from tf_overparam_cli import EXIT_FAILED
from tf_overparam_cli import EXIT_INTERRUPTED
from tf_overparam_cli import EXIT_MISSING_DATA
from tf_overparam_cli import check_arguments
from tf_overparam_cli import command_given
from tf_overparam_cli import command_line
from tf_overparam_cli import configure
from tf_overparam_cli import out_folder
from tf_overparam_cli import reproduce_parser

from . import PARTS
from . import figure_module
from .lab import progress
from .lab import records


class Outcome(NamedTuple):
    status: str            # "done", "skipped" or "failed"
    why: str               # one line
    missing_data: bool = False
    seconds: float = 0.0


def prog_name() -> str:
    """How this module is started here: `python -m reproduce` in a checkout,
    `python -m tf_overparam.reproduce` when installed."""
    return f"python -m {__package__}"


def main(argv=None, prog: str | None = None) -> int:
    """Parse `argv` and run; returns the exit status (see the module docstring)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    argv = sys.argv[1:] if argv is None else list(argv)
    prog = prog or prog_name()
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    check_arguments(parser, args)
    if args.show_config:
        print(show_config(args))
        return 0
    with command_given(prog, argv):
        return run(args)


def show_config(args) -> str:
    """Each part's config as it would run (`--quick` and `--set` applied), as JSON."""
    configs = {part: configure(part, args.quick, args.part_settings.get(part))
               for part in args.parts}
    return json.dumps(configs if len(configs) > 1 else next(iter(configs.values())), indent=1,
                      default=str)


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    return reproduce_parser(prog or prog_name())


def run(args: argparse.Namespace) -> int:
    """Run the parts `args` asks for; print a summary after `all`; return the exit status."""
    out_root = out_folder(args)
    if args.figure == ["report"]:
        from .experiments import report

        for what, path in report.run(out_root).items():
            print(f"{what}: {path}")
        return 0
    names = args.parts
    outcomes: dict[str, Outcome] = {}
    try:
        import keras  # noqa: F401 - inside: a Ctrl-C during the (slow) import is an interruption too

        with plain_warnings(), progress.bars(len(names)) as overall:
            for name in names:
                overall.start(name)
                outcomes[name] = run_part(name, out_root, args,
                                          seen=[o.why for o in outcomes.values()])
                overall.done()
    except KeyboardInterrupt:
        print(f"\nInterrupted: finished runs are kept in {out_root / '_runs'}; the same "
              "command resumes from them.", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    if len(names) > 1:
        print(summary(outcomes), flush=True)
    if args.pack:
        print(f"packed {pack(out_root, outcomes, args.pack)}", flush=True)
    return exit_status(outcomes.values())


def pack(out_root: pathlib.Path, outcomes: dict, target) -> pathlib.Path:
    """`target`/results.tar.gz: OUT/command.json (the command, device, versions, each part's
    outcome and time) and every part's folder without checkpoint files; returns its path."""
    import tarfile

    from .lab import provenance

    record = {"command": command_line(), "device": provenance.device_description(),
              "versions": provenance.software_versions(),
              "parts": {name: {"status": o.status, "why": o.why, "seconds": o.seconds}
                        for name, o in outcomes.items()}}
    records.write_json(out_root / "command.json", record)
    path = pathlib.Path(target) / "results.tar.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        archive.add(out_root / "command.json", arcname=f"{out_root.name}/command.json")
        for name in outcomes:
            for file in sorted((out_root / name).rglob("*")):
                if file.is_file() and "checkpoint" not in file.name:
                    archive.add(file, arcname=f"{out_root.name}/{file.relative_to(out_root)}")
    return path


@contextlib.contextmanager
def plain_warnings():
    """On the command line a warning (a state file moved aside, partial data) is one line,
    `  WARNING (<category>): <message>`, not Python's file, line and source line."""
    original = warnings.formatwarning
    warnings.formatwarning = (lambda message, category, *args, **kwargs:
                              f"  WARNING ({category.__name__}): {message}\n")
    try:
        yield
    finally:
        warnings.formatwarning = original


def run_part(name: str, out_root: pathlib.Path, args, seen=()) -> Outcome:
    """Run one part; report a missing-data error or a failure as an `Outcome`, not a crash.

    A missing-data error is the user's to fix and its message says how: shown alone (the
    traceback with --debug; once, when several parts hit the same one). Any other error is a
    bug or a broken environment: its traceback is always shown."""
    from tf_overparam.datasets import DataNotFoundError

    from .lab import runner  # here: it imports Keras, which must start on the chosen backend

    print(f"== {name} ==", flush=True)
    start = time.perf_counter()
    try:
        with runner.sharded(getattr(args, "shard", None)):
            document = figure_module(name).run(out_dir=out_root / name, data_dir=args.data_dir,
                                               quick=args.quick, settings=args.part_settings.get(name))
    except DataNotFoundError as error:
        why = f"data not found: {_data_named_in(error)}"
        if args.debug:
            traceback.print_exc()
        elif why not in seen:
            print(f"== {name}: skipped, data not found.\n{error}", file=sys.stderr, flush=True)
        else:
            print(f"== {name}: skipped, data not found (as above)", file=sys.stderr, flush=True)
        return Outcome("skipped", why, missing_data=True, seconds=time.perf_counter() - start)
    except Exception as error:  # noqa: BLE001 - `all` goes on with the next part
        traceback.print_exc()
        why = f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}"
        print(f"== {name}: failed ({why})", file=sys.stderr, flush=True)
        return Outcome("failed", why, seconds=time.perf_counter() - start)
    elapsed = time.perf_counter() - start
    shard = document.get("shard") if isinstance(document, dict) else None
    if shard:  # this shard's runs are done; the others' are not yet in the store
        why = (f"shard {shard['index']}/{shard['of']} done in {elapsed:.1f} s; "
               f"{shard['runs_missing']} run(s) left to the other shards: merge with the same "
               "command without --shard once every shard has finished")
        print(f"== {name}: {why}", flush=True)
        return Outcome("done", why, seconds=elapsed)
    print(f"== {name} done in {elapsed:.1f} s -> {out_root / name}", flush=True)
    return Outcome("done", f"{elapsed:.1f} s -> {out_root / name}", seconds=elapsed)


def _data_named_in(error) -> str:
    """The data set a loader's "Could not load <what> (<details>): ..." message names."""
    what = str(error).splitlines()[0].removeprefix("Could not load ")
    return re.split(r" \(|: ", what, maxsplit=1)[0][:100]


def summary(outcomes: dict[str, Outcome]) -> str:
    width = max(map(len, outcomes))
    rows = [f"  {name:<{width}}  {o.status:<7}  {o.why}" for name, o in outcomes.items()]
    counts = {s: sum(o.status == s for o in outcomes.values()) for s in ("done", "skipped",
                                                                          "failed")}
    return ("\nSummary: " + ", ".join(f"{n} {s}" for s, n in counts.items()) + "\n"
            + "\n".join(rows))


def exit_status(outcomes) -> int:
    trouble = [o for o in outcomes if o.status != "done"]
    if not trouble:
        return 0
    return EXIT_MISSING_DATA if all(o.missing_data for o in trouble) else EXIT_FAILED


def exit_process(status: int) -> None:
    """Leave the process with `status`. After Ctrl-C, without waiting for worker threads still
    training (minutes): let a file write in progress finish, allow no new one, and go."""
    if status != EXIT_INTERRUPTED:
        sys.exit(status)
    records.stop_writes()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    exit_process(main())
