"""The atlas heatmap: claims (rows) × settings (columns), each block holds / mixed /
inconclusive / fails / n/a.

Columns are grouped by axis under headers (normalization, then learning-rate grid, then horizon;
the selection rule is the tick label). A claim is drawn only over the axes it depends on: where
it does not depend on an axis, one block spans that axis' columns. Outcomes are told apart by
colour (Okabe–Ito, safe for the common colour-vision deficiencies) and by hatching alike.
"""

from __future__ import annotations

from ..lab import plotting
from .atlas_claims import CLAIMS
from .atlas_claims import OUTCOMES

#: outcome -> (face colour, hatch): distinct in colour and in pattern.
ENCODING = {"holds": ("#0072B2", ""), "mixed": ("#E69F00", "//"),
            "inconclusive": ("#F0F0F0", ".."), "fails": ("#D55E00", "xx"),
            "n/a": ("white", "")}
RULE_SHORT = {"area": "A", "final": "F", "fastest": "T", "before_divergence": "D"}
AXES = ("normalization", "learning_rate_grid", "horizon", "selection_rule")


def horizon_text(horizon: int) -> str:
    return f"{horizon // 1000}K" if horizon >= 1000 and horizon % 1000 == 0 else f"{horizon:,}"


def _spans(cells, key):
    """Runs of consecutive cells with the same `key(cell)`: [(first, last, value)]."""
    spans, start = [], 0
    for i in range(1, len(cells) + 1):
        if i == len(cells) or key(cells[i]) != key(cells[start]):
            spans.append((start, i - 1, key(cells[start])))
            start = i
    return spans


def plot(out_dir, cells, summary, config):
    from matplotlib.patches import Patch
    from matplotlib.patches import Rectangle

    claims = list(CLAIMS)
    n_rows, n_cols = len(claims), len(cells)
    headers = ("normalization", "learning_rate_grid", "horizon")
    with plotting.style():
        figure = plotting.plt.figure(figsize=(12.0, 0.36 * n_rows + 2.9))
        ax = figure.add_axes([0.30, 0.17, 0.52, 0.62])
        for row, claim in enumerate(claims):
            depends = CLAIMS[claim]["depends_on"]
            for first, last, _ in _spans(cells, lambda c: tuple(c[a] for a in AXES if a in depends)):
                outcome = cells[first]["claims"].get(claim, {}).get("outcome", "n/a")
                face, hatch = ENCODING[outcome]
                ax.add_patch(Rectangle((first - 0.5, row - 0.5), last - first + 1, 1, facecolor=face,
                                       hatch=hatch, edgecolor="white", lw=0.4))
                if hatch:  # the hatch in a darker line, the border stays white
                    ax.add_patch(Rectangle((first - 0.5, row - 0.5), last - first + 1, 1, fill=False,
                                           hatch=hatch, edgecolor="0.25", lw=0))
        ax.set_xlim(-0.5, n_cols - 0.5)
        ax.set_ylim(n_rows - 0.5, -0.5)
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_yticks(range(n_rows))
        ax.set_yticklabels([f"Fig. {CLAIMS[c]['figure']}: {CLAIMS[c]['claim']}" for c in claims],
                           fontsize=7)
        ax.tick_params(length=0)
        ax.set_xticks(range(n_cols))
        ax.set_xticklabels([RULE_SHORT.get(c["selection_rule"], "?") for c in cells], fontsize=5)
        # Counts per claim, right of the rows: over distinct outcomes.
        for row, claim in enumerate(claims):
            entry = summary[claim]
            ax.text(n_cols + 0.5, row, " ".join(f"{entry[k]}" for k in OUTCOMES) + f"  of {entry['n']}",
                    ha="left", va="center", fontsize=7, clip_on=False)
        ax.text(n_cols + 0.5, -0.9, "holds mixed inc. fails", ha="left", va="bottom", fontsize=6,
                clip_on=False, color="0.3")
        # Column headers: one line per axis, the widest groups on top.
        for level, axis in enumerate(headers):
            y = -0.75 - 0.85 * (len(headers) - 1 - level)
            for first, last, _ in _spans(cells, lambda c: tuple(c[a] for a in headers[:level + 1])):
                value = cells[first][axis]
                text = horizon_text(value) if axis == "horizon" else value
                ax.text((first + last) / 2, y, text, ha="center", va="bottom", clip_on=False,
                        fontsize=(8, 6.5, 6)[level])
                if first > 0:
                    ax.plot([first - 0.5, first - 0.5], [n_rows - 0.5, y + 0.6], color="black",
                            lw=(1.4, 0.8, 0.3)[level], clip_on=False)
            ax.text(-1.0, y, {"normalization": "normalization", "learning_rate_grid":
                              "learning-rate grid", "horizon": "horizon"}[axis],
                    ha="right", va="bottom", fontsize=7, clip_on=False, color="0.3")
        figures = [i for i, c in enumerate(cells) if c["normalization"] == cells[0]["normalization"]
                   and c["learning_rate_grid"] == "paper" and c["selection_rule"] == "area"
                   and c["horizon"] == max(config["horizons"])]
        for i in figures:
            ax.add_patch(Rectangle((i - 0.5, -0.5), 1, n_rows, fill=False, lw=1.4, ec="black"))
        ax.set_xlabel("selection rule: A area, F final gap, T fewest iterations to 1e-1, D best "
                      "before divergence. Framed: the figures' setting. A claim that does not "
                      "depend on an axis spans it.", fontsize=7)
        figure.legend(handles=[Patch(facecolor=ENCODING[k][0], hatch=ENCODING[k][1], edgecolor="0.25",
                                     label=k) for k in (*OUTCOMES, "n/a")],
                      fontsize=7, loc="upper center", ncol=5, bbox_to_anchor=(0.56, 0.10))
        seeds = sorted({len(config["seeds"]), len(config["adam"]["seeds"]),
                        len(config["emulation"]["seeds"])})
        figure.suptitle("Robustness atlas: each regression claim over the choices the paper leaves "
                        f"open ({'–'.join(map(str, sorted({seeds[0], seeds[-1]})))} seeds per cell); "
                        "right: counts over distinct outcomes", fontsize=10, y=0.985)
        plotting.save_figure(figure, out_dir / "atlas", bbox_inches="tight")
