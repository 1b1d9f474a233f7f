"""`python -m reproduce <figure>`: reproduce one figure of the paper, or `all` of them.

Installed from the wheel the same code is `tf-overparam reproduce <figure>`. Exit status: 0 when
every part asked for was done; 2 when the only problem was missing data; 1 otherwise (a part
failed, or was skipped for another reason); 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import re
import sys
import textwrap
import time
import traceback
from typing import NamedTuple

from . import NEEDS_TENSORFLOW
from . import PARTS
from . import figure_module
from . import parts_table
from . import progress
from . import records

EXIT_FAILED, EXIT_MISSING_DATA, EXIT_INTERRUPTED = 1, 2, 130

DESCRIPTION = ("Reproduce the figures of Arora, Cohen & Hazan, ICML 2018, into OUT/<figure>/ "
               "(PNG, PDF and a JSON of every setting and number). Finished runs are kept in "
               "OUT/_runs/, so an interrupted command resumes where it stopped.")
EPILOG = (parts_table() + "\n  all            every part above, in this order, then a summary"
          "\n\nexit status: 0 all done; 2 data missing (and nothing else wrong); 1 a part "
          "failed or was skipped; 130 interrupted (Ctrl-C).")


class Outcome(NamedTuple):
    status: str            # "done", "skipped" or "failed"
    why: str               # one line
    missing_data: bool = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the reproduce command (shared with `tf-overparam reproduce`)."""
    parser.add_argument("figure", choices=["all", *PARTS], metavar="FIGURE",
                        help="one of the figures listed below, or all")
    parser.add_argument("--quick", action="store_true", help="tiny settings (seconds), for CI")
    parser.add_argument("--out", default=None, help="output folder (default: results/, or "
                        "results_quick/ with --quick)")
    parser.add_argument("--data-dir", default=None, help="folder with gas_sensor_drift/ and "
                        "mnist/ (or the files themselves); default: $TF_OVERPARAM_DATA_DIR, then "
                        "the cache, then download")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of a missing-data error too")


def build_parser(prog: str = "python -m reproduce") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=textwrap.fill(DESCRIPTION, 79),
                                     epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return parser


def main(argv=None, prog: str = "python -m reproduce") -> int:
    """Parse `argv` and run; returns the exit status (see the module docstring)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    parser = build_parser(prog)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    check_arguments(parser, args)
    return run(args)


def check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse what argparse cannot check, before any figure runs or writes anything."""
    if args.data_dir is not None and not pathlib.Path(args.data_dir).is_dir():
        parser.error(f"--data-dir {args.data_dir!r} is not a folder")


def run(args: argparse.Namespace) -> int:
    """Run the parts `args` asks for; print a summary after `all`; return the exit status."""
    out_root = pathlib.Path(args.out or ("results_quick" if args.quick else "results"))
    names = list(PARTS) if args.figure == "all" else [args.figure]
    outcomes: dict[str, Outcome] = {}
    try:
        import keras  # inside: a Ctrl-C during the (slow) import is an interruption too

        with progress.bars(len(names)) as overall:
            for name in names:
                overall.start(name)
                outcomes[name] = run_part(name, out_root, args, keras.backend.backend(),
                                          seen=[o.why for o in outcomes.values()])
                overall.done()
    except KeyboardInterrupt:
        print(f"\nInterrupted: finished runs are kept in {out_root / '_runs'}; the same "
              "command resumes from them.", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    if len(names) > 1:
        print(summary(outcomes), flush=True)
    return exit_status(outcomes.values())


def run_part(name: str, out_root: pathlib.Path, args, backend: str, seen=()) -> Outcome:
    """Run one part; report a missing-data error or a failure as an `Outcome`, not a crash.

    A missing-data error is the user's to fix and its message says how: shown alone (the
    traceback with --debug; once, when several parts hit the same one). Any other error is a
    bug or a broken environment: its traceback is always shown."""
    from tf_overparam.datasets import DataNotFoundError

    if name in NEEDS_TENSORFLOW and backend != "tensorflow":
        why = f"needs the TensorFlow backend (KERAS_BACKEND=tensorflow); this is {backend!r}"
        print(f"== {name}: skipped, it {why}", file=sys.stderr, flush=True)
        return Outcome("skipped", why)
    print(f"== {name} ==", flush=True)
    start = time.perf_counter()
    try:
        figure_module(name).run(out_dir=out_root / name, data_dir=args.data_dir,
                                quick=args.quick)
    except DataNotFoundError as error:
        why = f"data not found: {_data_named_in(error)}"
        if args.debug:
            traceback.print_exc()
        elif why not in seen:
            print(f"== {name}: skipped, data not found.\n{error}", file=sys.stderr, flush=True)
        else:
            print(f"== {name}: skipped, data not found (as above)", file=sys.stderr, flush=True)
        return Outcome("skipped", why, missing_data=True)
    except Exception as error:  # noqa: BLE001 - `all` goes on with the next part
        traceback.print_exc()
        why = f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}"
        print(f"== {name}: failed ({why})", file=sys.stderr, flush=True)
        return Outcome("failed", why)
    elapsed = time.perf_counter() - start
    print(f"== {name} done in {elapsed:.1f} s -> {out_root / name}", flush=True)
    return Outcome("done", f"{elapsed:.1f} s -> {out_root / name}")


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
