"""Paper Figure 3: gradient descent on depth 1, 2, 3 (scalar hidden layers), each at its best
learning rate from the paper's grid; ℓ2 (left) and ℓ4 (right).

The paper's claim: "with ℓ2 loss, depth (slightly) hinders optimization, whereas with ℓ4 loss it
leads to significant acceleration".

`python -m reproduce figure3 [--quick] [--out DIR] [--data-dir DIR]` writes figure3.png/.pdf and
figure3.json into DIR/figure3 (default results/figure3).

Choices where the paper is silent (also in CONFIG and the JSON): 100,000 iterations (the horizon
the paper states for Figure 5-left, whose "setup is identical to that of Figure 3-right"), the
loader's default normalization (features and target standardized), one seed (0), the selection
rule of `reproduce._common` (smallest mean log10 relative gap among runs that never diverged).
"""

from __future__ import annotations

import pathlib

from reproduce import _common as common

CONFIG = {
    "losses": [2, 4],
    "depths": [1, 2, 3],
    "init": "near_zero",
    **common.GRID_SETUP,
}


#: Normalizations tried besides the loader's default (features and target standardized):
#: every other combination the loader offers, (feature_normalization, target_normalization).
NORMALIZATION_VARIANTS = [["standardize", "center"], ["standardize", "none"],
                          ["none", "standardize"], ["none", "center"], ["none", "none"]]


def make_config(quick: bool) -> dict:
    config = {"losses": [2, 4], "depths": [1, 2, 3], "init": "near_zero",
              **common.grid_setup(quick)}
    config["normalization_variants"] = {
        "variants": NORMALIZATION_VARIANTS[:1] if quick else NORMALIZATION_VARIANTS,
        "depths": [1, 3],
        "note": "same grid and horizon; runs are frozen when they diverge, so a variant where "
                "every learning rate diverges costs little",
    }
    return config


def run(out_dir=pathlib.Path("results/figure3"), data_dir=None, quick=False) -> dict:
    config = make_config(quick)
    session = common.FigureSession("figure3", out_dir, data_dir, quick, config)
    requests = {(p, depth): common.gd_grid_request(session, config, p, depth)
                for p in config["losses"] for depth in config["depths"]}
    runs = session.execute(list(requests.values()))
    chosen = {}
    for (p, depth), req in requests.items():
        grid_run, selection = runs[req.label], session.selections[req.label]
        if selection["row"] is not None:
            session.curve(f"l{p} depth {depth}", req.label, grid_run, selection["row"], p)
        chosen[(p, depth)] = (req.label, grid_run, selection)
    results = {"selected": {}, "claims": {}}
    curves = session.document["results"].get("curves", {})
    for (p, depth), (label, grid_run, selection) in chosen.items():
        name = f"l{p} depth {depth}"
        results["selected"][name] = {
            "learning_rate": selection["learning_rate"],
            "at_grid_edge": selection.get("at_grid_edge"),
            "learning_rate_by_final_loss": selection.get("learning_rate_by_final_loss"),
            **{k: v for k, v in curves.get(name, {}).items() if k not in ("steps", "losses")}}
    results["claims"] = compare_depths(results["selected"], config)
    results["normalization_variants"] = normalization_variants(session, config, data_dir)
    plot(session, chosen, config)
    session.finish({**session.document["results"], **results})
    return session.document


def normalization_variants(session, config, data_dir) -> dict:
    """The same grids under the loader's other normalizations: what survives, how far it gets."""
    import warnings

    from tf_overparam.datasets import load_ethanol
    from tf_overparam.trainer import GradientDescent, LinearNetwork

    variants = config["normalization_variants"]
    requests = {}
    for features, target in variants["variants"]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            X, y, _ = load_ethanol(data_dir, allow_partial=True, feature_normalization=features,
                                   target_normalization=target)
        description = f"features {features}, target {target}"
        for p in config["losses"]:
            for depth in variants["depths"]:
                model = LinearNetwork(depth=depth, hidden_units=config["hidden_units"],
                                      init_stddev=config["init_stddev"])
                label = f"l{p} GD depth {depth} [{description}]"
                requests[(features, target, p, depth)] = session.request(
                    label, model, GradientDescent(), p=p,
                    learning_rates=config["learning_rates"], seeds=[config["seed"]],
                    steps=config["steps"], record_every=config["record_every"],
                    dtype=config["dtype"], divergence_factor=config["divergence_factor"],
                    data=(X, y, description))
    runs = session.execute(list(requests.values()))
    table = []
    for (features, target, p, depth), req in requests.items():
        entry = session.document["variant_runs"][req.label]["configurations"]
        alive = [c for c in entry if c["diverged_at"] is None]
        best = min(alive, key=lambda c: c["final_loss_over_initial"]) if alive else None
        table.append({
            "features": features, "target": target, "loss": f"l{p}", "depth": depth,
            "learning_rates_not_diverged": [c["learning_rate"] for c in alive],
            "best_final_loss_over_initial": best["final_loss_over_initial"] if best else None,
            "best_learning_rate": best["learning_rate"] if best else None,
            "initial_loss": entry[0]["initial_loss"],
        })
    # The default normalization, same measure, for comparison.
    for p in config["losses"]:
        for depth in variants["depths"]:
            run = session.document["runs"].get(f"l{p} GD depth {depth}")
            if run is None:
                continue
            alive = [c for c in run["configurations"] if c["diverged_at"] is None]
            ratios = [(c["final_loss"] / c["initial_loss"], c["learning_rate"]) for c in alive]
            best = min(ratios) if ratios else None
            table.append({
                "features": "standardize", "target": "standardize", "loss": f"l{p}",
                "depth": depth, "default": True,
                "learning_rates_not_diverged": [c["learning_rate"] for c in alive],
                "best_final_loss_over_initial": best[0] if best else None,
                "best_learning_rate": best[1] if best else None,
                "initial_loss": run["configurations"][0]["initial_loss"],
            })
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
    with common.style():
        figure, axes = common.plt.subplots(1, len(config["losses"]),
                                           figsize=(5.2 * len(config["losses"]), 3.9))
        axes = list(axes) if len(config["losses"]) > 1 else [axes]
        for ax, p in zip(axes, config["losses"]):
            optimum = session.optima[p].loss
            for depth in config["depths"]:
                label, grid_run, selection = chosen[(p, depth)]
                if selection["row"] is None:
                    continue
                row = selection["row"]
                common.plot_gap(ax, grid_run["steps"], grid_run["losses"][row], optimum,
                                f"depth {depth} (lr {common.lr_text(selection['learning_rate'])})",
                                color=common.DEPTH_COLORS[depth], lw=1.4)
            common.decorate_gap_axes(ax, session, p, title=f"ℓ{p} loss, best learning rate "
                                                          "per depth")
            ax.legend(loc="lower left", bbox_to_anchor=(0.0, 0.05))
        figure.suptitle("Figure 3: gradient descent, depth 1 vs 2 vs 3 (hidden width 1)",
                        fontsize=11)
        figure.tight_layout()
        session.save_figure(figure)
