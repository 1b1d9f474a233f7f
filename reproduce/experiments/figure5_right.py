"""Figure 5-right: TensorFlow's MNIST convnet tutorial, original against overparameterized.

`python -m reproduce figure5_right [--quick] [--out DIR] [--data-dir DIR]` writes into DIR
(default results/figure5_right, results_quick/figure5_right with --quick):

    figure5_right.png/.pdf   batch loss per iteration, raw (light) and smoothed, both models;
                             left the loss the optimizer minimizes (cross-entropy + L2, the
                             tutorial's "Minibatch loss"), right the cross-entropy alone
    figure5_right.json       every setting, and per model: parameters, losses at the report
                             iterations, iterations to the loss thresholds, validation errors,
                             test error, device, step time
    <model>/losses.csv       iteration, total_loss, cross_entropy, learning_rate (appended as
                             the run goes); <model>/checkpoint.npz; <model>/result.json

Models: "original" (the tutorial, `reproduce.lab.mnist_tutorial.build_model`), "overparameterized"
(`tf_overparam.overparameterize(original, depth=2)`: 3,136×512 → 3,136×512·512×512 and 512×10 →
512×10·10×10; the new matrices carry no L2 term, see `build_overparameterized`) and, in the full
run only, "overparameterized_l2_all" (the same with the L2 term on the new matrices too), a
sensitivity check of that one choice the paper leaves open. Same seed, same data order.
An interrupted run resumes from each model's last checkpoint (every 500 steps).

"emulated": the original convnet, same initial weights, trained by the end-to-end rule
of depth 2 on its two dense kernels (`mnist_tutorial.make_end_to_end_optimizer`: EndToEndSGD,
TF1 momentum on the preconditioned direction, conv kernels and biases plain TF1 momentum), the L2
term kept in the loss. In the full run with its seeds, though it is the slow
one: ≈0.49 s/step on TensorFlow on 2 idle cores (one 3,136×512 SVD per step), ≈70 min a seed.

Seeds: `CONFIG["seeds"]` (a count n: seeds SEED + k, k = 0 … n−1; or a list of k), 5 (
on an idle 2-core CPU about 11 min per run of the three others, 70 of the emulated variant: 20
runs, ≈8.5 h), 1 with --quick. k = 0 writes `<model>/`,
k ≥ 1 `<model>_seed<k>/`. The JSON adds "by_seed" and "over_seeds" (median, min, max of every
ratio and the test error; ratios against the original model of the same seed); the plot a
min–max band over seeds. `run(summary_only=True)` summarizes the complete runs found without
training (runs made in several calls). Summaries and plot: `reproduce.experiments.figure5_right_summary`.

Runs on any Keras backend (`reproduce.lab.mnist_trainer`): TensorFlow, JAX or PyTorch, the last two
without TensorFlow installed. Resume a checkpoint on the backend that wrote it (dropout masks
differ between backends).
"""

from __future__ import annotations

import numbers
import pathlib
import sys
import time

from ..lab import configs
from ..lab import mnist_run_files
from ..lab import mnist_trainer
from ..lab import mnist_tutorial as tutorial
from ..lab import runner
from . import figure5_right_summary
from .figure5_right_summary import (COLORS, LABELS, SHORT, first_iteration_below,  # noqa: F401
                                    ratio_by_range, run_dir, seed_offsets, smooth, summarize_losses)

