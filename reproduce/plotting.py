"""The figures' look: one style, log-gap curves, threshold lines, reproducible PNG + PDF."""

from __future__ import annotations

import contextlib
import io
import pathlib
import warnings

import matplotlib

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


def save_figure(figure, stem, dpi: int = 130, **savefig_kwargs) -> pathlib.Path:
    """Write `stem`.png and `stem`.pdf and close the figure.

    The PDF gets no creation date, so re-plotting unchanged results leaves the file unchanged.
    """
    stem = pathlib.Path(stem)
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


def lr_text(lr) -> str:
    return f"{lr:.0e}".replace("e-0", "e-")
