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

Models: "original" (the tutorial, `reproduce.mnist_tutorial.build_model`), "overparameterized"
(`tf_overparam.overparameterize(original, depth=2)`: 3,136×512 → 3,136×512·512×512 and 512×10 →
512×10·10×10; the new matrices carry no L2 term, see `build_overparameterized`) and, in the full
run only, "overparameterized_l2_all" (the same with the L2 term on the new matrices too), a
sensitivity check of that one choice the paper leaves open. Same seed, same data order.
An interrupted run resumes from each model's last checkpoint (every 500 steps).

Runs on any Keras backend (`reproduce.mnist_trainer`): TensorFlow, JAX or PyTorch, the last two
without TensorFlow installed. Resume a checkpoint on the backend that wrote it (dropout masks
differ between backends).
"""

from __future__ import annotations

import os
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from . import configs  # noqa: E402
from . import mnist_trainer  # noqa: E402
from . import mnist_tutorial as tutorial  # noqa: E402
from .plotting import save_figure  # noqa: E402
from .provenance import software_versions  # noqa: E402
from .records import write_json  # noqa: E402

# Every setting is written to figure5_right.json. The thresholds and the smoothing were fixed
# before the full runs were made; nothing here was tuned toward the paper's picture.
CONFIG = {
    "num_steps": tutorial.NUM_STEPS,  # 10 epochs = 8,593 steps
    "eval_frequency": tutorial.EVAL_FREQUENCY,  # validation error after steps 0, 100, 200, … and the last
    "checkpoint_every": 500,
    "seed": tutorial.SEED,
    "jit_compile": False,  # XLA measured 2x slower per step on the CPU (benchmarks/bench_mnist.py)
    "models": ["original", "overparameterized", "overparameterized_l2_all"],
    "plotted_models": ["original", "overparameterized"],
    "smoothing_window": 100,  # smoothed loss at iteration i: mean of iterations max(1, i−99) … i
    "report_iterations": [1, 100, 500, 1000, 4000, tutorial.NUM_STEPS],
    "total_loss_thresholds": [5.0, 4.0, 3.0, 2.5, 2.0],
    "cross_entropy_thresholds": [1.0, 0.5, 0.2, 0.1, 0.05],
    # Iteration ranges over which the smoothed ratio to the original model is averaged.
    "ratio_ranges": [0, 500, 2000, 5000, tutorial.NUM_STEPS],
}

QUICK = {
    "num_steps": 300,
    "checkpoint_every": 100,
    "models": ["original", "overparameterized"],
    "report_iterations": [1, 100, 300],
}

LABELS = {
    "original": "original (1,663,370 parameters)",
    "overparameterized": "overparameterized (1,925,614 parameters)",
    "overparameterized_l2_all": "overparameterized, L2 on new matrices too",
}
SHORT = {"original": "original", "overparameterized": "overparam.", "overparameterized_l2_all": "L2 on all"}
COLORS = {"original": "tab:blue", "overparameterized": "tab:red", "overparameterized_l2_all": "tab:green"}
EXPECTED_PARAMS = {
    "original": tutorial.ORIGINAL_PARAMS,
    "overparameterized": tutorial.OVERPARAMETERIZED_PARAMS,
    "overparameterized_l2_all": tutorial.OVERPARAMETERIZED_PARAMS,
}


def make_config(quick):
    return configs.make_config(CONFIG, QUICK, quick, replace=True, mark_quick=True)


def build(name, seed):
    """The named model, freshly initialized with `seed`; its parameter count is asserted."""
    original = tutorial.build_model(seed)
    if name == "original":
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


# --- Summaries -------------------------------------------------------------------------------------


def smooth(values, window):
    """Trailing mean: smoothed[i] = mean(values[max(0, i − window + 1) … i])."""
    values = np.asarray(values, np.float64)
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    index = np.arange(1, len(values) + 1)
    lower = np.maximum(index - window, 0)
    return (cumulative[index] - cumulative[lower]) / (index - lower)


def first_iteration_below(smoothed, threshold):
    """First iteration (1-based) whose smoothed loss is ≤ threshold, or None."""
    hits = np.flatnonzero(smoothed <= threshold)
    return int(hits[0]) + 1 if hits.size else None


def summarize_losses(losses, config):
    window = config["smoothing_window"]
    summary = {}
    for key, column, thresholds in (("total_loss", "total_loss", config["total_loss_thresholds"]),
                                    ("cross_entropy", "cross_entropy", config["cross_entropy_thresholds"])):
        raw = losses[column]
        smoothed = smooth(raw, window)
        summary[key] = {
            "raw_at": {str(i): float(raw[i - 1]) for i in config["report_iterations"] if i <= len(raw)},
            "smoothed_at": {str(i): float(smoothed[i - 1]) for i in config["report_iterations"] if i <= len(raw)},
            "iterations_to_threshold": {str(t): first_iteration_below(smoothed, t) for t in thresholds},
        }
    return summary


def ratio_by_range(out_dir, config) -> dict:
    """Each model's smoothed loss ÷ the original model's, averaged over ranges of iterations, for
    the total loss and for the cross-entropy alone (the L2 term dominates the total: a change
    in the cross-entropy barely shows there)."""
    window, edges = config["smoothing_window"], config["ratio_ranges"]
    curves = {name: mnist_trainer.read_losses(out_dir / name / "losses.csv")
              for name in config["models"] if (out_dir / name / "losses.csv").exists()}
    base = curves["original"]
    out = {}
    for name, losses in curves.items():
        if name == "original":
            continue
        for key in ("total_loss", "cross_entropy"):
            n = min(len(losses[key]), len(base[key]))
            ratio = smooth(losses[key][:n], window) / smooth(base[key][:n], window)
            out.setdefault(name, {})[key] = {
                f"{low}-{min(high, n)}": float(np.mean(ratio[low:min(high, n)]))
                for low, high in zip(edges[:-1], edges[1:]) if low < n}
    return out


def data_provenance(data_dir, data, source="files") -> dict:
    """What MNIST was trained on: where from, and the split sizes (the loader verified shapes,
    dtype, labels and the published MD5s of the uncompressed content)."""
    from tf_overparam.datasets import DATA_DIR_ENV_VAR

    return {
        "dataset": "MNIST (LeCun, Cortes, Burges)",
        "source": source,
        "data_dir": data_dir or (os.environ.get(DATA_DIR_ENV_VAR) if source == "files" else None)
        or ("cache or download" if source == "files" else "the TFDS default"),
        "split": {part: int(len(arrays[1])) for part, arrays in data.items() if isinstance(arrays, tuple)},
        "scaling": "(x - 127.5) / 255",
        "validation": "first 5,000 training images",
    }


def summarize(out_dir, config, results):
    summary = {"config": config, "models": {}}
    for name in config["models"]:
        losses_path = out_dir / name / "losses.csv"
        if name not in results or not losses_path.exists():
            continue
        losses = mnist_trainer.read_losses(losses_path)
        entry = {key: value for key, value in results[name].items() if key not in ("config",)}
        entry.update(summarize_losses(losses, config))
        summary["models"][name] = entry
    models = summary["models"]
    if "original" in models and "overparameterized" in models:
        summary["smoothed_ratio_to_original_by_range"] = ratio_by_range(out_dir, config)
        a, b = models["original"], models["overparameterized"]
        if a.get("seconds_per_step_median") and b.get("seconds_per_step_median"):
            summary["step_time_ratio_overparameterized_to_original"] = b["seconds_per_step_median"] / a["seconds_per_step_median"]
    return summary


# --- Plot -------------------------------------------------------------------------------------------


# Axis ranges of the two panels: the first iterations' losses (up to 11) would flatten the rest.
BOTTOM = {"total_loss": 0.0, "cross_entropy": 1e-3}
TOP = {"total_loss": 6.0, "cross_entropy": 20.0}


def plot(out_dir, config):
    window = config["smoothing_window"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    panels = (("total_loss", "batch loss (cross-entropy + L2)", "linear"),
              ("cross_entropy", "batch cross-entropy (log scale)", "log"))
    for ax, (column, title, scale) in zip(axes, panels):
        off_scale = []
        for name in config["models"]:
            path = out_dir / name / "losses.csv"
            if not path.exists():
                continue
            losses = mnist_trainer.read_losses(path)
            iterations, raw = losses["iteration"], losses[column]
            color = COLORS[name]
            if name in config["plotted_models"]:
                ax.plot(iterations, raw, color=color, alpha=0.18, linewidth=0.5)
                width = 2.4 if name == "original" else 1.2  # the original drawn wider: the curves overlap
                ax.plot(iterations, smooth(raw, window), color=color, linewidth=width, label=LABELS[name])
            else:
                ax.plot(iterations, smooth(raw, window), color=color, linewidth=1.0, linestyle="--", label=LABELS[name])
            if raw[0] > TOP[column]:
                off_scale.append(f"{SHORT[name]} {raw[0]:.2f}")
        ax.set_yscale(scale)
        ax.set_xlabel("iteration")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.set_ylim(BOTTOM[column], TOP[column])
        if off_scale:
            ax.text(0.99, 0.02, "iteration 1, off scale: " + ", ".join(off_scale), transform=ax.transAxes,
                    ha="right", va="bottom", fontsize=8, color="0.3")
    axes[0].legend(loc="upper right", fontsize=9)
    fig.suptitle("Figure 5-right: MNIST convnet tutorial (TF1 momentum 0.9, batch 64), raw per-step loss (light) "
                 f"and its {window}-step trailing mean", fontsize=10)
    fig.tight_layout()
    save_figure(fig, out_dir / "figure5_right", dpi=150)


# --- Entry point --------------------------------------------------------------------------------------


def run(out_dir=pathlib.Path("results/figure5_right"), data_dir=None, quick=False, stop_after=None,
        mnist_source="files"):
    """Train every configured model (resuming), write the JSON and the figure; return the summary.

    Args:
        out_dir: output folder (created).
        data_dir: root holding mnist/ (or the files), as `tf_overparam.datasets.load_mnist`.
        quick: 300 steps and two models, for CI.
        stop_after: stop each model after this many steps without a checkpoint (simulates an
            interruption; for tests).
        mnist_source: "files" (the IDX files, as above) or "tfds" (`tfds.load("mnist")`, as the
            Colab notebook does; `data_dir` is then TFDS's data folder). Same arrays either way.
    """
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    config = make_config(quick)
    data = tutorial.load_tutorial_data(data_dir, source=mnist_source)
    results = {}
    for name in config["models"]:
        print(f" {name}: {config['num_steps']} steps", flush=True)
        model = build(name, config["seed"])
        run_config = {"model": name, "seed": config["seed"], "jit_compile": config["jit_compile"],
                      "checkpoint_every": config["checkpoint_every"]}
        results[name] = mnist_trainer.train_model(
            model, data, out_dir / name, num_steps=config["num_steps"], eval_frequency=config["eval_frequency"],
            checkpoint_every=config["checkpoint_every"], jit_compile=config["jit_compile"],
            run_config=run_config, stop_after=stop_after)
        summary = summarize(out_dir, config, results)
        summary["data"] = data_provenance(data_dir, data, mnist_source)
        summary["versions"] = software_versions()
        summary["device"] = mnist_trainer.device_description()
        write_json(out_dir / "figure5_right.json", summary)
    plot(out_dir, config)
    return summary
