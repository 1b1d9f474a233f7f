"""Shared machinery of the regression figures (paper Figures 2, 3, 4-left, 4-right, 5-left).

Every figure module builds a config dict, asks a `FigureSession` for training runs, and plots.
The session:

- loads the Ethanol data once with the library loader's *default* normalization (features and
  target standardized on the rows loaded; partial data allowed and labelled as such);
- computes the optimal ℓ2 / ℓ4 losses (`tf_overparam.optimal_loss`) that every plot subtracts;
- runs `tf_overparam.trainer.train` through a run store: each finished run is saved under
  `<out root>/_runs/<key>.npz` (the key hashes the data and every setting), so a rerun of the same
  command resumes and skips finished work, and figures sharing a run (Figure 3's ℓ4 grid is
  reused by Figures 4-left and 5-left) compute it once;
- writes the figure's JSON after every run (settings, provenance, versions, device, curves and
  summary numbers), atomically.

Conventions used by all figures (written into every JSON under "conventions"):

- relative gap of a loss L: (L − L*) / (L₀ − L*), where L* is the optimum and L₀ = mean (1/p) y^p
  is the loss of the zero predictor (where near-zero initialization starts), common to all curves;
- "iterations to reach a relative gap g": the first iteration whose loss is ≤ L* + g (L₀ − L*),
  detected at every iteration inside the compiled loop;
- learning-rate selection ("fastest convergence", which the paper does not define): among the
  grid's runs that did not diverge within the horizon, the one with the smallest mean over the
  recorded iterations of log10(relative gap), i.e. the smallest area under the plotted log
  curve; the runner-up rule "lowest final loss" is recorded too.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import hashlib
import io
import json
import math
import os
import pathlib
import platform
import subprocess
import sys
import time
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

GAP_THRESHOLDS = (1e-1, 1e-2, 1e-3)
#: The paper's grid (Appendix B.1): {1e-5, 5e-5, 1e-4, …, 1e-1, 5e-1}.
PAPER_LR_GRID = (1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1, 5e-1)
#: Floor for log10 of a relative gap in the selection score (a gap at or below round-off).
SCORE_FLOOR = 1e-12
#: A run whose final relative gap is at least this never left its starting loss ("stuck").
STUCK_RELATIVE_GAP = 0.99
#: Downsampling of non-selected grid curves in the JSON (every k-th record).
GRID_CURVE_STRIDE = 10

FULL_ROWS = 2565

#: The grid-search setup shared by Figures 3, 4-left and 5-left ("setup identical to that of
#: Figure 3-right"), so that their common runs are computed once (run store) and agree.
GRID_SETUP = {
    "hidden_units": 1,  # scalar hidden layers (paper Section 8)
    "init_stddev": 0.01,  # paper Appendix B.1
    "learning_rates": list(PAPER_LR_GRID),
    "seed": 0,
    # The paper states 100K iterations for Figure 5-left only; used for all grid figures.
    "steps": 100_000,
    "record_every": 100,
    # float32 products with X, float64 for everything else (see tf_overparam.trainer.DTYPES).
    "dtype": "mixed",
    "divergence_factor": 1e6,
}
GRID_SETUP_QUICK = {"learning_rates": [1e-4, 1e-3, 1e-2], "steps": 400, "record_every": 10}


def grid_setup(quick: bool) -> dict:
    setup = dict(GRID_SETUP)
    if quick:
        setup.update(GRID_SETUP_QUICK)
    return json.loads(json.dumps(setup))

STYLE = {
    "figure.dpi": 110,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
}

DEPTH_COLORS = {1: "#222222", 2: "#1f77b4", 3: "#d62728", 4: "#2ca02c", 8: "#9467bd"}


# --------------------------------------------------------------------------------------------
# JSON helpers
# --------------------------------------------------------------------------------------------


def to_json(value):
    """numpy → JSON-friendly, recursively; non-finite floats become None."""
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, np.ndarray):
        return to_json(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


def write_json(path: pathlib.Path, document: dict) -> None:
    """Write atomically (temporary file + rename), so an interrupted run never leaves half a file."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(to_json(document), indent=1, allow_nan=False) + "\n")
    os.replace(tmp, path)


