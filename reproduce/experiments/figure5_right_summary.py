"""Figure 5-right's summaries and plot (`reproduce.experiments.figure5_right` trains; this reads its folders).

Each (model, seed) run lives in `run_dir(out, model, k)`: `<out>/<model>` for k = 0 (the
tutorial's seed, `mnist_tutorial.SEED`; the folder of the committed single-seed runs) and
`<out>/<model>_seed<k>` for seed `SEED + k`, k ≥ 1.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..lab import mnist_run_files  # noqa: E402
from ..lab import mnist_tutorial as tutorial  # noqa: E402
from ..lab.plotting import save_figure  # noqa: E402

LABELS = {
    "original": "original (1,663,370 parameters)",
    "overparameterized": "overparameterized (1,925,614 parameters)",
    "overparameterized_l2_all": "overparameterized, L2 on new matrices too",
    "emulated": "original, end-to-end rule N=2 (1,663,370 parameters)",
}
SHORT = {"original": "original", "overparameterized": "overparam.", "overparameterized_l2_all": "L2 on all",
         "emulated": "emulated"}
COLORS = {"original": "tab:blue", "overparameterized": "tab:red", "overparameterized_l2_all": "tab:green",
          "emulated": "tab:purple"}


def seed_offsets(config):
    """The k of every seed `SEED + k` the config asks for: `seeds` is a count n (k = 0 … n−1) or
    a list of k."""
    seeds = config.get("seeds", 1)
    return list(range(int(seeds))) if isinstance(seeds, int) else [int(k) for k in seeds]


def run_dir(out_dir, name, k):
    """Where model `name` trained with seed `SEED + k` writes: `<out>/<name>` for k = 0."""
    return out_dir / (name if k == 0 else f"{name}_seed{k}")


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


def _counted(out_dir, name, k, include):
    """Whether run (name, k) enters a summary or plot: its losses exist and, with `include` (the
    complete runs), it is one of them, so that an unfinished run's shorter curve is left out."""
    return (run_dir(out_dir, name, k) / "losses.csv").exists() and (include is None or (name, k) in include)


def _curves(out_dir, config, k, include=None):
    return {name: mnist_run_files.read_losses(run_dir(out_dir, name, k) / "losses.csv")
            for name in config["models"] if _counted(out_dir, name, k, include)}


def ratio_by_range(out_dir, config, k=0, include=None) -> dict:
    """Each model's smoothed loss ÷ the original model's of the same seed (`SEED + k`), averaged
    over ranges of iterations, for the total loss and for the cross-entropy alone (the L2 term
    dominates the total: a change in the cross-entropy barely shows there)."""
    window, edges = config["smoothing_window"], config["ratio_ranges"]
    curves = _curves(out_dir, config, k, include)
    if "original" not in curves:
        return {}
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


