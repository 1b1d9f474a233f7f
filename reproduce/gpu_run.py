"""The accelerator run of issue 13 (`scripts/gpu_reproduce.sh run` calls this): Figure 5-right
with every variant × 5 seeds, then Figure 4-right, on whatever backend Keras is set to (JAX on
the device machine), and `gpu_run.json` with the device, the versions and each part's wall time.

    python -m reproduce.gpu_run [--quick] [--seeds N] [--steps S] [--models A,B] [--out-root DIR] [--data-dir DIR]
                                [--parts figure5_right,figure4_right] [--pack DIR]

`--quick` uses the figures' quick settings; `--seeds` and `--steps` override Figure 5-right's
seed count (default 5) and step count (default: the config's, 8,593 in the full run). `--pack
DIR` writes the results, without checkpoints, as one `gpu_results.tar.gz` into DIR.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import tarfile
import time

PARTS = ("figure5_right", "figure4_right")


def parse(argv=None):
    parser = argparse.ArgumentParser(prog="python -m reproduce.gpu_run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the figures' quick settings")
    parser.add_argument("--seeds", type=int, default=5, help="Figure 5-right seeds (default 5)")
    parser.add_argument("--steps", type=int, default=None, help="Figure 5-right steps (default: the config's)")
    parser.add_argument("--models", default=None, help="Figure 5-right variants, comma-separated (default all four)")
    parser.add_argument("--out-root", default=None, help="default results/ (results_quick/ with --quick)")
    parser.add_argument("--data-dir", default=".gpu_data", help="folder with mnist/ and gas_sensor_drift*/")
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated, of " + ", ".join(PARTS))
    parser.add_argument("--pack", default=None, help="write gpu_results.tar.gz (no checkpoints) here")
    return parser.parse_args(argv)


def pack(root, paths, target):
    """One tar.gz of `paths` (files, or folders under `root`) without checkpoint files, named
    from `root`'s name down (results/figure5_right_gpu/…); returns its path."""
    target = pathlib.Path(target)
    target.mkdir(parents=True, exist_ok=True)
    path = target / "gpu_results.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for entry in map(pathlib.Path, paths):
            for file in [entry] if entry.is_file() else sorted(entry.rglob("*")):
                if file.is_file() and "checkpoint" not in file.name:
                    archive.add(file, arcname=str(root.name / file.relative_to(root)))
    return path


def main(argv=None) -> int:
    args = parse(argv)
    import keras

    from .experiments import figure4_right, figure5_right
    from .lab import mnist_trainer
    from .lab.provenance import software_versions
    from .lab.records import write_json

    root = pathlib.Path(args.out_root or ("results_quick" if args.quick else "results"))
    parts = [p for p in args.parts.split(",") if p]
    models = args.models.split(",") if args.models else figure5_right.ALL_MODELS
    if not parts or set(parts) - set(PARTS):
        raise SystemExit(f"--parts: a comma-separated list of {', '.join(PARTS)}, got {args.parts!r}")
    try:  # Before any work: a bad --seeds, --steps or --models must not cost a device start.
        figure5_right.check_arguments(seeds=args.seeds, models=models, num_steps=args.steps,
                                      names={"seeds": "--seeds", "models": "--models", "num_steps": "--steps"})
    except ValueError as error:
        raise SystemExit(str(error)) from None
    record = {"device": mnist_trainer.device_description(), "versions": software_versions(),
              "keras_backend": keras.backend.backend(), "quick": args.quick, "seeds": args.seeds, "models": args.models,
              "steps": args.steps, "data_dir": args.data_dir, "wall_seconds": {}, "out": {}}
    json_path = root / "gpu_run.json"
    folders = []
    for part in parts:
        out = root / f"{part}_gpu"
        began = time.perf_counter()
        print(f"== {part} -> {out}", flush=True)
        if part == "figure5_right":
            figure5_right.run(out_dir=out, data_dir=args.data_dir, quick=args.quick, seeds=args.seeds,
                              models=models, num_steps=args.steps)
        else:
            figure4_right.run(out_dir=out, data_dir=args.data_dir, quick=args.quick)
        record["wall_seconds"][part] = time.perf_counter() - began
        record["out"][part] = str(out)
        folders.append(out)
        write_json(json_path, record)
    if args.pack:
        path = pack(root, folders + [json_path], args.pack)
        print(f"packed {path} ({path.stat().st_size / 1e6:.1f} MB)", flush=True)
    print(json.dumps(record["wall_seconds"]), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