def rounded(values, digits=7):
    """Floats rounded to `digits` significant digits (JSON size), NaN kept as None by to_json."""
    values = np.asarray(values, dtype=np.float64)
    out = np.full(values.shape, np.nan)
    finite = np.isfinite(values) & (values != 0)
    if finite.any():
        magnitude = np.floor(np.log10(np.abs(values[finite])))
        scale = 10.0 ** (digits - 1 - magnitude)
        out[finite] = np.round(values[finite] * scale) / scale
    out[values == 0] = 0.0
    return out


def software_versions() -> dict:
    import keras
    import scipy
    import tensorflow as tf

    import tf_overparam

    versions = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "matplotlib": matplotlib.__version__,
        "tf_overparam": getattr(tf_overparam, "__version__", "unknown"),
        "platform": platform.platform(),
    }
    try:
        root = pathlib.Path(__file__).resolve().parents[1]
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True, timeout=10).stdout
        versions["git_commit"] = commit or None
        versions["git_dirty"] = bool(dirty.strip()) if commit else None
    except (OSError, subprocess.SubprocessError):
        versions["git_commit"] = None
    return versions


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
    import tensorflow as tf

    from tf_overparam.trainer import available_device

    return {"default_device": available_device(), "cpu": cpu_name(), "cpu_count": os.cpu_count(),
            "gpus": [d.name for d in tf.config.list_logical_devices("GPU")]}


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


def load_data(data_dir=None) -> tuple[np.ndarray, np.ndarray, dict]:
    """The Ethanol problem with the loader's default normalization, partial data allowed.

    Returns X (n, 128), y (n,) and a provenance dict (rows, partial flag, batches, normalization
    and a summary of its statistics, checksums verified).
    """
    from tf_overparam.datasets import load_ethanol

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        X, y, meta = load_ethanol(data_dir, allow_partial=True)
    notes = [str(w.message) for w in caught]
    feature_std = np.asarray(meta.get("feature_std") or [np.nan])
    provenance = {
        "dataset": meta.get("dataset"),
        "source_dir": meta.get("source_dir"),
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
        "loader": "tf_overparam.datasets.load_ethanol(data_dir, allow_partial=True) "
                  "(default normalization)",
        "loader_warnings": notes,
        "fingerprint": data_fingerprint(X, y),
    }
    return X, y, provenance


def data_fingerprint(X, y) -> str:
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(X, dtype=np.float64).tobytes())
    digest.update(np.ascontiguousarray(y, dtype=np.float64).tobytes())
    return digest.hexdigest()[:16]


def partial_label(provenance: dict) -> str | None:
    if not provenance["partial"]:
        return None
    return f"partial data: {provenance['rows']:,} of {FULL_ROWS:,} rows"


# --------------------------------------------------------------------------------------------
# Curves, gaps, selection
# --------------------------------------------------------------------------------------------


def relative_gap(losses, optimum, reference):
    return (np.asarray(losses, dtype=np.float64) - optimum) / (reference - optimum)


def selection_score(losses, optimum, reference) -> float:
    """Mean of log10(relative gap) over the recorded iterations (lower = faster); inf if NaN."""
    gap = relative_gap(losses, optimum, reference)
    if not np.all(np.isfinite(gap)):
        return float("inf")
    return float(np.mean(np.log10(np.maximum(gap, SCORE_FLOOR))))


def iterations_to_reach(level_steps) -> dict:
    """{"1e-01": iteration or "not reached", …} from a row of the trainer's level_steps."""
    return {f"{g:.0e}": (int(s) if s >= 0 else "not reached")
            for g, s in zip(GAP_THRESHOLDS, level_steps)}


