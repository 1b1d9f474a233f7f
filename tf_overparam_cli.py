"""The `tf-overparam` command: `reproduce <figure>`, `list`, `info`; and what every way of
starting the reproduction shares: the figure table, the options, their checks, the exit codes.

A top-level module on purpose: importing anything inside `tf_overparam` imports Keras and with it
TensorFlow (seconds), which `--help` and `list` do not need. Nothing heavy is imported here at
module level; `reproduce` and `info` import what they use.

`tf-overparam reproduce` runs the experiments package: `tf_overparam.reproduce` when installed
(also `python -m tf_overparam.reproduce`), the folder `reproduce/` in a checkout without an
install (`python -m reproduce`).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.metadata
import os
import pathlib
import platform
import sys
import tempfile
import textwrap
from typing import NamedTuple

# ---- the figure table -------------------------------------------------------------------------


class Part(NamedTuple):
    """One part of the reproduction: its module is `<experiments package>.<name>`."""

    shows: str       # one line: what it shows
    full_time: str   # measured with the full settings on the project's 2-core CPU, empty run store
    question: str    # what a reader learns from it, in a sentence or two
    example: str     # a command beyond the defaults (arguments after `reproduce`)
    page: str        # its page in the documentation (docs/)


#: name -> Part, in the order `all` runs them (cheap and data-free first).
PARTS = {
    "theory": Part(
        "Sections 3 and 7, Claim 1, Theorem 2, computed (no data needed)", "23 s",
        "Why depth acts as a preconditioner: the end-to-end update (Eq. 9/11), the Kronecker "
        "form of Claim 1, and Theorem 2's proof that no regularizer yields it, each computed.",
        "theory --set claim1.depths=[1,2,4]", "theory.md"),
    "figure2": Part(
        "the end-to-end rule (Eq. 11) emulates deep GD; width 1 vs 100 (Ethanol)", "167 s",
        "Does the end-to-end rule on a shallow model follow actual gradient descent on a deep "
        "one? Compares both loss curves, narrow and wide hidden layers, l2 and l4.",
        "figure2 --set steps=10000 --set seeds=[0,1]", "regression_figures.md"),
    "figure3": Part(
        "l2 vs l4 regression at depths 1, 2, 3: depth accelerates l4 (Ethanol)", "203 s",
        "The paper's main experiment: with each depth's best learning rate, does depth speed up "
        "gradient descent for l4 regression (and not for l2)?",
        "figure3 --set steps=25000 --set losses=[4]", "regression_figures.md"),
    "figure4_left": Part(
        "depth-3 GD against AdaGrad and AdaDelta, l4 (Ethanol)", "113 s",
        "Is depth's acceleration more than a well-tuned adaptive method gives a shallow model?",
        "figure4_left --set seeds=[0]", "regression_figures.md"),
    "figure4_right": Part(
        "Adam with and without depth, l4 (Ethanol)", "42 s",
        "Does depth still accelerate when the optimizer is Adam instead of plain GD?",
        "figure4_right --set learning_rate=0.0005", "regression_figures.md"),
    "figure5_left": Part(
        "near-zero vs identity initialization at depths 4 and 8 (Ethanol)", "167 s",
        "How depth 8 and the identity initialization change the picture: where deeper stops "
        "helping.",
        "figure5_left --set steps=50000", "regression_figures.md"),
    "figure5_right": Part(
        "the MNIST convnet with overparameterized dense layers (any backend)",
        "4 models × 5 seeds: 11 min per run, 70 for the emulated model",
        "Beyond linear models: does overparameterizing a convnet's dense layers speed up its "
        "training on MNIST, and does the end-to-end rule emulate it?",
        "figure5_right --backend jax --set seeds=2", "figure5_right.md"),
    "conv_overparam": Part(
        "beyond the paper: overparameterized convolutions, MNIST and "
        "Fashion-MNIST, 3 seeds, 600 steps", "31 min (on a shared CPU)",
        "Beyond the paper: the same question for convolution kernels (OverparamConv2D), with "
        "the trained model collapsed back to plain Keras layers.",
        "conv_overparam --set \"datasets=['mnist']\" --set seeds=[0]", "convolutions.md"),
    "atlas": Part(
        "every regression claim over normalizations, selection rules, horizons, grids",
        "46 min after the figures (reuses their runs)",
        "How robust is each of the paper's regression claims to the settings the paper leaves "
        "open? Each claim's verdict in every cell, with its definition.",
        "atlas --set horizons=[25000,100000]", "atlas.md"),
    "datasets": Part(
        "the regression claims on Ethanol and four more UCI regression sets",
        "49 min after the atlas (reuses its Ethanol runs)",
        "Does depth accelerate gradient descent beyond Ethanol? Each claim's verdict on five "
        "public regression sets, with the atlas's axes and definitions, and which simple "
        "statistic of a set tells where it holds.",
        "datasets --set \"data_sets=['concrete','wine']\"", "beyond_ethanol.md"),
}

#: Where a part's help points: the documentation site, built from docs/ (mkdocs.yml).
DOCS = "the documentation (docs/{page}; `mkdocs serve` in a checkout shows the site)"


def parts_table() -> str:
    """The figure table as text: name, measured full-setting time, what it shows."""
    width = max(map(len, PARTS))
    lines = [f"  {name:<{width}}  {part.shows}\n  {'':<{width}}  full settings: {part.full_time}"
             for name, part in PARTS.items()]
    return ("figures (times measured with the full settings on a 2-core CPU; --quick runs "
            "each in seconds):\n" + "\n".join(lines))


def part_help(prog: str, name: str) -> str:
    """One part's help: what it shows and answers, its time, example commands, its docs page."""
    part = PARTS[name]
    return "\n".join([
        f"{prog} {name}: {part.shows}", "",
        textwrap.fill(part.question, 79), "",
        f"time with the full settings on a 2-core CPU: {part.full_time}; with --quick: seconds",
        "examples:",
        f"  {prog} {name} --quick            tiny settings, to see it work",
        f"  {prog} {name} --show-config      every setting, as JSON",
        f"  {prog} {part.example}",
        f"docs: {DOCS.format(page=part.page)}",
        f"all options: {prog} --help"])


