"""The theory figures' plots (Section 3, Section 7, Claim 1, Theorem 2), from the numbers
`reproduce.experiments.theory.compute_*` returns."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..lab.plotting import save_figure  # noqa: E402


def plot_warmup(result, config, out_dir):
    steps = np.arange(1, config["num_steps"] + 1)
    figure, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    ax = axes[0]
    labels = {"plain_gd": "GD on w (depth 1)", "factorized_gd": "GD on w₁·w₂ (depth 2)",
              "end_to_end_n2": "end-to-end rule, Eq. 11, N = 2"}
    styles = {"plain_gd": ("C0", "-"), "factorized_gd": ("C3", "-"), "end_to_end_n2": ("k", ":")}
    for name, gap in result["loss_gaps"].items():
        color, style = styles[name]
        ax.plot(steps, gap[1:], color=color, linestyle=style, label=labels[name], lw=2 if style == ":" else 1.5)
    ax.set(xscale="log", yscale="log", xlabel="iteration t", ylabel="training loss − optimum",
           title=f"(a) ℓ{config['p']} regression, same η = {result['learning_rate']:.3g}")
    ax.legend()

    ax = axes[1]
    t = steps[:-1]  # the per-step quantities exist for t = 0 … T − 1; a log axis starts at t = 1
    ax.plot(t, result["effective_rate_over_lr"][1:], color="C3", lw=2, label="depth 2: ρ⁽ᵗ⁾/η = (w₂⁽ᵗ⁾)²")
    ax.plot(t, result["norm_w"][1:], color="k", ls=":", lw=2, label="‖w⁽ᵗ⁾‖ (Eq. 11 rate, balanced)")
    ax.axhline(1.0, color="C0", label="depth 1: ρ/η = 1")
    ax.set(xscale="log", yscale="log", xlabel="iteration t", ylabel="effective learning rate / η",
           title="(b) adaptive learning rate ρ⁽ᵗ⁾")
    ax.legend()

    ax = axes[2]
    norms = result["step_norms"]
    ax.plot(t, norms["actual_step"][1:], color="0.6", lw=4, label="‖w⁽ᵗ⁺¹⁾ − w⁽ᵗ⁾‖ (actual step)")
    ax.plot(t, norms["adaptive_rate_term"][1:], color="C3", label="‖ρ⁽ᵗ⁾ ∇L(w⁽ᵗ⁾)‖ (rate term)")
    ax.plot(t, norms["momentum_term"][1:], color="C2", label="‖γ⁽ᵗ⁾ w⁽ᵗ⁾‖ (momentum-like term)")
    ax.plot(t, norms["second_order_term"][1:], color="C1", ls="--", label="‖η² w₂(w₁ᵀ∇)∇‖ (O(η²) rest)")
    ax.set(xscale="log", yscale="log", xlabel="iteration t", ylabel="norm of the step's part",
           title="(c) w⁺ = w − ρ∇L − γw + O(η²), depth 2")
    ax.legend(fontsize=8)
    figure.suptitle("Section 3 (Observation 1): gradient descent on w = w₁·w₂ acts on w with an adaptive rate and "
                    "a momentum-like term", fontsize=11)
    _save(figure, out_dir / "warmup")


def plot_two_point(result, config, out_dir):
    record_steps = result["record_steps"]
    targets = np.abs(config["targets"])
    floor = 1e-7  # |Δ| below this (p = 2 reaches exact 0) is drawn on the bottom edge
    method_colors = dict(zip(config["depths"], ("C0", "C3", "C2")))
    figure, axes = plt.subplots(1, len(config["p_values"]), figsize=(7.5 * len(config["p_values"]), 5), squeeze=False)
    for panel, (ax, p) in enumerate(zip(axes[0], config["p_values"])):
        curves = []
        for depth in config["depths"]:
            run = result["runs"][f"p{p}_depth{depth}"]
            name = "GD (depth 1)" if depth == 1 else f"end-to-end N = {depth}"
            label = f"{name}: η = {run['best_learning_rate']:.3g}, {run['best_iterations_to_converge']:,} it."
            curves.append((run["best_deltas"], dict(color=method_colors[depth], lw=1.8), label))
        gd = result["runs"][f"p{p}_depth1"]
        label = (f"GD at {config['bound_fraction']}·2/y₁ᵖ⁻²: η = {gd['at_bound_learning_rate']:.3g}, "
                 f"{gd['at_bound_iterations_to_converge']:,} it.")
        curves.append((gd["at_bound_deltas"], dict(color="0.55", lw=1), label))
        # p = 2 converges within a few hundred steps: a linear axis shows t = 0 and GD's one-step jump.
        linear = p == 2
        steps = record_steps if linear else record_steps[1:]
        for deltas, style, label in curves:
            shown = np.maximum(np.abs(deltas if linear else deltas[1:]), floor)
            ax.plot(steps, shown[:, 0], label=label, **style)
            ax.plot(steps, shown[:, 1], ls="--", **style)
        for level in config["tolerance"] * targets:
            ax.axhline(level, color="k", lw=0.6, ls=":")
        ax.plot([], [], color="k", label="solid: |Δ₁|,  dashed: |Δ₂|")
        if linear:
            ax.set_xlim(-5, 1.1 * max(gd["at_bound_iterations_to_converge"], 100))
        else:
            ax.set_xscale("log")
        lowest = min(np.maximum(np.abs(deltas), floor).min() for deltas, _, _ in curves)
        ax.set(yscale="log", ylim=(0.5 * lowest, 3 * targets.max()),
               xlabel="iteration" + ("" if linear else " (log scale)"), ylabel="|Δᵢ| = |wᵢ − yᵢ|",
               title=f"({'ab'[panel]}) p = {p}: ℓ{p} loss, y₁ = {config['targets'][0]:g}, y₂ = {config['targets'][1]:g}")
        if linear:  # between the converged curves on the floor and the slow grey ones
            ax.legend(fontsize=8, loc="lower right", bbox_to_anchor=(1.0, 0.07))
        else:
            ax.legend(fontsize=8, loc="lower left")
    figure.suptitle("Section 7: two-point problem, each method at its fastest learning rate from a log grid; "
                    f"iterations until |Δᵢ| ≤ {config['tolerance']:g}·|yᵢ| (dotted) for good", fontsize=11)
    _save(figure, out_dir / "two_point")


def plot_claim1(result, config, out_dir):
    figure, ax = plt.subplots(figsize=(7.5, 5))
    for color, (depth, checks) in zip(("C0", "C1", "C3", "C2"), result["depths"].items()):
        check = checks["random"]
        index = np.arange(1, len(check["numeric_eigenvalues"]) + 1)
        ax.plot(index, check["closed_form_eigenvalues"], color=color, lw=1,
                label=f"N = {depth}: closed form (max rel. error {check['max_eigenvalue_error_over_largest']:.0e})")
        ax.plot(index, check["numeric_eigenvalues"], "o", color=color, mfc="none", ms=8,
                label=f"N = {depth}: eigvalsh of Eq. 29 matrix")
    sigma = ", ".join(f"{s:.2f}" for s in result["singular_values"])
    d, k = config["shape"]
    ax.set(yscale="log", xlabel="eigenvalue index (sorted, decreasing)", ylabel="eigenvalue of the preconditioner",
           title=f"Claim 1: spectrum of P for a random {d}×{k} kernel (σ = {sigma})")
    ax.set_xticks(index)
    everything = np.concatenate([checks["random"]["closed_form_eigenvalues"] for checks in result["depths"].values()])
    ax.set_ylim(0.5 * everything.min(), 20 * everything.max())  # headroom for the legend
    ax.legend(fontsize=7.5, ncol=2, loc="upper right")
    _save(figure, out_dir / "claim1_spectrum")


def plot_theorem2(result, config, out_dir):
    figure, axes = plt.subplots(1, 3, figsize=(17, 5.2))
    picture = result["picture"]
    ax = axes[0]
    ax.plot(picture["curve"][:, 0], picture["curve"][:, 1], color="k", lw=1.5)
    ax.quiver(picture["grid"][:, 0], picture["grid"][:, 1], picture["field"][:, 0], picture["field"][:, 1],
              color="C3", angles="xy", width=0.004)
    ax.set(aspect="equal", xlabel="coordinate along e = ∇L(0)/‖∇L(0)‖", ylabel="coordinate along f ⊥ e",
           title=rf"(a) $\Gamma_{{r,R}}$ (r = 0.5, R = 1) and F = P(∇L), N = {picture['depth']}")

    rows = result["rows"]
    depths = np.array(config["depths"])
    ratio = config["inner_ratio"]
    ax = axes[1]
    exponents = 3 - 2 / depths
    ax.plot(depths, (2 * depths / exponents - 2) * (1 - ratio**exponents), "k-", lw=1,
            label=r"Lemma 3: $(\frac{2N}{3-2/N} - 2)(1 - (r/R)^{3-2/N})$")
    small_radii = [outer for outer in config["outer_radii"] if outer <= 0.1] or config["outer_radii"][:1]
    for marker, outer in zip("osv^D", small_radii):
        values = [row["normalized_loss_integral"] for row in rows if row["outer_radius"] == outer]
        ax.plot(depths, values, marker, mfc="none", ms=8, label=rf"$\oint F\,/\,(c R^{{3-2/N}})$, R = {outer:g}")
    ax.axhline(0, color="0.7", lw=0.6)
    ax.set(xlabel="depth N", ylabel="normalized line integral",
           title=f"(b) ℓ{config['p']} loss: ∮F → c·Lemma 3 as R → 0 (r = R/2)")
    ax.legend(fontsize=8.5)

    ax = axes[2]
    radii = np.array(config["outer_radii"])
    colors = plt.cm.viridis(np.linspace(0.0, 0.85, max(len(depths) - 2, 1)))
    for index, depth in enumerate(depths):
        values = np.abs([row["loss_integral"] for row in rows if row["depth"] == depth])
        style = {1: dict(color="k", lw=2.5), 2: dict(color="C1", lw=2.5)}.get(
            depth, dict(color=colors[max(index - 2, 0)], lw=1))
        ax.plot(radii, values, "o-", label=f"N = {depth}", **style)
    worst_constant = [max(row["constant_field_abs_error"] for row in rows if row["outer_radius"] == outer)
                      for outer in radii]
    ax.plot(radii, worst_constant, "x--", color="0.5", label="constant field: max over N of |∮F_e − Lemma 3|")
    ax.set(xscale="log", yscale="log", xlabel="outer radius R (r = R/2)", ylabel=r"$|\oint_\Gamma F \cdot dw|$",
           title=r"(c) N = 1: 0 (round-off); N = 2: $\propto R^4$; N > 2: $\propto R^{3-2/N}$")
    # Headroom above the curves for the legend: it covers no point (the layout check).
    highest = max(float(np.nanmax(line.get_ydata())) for line in ax.get_lines())
    ax.set_ylim(top=highest * 1e7)
    ax.legend(fontsize=7.5, ncol=2, loc="upper left")
    figure.suptitle(f"Theorem 2: the end-to-end field F = P(∇L) of ℓ{config['p']} regression (d = {config['dim']}) "
                    f"has a non-zero loop integral for N > 2, so it is no gradient field; c = ‖∇L(0)‖ = {result['c']:.3g}",
                    fontsize=11)
    _save(figure, out_dir / "theorem2")


def _save(figure, stem):
    figure.tight_layout()
    save_figure(figure, stem)
