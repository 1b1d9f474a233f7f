"""Command-line entry point: `python -m reproduce {all,theory,figure2,...} [options]`.

Each figure lives in its own module under `reproduce/` and exposes
`run(out_dir: pathlib.Path, data_dir: str | None, quick: bool) -> dict`, which writes its PNG, PDF
and JSON into `out_dir` as results are produced (a rerun resumes) and returns the summary.
The regression figures and the theory run on the TensorFlow or the JAX Keras backend
(`KERAS_BACKEND=jax` needs no TensorFlow installed); Figure 5-right still needs TensorFlow.
"""

import argparse
import importlib
import pathlib
import sys
import time

import keras

# name -> module. Order is the order `all` runs them (cheap and data-free first).
FIGURES = {
    "theory": "reproduce.theory",
    "figure2": "reproduce.figure2",
    "figure3": "reproduce.figure3",
    "figure4_left": "reproduce.figure4_left",
    "figure4_right": "reproduce.figure4_right",
    "figure5_left": "reproduce.figure5_left",
    "figure5_right": "reproduce.figure5_right",
    # Beyond the paper: overparameterized convolutions on MNIST and Fashion-MNIST (issue 14).
    "conv_overparam": "reproduce.conv_overparam",
    # Every regression claim over the choices the paper leaves open (reuses the figures' runs).
    "atlas": "reproduce.atlas",
}
#: Figures whose code still calls TensorFlow directly (the MNIST tutorial's port).
NEEDS_TENSORFLOW = {"figure5_right"}


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m reproduce", description=__doc__)
    parser.add_argument("figure", choices=["all"] + list(FIGURES), help="what to reproduce")
    parser.add_argument("--quick", action="store_true", help="tiny settings (seconds), for CI")
    parser.add_argument("--out", default=None, help="output folder (default: results/, or results_quick/ with --quick)")
    parser.add_argument("--data-dir", default=None, help="folder with gas_sensor_drift/, mnist/ and fashion_mnist/ (or the files themselves); default: $TF_OVERPARAM_DATA_DIR, then the cache, then download")
    args = parser.parse_args(argv)
    if args.data_dir is not None and not pathlib.Path(args.data_dir).is_dir():
        # Fail before any figure runs or writes anything (theory, first, needs no data).
        parser.error(f"--data-dir {args.data_dir!r} is not a folder")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    out_root = pathlib.Path(args.out or ("results_quick" if args.quick else "results"))
    names = list(FIGURES) if args.figure == "all" else [args.figure]
    backend = keras.backend.backend()
    if args.figure in NEEDS_TENSORFLOW and backend != "tensorflow":
        sys.exit(f"{args.figure} needs the TensorFlow backend (KERAS_BACKEND=tensorflow); "
                 f"this is {backend!r}.")
    for name in names:
        if name in NEEDS_TENSORFLOW and backend != "tensorflow":
            print(f"== {name}: skipped, it needs the TensorFlow backend (this is {backend!r})",
                  flush=True)
            continue
        module = importlib.import_module(FIGURES[name])
        start = time.perf_counter()
        print(f"== {name} ==", flush=True)
        module.run(out_dir=out_root / name, data_dir=args.data_dir, quick=args.quick)
        print(f"== {name} done in {time.perf_counter() - start:.1f} s -> {out_root / name}", flush=True)


if __name__ == "__main__":
    main()