class PartHelp(argparse.Action):
    """-h/--help: the part's own help after one FIGURE, the command's help otherwise."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                 help="show this help (after one FIGURE: that figure's help) and exit"):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        named = [n for n in getattr(namespace, "figure", None) or [] if n in PARTS]
        print(part_help(parser.prog, named[0]) if len(named) == 1 else parser.format_help())
        parser.exit()


# ---- the reproduce options, their checks and the exit status ------------------------------------

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_MISSING_DATA, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

DESCRIPTION = ("Reproduce the figures of Arora, Cohen & Hazan, ICML 2018, into OUT/<figure>/ "
               "(PNG, PDF and a JSON of every setting and number). Finished runs are kept in "
               "OUT/_runs/, so an interrupted command resumes where it stopped.")
EXIT_STATUS_TEXT = ("exit status: 0 all done; 1 a part failed or was skipped; 2 usage error (a "
                    "bad option, nothing run); 3 data missing (and nothing else wrong); 130 "
                    "interrupted (Ctrl-C).")
EPILOG = (parts_table() + "\n  all            every part above, in this order, then a summary"
          "\n  report         no training: the README's verdict section and docs/results.md,"
          "\n                 written from OUT's JSON files"
          "\n\nsettings: --set KEY=VALUE changes one setting of the config (see --show-config) of"
          "\nevery FIGURE named, --set FIGURE:KEY=VALUE of one; VALUE is JSON or a Python literal"
          "\n(a bare word is a string), KEY may be dotted into a mapping (adam.learning_rate)."
          "\nExamples:\n  reproduce figure3 --set steps=25000 --set learning_rates=[1e-3,1e-2]"
          "\n  reproduce figure5_right figure4_right --backend jax --set figure5_right:seeds=2"
          "\n\nOne figure's help (what it answers, its time, examples, its docs page):"
          "\n  reproduce figure3 --help"
          "\n\n" + textwrap.fill(EXIT_STATUS_TEXT, 79))

BACKENDS = ("tensorflow", "jax", "torch")
SINGLE = ("all", "report")  # names that stand alone


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the reproduce command (every way of starting it); made with add_help=False."""
    parser.add_argument("-h", "--help", action=PartHelp)
    parser.add_argument("figure", nargs="+", choices=["all", *PARTS, "report"], metavar="FIGURE",
                        help="one or more of the figures listed below, all, or report")
    parser.add_argument("--quick", action="store_true", help="tiny settings (seconds), for CI")
    parser.add_argument("--out", default=None, help="output folder (default: results/, or "
                        "results_quick/ with --quick)")
    parser.add_argument("--data-dir", default=None, help="folder with gas_sensor_drift/ and "
                        "mnist/ (or the files themselves); default: $TF_OVERPARAM_DATA_DIR, then "
                        "the cache, then download")
    parser.add_argument("--set", dest="settings", action="append", default=[],
                        metavar="[FIGURE:]KEY=VALUE", help="change a setting (repeatable)")
    parser.add_argument("--show-config", action="store_true",
                        help="print each FIGURE's config (settings applied) as JSON and exit")
    parser.add_argument("--backend", choices=BACKENDS, default=None,
                        help="the Keras backend (default: $KERAS_BACKEND, else tensorflow)")
    parser.add_argument("--pack", default=None, metavar="DIR",
                        help="also write DIR/results.tar.gz: the parts' folders without "
                        "checkpoints, and command.json (device, versions, each part's time)")
    parser.add_argument("--shard", default=None, metavar="I/N",
                        help="compute only shard I of N (0 ≤ I < N) of each part's runs, for array "
                        "jobs sharing OUT; then run the same command without --shard to merge")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of a missing-data error too")