# Every setting is written to figure5_right.json. The thresholds and the smoothing were fixed
# before the full runs were made; nothing here was tuned toward the paper's picture.
CONFIG = {
    "num_steps": tutorial.NUM_STEPS,  # 10 epochs = 8,593 steps
    "eval_frequency": tutorial.EVAL_FREQUENCY,  # validation error after steps 0, 100, 200, … and the last
    "checkpoint_every": 500,
    "seed": tutorial.SEED,
    # Seeds SEED + k, k = 0 … seeds − 1 (or a list of k); k = 0 writes <out>/<model>, k ≥ 1
    # <out>/<model>_seed<k>. Five: one seed cannot tell acceleration from noise.
    "seeds": 5,
    "jit_compile": False,  # XLA measured 2x slower per step on the CPU (benchmarks/bench_mnist.py)
    # Every variant, the emulated one too, though on a 2-core CPU it
    # takes 0.49 s/step on TensorFlow (one 3,136×512 SVD per step), about 70 minutes a seed.
    "models": ["original", "overparameterized", "overparameterized_l2_all", "emulated"],
    # Every model is drawn as its median over seeds (band: min–max); these also get the raw
    # per-step curve of the first seed, light (the summary's "plotted" says which is which).
    "raw_curve_models": ["original", "overparameterized", "emulated"],
    "smoothing_window": 100,  # smoothed loss at iteration i: mean of iterations max(1, i−99) … i
    "report_iterations": [1, 100, 500, 1000, 4000, tutorial.NUM_STEPS],
    "total_loss_thresholds": [5.0, 4.0, 3.0, 2.5, 2.0],
    "cross_entropy_thresholds": [1.0, 0.5, 0.2, 0.1, 0.05],
    # Iteration ranges over which the smoothed ratio to the original model is averaged.
    "ratio_ranges": [0, 500, 2000, 5000, tutorial.NUM_STEPS],
}

QUICK = {
    "seeds": 1,
    "num_steps": 100,
    "checkpoint_every": 50,
    "models": ["original", "overparameterized", "emulated"],
    "report_iterations": [1, 50, 100],
}

#: Every variant (the full run's, and the GPU script's).
ALL_MODELS = list(CONFIG["models"])

EXPECTED_PARAMS = {
    "original": tutorial.ORIGINAL_PARAMS,
    "overparameterized": tutorial.OVERPARAMETERIZED_PARAMS,
    "overparameterized_l2_all": tutorial.OVERPARAMETERIZED_PARAMS,
    "emulated": tutorial.ORIGINAL_PARAMS,
}


def make_config(quick=False, settings=None):
    """CONFIG, or QUICK in its place with `quick`, then `settings` (`--set`). "seeds" (a count
    or a list of k), "models" and "num_steps" are checked as `run`'s arguments of those names."""
    settings = dict(settings or {})
    special = {key: settings.pop(key) for key in ("seeds", "models", "num_steps") if key in settings}
    config = configs.experiment_config(CONFIG, QUICK, quick, settings, replace=True, mark_quick=True)
    config.update(check_arguments(**special, names={key: f"setting {key!r}" for key in special}))
    return config


def build(name, seed):
    """The named model, freshly initialized with `seed`; its parameter count is asserted."""
    original = tutorial.build_model(seed)
    if name in ("original", "emulated"):  # "emulated": the original, another optimizer (`optimizer_for`)
        model = original
    elif name == "overparameterized":
        model = tutorial.build_overparameterized(original, l2_on_new_factors=False)
    elif name == "overparameterized_l2_all":
        model = tutorial.build_overparameterized(original, l2_on_new_factors=True)
    else:
        raise ValueError(f"unknown model {name!r}")
    params = tutorial.count_params(model)
    if seed == tutorial.SEED and params != EXPECTED_PARAMS[name]:
        raise AssertionError(f"{name}: {params} parameters, expected {EXPECTED_PARAMS[name]}")
    return model


def data_provenance(data, source="files") -> dict:
    """What MNIST was trained on: the data by what it is (files or TFDS; the loader verified shapes,
    dtype, labels and the published MD5s of the uncompressed content) and the split sizes."""
    return {
        "dataset": "MNIST (LeCun, Cortes, Burges)",
        "source": source,
        "split": {part: int(len(arrays[1])) for part, arrays in data.items() if isinstance(arrays, tuple)},
        "scaling": "(x - 127.5) / 255",
        "validation": "first 5,000 training images",
    }


def optimizer_for(name):
    """(optimizer factory or None for the tutorial's, its identity for the run config or None)."""
    if name == "emulated":
        return tutorial.make_end_to_end_optimizer, tutorial.END_TO_END_OPTIMIZER
    return None, None


def run_config_for(name, seed, config):
    """What `train_model` hashes (with the step counts): unchanged for the single-seed variants,
    so their committed runs stay complete; the emulated variant's names its optimizer."""
    run_config = {"model": name, "seed": seed, "jit_compile": config["jit_compile"],
                  "checkpoint_every": config["checkpoint_every"]}
    identity = optimizer_for(name)[1]
    if identity is not None:
        run_config["optimizer"] = identity
    return run_config


