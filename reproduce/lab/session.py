"""One regression figure's session: data and optima, training runs through the run store, and
the figure's JSON record (an interim `<figure>.partial.json` as runs finish, `<figure>.json`
when the figure is done; never read back).

A figure module reads one way: its config (plain data) → `session.execute(requests)` → runs →
its own summary of the runs → its plot → `session.finish(summary)`.
"""

from __future__ import annotations

import datetime
import os
import pathlib
import time

import numpy as np

from . import configs
from . import progress
from . import provenance as prov
from . import selection
from .plotting import decorate_gap_axes
from .plotting import save_figure
from .records import rounded
from .records import write_interim
from .records import write_result
from .run_store import Request
from .run_store import RunStore
from .run_store import code_fingerprint

#: Downsampling of grid curves in the JSON (every k-th record); single runs keep every record.
GRID_CURVE_STRIDE = 10

CONVENTIONS = {
    "loss": "mean over rows of (1/p)(ŷ − y)^p (tf_overparam.LpLoss)",
    "relative_gap": "(L − L*) / (L0 − L*), L0 = loss of the zero predictor",
    "iterations_to_relative_gap": "first iteration with loss ≤ L* + g (L0 − L*), checked at "
                                  "every iteration",
    "learning_rate_selection": selection.SELECTION_RULES["area"],
    "seeds": "the grid runs `seeds`; the chosen rate also runs `more_seeds`; curves are drawn "
             "as the median over seeds with a band from the lowest to the highest seed",
    "divergence": "loss not finite or > divergence_factor × initial loss; the configuration is "
                  "frozen and excluded from selection",
    "plots": "training loss minus the optimum, log scale",
}


def workers() -> int:
    """Runs executed side by side: $TF_OVERPARAM_WORKERS, else min(2, CPU count).

    Each XLA loop runs on one core, so two runs side by side use both cores of a 2-core machine.
    """
    value = os.environ.get("TF_OVERPARAM_WORKERS")
    return max(1, int(value)) if value else max(1, min(2, os.cpu_count() or 1))