def curve_summary(run, row: int, optimum: float, reference: float) -> dict:
    """Summary numbers of one configuration of a stored run."""
    losses = run["losses"][row]
    gap = relative_gap(losses, optimum, reference)
    finite = np.isfinite(gap)
    diverged_at = int(run["diverged_at"][row])
    return {
        "learning_rate": float(run["learning_rates"][row]),
        "seed": int(run["seeds"][row]),
        "diverged_at": diverged_at if diverged_at >= 0 else None,
        "iterations_to_relative_gap": iterations_to_reach(run["level_steps"][row]),
        "initial_loss": float(losses[0]),
        "final_loss": float(losses[-1]) if finite[-1] else None,
        "final_relative_gap": float(gap[-1]) if finite[-1] else None,
        "min_relative_gap": float(np.nanmin(gap)) if finite.any() else None,
        "selection_score_mean_log10_gap": selection_score(losses, optimum, reference),
    }


def select_learning_rate(run, optimum: float, reference: float, seed: int = 0) -> dict:
    """Apply the selection rule to a grid run (rows of one seed); returns the choice and table."""
    rows = [b for b in range(len(run["learning_rates"])) if int(run["seeds"][b]) == seed]
    table = [curve_summary(run, b, optimum, reference) for b in rows]
    eligible = [(t["selection_score_mean_log10_gap"], b, t) for b, t in zip(rows, table)
                if t["diverged_at"] is None and math.isfinite(t["selection_score_mean_log10_gap"])]
    if not eligible:
        return {"row": None, "learning_rate": None, "rule": "no eligible learning rate",
                "grid": table, "rows": rows}
    score, row, chosen = min(eligible, key=lambda e: e[0])
    by_final = min(eligible, key=lambda e: (e[2]["final_loss"], e[0]))
    lrs = sorted(float(run["learning_rates"][b]) for b in rows)
    stuck = all((e[2]["final_relative_gap"] or 0.0) >= STUCK_RELATIVE_GAP for e in eligible)
    return {
        "row": row,
        "learning_rate": chosen["learning_rate"],
        # Every eligible rate ended where it started: the choice among them is arbitrary.
        "all_eligible_stuck": stuck,
        "at_grid_edge": chosen["learning_rate"] in (lrs[0], lrs[-1]),
        "learning_rate_by_final_loss": by_final[2]["learning_rate"],
        "grid": table,
        "rows": rows,  # the run's row of each grid entry (the grid holds one seed's rows)
    }