def _is_count(value, lowest):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= lowest


def check_arguments(seeds=None, models=None, num_steps=None, mnist_source="files", stop_after=None,
                    summary_only=False, names=None):
    """`run`'s overrides, checked before any work (no folder made, no data read); returns the
    config entries they set. A ValueError names the argument and what it accepts: as `run`
    spells it, or as `names` maps it (e.g. {"num_steps": "--steps"} for a command line)."""
    names = names or {}

    def name(argument):
        return names.get(argument, f"`{argument}`")

    overrides = {}
    if seeds is not None:
        if isinstance(seeds, (list, tuple)):
            if not seeds or not all(_is_count(k, 0) for k in seeds) or len(set(seeds)) != len(seeds):
                raise ValueError(f"{name('seeds')} as a list must hold distinct integers k >= 0 (seeds SEED + k), "
                                 f"at least one, got {seeds!r}.")
            overrides["seeds"] = [int(k) for k in seeds]
        elif _is_count(seeds, 1):
            overrides["seeds"] = int(seeds)
        else:
            raise ValueError(f"{name('seeds')} must be a count >= 1 or a list of distinct integers k >= 0, got {seeds!r}.")
    if models is not None:
        model_names = [models] if isinstance(models, str) else list(models)
        if not model_names or len(set(model_names)) != len(model_names) or not set(model_names) <= set(ALL_MODELS):
            raise ValueError(f"{name('models')} must be a non-empty list of distinct names from {ALL_MODELS}, got {models!r}.")
        overrides["models"] = model_names
    if num_steps is not None:
        if not _is_count(num_steps, 1):
            raise ValueError(f"{name('num_steps')} must be an integer >= 1, got {num_steps!r}.")
        overrides["num_steps"] = int(num_steps)
    if mnist_source not in ("files", "tfds"):
        raise ValueError(f"{name('mnist_source')} must be 'files' or 'tfds', got {mnist_source!r}.")
    if stop_after is not None and not _is_count(stop_after, 1):
        raise ValueError(f"{name('stop_after')} must be None or an integer >= 1, got {stop_after!r}.")
    if not isinstance(summary_only, bool):
        raise ValueError(f"{name('summary_only')} must be True or False, got {summary_only!r}.")
    return overrides


# --- Runs and the protocol ------------------------------------------------------------------------


class TutorialRun:
    """One model and seed of the tutorial, as a value: its folder `run_dir(out_dir, name, k)`
    holds losses.csv, checkpoint.npz and result.json (`mnist_trainer.train_model`: atomic,
    validated on read, bad files moved aside, resumed from the checkpoint mid-run)."""

    kind = "tutorial convnet"
    parallel = False  # trains a Keras model: one at a time

    def __init__(self, name, k, config, context):
        self.name, self.k, self.config, self.context = name, k, config, context
        self.seed = config["seed"] + k
        self.folder = run_dir(context["out_dir"], name, k)
        self.label, self.key = f"{name} seed {self.seed}", self.folder.name
        self.run_config = run_config_for(name, self.seed, config)
        self.cost = config["num_steps"] * (5.0 if name == "emulated" else 1.0)

    def stored_at(self, store):
        return self.folder / "result.json"

    def complete(self):
        return mnist_run_files.completed_result(self.folder, self.run_config, self.config["num_steps"],
                                                self.config["eval_frequency"])

    def read(self, store):
        result = self.complete()
        if result is not None:
            print(f" {self.name}, seed {self.seed}: complete" if self.context["summary_only"] else
                  f"  {self.folder.name}: complete, kept ({self.folder / 'result.json'})", flush=True)
            return {**result, "info": {}}
        return None

    def write(self, store, result):
        """Nothing: `train_model` wrote the run's files as it went."""

    def skip(self):
        print(f" {self.name}, seed {self.seed}: missing (not complete), left out", flush=True)

    def compute(self, name=""):
        print(f" {self.name}, seed {self.seed}: {self.config['num_steps']} steps", flush=True)
        start = time.perf_counter()
        result = mnist_trainer.train_model(
            build(self.name, self.seed), self.context["data"], self.folder,
            num_steps=self.config["num_steps"], eval_frequency=self.config["eval_frequency"],
            checkpoint_every=self.config["checkpoint_every"], jit_compile=self.config["jit_compile"],
            run_config=self.run_config, stop_after=self.context["stop_after"],
            optimizer=optimizer_for(self.name)[0])
        return {**result, "info": {"total_time_s": time.perf_counter() - start}}

    def record(self, result, curves=True):
        return "runs", {"run_config": self.run_config, "complete": result.get("complete", True),
                        "info": result["info"]}


