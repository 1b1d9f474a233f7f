"""The figures' look: one style, log-gap curves, threshold lines, reproducible PNG + PDF."""

from __future__ import annotations

import contextlib
import io
import pathlib
import re
import warnings

import matplotlib
import matplotlib.text

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .provenance import data_label  # noqa: E402
from .records import write_atomically  # noqa: E402
from .selection import GAP_THRESHOLDS  # noqa: E402

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


@contextlib.contextmanager
def style():
    with plt.rc_context(STYLE):
        yield


class LayoutWarning(UserWarning):
    """A figure a reader would struggle with: an unlabelled axis, overlapping text, a legend over
    data (`layout_problems`)."""


_NUMBER = re.compile(r"^[-+]?(\d[\d,.]*|\.\d+)(e[-+]?\d+)?[KkM%]?$|^10\^[-+]?\d+$")


def _numbered(axis) -> bool:
    """Whether an axis' tick labels are numbers (not category names), mathtext included."""
    shown = [t.get_text() for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]
    plain = [re.sub(r"\\mathdefault|[${}\\]", "", t).replace("−", "-") for t in shown]
    return bool(plain) and all(_NUMBER.match(t) for t in plain)


def _drawn_tick_labels(figure) -> list:
    """The tick labels matplotlib draws: those of ticks inside the view (labels of ticks outside
    it keep stale positions and are not drawn)."""
    labels = []
    for ax in figure.axes:
        if not ax.get_visible() or not ax.axison:
            continue
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            span = (high - low) or 1.0
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                inside = low - 1e-9 * span <= tick.get_loc() <= high + 1e-9 * span
                for label in (tick.label1, tick.label2):
                    if inside and label.get_visible() and label.get_text().strip():
                        labels.append(label)
    return labels


def layout_problems(figure) -> list[str]:
    """What would make `figure` hard to read, as sentences (empty: none):

    - an axis with numeric tick labels and no axis label;
    - two visible text elements (titles, labels, tick labels, legend entries, notes) whose
      rendered extents overlap;
    - a legend drawn over a plotted point of its own axes.
    """
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    problems = []
    for ax in figure.axes:
        if not ax.get_visible() or not ax.axison:
            continue
        name = ax.get_title() or f"axes {figure.axes.index(ax)}"
        for axis, label in (("x", ax.get_xlabel()), ("y", ax.get_ylabel())):
            if not label and _numbered(ax.xaxis if axis == "x" else ax.yaxis):
                problems.append(f"{name!r}: the {axis} axis has no label")
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            box = legend.get_window_extent(renderer)
            for line in ax.get_lines():
                if not line.get_visible():
                    continue
                points = line.get_transform().transform(line.get_xydata())
                points = points[np.isfinite(points).all(axis=1)]
                inside = ((points[:, 0] > box.x0) & (points[:, 0] < box.x1)
                          & (points[:, 1] > box.y0) & (points[:, 1] < box.y1))
                if inside.any():
                    problems.append(f"{name!r}: the legend covers data of {line.get_label()!r}")
                    break
    ticks = {id(t) for ax in figure.axes for axis in (ax.xaxis, ax.yaxis)
             for tick in axis.get_major_ticks() + axis.get_minor_ticks()
             for t in (tick.label1, tick.label2)}
    texts = [t for t in figure.findobj(matplotlib.text.Text)
             if id(t) not in ticks and t.get_visible() and t.get_text().strip()]
    texts += _drawn_tick_labels(figure)
    boxes = []
    for text in texts:
        try:
            boxes.append((text, text.get_window_extent(renderer)))
        except RuntimeError:
            continue
    for i, (a, box_a) in enumerate(boxes):
        for b, box_b in boxes[i + 1:]:
            if box_a.width and box_b.width and box_a.overlaps(box_b):
                problems.append(f"text {a.get_text()!r} overlaps {b.get_text()!r}")
    return problems