class FigureSession:
    """Data, optima, a resumable run store, the JSON document and timing of one figure."""

    def __init__(self, name: str, out_dir, data_dir, quick: bool, config: dict,
                 record_curves: bool = True, settings=None):
        self.name = name
        self.data_dir = data_dir
        self.record_curves = record_curves  # False: the JSON gets settings and outcomes only
        self.out_dir = pathlib.Path(out_dir)
        self.started = time.perf_counter()
        self.X, self.y, self.provenance = prov.load_ethanol_problem(data_dir)
        # Only once the data is found: a missing data set leaves no empty folder behind.
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.store = RunStore(self.out_dir.parent / "_runs")
        self.optima, self.references = {}, {}
        for p in sorted(set(config.get("losses", [4]))):
            self.optima[p] = self.store.optimum(self.X, self.y, p, self.provenance["fingerprint"])
            self.references[p] = float(np.mean(self.y ** p) / p)
        self.json_path = self.out_dir / f"{name}.json"
        self.selections = {}
        self.document = {
            "figure": name,
            "paper": "Arora, Cohen, Hazan, ICML 2018 (arXiv 1802.06509)",
            "quick": quick,
            "command": prov.invocation(name, out_dir, data_dir, quick),
            "settings": dict(settings or {}),  # the --set values given; `config` has them applied
            "config": config,
            "conventions": CONVENTIONS,
            "data": self.provenance,
            "optimal_losses": {f"l{p}": {**self.optima[p].as_json(),
                                         "zero_predictor_loss": self.references[p]}
                               for p in self.optima},
            "versions": prov.software_versions(),
            "device": prov.device_description(),
            "started": _now(),
            "runs": {},
            "results": {},
        }
        self.write()

    # ---- requests and runs ----------------------------------------------------------------

    def gap(self, p):
        """(optimum, zero-predictor loss) of the ℓp problem: what relative gaps are made of."""
        return self.optima[p].loss, self.references[p]

    def problem(self, feature_normalization: str, target_normalization: str) -> dict:
        """The Ethanol problem under another normalization: {"data": (X, y, description) to pass
        to `request`, or None where it is the session's own data; "gaps": {p: (optimum,
        zero-predictor loss)}; "provenance"}."""
        X, y, provenance = prov.load_ethanol_problem(
            self.data_dir, feature_normalization=feature_normalization,
            target_normalization=target_normalization)
        own = provenance["fingerprint"] == self.provenance["fingerprint"]
        gaps = {}
        for p in self.optima:
            optimum = self.store.optimum(X, y, p, provenance["fingerprint"])
            gaps[p] = (optimum.loss, float(np.mean(y ** p) / p))
        description = f"features {feature_normalization}, target {target_normalization}"
        return {"data": None if own else (X, y, description), "gaps": gaps,
                "provenance": provenance}

    def request(self, label: str, model, rule, *, p: int, learning_rates, seeds=(0,),
                steps: int, record_every: int, dtype: str = "mixed",
                divergence_factor: float = 1e6, grid: bool = False, data=None,
                gap=None) -> Request:
        """Describe one `tf_overparam.fullbatch.train` call; run it with `execute`.

        `data`: optional (X, y, description) to train on instead of the session's data; such
        runs have gap levels only if `gap` = (optimum, zero-predictor loss) of that data is given.
        """
        import keras

        spec = {
            "code": code_fingerprint(),
            "backend": keras.backend.backend(),
            "data": (self.provenance["fingerprint"] if data is None
                     else prov.data_fingerprint(data[0], data[1])),
            "model": model.describe(),
            "optimizer": rule.describe(),
            "p": int(p),
            "learning_rates": [float(lr) for lr in learning_rates],
            "seeds": [int(s) for s in seeds],
            "steps": int(steps),
            "record_every": int(record_every),
            "dtype": dtype,
            "divergence_factor": float(divergence_factor),
            "loss_levels": ([] if data is not None and gap is None else
                            [float(v) for v in selection.level_losses(*(gap or self.gap(p)))]),
        }
        if data is not None:
            spec["data_description"] = data[2]
        return Request(label, model, rule, spec, grid, None if data is None else (data[0], data[1]))

    def grid_request(self, label, model, rule, setup: dict, p: int) -> Request:
        """A learning-rate grid (all of `setup["seeds"]`) with the settings of `setup`."""
        return self.request(label, model, rule, p=p, learning_rates=setup["learning_rates"],
                            seeds=setup["seeds"], steps=setup["steps"],
                            record_every=setup["record_every"], dtype=setup["dtype"],
                            divergence_factor=setup["divergence_factor"], grid=True)

    def gd_grid(self, setup: dict, p: int, depth: int, kernel_initializer="near_zero"):
        """The grid of gradient descent on one linear network (shared by Figures 3, 4-left and
        5-left: identical settings give identical store keys, so each grid is computed once)."""
        from tf_overparam.fullbatch import LinearNetwork
        from tf_overparam.fullbatch import gd

        model = LinearNetwork(depth=depth, hidden_units=configs.hidden_units_at(depth, setup["hidden_units"]),
                              kernel_initializer=kernel_initializer, stddev=setup["stddev"])
        label = f"l{p} GD depth {depth}" + ("" if kernel_initializer == "near_zero"
                                             else f" {kernel_initializer} init")
        return self.grid_request(label, model, gd(), setup, p)

    def execute(self, requests) -> dict:
        """Run requests (stored ones are loaded), `workers()` at a time. Returns {label: run};
        grid requests also get their learning-rate selection (`self.selections[label]`)."""
        return self.store.execute(requests, self._compute, self._record, workers())

    def _compute(self, request: Request):
        from tf_overparam.fullbatch import train

        spec = request.spec
        start = time.perf_counter()
        shown = progress.RunProgress(
            request.label, spec["steps"],
            intro=f"  [{self.name}] {request.label}: {len(spec['learning_rates'])} lr × "
                  f"{len(spec['seeds'])} seed(s), {spec['steps']:,} iterations …")

        def on_progress(done, total, latest):
            shown.update(done, total, f"{int(np.isfinite(latest).sum())} configuration(s) running")

        X, y = (self.X, self.y) if request.data is None else request.data
        try:
            result = train(X, y, request.model, request.rule, p=spec["p"],
                           learning_rates=spec["learning_rates"], seeds=spec["seeds"],
                           steps=spec["steps"], record_every=spec["record_every"],
                           loss_levels=spec["loss_levels"], dtype=spec["dtype"],
                           divergence_factor=spec["divergence_factor"], progress=on_progress,
                           chunk_steps=20_000)
        except BaseException:
            shown.close()
            raise
        info = {**result.describe(), "spec_key": request.key,
                "total_time_s": time.perf_counter() - start, "cached": False}
        shown.finish(f"    {request.label}: done in {info['total_time_s']:.1f} s "
                     f"({result.steps_per_second:,.0f} iterations/s of the batch, compile "
                     f"{result.compile_time_s:.1f} s)")
        return {"steps": result.steps, "losses": result.losses,
                "learning_rates": result.learning_rates, "seeds": result.seeds,
                "diverged_at": result.diverged_at, "level_steps": result.level_steps,
                "info": info}

    def _record(self, request: Request, run: dict):
        """Record a finished run in the JSON: settings, timing, every configuration's summary
        and its curve (every record for single-configuration runs, every GRID_CURVE_STRIDE-th
        otherwise; `curve()` stores plotted curves at full resolution)."""
        if request.data is not None or not self.record_curves:
            self.document.setdefault("variant_runs", {})[request.label] = {
                "settings": request.spec, "info": run["info"],
                "configurations": [selection.configuration_outcome(run, b)
                                   for b in range(len(run["learning_rates"]))]}
            self.write()
            return
        p = request.spec["p"]
        rows = range(len(run["learning_rates"]))
        stride = 1 if len(rows) == 1 else GRID_CURVE_STRIDE
        record = {
            "settings": request.spec,
            "info": run["info"],
            "configurations": [selection.curve_summary(run, b, *self.gap(p)) for b in rows],
            "curves_stride": stride,
            "steps": run["steps"][::stride],
            "losses": [rounded(run["losses"][b][::stride], 8) for b in rows],
        }
        if request.grid:
            choice = selection.select_learning_rate(run, *self.gap(p))
            self.selections[request.label] = choice
            record["selection"] = {k: v for k, v in choice.items() if k != "grid"}
        self.document["runs"][request.label] = record
        self.write()

    def with_more_seeds(self, requests: dict, more_seeds, runs: dict) -> dict:
        """Each grid request's chosen rate with every seed: the grid's seeds (from `runs`) and
        `more_seeds` (run now). Returns {key: run of the chosen rate's seeds, or None}."""
        extra = {}
        for key, request in requests.items():
            lr = self.selections[request.label]["learning_rate"]
            if lr is not None and more_seeds:
                spec = request.spec
                extra[key] = self.request(
                    f"{request.label}, lr {lr:g}, seeds {', '.join(map(str, more_seeds))}",
                    request.model, request.rule, p=spec["p"], learning_rates=[lr],
                    seeds=more_seeds, steps=spec["steps"], record_every=spec["record_every"],
                    dtype=spec["dtype"], divergence_factor=spec["divergence_factor"])
        done = self.execute(list(extra.values()))
        out = {}
        for key, request in requests.items():
            choice = self.selections[request.label]
            if choice["learning_rate"] is None:
                out[key] = None
                continue
            chosen = selection.take_rows(runs[request.label], choice["rows"])
            out[key] = (selection.stack_runs(chosen, done[extra[key].label]) if key in extra
                        else chosen)
        return out

    def seed_curves(self, name: str, label: str, curves, p: int, **extra) -> dict:
        """Store every seed's full-resolution curve of one selected configuration in
        results["curves"][name]; return its summary over seeds (median and range)."""
        summary = selection.seed_summary(curves, *self.gap(p))
        entry = {"run": label, "learning_rate": float(curves["learning_rates"][0]), **summary,
                 **extra, "steps": curves["steps"],
                 "losses": [rounded(row, 8) for row in curves["losses"]]}
        self.document["results"].setdefault("curves", {})[name] = entry
        return {k: v for k, v in entry.items() if k not in ("steps", "losses")}

    def curve(self, name: str, label: str, run, row: int, p: int, **extra) -> dict:
        """Store one configuration's full-resolution curve in results["curves"][name]; return
        its summary and curve."""
        entry = {"run": label, **selection.curve_summary(run, row, *self.gap(p)), **extra,
                 "steps": run["steps"], "losses": rounded(run["losses"][row], 8)}
        self.document["results"].setdefault("curves", {})[name] = entry
        return entry

    # ---- output ---------------------------------------------------------------------------

    def write(self, final=False):
        """The JSON record: interim (`<figure>.partial.json`) until `finish` writes the result."""
        self.document["elapsed_s"] = time.perf_counter() - self.started
        (write_result if final else write_interim)(self.json_path, self.document)

    def finish(self, results: dict) -> dict:
        self.document["results"] = {**self.document["results"], **results}
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
        self.document["finished"] = _now()
        self.write(final=True)
        return self.document

    def decorate(self, ax, p, title, legend_y=0.05):
        """The gap axes of the ℓp problem (`plotting.decorate_gap_axes`) and the legend."""
        decorate_gap_axes(ax, p, *self.gap(p), self.provenance, title=title)
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, legend_y))

    def save_figure(self, figure, stem: str | None = None):
        figure.tight_layout()
        return save_figure(figure, self.out_dir / (stem or self.name), bbox_inches="tight")


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
