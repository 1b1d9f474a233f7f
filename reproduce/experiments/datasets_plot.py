"""The data-set figures: each claim's verdict per set (datasets.png), and each varying claim's
verdicts against the statistic that best separates them (datasets_statistics.png)."""

from __future__ import annotations

import textwrap

from ..lab import plotting
from .atlas_claims import CLAIMS
from .atlas_plot import ENCODING
from .datasets_statistics import STATISTICS

SHORT = {"fig3_l2": "Fig. 3 ℓ2: depth does not accelerate",
         "fig3_l4": "Fig. 3 ℓ4: depth accelerates",
         "fig4l_gd_beats_adaptive": "Fig. 4-left: depth-3 GD beats AdaGrad, AdaDelta",
         "fig4l_adagrad_slower": "Fig. 4-left: AdaGrad slower than GD",
         "fig4r_adam": "Fig. 4-right: depth accelerates Adam",
         "fig5l_depth8_stuck": "Fig. 5-left: depth 8 stuck (near-zero)",
         "fig5l_identity": "Fig. 5-left: identity depth 4, 8 faster"}


def _cell_text(entry) -> str:
    return f"{entry['verdict']}\n{entry['holds']} holds, {entry['fails']} fails\nof {entry['n']}"


def plot(out_dir, results, config):
    from matplotlib.patches import Patch
    from matplotlib.patches import Rectangle

    claims, sets = list(results["claims"]), list(results["verdicts"])
    with plotting.style():
        figure, ax = plotting.plt.subplots(figsize=(9.0, 0.62 * len(sets) + 2.4))
        for col, claim in enumerate(claims):
            for row, name in enumerate(sets):
                entry = results["verdicts"][name][claim]
                face, hatch = ENCODING[entry["verdict"]]
                ax.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, facecolor=face,
                                       edgecolor="white", lw=1.5))
                if hatch:
                    ax.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False, hatch=hatch,
                                           edgecolor="0.55", lw=0))
                dark = entry["verdict"] in ("holds", "fails")
                ax.text(col, row, _cell_text(entry), ha="center", va="center", fontsize=6.5,
                        color="white" if dark else "black",  # on a plain patch over the hatch
                        bbox={"facecolor": face if dark else "white", "alpha": 0.9, "lw": 0,
                              "pad": 1.5})
        ax.set_xlim(-0.5, len(claims) - 0.5)
        ax.set_ylim(len(sets) - 0.5, -0.5)
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.tick_params(length=0)
        ax.set_yticks(range(len(sets)))
        stats = results["statistics"]
        ax.set_yticklabels([f"{name}\n{next(iter(stats[name].values()))['n']:,} × "
                            f"{next(iter(stats[name].values()))['d']}" for name in sets], fontsize=8)
        ax.set_xticks(range(len(claims)))
        ax.set_xticklabels([textwrap.fill(SHORT.get(c, CLAIMS[c]["claim"]), 16) for c in claims],
                           fontsize=7)
        ax.xaxis.tick_top()
        n_cells = len(results["sets"][sets[0]]["cells"])
        ax.set_xlabel(f"Per set and claim: the verdict from its distinct outcomes over {n_cells} "
                      f"atlas cells ({len(config['normalizations'])} normalizations × "
                      f"{len(config['learning_rate_grids'])} grids × {len(config['horizons'])} "
                      f"horizons × {len(config['selection_rules'])} selection rules); holds: "
                      "holds in more than half, fails in none; fails: the reverse; mixed: both "
                      "occur", fontsize=7, wrap=True)
        figure.legend(handles=[Patch(facecolor=ENCODING[k][0], hatch=ENCODING[k][1],
                                     edgecolor="0.4", label=k)
                               for k in ("holds", "mixed", "inconclusive", "fails")],
                      fontsize=7, loc="lower center", ncol=4, bbox_to_anchor=(0.5, -0.02))
        figure.suptitle(f"The paper's regression claims on {len(sets)} data sets "
                        f"({len(config['seeds'])} seeds per cell, Adam {len(config['adam']['seeds'])})",
                        fontsize=10)
        figure.tight_layout(rect=(0, 0.05, 1, 0.97))
        plotting.save_figure(figure, out_dir / "datasets", bbox_inches="tight")
    plot_statistics(out_dir, results)


def plot_statistics(out_dir, results):
    """Each claim whose verdict varies over the sets, against its best-separating statistic."""
    varying = [c for c, s in results["separation"].items() if s.get("best")]
    first = {name: next(iter(by_norm.values())) for name, by_norm in results["statistics"].items()}
    with plotting.style():
        rows = max(1, len(varying))
        figure, axes = plotting.plt.subplots(rows, 1, figsize=(7.5, 1.15 * rows + 0.9), squeeze=False)
        if not varying:
            axes[0, 0].axis("off")
            axes[0, 0].text(0.5, 0.5, "every claim has one verdict on every set: nothing to "
                            "separate", ha="center", va="center", fontsize=9)
        for ax, claim in zip(axes[:, 0], varying):
            split = results["separation"][claim]
            stat = split["best"][0]
            values = {name: first[name][stat] for name in results["verdicts"]}
            # log scale where the values span more than a decade
            positive = all(v > 0 for v in values.values()) and (
                max(values.values()) > 10 * min(values.values()))
            for rank, name in enumerate(sorted(values, key=values.get)):
                value, verdict = values[name], results["verdicts"][name][claim]["verdict"]
                face, hatch = ENCODING[verdict]
                ax.scatter([value], [0], s=80, color=face, hatch=hatch, edgecolor="0.2", zorder=3)
                # neighbours' names alternate above and below, so that close values stay legible
                ax.annotate(name, (value, 0), xytext=(0, 9 if rank % 2 == 0 else -16),
                            textcoords="offset points", ha="center", fontsize=7)
            threshold = split["splits"][stat]["threshold"]
            if threshold is not None:
                ax.axvline(threshold, color="0.4", lw=0.8, ls="--")
            if positive:
                ax.set_xscale("log")
            ax.set_yticks([])
            ax.set_ylim(-1.6, 1.6)
            misplaced = split["fewest_misplaced"]
            ax.set_title(f"{SHORT.get(claim, claim)}: best {stat} ("
                         + ("separates" if misplaced == 0 else f"{misplaced} misplaced")
                         + f"; a random statistic separates with p = "
                           f"{split['chance_of_perfect_split_at_random']:.2f})", fontsize=8)
            ax.set_xlabel(STATISTICS[stat], fontsize=7)
        figure.tight_layout()
        plotting.save_figure(figure, out_dir / "datasets_statistics", bbox_inches="tight")
