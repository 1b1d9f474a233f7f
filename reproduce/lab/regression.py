"""The regression experiments' data and runs: a `Problem` (a data set, its ℓp optima and the
gaps measured from them) and `FullBatchRun`, one `tf_overparam.fullbatch.train` call as a value
with a key (what the run store stores and the runner computes).

Every regression experiment (Figures 2 to 5-left, the atlas) builds its runs here:
`problem.fit(...)` for one call, `problem.grid(...)` / `problem.gd_grid(...)` for a
learning-rate grid, and `more_seed_runs` for the second stage of the grid figures (the chosen
rate with more seeds), which depends on the grids' results only.
"""

from __future__ import annotations

import time

import numpy as np

from . import configs
from . import progress
from . import provenance as prov
from . import selection
from .records import rounded
from .run_store import code_fingerprint
from .run_store import read_fullbatch
from .run_store import spec_key
from .run_store import write_fullbatch

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


def prepare(config, data_dir, store, out_dir=None) -> "Problem":
    """A regression experiment's context: the data set (the config's "data": "ethanol", a UCI
    set such as "concrete", or a table; `provenance.load_problem`), normalized as the figures do,
    and its optima for the config's losses (`prepare` of Figures 2 to 5-left and the atlas)."""
    return Problem.load(data_dir, store, config.get("losses", [4]), source=config.get("data", "ethanol"))


def header(problem: "Problem") -> dict:
    """The JSON entries every regression experiment starts with."""
    return {"conventions": CONVENTIONS, "data": problem.provenance,
            "optimal_losses": problem.optimal_losses()}


class Problem:
    """A regression data set: X, y, their provenance, and per loss p the optimum L* and the
    zero predictor's loss L0 (the relative gap is (L − L*)/(L0 − L*)).

    `description` is None for the data as loaded by default (the figures' data) and says the
    normalization for a variant (`variant`); runs on a variant carry it in their settings.
    """

    def __init__(self, X, y, provenance, store, losses, description=None, data_dir=None,
                 source="ethanol"):
        self.X, self.y, self.provenance = X, y, provenance
        self.store, self.description, self.data_dir, self.source = store, description, data_dir, source
        self.losses = sorted(set(losses))
        self.optima = {p: store.optimum(X, y, p, provenance["fingerprint"]) for p in self.losses}
        self.references = {p: float(np.mean(y ** p) / p) for p in self.losses}

    @classmethod
    def load(cls, data_dir, store, losses, feature_normalization="standardize",
             target_normalization="standardize", description=None, source="ethanol") -> "Problem":
        """`source` "ethanol": the paper's data (`load_ethanol`, from `data_dir`); "concrete",
        "wine", "parkinsons" or "pumadyn32nm": that UCI set (`load_uci_regression`, from
        `data_dir`); anything else: a table `tf_overparam.datasets.load_table` reads (a CSV, a
        NumPy file, "tfds:NAME"). See `provenance.load_problem`."""
        X, y, provenance = prov.load_problem(source, data_dir,
                                             feature_normalization=feature_normalization,
                                             target_normalization=target_normalization)
        return cls(X, y, provenance, store, losses, description, data_dir, source)

    def variant(self, feature_normalization: str, target_normalization: str) -> "Problem":
        """The same rows under another normalization (itself where that is the default)."""
        other = Problem.load(self.data_dir, self.store, self.losses, feature_normalization,
                             target_normalization,
                             f"features {feature_normalization}, target {target_normalization}",
                             self.source)
        return self if other.provenance["fingerprint"] == self.provenance["fingerprint"] else other

    def gap(self, p):
        """(optimum, zero-predictor loss) of the ℓp problem: what relative gaps are made of."""
        return self.optima[p].loss, self.references[p]

    def optimal_losses(self) -> dict:
        return {f"l{p}": {**self.optima[p].as_json(), "zero_predictor_loss": self.references[p]}
                for p in self.losses}

    # ---- runs ------------------------------------------------------------------------------

    def fit(self, label: str, model, rule, *, p: int, learning_rates, seeds=(0,), steps: int,
            record_every: int, dtype: str = "mixed", divergence_factor: float = 1e6,
            grid: bool = False) -> "FullBatchRun":
        """One `tf_overparam.fullbatch.train` call on this data, as a run."""
        import keras

        spec = {
            "code": code_fingerprint(),
            "backend": keras.backend.backend(),
            "data": self.provenance["fingerprint"],
            "model": model.describe(),
            "optimizer": rule.describe(),
            "p": int(p),
            "learning_rates": [float(lr) for lr in learning_rates],
            "seeds": [int(s) for s in seeds],
            "steps": int(steps),
            "record_every": int(record_every),
            "dtype": dtype,
            "divergence_factor": float(divergence_factor),
            "loss_levels": [float(v) for v in selection.level_losses(*self.gap(p))],
        }
        if self.description is not None:
            spec["data_description"] = self.description
        return FullBatchRun(label, model, rule, spec, self, grid)

    def grid(self, label, model, rule, setup: dict, p: int) -> "FullBatchRun":
        """A learning-rate grid (all of `setup["seeds"]`) with the settings of `setup`."""
        return self.fit(label, model, rule, p=p, learning_rates=setup["learning_rates"],
                        seeds=setup["seeds"], steps=setup["steps"],
                        record_every=setup["record_every"], dtype=setup["dtype"],
                        divergence_factor=setup["divergence_factor"], grid=True)

    def gd_grid(self, setup: dict, p: int, depth: int, kernel_initializer="near_zero"):
        """The grid of gradient descent on one linear network (shared by Figures 3, 4-left and
        5-left: identical settings give identical store keys, so each grid is computed once)."""
        from tf_overparam.fullbatch import LinearNetwork
        from tf_overparam.fullbatch import gd

        model = LinearNetwork(depth=depth,
                              hidden_units=configs.hidden_units_at(depth, setup["hidden_units"]),
                              kernel_initializer=kernel_initializer, stddev=setup["stddev"])
        label = f"l{p} GD depth {depth}" + ("" if kernel_initializer == "near_zero"
                                             else f" {kernel_initializer} init")
        return self.grid(label, model, gd(), setup, p)


