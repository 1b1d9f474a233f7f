"""The `tf-overparam` command: `reproduce <figure>`, `list`, `info`.

`tf-overparam reproduce` is `python -m reproduce` (the same parser and code, from the package
`tf_overparam.reproduce` that the wheel installs); `list` prints the figure table of
`reproduce/__init__.py`; `info` prints what a bug report needs (versions, backend, devices,
where the data is).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import platform
import sys
import textwrap

#: Packages whose versions `info` prints (None where not installed).
PACKAGES = ("keras", "tensorflow", "tensorflow-datasets", "jax", "torch", "numpy")


def _experiments():
    """The experiments package: `tf_overparam.reproduce` when installed (the wheel, or an
    editable install); from a bare checkout without an install, the folder `reproduce/`."""
    try:
        return importlib.import_module("tf_overparam.reproduce")
    except ModuleNotFoundError:
        return importlib.import_module("reproduce")


def info(data_dir=None) -> str:
    """Versions, Keras backend, devices and where the data was found, as text."""
    import keras

    from tf_overparam.datasets import find_local_data

    provenance = importlib.import_module(_experiments().__name__ + ".provenance")
    lines = [f"python        {platform.python_version()} ({sys.executable})"]
    for package in PACKAGES:
        try:
            version = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            version = "not installed"
        lines.append(f"{package:<13} {version}")
    device = provenance.device_description()
    lines += [f"Keras backend {keras.backend.backend()}",
              f"device        {device['default_device']} (CPU: {device['cpu']}, "
              f"{device['cpu_count']} cores; accelerators: {device['gpus'] or 'none'})"]
    for name, where in find_local_data(data_dir).items():
        lines.append(f"{name + ' data':<13} {where}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    experiments = _experiments()
    main = importlib.import_module(experiments.__name__ + ".__main__")
    parser = argparse.ArgumentParser(
        prog="tf-overparam", description="Depth-N overparameterized Keras layers (Arora, "
        "Cohen & Hazan, ICML 2018): reproduce the paper's figures, list them, describe this "
        "installation.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    reproduce = commands.add_parser(
        "reproduce", help="reproduce a figure (or all); same as `python -m reproduce`",
        description=textwrap.fill(main.DESCRIPTION, 79), epilog=main.EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    main.add_arguments(reproduce)
    commands.add_parser("list", help="each figure: what it shows and its measured time")
    described = commands.add_parser("info", help="versions, Keras backend, devices, data found")
    described.add_argument("--data-dir", default=None, help="the folder --data-dir would name")
    return parser


def main(argv=None) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    experiments = _experiments()
    if args.command == "list":
        print(experiments.parts_table())
    elif args.command == "info":
        print(info(args.data_dir))
    else:
        reproduce = importlib.import_module(experiments.__name__ + ".__main__")
        reproduce.check_arguments(parser, args)
        reproduce.exit_process(reproduce.run(args))


if __name__ == "__main__":
    main()