def save_figure(figure, stem, dpi: int = 130, **savefig_kwargs) -> pathlib.Path:
    """Write `stem`.png and `stem`.pdf and close the figure; warn (`LayoutWarning`) of every
    `layout_problems` first.

    The PDF gets no creation date, so re-plotting unchanged results leaves the file unchanged.
    """
    stem = pathlib.Path(stem)
    for problem in layout_problems(figure):
        warnings.warn(f"{stem.name}: {problem}", LayoutWarning, stacklevel=2)
    # Rendered in memory, then written atomically: a Ctrl-C never leaves half a picture.
    for suffix, options in ((".png", {"dpi": dpi}), (".pdf", {"metadata": {"CreationDate": None}})):
        buffer = io.BytesIO()
        figure.savefig(buffer, format=suffix[1:], **options, **savefig_kwargs)
        write_atomically(stem.with_suffix(suffix), buffer.getvalue())
    plt.close(figure)
    return stem.with_suffix(".png")


def plot_gap(ax, steps, losses, optimum, label, **kwargs):
    """Plot L − L* on a log scale (non-positive gaps, i.e. round-off at the optimum, are hidden)."""
    gap = np.asarray(losses, dtype=np.float64) - optimum
    gap = np.where(gap > 0, gap, np.nan)
    return ax.plot(steps, gap, label=label, **kwargs)


def plot_band(ax, curves, optimum, label, color, band_alpha=0.18, **kwargs):
    """The median over seeds of L − L* (log scale), with a band from the lowest to the highest
    seed; `curves` is a run of one configuration's seeds (`selection.take_rows`)."""
    gaps = np.asarray(curves["losses"], dtype=np.float64) - optimum
    gaps = np.where(gaps > 0, gaps, np.nan)
    steps = curves["steps"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns after divergence
        median = np.nanmedian(gaps, axis=0)
        low, high = np.nanmin(gaps, axis=0), np.nanmax(gaps, axis=0)
    if len(gaps) > 1:
        ax.fill_between(steps, low, high, color=color, alpha=band_alpha, lw=0)
    return ax.plot(steps, median, label=label, color=color, **kwargs)


def seeds_note(ax, n_seeds: int):
    """Say what the lines and bands are (top right: clear of the curves and labels)."""
    if n_seeds > 1:
        ax.text(0.99, 0.98, f"line: median of {n_seeds} seeds; band: min–max",
                transform=ax.transAxes, ha="right", va="top", fontsize=7, color="0.4")


def decorate_gap_axes(ax, p, optimum, reference, provenance, title=None, thresholds=True):
    """Log axis, labels, the relative-gap threshold lines, and a partial-data warning."""
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
    label = data_label(provenance)
    if label:
        ax.text(0.01, 0.01, label, transform=ax.transAxes, fontsize=7,
                color="#a00000" if provenance["partial"] else "0.35", ha="left", va="bottom")


def log_iterations(ax, first_step: int):
    """A logarithmic iteration axis from the first recorded step after 0 (step 0 is masked): the
    first hundreds of iterations get as much room as the last tens of thousands."""
    ax.set_xscale("log", nonpositive="mask")
    ax.set_xlim(left=first_step)
    ax.set_xlabel("iteration (log scale)")


def decorate(ax, problem, p, title, legend_y=0.05):
    """A regression figure's gap axes (`decorate_gap_axes` with the problem's optimum, zero
    predictor and provenance) and its legend, lower left."""
    decorate_gap_axes(ax, p, *problem.gap(p), problem.provenance, title=title)
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, legend_y))


def save(figure, out_dir, stem: str) -> pathlib.Path:
    """Lay out `figure` and write `out_dir/stem`.png and .pdf (`save_figure`)."""
    figure.tight_layout()
    return save_figure(figure, pathlib.Path(out_dir) / stem, bbox_inches="tight")


def lr_text(lr) -> str:
    return f"{lr:.0e}".replace("e-0", "e-")
