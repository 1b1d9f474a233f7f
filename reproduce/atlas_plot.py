"""The atlas heatmap: claims (rows) × settings (columns), each cell holds / partly / fails."""

from __future__ import annotations

import numpy as np

from . import plotting
from .atlas_claims import CLAIMS

OUTCOMES = {"holds": 2, "partly": 1, "fails": 0, "n/a": -1}
COLORS = {"holds": "#4daf4a", "partly": "#ffd92f", "fails": "#e41a1c", "n/a": "#e0e0e0"}
RULE_SHORT = {"area": "A", "final": "F", "fastest": "T", "before_divergence": "D"}


def plot(session, cells, summary, config):
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    claims = list(CLAIMS)
    grid = np.array([[OUTCOMES[c["claims"].get(name, {}).get("outcome", "n/a")] for c in cells]
                     for name in claims], dtype=float)
    cmap = ListedColormap([COLORS[k] for k in ("n/a", "fails", "partly", "holds")])
    with plotting.style():
        width = max(8.0, 0.16 * len(cells) + 4.5)
        figure, ax = plotting.plt.subplots(figsize=(width, 0.42 * len(claims) + 2.6))
        ax.imshow(grid, cmap=cmap, vmin=-1.5, vmax=2.5, aspect="auto", interpolation="nearest")
        ax.grid(False)
        ax.set_yticks(range(len(claims)))
        ax.set_yticklabels([f"Fig. {CLAIMS[n]['figure']}: {CLAIMS[n]['claim']}  "
                            f"[{_k_of_n(summary[n])}]" for n in claims], fontsize=7)
        ax.set_xticks(range(len(cells)))
        ax.set_xticklabels([f"{RULE_SHORT.get(c['selection_rule'], '?')} "
                            f"{c['horizon'] // 1000 if c['horizon'] >= 1000 else c['horizon']}"
                            f"{'K' if c['horizon'] >= 1000 else ''}"
                            f"{'+' if c['learning_rate_grid'] != 'paper' else ''}"
                            for c in cells], fontsize=4.5, rotation=90)
        # Blocks: one per normalization, labelled above the heatmap.
        norms = [c["normalization"] for c in cells]
        for i in range(1, len(cells)):
            if norms[i] != norms[i - 1]:
                ax.axvline(i - 0.5, color="black", lw=1.2)
            elif cells[i]["learning_rate_grid"] != cells[i - 1]["learning_rate_grid"]:
                ax.axvline(i - 0.5, color="white", lw=0.8)
        for norm in dict.fromkeys(norms):
            where = [i for i, n in enumerate(norms) if n == norm]
            ax.text(np.mean(where), -0.8, norm, ha="center", va="bottom", fontsize=8)
        for i, c in enumerate(cells):
            if c["normalization"] == norms[0] and c["learning_rate_grid"] == "paper" \
                    and c["selection_rule"] == "area" and c["horizon"] == max(config["horizons"]):
                ax.add_patch(plotting.plt.Rectangle((i - 0.5, -0.5), 1, len(claims),
                                                    fill=False, lw=1.4, ec="black"))
        ax.set_ylim(len(claims) - 0.5, -1.6)
        ax.set_xlabel("setting: selection rule (A area, F final gap, T fewest iterations to "
                      "1e-1, D best before divergence), horizon; + = paper grid with midpoints; "
                      "framed: the figures' setting", fontsize=7)
        ax.legend(handles=[Patch(color=COLORS[k], label=k) for k in COLORS], fontsize=7,
                  loc="upper left", bbox_to_anchor=(1.0, 1.0))
        seeds = sorted({len(config["seeds"]), len(config["adam"]["seeds"]),
                        len(config["emulation"]["seeds"])})
        ax.set_title(f"Robustness atlas: each regression claim over the choices the paper leaves "
                     f"open ({'–'.join(map(str, (seeds[0], seeds[-1])[:len(seeds)]))} seeds per "
                     f"cell)", fontsize=10)
        session.save_figure(figure)


def _k_of_n(entry) -> str:
    return (f"holds {entry['holds']}, partly {entry['partly']}, fails {entry['fails']} of "
            f"{entry['settings']}")