def max_relative_difference(a, b, optimum, reference, min_gap=1e-9) -> dict:
    """Largest relative difference between two loss curves recorded at the same iterations.

    Reported on the plotted quantity (the gap L − L*): max |L_a − L_b| / (L_a − L*) over the
    iterations where both are finite and a's relative gap is ≥ `min_gap` (below that the
    difference is round-off); and on the loss itself: max |L_a − L_b| / L_a.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    both = np.isfinite(a) & np.isfinite(b)
    gap_a = a - optimum
    usable = both & (gap_a >= min_gap * (reference - optimum))
    if not usable.any():
        return {"on_gap": None, "on_loss": None, "at_record": None, "compared_records": 0}
    on_gap = np.abs(a - b)[usable] / gap_a[usable]
    on_loss = np.abs(a - b)[usable] / np.abs(a[usable])
    where = int(np.flatnonzero(usable)[int(np.argmax(on_gap))])
    return {"on_gap": float(on_gap.max()), "on_loss": float(on_loss.max()),
            "at_record": where, "compared_records": int(usable.sum())}


# --------------------------------------------------------------------------------------------
# The session: data, optima, cached runs, JSON
# --------------------------------------------------------------------------------------------


class FigureSession:
    """One figure's run: data, optima, a resumable run store, the JSON document and timing."""

    def __init__(self, name: str, out_dir, data_dir, quick: bool, config: dict):
        self.name = name
        self.out_dir = pathlib.Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.store = self.out_dir.parent / "_runs"
        self.quick = quick
        self.config = config
        self.started = time.perf_counter()
        self.X, self.y, self.provenance = load_data(data_dir)
        self.optima = {}
        for p in sorted(set(config.get("losses", [4]))):
            self.optima[p] = cached_optimum(self.store, self.X, self.y, p,
                                            self.provenance["fingerprint"])
        self.references = {p: float(np.mean(self.y ** p) / p) for p in self.optima}
        self.json_path = self.out_dir / f"{name}.json"
        self.selections = {}
        self.document = {
            "figure": name,
            "paper": "Arora, Cohen, Hazan, ICML 2018 (arXiv 1802.06509)",
            "quick": quick,
            "command": f"python -m reproduce {name}" + (" --quick" if quick else ""),
            "config": config,
            "conventions": {
                "loss": "mean over rows of (1/p)(ŷ − y)^p (tf_overparam.LpLoss)",
                "relative_gap": "(L − L*) / (L0 − L*), L0 = loss of the zero predictor",
                "iterations_to_relative_gap": "first iteration with loss ≤ L* + g (L0 − L*), "
                                              "checked at every iteration",
                "learning_rate_selection": "among grid runs that never diverged within the "
                                           "horizon, the smallest mean over recorded "
                                           "iterations of log10(relative gap)",
                "divergence": "loss not finite or > divergence_factor × initial loss; the "
                              "configuration is frozen and excluded from selection",
                "plots": "training loss minus the optimum, log scale",
            },
            "data": self.provenance,
            "optimal_losses": {f"l{p}": {**self.optima[p].as_json(),
                                         "zero_predictor_loss": self.references[p]}
                               for p in self.optima},
            "versions": software_versions(),
            "device": device_description(),
            "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "runs": {},
            "results": {},
        }
        self.write()

    # ---- runs ---------------------------------------------------------------------------

    def level_losses(self, p):
        optimum, reference = self.optima[p].loss, self.references[p]
        return [optimum + g * (reference - optimum) for g in GAP_THRESHOLDS]

    def request(self, label: str, model, optimizer, *, p: int, learning_rates, seeds=(0,),
                steps: int, record_every: int, dtype: str = "mixed",
                divergence_factor: float = 1e6, grid: bool = False,
                data=None) -> "Request":
        """Describe one `tf_overparam.trainer.train` call; run it with `execute`.

        `data`: optional (X, y, description) to train on instead of the session's data (used
        for the normalization variants); such runs record losses relative to their initial
        loss only (no optimum, no gap levels).
        """
        spec = {
            "code": code_fingerprint(),
            "data": self.provenance["fingerprint"] if data is None else
            data_fingerprint(data[0], data[1]),
            "model": model.describe(),
            "optimizer": optimizer.describe(),
            "p": int(p),
            "learning_rates": [float(lr) for lr in learning_rates],
            "seeds": [int(s) for s in seeds],
            "steps": int(steps),
            "record_every": int(record_every),
            "dtype": dtype,
            "divergence_factor": float(divergence_factor),
            "loss_levels": ([float(v) for v in self.level_losses(p)] if data is None else []),
        }
        if data is not None:
            spec["data_description"] = data[2]
        request = Request(label, model, optimizer, spec, grid)
        request.data = None if data is None else (data[0], data[1])
        return request

    def execute(self, requests) -> dict:
        """Run requests (cached ones are loaded), up to `workers()` at a time in threads.

        Each XLA loop runs on one core, so two runs side by side use both cores of a 2-core
        machine. Each finished run is saved in the run store and recorded in the JSON at once.
        Returns {label: run}; grid requests also get their learning-rate selection applied
        (`self.selections[label]`).
        """
        import concurrent.futures

        runs, pending = {}, []
        for req in requests:
            path = self.store / f"{req.key}.npz"
            run = _load_run(path)
            if run is None:
                pending.append(req)
                continue
            run["info"] = {**run["info"], "cached": True}
            print(f"  [{self.name}] {req.label}: finished earlier (run store {path.name}), "
                  "reused", flush=True)
            runs[req.label] = run
            self._finish_request(req, run)
        pending.sort(key=lambda r: -r.cost)
        if pending:
            with concurrent.futures.ThreadPoolExecutor(max_workers=workers()) as pool:
                futures = {pool.submit(self._run_request, req): req for req in pending}
                for future in concurrent.futures.as_completed(futures):
                    req = futures[future]
                    run = future.result()
                    runs[req.label] = run
                    self._finish_request(req, run)
        return {req.label: runs[req.label] for req in requests}

    def _run_request(self, req: "Request"):
        from tf_overparam.trainer import train

        spec = req.spec
        start = time.perf_counter()
        print(f"  [{self.name}] {req.label}: {len(spec['learning_rates'])} lr × "
              f"{len(spec['seeds'])} seed(s), {spec['steps']:,} iterations …", flush=True)
        last = [start]

        def progress(done, total, latest):
            now = time.perf_counter()
            if now - last[0] >= 15.0:
                last[0] = now
                alive = int(np.isfinite(latest).sum())
                print(f"    {req.label}: {done:,}/{total:,} iterations, {alive} "
                      f"configuration(s) running, {now - start:.0f} s", flush=True)

        X, y = (self.X, self.y) if req.data is None else req.data
        result = train(X, y, req.model, req.optimizer, p=spec["p"],
                       learning_rates=spec["learning_rates"], seeds=spec["seeds"],
                       steps=spec["steps"], record_every=spec["record_every"],
                       loss_levels=spec["loss_levels"], dtype=spec["dtype"],
                       divergence_factor=spec["divergence_factor"], progress=progress,
                       chunk_steps=20_000)
        info = {**result.describe(), "spec_key": req.key,
                "total_time_s": time.perf_counter() - start, "cached": False}
        run = {"steps": result.steps, "losses": result.losses,
               "learning_rates": result.learning_rates, "seeds": result.seeds,
               "diverged_at": result.diverged_at, "level_steps": result.level_steps,
               "info": info}
        _save_run(self.store / f"{req.key}.npz", run)
        print(f"    {req.label}: done in {info['total_time_s']:.1f} s "
              f"({result.steps_per_second:,.0f} iterations/s of the batch, compile "
              f"{result.compile_time_s:.1f} s)", flush=True)
        return run

    def _finish_request(self, req, run):
        if req.data is not None:
            self._record_variant_run(req.label, req.spec, run)
            return
        self._record_run(req.label, req.spec, run, "downsampled" if req.grid else "all")
        if req.grid:
            p = req.spec["p"]
            selection = select_learning_rate(run, self.optima[p].loss, self.references[p],
                                             req.spec["seeds"][0])
            self.selections[req.label] = selection
            self.document["runs"][req.label]["selection"] = {
                k: v for k, v in selection.items() if k != "grid"}
            self.write()

    def train(self, label: str, model, optimizer, **kwargs):
        """One cached run (see `request` for the arguments); returns the run dict."""
        return self.execute([self.request(label, model, optimizer, **kwargs)])[label]

    def _record_variant_run(self, label, spec, run):
        """A run on other data: per configuration, divergence and loss relative to its start."""
        losses = run["losses"]
        self.document.setdefault("variant_runs", {})[label] = {
            "settings": spec,
            "info": run["info"],
            "configurations": [{
                "learning_rate": float(run["learning_rates"][b]),
                "seed": int(run["seeds"][b]),
                "diverged_at": (int(run["diverged_at"][b]) if run["diverged_at"][b] >= 0
                                else None),
                "initial_loss": float(losses[b, 0]),
                "final_loss": float(losses[b, -1]) if np.isfinite(losses[b, -1]) else None,
                "final_loss_over_initial": (float(losses[b, -1] / losses[b, 0])
                                            if np.isfinite(losses[b, -1]) else None),
            } for b in range(len(run["learning_rates"]))],
        }
        self.write()

    def _record_run(self, label, spec, run, keep_curves):
        """Record a run in the JSON: settings, timing, every configuration's summary and its
        curve (every record for single-configuration runs, every GRID_CURVE_STRIDE-th record
        otherwise; `curve()` stores the plotted curves at full resolution)."""
        optimum, reference = self.optima[spec["p"]].loss, self.references[spec["p"]]
        rows = range(len(run["learning_rates"]))
        stride = 1 if len(rows) == 1 else GRID_CURVE_STRIDE
        self.document["runs"][label] = {
            "settings": spec,
            "info": run["info"],
            "configurations": [curve_summary(run, b, optimum, reference) for b in rows],
            "curves_stride": stride,
            "steps": run["steps"][::stride],
            "losses": [rounded(run["losses"][b][::stride], 8) for b in rows],
        }
        self.write()

    def curve(self, name: str, label: str, run, row: int, p: int, **extra) -> dict:
        """Store one configuration's full-resolution curve in results["curves"][name]."""
        optimum, reference = self.optima[p].loss, self.references[p]
        entry = {"run": label, **curve_summary(run, row, optimum, reference), **extra,
                 "steps": run["steps"], "losses": rounded(run["losses"][row], 8)}
        self.document["results"].setdefault("curves", {})[name] = entry
        return entry

    # ---- output ---------------------------------------------------------------------------

    def write(self):
        self.document["elapsed_s"] = time.perf_counter() - self.started
        write_json(self.json_path, self.document)

    def finish(self, results: dict):
        self.document["results"] = results
        infos = [run["info"] for run in self.document["runs"].values()]
        infos += [run["info"] for run in self.document.get("variant_runs", {}).values()]
        self.document["timing"] = {
            "this_invocation_s": time.perf_counter() - self.started,
            "runs_reused_from_run_store": sum(bool(i.get("cached")) for i in infos),
            "runs_computed": sum(not i.get("cached") for i in infos),
            # Seconds each run took when it was computed (also for reused runs); runs execute
            # `workers()` at a time, so the figure's wall time is less than this sum.
            "sum_of_run_times_when_computed_s": sum(i.get("total_time_s", 0.0) for i in infos),
            "workers": workers(),
        }
        self.document["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds")
        self.write()
        return self.document

    def save_figure(self, figure, stem: str | None = None):
        return save_figure(figure, self.out_dir / (stem or self.name), bbox_inches="tight")