def spread(values):
    """Median, min and max of a list of numbers (None where it is empty)."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": float(np.median(values)), "min": float(np.min(values)), "max": float(np.max(values)),
            "n": len(values)}


def summarize(out_dir, config, results):
    """The summary JSON. `results[(name, k)]` is `train_model`'s result for model `name`, seed
    `SEED + k`.

    "models" and "smoothed_ratio_to_original_by_range" hold the tutorial's seed (k = 0), as the
    single-seed runs did; "by_seed"[name][seed] every seed's numbers (the ratios against the
    original model of the same seed); "over_seeds"[name] the median, min and max over seeds of
    the test error and of every ratio.
    """
    summary = {"config": config, "models": {}, "by_seed": {}, "over_seeds": {}}
    ratios = {k: ratio_by_range(out_dir, config, k, include=set(results)) for k in seed_offsets(config)}
    for name in config["models"]:
        for k in seed_offsets(config):
            losses_path = run_dir(out_dir, name, k) / "losses.csv"
            if (name, k) not in results or not losses_path.exists():
                continue
            entry = {key: value for key, value in results[name, k].items() if key not in ("config", "info")}
            entry.update(summarize_losses(mnist_run_files.read_losses(losses_path), config))
            if name in ratios[k]:
                entry["smoothed_ratio_to_original_by_range"] = ratios[k][name]
            summary["by_seed"].setdefault(name, {})[str(tutorial.SEED + k)] = entry
            if k == 0:
                summary["models"][name] = entry
        seeds = summary["by_seed"].get(name, {})
        if not seeds:
            continue
        over = {"seeds": [int(s) for s in seeds],
                "test_error_percent": spread([e.get("test_error_percent") for e in seeds.values()])}
        by_range = [e["smoothed_ratio_to_original_by_range"] for e in seeds.values()
                    if "smoothed_ratio_to_original_by_range" in e]
        if by_range:
            over["smoothed_ratio_to_original_by_range"] = {
                key: {span: spread([r[key].get(span) for r in by_range]) for span in by_range[0][key]}
                for key in by_range[0]}
        summary["over_seeds"][name] = over
    models = summary["models"]
    if "original" in models and len(models) > 1:
        summary["smoothed_ratio_to_original_by_range"] = ratios[0]
        a = models["original"]
        for name in ("overparameterized", "emulated"):
            b = models.get(name, {})
            if a.get("seconds_per_step_median") and b.get("seconds_per_step_median"):
                summary[f"step_time_ratio_{name}_to_original"] = b["seconds_per_step_median"] / a["seconds_per_step_median"]
    return summary


# Axis ranges of the two panels: the first iterations' losses (up to 11) would flatten the rest.
BOTTOM = {"total_loss": 0.0, "cross_entropy": 1e-3}
TOP = {"total_loss": 6.0, "cross_entropy": 20.0}


def plot(out_dir, config, include=None) -> dict:
    """Two panels (total loss, cross-entropy); per model the median over seeds of the smoothed
    curve with a min–max band (empty with one seed), and, for `raw_curve_models`, the raw curve
    of the first seed (light). `include`: the (model, k) runs to draw (default: all found).
    Returns what was drawn, per model (for the JSON)."""
    window = config["smoothing_window"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.2))
    panels = (("total_loss", "batch loss (cross-entropy + L2)", "linear", "total loss per batch"),
              ("cross_entropy", "batch cross-entropy (log scale)", "log", "cross-entropy per batch"))
    seeds = seed_offsets(config)
    drawn = {}
    for ax, (column, title, scale, ylabel) in zip(axes, panels):
        off_scale = []
        for name in config["models"]:
            runs = [mnist_run_files.read_losses(run_dir(out_dir, name, k) / "losses.csv") for k in seeds
                    if _counted(out_dir, name, k, include)]
            if not runs:
                continue
            n = min(len(r[column]) for r in runs)
            iterations = runs[0]["iteration"][:n]
            smoothed = np.stack([smooth(r[column][:n], window) for r in runs])
            median = np.median(smoothed, axis=0)
            color = COLORS[name]
            label = LABELS[name] + (f", median of {len(runs)} seeds" if len(runs) > 1 else ", 1 seed")
            raw = name in config["raw_curve_models"]
            if raw:
                ax.plot(iterations, runs[0][column][:n], color=color, alpha=0.18, linewidth=0.5)
                width = 2.4 if name == "original" else 1.2  # the original drawn wider: the curves overlap
                ax.plot(iterations, median, color=color, linewidth=width, label=label)
            else:
                ax.plot(iterations, median, color=color, linewidth=1.0, linestyle="--", label=label)
            if len(runs) > 1:
                ax.fill_between(iterations, smoothed.min(axis=0), smoothed.max(axis=0), color=color, alpha=0.15,
                                linewidth=0)
            drawn[name] = {"seeds": len(runs), "median_with_min_max_band": len(runs) > 1,
                           "raw_curve_of_the_first_seed": raw}
            first = float(np.median([r[column][0] for r in runs]))
            if first > TOP[column]:
                off_scale.append(f"{SHORT[name]} {first:.2f}")
        ax.set_yscale(scale)
        ax.set_xlabel("iteration")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.set_ylim(BOTTOM[column], TOP[column])
        if off_scale:
            ax.text(0.99, 0.99, f"iteration 1, off scale ({'median over seeds' if len(seeds) > 1 else 'seed'}):\n"
                    + ", ".join(off_scale), transform=ax.transAxes, ha="right", va="top", fontsize=7,
                    color="0.3")
    # Below the panels, where it covers no curve.
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8.5, bbox_to_anchor=(0.5, 0.0))
    fig.suptitle("Figure 5-right: MNIST convnet tutorial (TF1 momentum 0.9, batch 64), raw per-step loss (light) "
                 f"and its {window}-step trailing mean" + (" (band: min–max over seeds)" if len(seeds) > 1 else ""),
                 fontsize=10)
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    save_figure(fig, out_dir / "figure5_right", dpi=150)
    return drawn