class FullBatchRun:
    """One trainer call: label, model, update rule, its settings (`spec`, plain data), the
    problem it trains on and its store key (a hash of `spec`). Computing it trains; recording it
    gives the JSON record of its settings, timing and curves."""

    kind = "fullbatch"

    def __init__(self, label, model, rule, spec, problem: Problem, grid=False):
        self.label, self.model, self.rule, self.spec = label, model, rule, spec
        self.problem, self.grid = problem, grid
        self.key = spec_key(spec)
        widths = model.widths(problem.X.shape[1], 1)
        per_step = sum(a * b for a, b in zip(widths[:-1], widths[1:])) + 2 * problem.X.size
        self.cost = per_step * spec["steps"] * len(spec["learning_rates"]) * len(spec["seeds"])

    def stored_at(self, store):
        return store.path(self.key)

    def read(self, store):
        return read_fullbatch(store, self)

    def write(self, store, result):
        write_fullbatch(store, self, result)

    def compute(self, name: str = "") -> dict:
        from tf_overparam.fullbatch import train

        spec = self.spec
        start = time.perf_counter()
        shown = progress.RunProgress(
            self.label, spec["steps"],
            intro=f"  [{name}] {self.label}: {len(spec['learning_rates'])} lr × "
                  f"{len(spec['seeds'])} seed(s), {spec['steps']:,} iterations …")

        def on_progress(done, total, latest):
            shown.update(done, total, f"{int(np.isfinite(latest).sum())} configuration(s) running")

        try:
            result = train(self.problem.X, self.problem.y, self.model, self.rule, p=spec["p"],
                           learning_rates=spec["learning_rates"], seeds=spec["seeds"],
                           steps=spec["steps"], record_every=spec["record_every"],
                           loss_levels=spec["loss_levels"], dtype=spec["dtype"],
                           divergence_factor=spec["divergence_factor"], progress=on_progress,
                           chunk_steps=20_000)
        except BaseException:
            shown.close()
            raise
        info = {**result.describe(), "spec_key": self.key,
                "total_time_s": time.perf_counter() - start, "cached": False}
        shown.finish(f"    {self.label}: done in {info['total_time_s']:.1f} s "
                     f"({result.steps_per_second:,.0f} iterations/s of the batch, compile "
                     f"{result.compile_time_s:.1f} s)")
        return {"steps": result.steps, "losses": result.losses,
                "learning_rates": result.learning_rates, "seeds": result.seeds,
                "diverged_at": result.diverged_at, "level_steps": result.level_steps,
                "info": info}

    def record(self, run: dict, curves: bool = True) -> tuple[str, dict]:
        """(section, record) for the JSON: settings, timing, every configuration's summary and,
        with `curves` on the problem's own data, its curve (every record for a single
        configuration, every GRID_CURVE_STRIDE-th of a grid) and a grid's selection."""
        if self.problem.description is not None or not curves:
            return "variant_runs", {
                "settings": self.spec, "info": run["info"],
                "configurations": [selection.configuration_outcome(run, b)
                                   for b in range(len(run["learning_rates"]))]}
        gap = self.problem.gap(self.spec["p"])
        rows = range(len(run["learning_rates"]))
        stride = 1 if len(rows) == 1 else GRID_CURVE_STRIDE
        record = {
            "settings": self.spec,
            "info": run["info"],
            "configurations": [selection.curve_summary(run, b, *gap) for b in rows],
            "curves_stride": stride,
            "steps": run["steps"][::stride],
            "losses": [rounded(run["losses"][b][::stride], 8) for b in rows],
        }
        if self.grid:
            choice = selection.select_learning_rate(run, *gap)
            record["selection"] = {k: v for k, v in choice.items() if k != "grid"}
        return "runs", record


