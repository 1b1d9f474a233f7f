"""Where results come from: software versions, the device, and the data with its provenance."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import pathlib
import platform
import subprocess
import warnings

import numpy as np

#: Rows of the full Ethanol set (all ten batches).
FULL_ROWS = 2565


def software_versions() -> dict:
    """Versions of everything that computes (TensorFlow and JAX only where installed), the Keras
    backend, and the git commit of this checkout."""
    import keras

    import tf_overparam

    versions = {"python": platform.python_version(), "keras_backend": keras.backend.backend(),
                "tf_overparam": getattr(tf_overparam, "__version__", "unknown"),
                "platform": platform.platform()}
    for package in ("numpy", "scipy", "keras", "tensorflow", "jax", "jaxlib", "torch",
                    "matplotlib"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    try:
        root = pathlib.Path(__file__).resolve().parents[1]
        if not (root / ".git").exists():
            # Installed from the wheel (tf_overparam/reproduce/): no checkout to name, and an
            # enclosing repository (a venv inside some clone) would be the wrong commit.
            raise FileNotFoundError(root / ".git")
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True, timeout=10).stdout
        versions["git_commit"] = commit or None
        versions["git_dirty"] = bool(dirty.strip()) if commit else None
    except (OSError, subprocess.SubprocessError):
        versions["git_commit"] = None
    return versions


def invocation(name: str, out_dir, data_dir, quick: bool) -> str:
    """What started this figure, for its JSON: the command line as given, or where a figure was
    run from Python, the call."""
    from tf_overparam_cli import command_line

    experiments = __package__.rsplit(".", 1)[0] + ".experiments"
    return command_line() or (f"{experiments}.{name}.run(out_dir={str(out_dir)!r}, "
                              f"data_dir={None if data_dir is None else str(data_dir)!r}, "
                              f"quick={bool(quick)})")


def cpu_name() -> str:
    """The processor's marketing name (/proc/cpuinfo on Linux), else what platform knows."""
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_description() -> dict:
    """Where the Keras backend computes (the one device probe of every experiment): "type"
    ("GPU" or "CPU"), "name" (the GPU's, else the CPU's), "count" (GPUs, else CPU cores),
    "default_device" as the backend names it, "gpus" (every accelerator seen), the CPU's name
    and core count, and the backend. Imports TensorFlow only on the TensorFlow backend."""
    import keras

    backend = keras.backend.backend()
    gpus, named, default = [], None, "CPU"
    if backend == "jax":
        import jax

        gpus = [d for d in jax.devices() if d.platform != "cpu"]
        named = getattr(gpus[0], "device_kind", str(gpus[0])) if gpus else None
        device = jax.devices()[0]
        default = f"{device} ({device.device_kind})" if getattr(device, "device_kind", "") else str(device)
        gpus = [str(d) for d in gpus]
    elif backend == "torch":
        import torch

        if torch.cuda.is_available():
            gpus = [f"cuda:{i}" for i in range(torch.cuda.device_count())]
            named, default = torch.cuda.get_device_name(0), f"cuda:0 ({torch.cuda.get_device_name(0)})"
    elif backend == "tensorflow":
        import tensorflow as tf

        physical = tf.config.list_physical_devices("GPU")
        if physical:
            named = tf.config.experimental.get_device_details(physical[0]).get("device_name", physical[0].name)
            gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
            default = f"{gpus[0]} ({named})"
        else:
            default = tf.config.list_logical_devices("CPU")[0].name
    cpu, cores = cpu_name(), os.cpu_count()
    return {"backend": backend, "type": "GPU" if gpus else "CPU", "name": named or cpu,
            "count": len(gpus) if gpus else cores, "default_device": default, "gpus": gpus,
            "cpu": cpu, "cpu_count": cores}


def data_fingerprint(X, y) -> str:
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(X, dtype=np.float64).tobytes())
    digest.update(np.ascontiguousarray(y, dtype=np.float64).tobytes())
    return digest.hexdigest()[:16]