def reproduce_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=textwrap.fill(DESCRIPTION, 79),
                                     epilog=EPILOG, add_help=False,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return parser


def out_folder(args: argparse.Namespace) -> pathlib.Path:
    return pathlib.Path(args.out or ("results_quick" if args.quick else "results"))


def check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse what argparse cannot check, before any figure runs or writes anything (exit 2).
    Sets the Keras backend asked for, and `args.parts` (the parts to run) and
    `args.part_settings` ({part: {key: value}}, each checked against the part's config)."""
    names = list(dict.fromkeys(args.figure))
    lone = [name for name in names if name in SINGLE]
    if lone and len(names) > 1:
        parser.error(f"{lone[0]!r} stands alone; got {' '.join(args.figure)}")
    if args.data_dir is not None and not pathlib.Path(args.data_dir).is_dir():
        parser.error(f"--data-dir {args.data_dir!r} is not a folder")
    problem = unwritable_folder(out_folder(args))
    if problem:
        parser.error(f"--out {str(out_folder(args))!r} {problem}")
    if args.pack is not None and unwritable_folder(pathlib.Path(args.pack)):
        parser.error(f"--pack {args.pack!r} {unwritable_folder(pathlib.Path(args.pack))}")
    if args.backend is not None:
        if "keras" in sys.modules and sys.modules["keras"].backend.backend() != args.backend:
            parser.error(f"--backend {args.backend}: Keras is already running on "
                         f"{sys.modules['keras'].backend.backend()} in this process")
        os.environ["KERAS_BACKEND"] = args.backend
    args.shard = parse_shard(parser, args.shard, names)
    args.parts = list(PARTS) if names == ["all"] else [n for n in names if n != "report"]
    args.part_settings = {}
    if args.settings and names == ["report"]:
        parser.error("--set: report has no settings")
    if not args.settings and not args.show_config:
        return
    try:
        args.part_settings = split_settings(args.settings, args.parts)
        for part in args.parts:
            configure(part, args.quick, args.part_settings.get(part))
    except ValueError as error:
        parser.error(str(error))


def parse_shard(parser, text, names):
    """"I/N" → (I, N) with 0 ≤ I < N; None stays None; anything else is a usage error."""
    if text is None:
        return None
    if names == ["report"]:
        parser.error("--shard: report trains nothing to share out")
    index, slash, count = text.partition("/")
    if not (slash and index.strip().isdigit() and count.strip().isdigit()
            and 0 <= int(index) < int(count)):
        parser.error(f"--shard wants I/N with whole numbers 0 ≤ I < N (e.g. 0/4 … 3/4), got {text!r}")
    return int(index), int(count)


def split_settings(texts, parts) -> dict:
    """["[FIGURE:]KEY=VALUE", …] → {part: {key: value}}; a key without a FIGURE goes to every
    part. ValueError for a malformed one or a FIGURE not among `parts`."""
    configs = importlib.import_module(experiments().__name__ + ".lab.configs")
    settings = {part: {} for part in parts}
    for text in texts:
        target, colon, rest = text.partition(":")
        if colon and "=" not in target:
            if target not in parts:
                raise ValueError(f"--set {text!r}: {target!r} is not among the figures named "
                                 f"({', '.join(parts)})")
            key, value = configs.parse_setting(rest)
            settings[target][key] = value
        else:
            key, value = configs.parse_setting(text)
            for part in parts:
                settings[part][key] = value
    return {part: values for part, values in settings.items() if values}


def configure(part: str, quick: bool, settings=None) -> dict:
    """The config `part` runs with: its settings, `--quick`'s, then `settings` (checked)."""
    module = importlib.import_module(f"{experiments().__name__}.experiments.{part}")
    try:
        return module.make_config(quick, settings)
    except ValueError as error:
        raise ValueError(f"--set for {part}: {error}") from None


def unwritable_folder(folder: pathlib.Path) -> str | None:
    """Why `folder` cannot be created or written into, or None. Creates nothing: it tries a
    temporary file in the folder, or in its nearest existing parent where it does not exist."""
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        return ("is a file, not a folder" if existing == folder
                else f"cannot be created: {str(existing)!r} is a file")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        return f"is not writable ({error.strerror or error})"
    return None


_command_line: str | None = None


@contextlib.contextmanager
def command_given(prog: str, argv):
    """While a command runs, `command_line()` is the command as given (for the results' JSON)."""
    import shlex

    global _command_line
    _command_line = shlex.join([*prog.split(), *map(str, argv)])
    try:
        yield
    finally:
        _command_line = None


def command_line() -> str | None:
    """The command line that started this reproduction, as given; None when it was started
    from Python (`<figure>.run(...)`)."""
    return _command_line


# ---- the tf-overparam command -------------------------------------------------------------------

#: Packages whose versions `info` prints ("not installed" where absent).
PACKAGES = ("keras", "tensorflow", "tensorflow-datasets", "jax", "torch", "numpy")


def experiments():
    """The experiments package: `tf_overparam.reproduce` when installed (the wheel, or an
    editable install); from a bare checkout without an install, the folder `reproduce/`."""
    try:
        return importlib.import_module("tf_overparam.reproduce")
    except ModuleNotFoundError:
        return importlib.import_module("reproduce")


@contextlib.contextmanager
def native_stderr_silenced():
    """Send file descriptor 2 to /dev/null: TensorFlow's and XLA's C++ start-up lines (CUDA
    probes, oneDNN notices) are written there, past Python and TF_CPP_MIN_LOG_LEVEL alike."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def info(data_dir=None) -> str:
    """Versions, Keras backend, devices and where the data was found, as text."""
    with native_stderr_silenced():
        import keras

        from tf_overparam.datasets import find_local_data

        provenance = importlib.import_module(experiments().__name__ + ".lab.provenance")
        device = provenance.device_description()
    lines = [f"python        {platform.python_version()} ({sys.executable})"]
    for package in PACKAGES:
        try:
            version = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            version = "not installed"
        lines.append(f"{package:<13} {version}")
    lines += [f"Keras backend {keras.backend.backend()}",
              f"device        {device['default_device']} (CPU: {device['cpu']}, "
              f"{device['cpu_count']} cores; accelerators: {device['gpus'] or 'none'})"]
    for name, where in find_local_data(data_dir).items():
        lines.append(f"{name + ' data':<13} {where}")
    return "\n".join(lines)


TOP_EPILOG = ("examples:"
              "\n  tf-overparam list                          the figures, what each shows, times"
              "\n  tf-overparam reproduce figure3 --quick     Figure 3 in seconds, into results_quick/"
              "\n  tf-overparam reproduce figure3             Figure 3 as in the paper (minutes)"
              "\n  tf-overparam reproduce figure3 --help      what Figure 3 answers, its settings"
              "\n  tf-overparam info                          versions, devices, data found"
              "\n\ndocs: " + DOCS.format(page="guide/cli.md") + "\n\n"
              + textwrap.fill(EXIT_STATUS_TEXT, 79))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tf-overparam", description=textwrap.fill(
            "Depth-N overparameterized Keras layers (Arora, Cohen & Hazan, ICML 2018): "
            "reproduce the paper's figures, list them, describe this installation.", 79),
        epilog=TOP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    reproduce = commands.add_parser(
        "reproduce", help="reproduce a figure (or all) into OUT/<figure>/",
        description=textwrap.fill(DESCRIPTION, 79), epilog=EPILOG, add_help=False,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(reproduce)
    commands.add_parser("list", help="each figure: what it shows and its measured time")
    described = commands.add_parser("info", help="versions, Keras backend, devices, data found")
    described.add_argument("--data-dir", default=None, help="the folder --data-dir would name")
    return parser


def main(argv=None) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "list":
        print(parts_table() + "\none figure's help: tf-overparam reproduce FIGURE --help")
    elif args.command == "info":
        print(info(args.data_dir))
    else:
        check_arguments(parser, args)
        runner = importlib.import_module(experiments().__name__ + ".__main__")
        if args.show_config:
            print(runner.show_config(args))
            return
        with command_given("tf-overparam", argv):
            status = runner.run(args)
        runner.exit_process(status)


if __name__ == "__main__":
    main()