def save_figure(figure, stem: pathlib.Path, dpi: int = 130, **savefig_kwargs) -> pathlib.Path:
    """Write `stem`.png and `stem`.pdf and close the figure.

    The PDF gets no creation date, so re-plotting unchanged results leaves the file unchanged.
    """
    stem = pathlib.Path(stem)
    figure.savefig(stem.with_suffix(".png"), dpi=dpi, **savefig_kwargs)
    figure.savefig(stem.with_suffix(".pdf"), metadata={"CreationDate": None}, **savefig_kwargs)
    plt.close(figure)
    return stem.with_suffix(".png")


def grid_request(session, setup: dict, p: int, model, optimizer, label: str) -> Request:
    """A learning-rate grid (one seed) of `setup` for one model and optimizer."""
    return session.request(label, model, optimizer, p=p,
                           learning_rates=setup["learning_rates"], seeds=[setup["seed"]],
                           steps=setup["steps"], record_every=setup["record_every"],
                           dtype=setup["dtype"], divergence_factor=setup["divergence_factor"],
                           grid=True)


def gd_grid_request(session, setup: dict, p: int, depth: int, init: str = "near_zero"):
    """The grid of gradient descent on one linear network (shared by Figures 3, 4-left, 5-left:
    identical settings give identical run-store keys, so each grid is computed once)."""
    from tf_overparam.trainer import GradientDescent, LinearNetwork

    model = LinearNetwork(depth=depth, hidden_units=setup["hidden_units"], init=init,
                          init_stddev=setup["init_stddev"])
    label = f"l{p} GD depth {depth}" + ("" if init == "near_zero" else f" {init} init")
    return grid_request(session, setup, p, model, GradientDescent(), label)


