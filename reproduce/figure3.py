"""Paper Figure 3: gradient descent on depth 1, 2, 3 (scalar hidden layers), each at its best
learning rate from the paper's grid; ℓ2 (left) and ℓ4 (right).

The paper's claim: "with ℓ2 loss, depth (slightly) hinders optimization, whereas with ℓ4 loss it
leads to significant acceleration".

`python -m reproduce figure3 [--quick] [--out DIR] [--data-dir DIR]` writes figure3.png/.pdf and
figure3.json into DIR/figure3 (default results/figure3).

Choices where the paper is silent (also in CONFIG and the JSON): 100,000 iterations (the horizon
the paper states for Figure 5-left, whose "setup is identical to that of Figure 3-right"), the
loader's default normalization (features and target standardized), one seed (0), the selection
rule of `reproduce.selection` (smallest mean log10 relative gap among runs that never diverged).
The same grids are also run under the loader's other normalizations (a sensitivity check).
"""

from __future__ import annotations

import pathlib

from reproduce import configs
from reproduce import plotting
from reproduce import selection
from reproduce.session import FigureSession

CONFIG = {
    "losses": [2, 4],
    "depths": [1, 2, 3],
    "kernel_initializer": "near_zero",
    **configs.GRID,
    "normalization_variants": {
        # Every other combination the loader offers: (feature_normalization, target_normalization).
        "variants": [["standardize", "center"], ["standardize", "none"],
                     ["none", "standardize"], ["none", "center"], ["none", "none"]],
        "depths": [1, 3],
        "note": "same grid and horizon; runs are frozen when they diverge, so a variant where "
                "every learning rate diverges costs little",
    },
}
QUICK = {**configs.GRID_QUICK,
         "normalization_variants": {"variants": [["standardize", "center"]]}}


def run(out_dir=pathlib.Path("results/figure3"), data_dir=None, quick=False) -> dict:
    config = configs.make_config(CONFIG, QUICK, quick)
    session = FigureSession("figure3", out_dir, data_dir, quick, config)
    requests = {(p, depth): session.gd_grid(config, p, depth)
                for p in config["losses"] for depth in config["depths"]}
    variants = variant_requests(session, config, data_dir)
    runs = session.execute(list(requests.values()) + list(variants.values()))
    chosen = {key: (req.label, runs[req.label], session.selections[req.label])
              for key, req in requests.items()}
    selected = {}
    for (p, depth), (label, grid_run, choice) in chosen.items():
        entry = {"learning_rate": choice["learning_rate"],
                 "at_grid_edge": choice.get("at_grid_edge"),
                 "learning_rate_by_final_loss": choice.get("learning_rate_by_final_loss")}
        if choice["row"] is not None:
            curve = session.curve(f"l{p} depth {depth}", label, grid_run, choice["row"], p)
            entry.update({k: v for k, v in curve.items() if k not in ("steps", "losses")})
        selected[f"l{p} depth {depth}"] = entry
    results = {"selected": selected, "claims": compare_depths(selected, config),
               "normalization_variants": variant_table(runs, requests, variants, config)}
    plot(session, chosen, config)
    return session.finish(results)


def variant_requests(session, config, data_dir) -> dict:
    """The same grids under the loader's other normalizations (depths 1 and 3)."""
    from reproduce.provenance import load_ethanol_problem
    from tf_overparam.fullbatch import LinearNetwork
    from tf_overparam.fullbatch import gd

    variants = config["normalization_variants"]
    requests = {}
    for features, target in variants["variants"]:
        X, y, _ = load_ethanol_problem(data_dir, feature_normalization=features,
                                       target_normalization=target)
        description = f"features {features}, target {target}"
        for p in config["losses"]:
            for depth in variants["depths"]:
                model = LinearNetwork(depth=depth, hidden_units=config["hidden_units"],
                                      stddev=config["stddev"])
                requests[(features, target, p, depth)] = session.request(
                    f"l{p} GD depth {depth} [{description}]", model, gd(), p=p,
                    learning_rates=config["learning_rates"], seeds=[config["seed"]],
                    steps=config["steps"], record_every=config["record_every"],
                    dtype=config["dtype"], divergence_factor=config["divergence_factor"],
                    data=(X, y, description))
    return requests


def variant_table(runs, requests, variants, config) -> dict:
    """What survives under each normalization, and how far the best surviving rate gets; the
    default normalization by the same measure, for comparison."""
    def best_of(run):
        outcomes = [selection.configuration_outcome(run, b)
                    for b in range(len(run["learning_rates"]))]
        alive = [o for o in outcomes if o["diverged_at"] is None]
        best = min(alive, key=lambda o: o["final_loss_over_initial"]) if alive else None
        return {"learning_rates_not_diverged": [o["learning_rate"] for o in alive],
                "best_final_loss_over_initial": best["final_loss_over_initial"] if best else None,
                "best_learning_rate": best["learning_rate"] if best else None,
                "initial_loss": outcomes[0]["initial_loss"]}

    table = [{"features": features, "target": target, "loss": f"l{p}", "depth": depth,
              **best_of(runs[req.label])}
             for (features, target, p, depth), req in variants.items()]
    for p in config["losses"]:
        for depth in config["normalization_variants"]["depths"]:
            if (p, depth) in requests:
                table.append({"features": "standardize", "target": "standardize",
                              "loss": f"l{p}", "depth": depth, "default": True,
                              **best_of(runs[requests[(p, depth)].label])})
    return {"table": table, "measure": "final loss / initial loss after the horizon, best "
                                       "learning rate among those that never diverged"}


def compare_depths(selected: dict, config: dict) -> dict:
    """Depth ordering at each loss: final relative gaps and iterations to each threshold."""
    claims = {}
    for p in config["losses"]:
        rows = {d: selected.get(f"l{p} depth {d}", {}) for d in config["depths"]}
        finals = {d: r.get("final_relative_gap") for d, r in rows.items()}
        claims[f"l{p}"] = {
            "final_relative_gap": finals,
            "iterations_to_relative_gap": {d: r.get("iterations_to_relative_gap")
                                           for d, r in rows.items()},
            "learning_rate": {d: r.get("learning_rate") for d, r in rows.items()},
            "final_gap_ratio_depth_vs_depth1": {
                d: (finals[d] / finals[1] if finals.get(1) and finals[d] else None)
                for d in config["depths"]},
        }
    return claims


def plot(session, chosen, config):
    with plotting.style():
        figure, axes = plotting.plt.subplots(1, len(config["losses"]),
                                             figsize=(5.2 * len(config["losses"]), 3.9))
        axes = list(axes) if len(config["losses"]) > 1 else [axes]
        for ax, p in zip(axes, config["losses"]):
            optimum = session.gap(p)[0]
            for depth in config["depths"]:
                _, grid_run, choice = chosen[(p, depth)]
                if choice["row"] is None:
                    continue
                plotting.plot_gap(
                    ax, grid_run["steps"], grid_run["losses"][choice["row"]], optimum,
                    f"depth {depth} (lr {plotting.lr_text(choice['learning_rate'])})",
                    color=plotting.DEPTH_COLORS[depth], lw=1.4)
            session.decorate(ax, p, f"ℓ{p} loss, best learning rate per depth")
        figure.suptitle("Figure 3: gradient descent, depth 1 vs 2 vs 3 (hidden width 1)",
                        fontsize=11)
        session.save_figure(figure)