# ---- the grid figures' two stages -----------------------------------------------------------------


def choice_of(grid: FullBatchRun, done: dict, name) -> dict | None:
    """The selection (the figures' rule, area) of a finished grid run, or None if not done."""
    return (selection.select_learning_rate(done[name], *grid.problem.gap(grid.spec["p"]))
            if name in done else None)


def more_seed_runs(grids: dict, done: dict, more_seeds) -> dict:
    """For each finished grid {name: run}: its chosen rate with `more_seeds`, keyed
    ("more seeds", name); none for a grid that chose no rate (every rate diverged)."""
    extra = {}
    for name, grid in grids.items():
        choice = choice_of(grid, done, name)
        if choice is None or choice["learning_rate"] is None or not more_seeds:
            continue
        lr, spec = choice["learning_rate"], grid.spec
        extra[("more seeds", name)] = grid.problem.fit(
            f"{grid.label}, lr {lr:g}, seeds {', '.join(map(str, more_seeds))}", grid.model,
            grid.rule, p=spec["p"], learning_rates=[lr], seeds=more_seeds, steps=spec["steps"],
            record_every=spec["record_every"], dtype=spec["dtype"],
            divergence_factor=spec["divergence_factor"])
    return extra


def chosen_curves(grids: dict, done: dict) -> dict:
    """{name: the chosen rate's curves over every seed (the grid's and the extra ones), or None
    where the grid chose no rate}."""
    out = {}
    for name, grid in grids.items():
        choice = choice_of(grid, done, name)
        if choice["learning_rate"] is None:
            out[name] = None
            continue
        chosen = selection.take_rows(done[name], choice["rows"])
        extra = done.get(("more seeds", name))
        out[name] = chosen if extra is None else selection.stack_runs(chosen, extra)
    return out


def selected_entry(grid: FullBatchRun, done: dict, name) -> dict:
    """The chosen rate of a grid and how it was chosen (the figures' "selected" entries)."""
    choice = choice_of(grid, done, name)
    return {"learning_rate": choice["learning_rate"], "at_grid_edge": choice.get("at_grid_edge"),
            "learning_rate_by_final_loss": choice.get("learning_rate_by_final_loss")}


def seed_curves(problem: Problem, label: str, curves, p: int, **extra) -> dict:
    """One selected configuration over its seeds: the summary (median and range of every
    measure), `extra`, and every seed's full-resolution curve ("steps", "losses")."""
    summary = selection.seed_summary(curves, *problem.gap(p))
    return {"run": label, "learning_rate": float(curves["learning_rates"][0]), **summary,
            **extra, "steps": curves["steps"], "losses": [rounded(row, 8) for row in curves["losses"]]}


def summarize_grids(grids: dict, done: dict, name_of=str, extra=None) -> tuple[dict, dict]:
    """Per grid {key: run}: its "selected" entry (the chosen rate, how it was chosen, and the
    chosen curves' summary over every seed, with `extra(key, curves)` if given) and the curves
    the figure draws, each keyed `name_of(key)`. Returns (selected, curves)."""
    curves = chosen_curves(grids, done)
    selected, stored = {}, {}
    for key, grid in grids.items():
        name = name_of(key)
        entry = selected_entry(grid, done, key)
        if curves[key] is not None:
            stored[name] = seed_curves(grid.problem, grid.label, curves[key], grid.spec["p"],
                                       **(extra(key, curves[key]) if extra else {}))
            entry.update(without_curve(stored[name]))
        selected[name] = entry
    return selected, stored


def without_curve(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if k not in ("steps", "losses")}