def workers() -> int:
    """Runs executed side by side: $TF_OVERPARAM_WORKERS, else min(2, CPU count)."""
    value = os.environ.get("TF_OVERPARAM_WORKERS")
    return max(1, int(value)) if value else max(1, min(2, os.cpu_count() or 1))


class Request:
    """One trainer call: label, model, optimizer, its settings (`spec`) and run-store key."""

    def __init__(self, label, model, optimizer, spec, grid):
        self.label, self.model, self.optimizer, self.spec, self.grid = (
            label, model, optimizer, spec, grid)
        self.key = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:20]
        widths = model.widths(128, 1)
        per_step = sum(a * b for a, b in zip(widths[:-1], widths[1:])) + 2 * 1316 * 128
        self.cost = per_step * spec["steps"] * len(spec["learning_rates"]) * len(spec["seeds"])


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of the sources whose arithmetic stored runs depend on (the trainer, the end-to-end
    direction, the optima): editing any of them invalidates the run store instead of reusing
    results an older version computed."""
    from tf_overparam import optimal_loss, trainer
    from tf_overparam.ops import end_to_end

    digest = hashlib.sha256()
    for module in (trainer, end_to_end, optimal_loss):
        digest.update(pathlib.Path(module.__file__).read_bytes())
    return digest.hexdigest()[:16]


def cached_optimum(store: pathlib.Path, X, y, p: int, fingerprint: str):
    """`tf_overparam.optimal_loss.optimal_loss`, computed once per data set and p (run store).

    The ℓ4 BFGS takes ~1 s on an idle machine but can take a minute when BLAS threads compete
    with other processes, so every figure reuses the first result.
    """
    from tf_overparam.optimal_loss import OptimalLoss, optimal_loss

    path = store / f"optimum-{fingerprint}-p{p}-{code_fingerprint()}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as stored:
                info = json.loads(str(stored["info"]))
                return OptimalLoss(p=int(info.pop("p")), loss=float(info.pop("loss")),
                                   weights=stored["weights"], method=info.pop("method"),
                                   gradient_norm=float(info.pop("gradient_norm")), details=info)
        except (OSError, ValueError, KeyError):
            pass
    start = time.perf_counter()
    result = optimal_loss(X, y, p)
    details = {**result.details, "compute_time_s": time.perf_counter() - start}
    result = OptimalLoss(p=result.p, loss=result.loss, weights=result.weights,
                         method=result.method, gradient_norm=result.gradient_norm,
                         details=details)
    store.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez(buffer, weights=result.weights, info=np.array(json.dumps(to_json(result.as_json()))))
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(buffer.getvalue())
    os.replace(tmp, path)
    return result


def _save_run(path: pathlib.Path, run: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    arrays = {k: v for k, v in run.items() if k != "info"}
    np.savez(buffer, info=np.array(json.dumps(to_json(run["info"]))), **arrays)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(buffer.getvalue())
    os.replace(tmp, path)


def _load_run(path: pathlib.Path):
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            run = {k: stored[k] for k in stored.files if k != "info"}
            run["info"] = json.loads(str(stored["info"]))
        return run
    except (OSError, ValueError, KeyError):
        return None  # a damaged entry is recomputed


# --------------------------------------------------------------------------------------------
# Plotting
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def style():
    with plt.rc_context(STYLE):
        yield


def plot_gap(ax, steps, losses, optimum, label, **kwargs):
    """Plot L − L* on a log scale (non-positive gaps, i.e. round-off at the optimum, are hidden)."""
    gap = np.asarray(losses, dtype=np.float64) - optimum
    gap = np.where(gap > 0, gap, np.nan)
    return ax.plot(steps, gap, label=label, **kwargs)


def decorate_gap_axes(ax, session: FigureSession, p: int, title: str | None = None,
                      thresholds=True):
    optimum, reference = session.optima[p].loss, session.references[p]
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel(f"training loss − optimum (ℓ{p})")
    if title:
        ax.set_title(title)
    if thresholds:
        for g in GAP_THRESHOLDS:
            ax.axhline(g * (reference - optimum), color="0.6", lw=0.6, ls=":", zorder=0)
            ax.annotate(f"rel. gap {g:g}", xy=(1.0, g * (reference - optimum)),
                        xycoords=("axes fraction", "data"), ha="right", va="bottom",
                        fontsize=6, color="0.45")
    label = partial_label(session.provenance)
    if label:
        ax.text(0.01, 0.01, label, transform=ax.transAxes, fontsize=7, color="#a00000",
                ha="left", va="bottom")


def lr_text(lr) -> str:
    return f"{lr:.0e}".replace("e-0", "e-")