def prepare(config, data_dir, store, out_dir, mnist_source="files", stop_after=None,
            summary_only=False):
    """The data (checked before anything is written) and the options of the runs."""
    out_dir = pathlib.Path(out_dir)
    if summary_only and not out_dir.is_dir():
        raise FileNotFoundError(f"summary_only: {out_dir} does not exist, so there are no runs to summarize")
    data = tutorial.load_tutorial_data(data_dir, source=mnist_source)
    context = {"out_dir": out_dir, "data": data, "stop_after": stop_after, "summary_only": summary_only,
               "provenance": data_provenance(data, mnist_source)}
    if summary_only and not any(run.complete() for run in runs(config, context, {}).values()):
        raise FileNotFoundError(f"summary_only: no complete run of {config['models']} in {out_dir}")
    return context


def header(context) -> dict:
    return {"data": context["provenance"]}


def runs(config, context, done) -> dict:
    return {(name, k): TutorialRun(name, k, config, context)
            for k in seed_offsets(config) for name in config["models"]}


def summarize(config, context, runs, done) -> dict:
    summary = figure5_right_summary.summarize(context["out_dir"], config, done)
    del summary["config"]  # the JSON's own "config"
    counts = {}
    for name, _ in done:
        counts[name] = counts.get(name, 0) + 1
    summary["plotted"] = {name: {"seeds": n, "median_with_min_max_band": n > 1,
                                 "raw_curve_of_the_first_seed": name in config["raw_curve_models"]}
                          for name, n in counts.items()}
    return summary


def plot(results, config, context, out_dir):
    """Drawn from the runs' per-step losses (`figure5_right_summary.plot`): those summarized."""
    included = {(name, int(seed) - config["seed"]) for name, seeds in results["by_seed"].items()
                for seed in seeds}
    figure5_right_summary.plot(context["out_dir"], config, include=included)


def finished(context, done) -> bool:
    """A result only when every run went to its end (`stop_after` leaves them unfinished)."""
    return context["stop_after"] is None and all(r.get("complete", True) for r in done.values())


def run(out_dir=pathlib.Path("results/figure5_right"), data_dir=None, quick=False, stop_after=None,
        mnist_source="files", seeds=None, models=None, num_steps=None, summary_only=False, settings=None):
    """Train every configured model and seed (resuming), write the JSON and the figure; return the
    JSON document.

    Args:
        out_dir: output folder (created).
        data_dir: root holding mnist/ (or the files), as `tf_overparam.datasets.load_mnist`.
        quick: 100 steps and three models, for CI.
        stop_after: stop each model after this many steps without a checkpoint (simulates an
            interruption; for tests).
        mnist_source: "files" (the IDX files, as above) or "tfds" (`tfds.load("mnist")`, as the
            Colab notebook does; `data_dir` is then TFDS's data folder). Same arrays either way.
        seeds: overrides the config's "seeds" (a count, or a list of k for seeds SEED + k).
        models: overrides the config's "models" (e.g. `ALL_MODELS`).
        num_steps: overrides the config's "num_steps" (the learning-rate schedule is unchanged).
        summary_only: train nothing; write the JSON and the figure from the runs in `out_dir`
            that are complete (e.g. after runs made in several calls or on several machines),
            naming the ones still missing.
        settings: {key: value} applied to the config (the command line's `--set`).
    """
    check_arguments(seeds=seeds, models=models, num_steps=num_steps, mnist_source=mnist_source,
                    stop_after=stop_after, summary_only=summary_only)
    given = {key: value for key, value in (("seeds", seeds), ("models", models), ("num_steps", num_steps))
             if value is not None}
    return runner.run(sys.modules[__name__], out_dir, data_dir, quick, {**(settings or {}), **given},
                      options={"mnist_source": mnist_source, "stop_after": stop_after,
                               "summary_only": summary_only}, compute=not summary_only)