def load_ethanol_problem(data_dir=None, **loader_options) -> tuple[np.ndarray, np.ndarray, dict]:
    """The Ethanol problem with the loader's default normalization, partial data allowed.

    Returns X (n, 128), y (n,) and a provenance dict (rows, partial flag, batches, normalization
    and a summary of its statistics, checksums verified, a fingerprint of the arrays).
    """
    from tf_overparam.datasets import load_ethanol

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        X, y, meta = load_ethanol(data_dir, allow_partial=True, **loader_options)
    feature_std = meta.get("feature_std") or [np.nan]
    if isinstance(feature_std, dict):  # per batch
        feature_std = np.concatenate([np.ravel(v) for v in feature_std.values()])
    feature_std = np.asarray(feature_std, dtype=np.float64)
    provenance = {
        "dataset": meta.get("dataset"),
        "source": meta.get("source"),
        "rows": int(meta["n_rows"]),
        "rows_full_dataset": FULL_ROWS,
        "features": int(X.shape[1]),
        "partial": bool(meta["partial"]),
        "batches_used": meta.get("batches_used"),
        "batches_missing": meta.get("batches_missing"),
        "rows_per_batch": meta.get("rows_per_batch"),
        "feature_normalization": meta.get("feature_normalization"),
        "target_normalization": meta.get("target_normalization"),
        "target_mean_ppmv": meta.get("target_mean"),
        "target_std_ppmv": meta.get("target_std"),
        "feature_std_min": float(np.nanmin(feature_std)),
        "feature_std_max": float(np.nanmax(feature_std)),
        "sha256_verified": meta.get("sha256_verified"),
        "batches_reconstructed": meta.get("batches_reconstructed", []),
        "rows_reconstructed": meta.get("rows_reconstructed", 0),
        # The data by what it is (file name, checksum, how it was rebuilt), not by where it lay.
        "reconstructed": None if not meta.get("reconstructed") else {
            **meta["reconstructed"], "file": pathlib.Path(meta["reconstructed"]["file"]).name},
        "loader": "tf_overparam.datasets.load_ethanol(data_dir, allow_partial=True"
                  + "".join(f", {k}={v!r}" for k, v in loader_options.items()) + ")",
        "loader_warnings": [str(w.message) for w in caught],
        "fingerprint": data_fingerprint(X, y),
    }
    return X, y, provenance


def load_problem(data, data_dir=None, **loader_options) -> tuple[np.ndarray, np.ndarray, dict]:
    """The regression experiments' data by the config's "data": "ethanol" (the paper's,
    `load_ethanol_problem`), a set of `tf_overparam.datasets.UCI_REGRESSION_SETS` ("concrete",
    "wine", "parkinsons", "pumadyn32nm"; `load_uci_regression_problem`), else a table of your own
    (`load_table_problem`: a .csv / .npy / .npz path, or "tfds:NAME"). `data_dir` (--data-dir)
    is where the first two look."""
    from tf_overparam.datasets import UCI_REGRESSION_SETS

    if data == "ethanol":
        return load_ethanol_problem(data_dir, **loader_options)
    if data in UCI_REGRESSION_SETS:
        return load_uci_regression_problem(data, data_dir, **loader_options)
    return load_table_problem(data, **loader_options)


def _table_provenance(X, y, meta, identity: dict, call: str, loader_options) -> dict:
    """The provenance of a set without measurement batches (a UCI set, a table): `identity`
    (what the data is), then its size, normalization, the loader call and the fingerprint."""
    feature_std = np.asarray(meta.get("feature_std") or [np.nan], dtype=np.float64)
    return {
        **identity,
        "rows": int(meta["n_rows"]), "features": int(X.shape[1]), "partial": False,
        "feature_normalization": meta["feature_normalization"],
        "target_normalization": meta["target_normalization"],
        "target_mean": meta["target_mean"], "target_std": meta["target_std"],
        "feature_std_min": float(np.nanmin(feature_std)),
        "feature_std_max": float(np.nanmax(feature_std)),
        "loader": f"tf_overparam.datasets.{call}"
                  + "".join(f", {k}={v!r}" for k, v in loader_options.items()) + ")",
        "fingerprint": data_fingerprint(X, y),
    }


def load_uci_regression_problem(name, data_dir=None,
                                **loader_options) -> tuple[np.ndarray, np.ndarray, dict]:
    """One of the four UCI regression sets (`tf_overparam.datasets.load_uci_regression`), with
    the same normalizations and a provenance naming the data by what it is (its name, original,
    file and sha256; never the folder it was read from)."""
    from tf_overparam.datasets import load_uci_regression

    X, y, meta = load_uci_regression(name, data_dir, **loader_options)
    identity = {key: meta[key] for key in (
        "name", "dataset", "target", "original", "licence", "citation", "package",
        "package_commit", "file", "sha256", "sha256_verified", "source")}
    return X, y, _table_provenance(X, y, meta, identity,
                                   f"load_uci_regression({name!r}, data_dir", loader_options)


def load_table_problem(source, **loader_options) -> tuple[np.ndarray, np.ndarray, dict]:
    """A user's regression set (`tf_overparam.datasets.load_table`: a CSV, a NumPy file or a
    tensorflow-datasets name), with the same normalizations and a provenance of the same form."""
    from tf_overparam.datasets import load_table

    X, y, meta = load_table(source, **loader_options)
    identity = {"dataset": meta["dataset"], "source": meta["source"], "sha256": meta["sha256"]}
    return X, y, _table_provenance(X, y, meta, identity, f"load_table({source!r}", loader_options)


def data_label(provenance: dict) -> str | None:
    """What every plot says about its data when it is not the exact, complete set."""
    if provenance["partial"]:
        return f"partial data: {provenance['rows']:,} of {FULL_ROWS:,} rows"
    if provenance.get("rows_reconstructed"):
        batches = " and ".join(str(b) for b in provenance["batches_reconstructed"])
        return (f"{provenance['rows_reconstructed']:,} rows of batch"
                f"{'es' if len(provenance['batches_reconstructed']) > 1 else ''} {batches} "
                "reconstructed (5 significant digits)")
    return None
