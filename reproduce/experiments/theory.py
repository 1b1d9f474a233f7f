"""The paper's theory as four figures: Section 3, Section 7, Claim 1 and Theorem 2 (no data needed).

`python -m reproduce theory [--quick] [--out DIR]` writes into DIR (default results/theory):

    warmup.png/.pdf         Section 3: GD on w = w₁·w₂ is GD on w with rate ρ⁽ᵗ⁾ and a term γ⁽ᵗ⁾w⁽ᵗ⁾
    two_point.png/.pdf      Section 7: |Δ₁|, |Δ₂| for plain GD against the end-to-end rule, p = 2, 4
    claim1_spectrum.png/.pdf  Claim 1: preconditioner eigenvalues, numeric against closed form
    theorem2.png/.pdf       Theorem 2: ∮ F around Γ_{r,R} against Lemma 3
    theory.json             every setting and every number, written after each part

Data flow: config → `compute_*` (with `tf_overparam.theory` and `reproduce.experiments.theory_problems`)
→ numbers → `reproduce.experiments.theory_plots.plot_*` and theory.json. Every end-to-end update goes
through `tf_overparam.ops.end_to_end_update`, every field value through `end_to_end_direction`.
"""

from __future__ import annotations

import pathlib
import sys
import time

import numpy as np

from ..lab import configs
from ..lab import runner
from . import theory_problems as problems
from .theory_plots import plot_claim1
from .theory_plots import plot_theorem2
from .theory_plots import plot_two_point
from .theory_plots import plot_warmup
from tf_overparam import theory
from tf_overparam.fullbatch import backend
from tf_overparam.optimal_loss import optimal_loss

# Every setting the paper leaves open is chosen here, once, and written to theory.json.
CONFIG = {
    "warmup": {
        "p": 4,
        "num_examples": 100,
        "dim": 10,
        "planted_weight_norm": 3.0,  # ‖w*‖ > 1 so that the adaptive rate ρ/η = w₂² ≈ ‖w‖ grows above 1
        "label_noise": 0.1,
        "data_seed": 0,
        "init_seed": 1,
        "init_std": 0.01,  # paper Appendix B.1's near-zero initialization, for w₁ and w₂ alike
        # η = 0.5 · 2/λ_max(∇²L(0)): half the quadratic stability bound of plain GD at the start.
        "lr_fraction_of_start_bound": 0.5,
        "num_steps": 3000,
    },
    "two_point": {
        "targets": [10.0, 1.0],  # y₁ ≫ y₂
        "p_values": [2, 4],
        "depths": [1, 2, 3],  # 1 = plain GD; 2, 3 = the end-to-end rule (Eq. 11)
        "init_seed": 0,
        "init_std": 0.01,  # common start w⁽⁰⁾ ~ N(0, 0.01²) for every method (the rule cannot leave 0)
        "learning_rate_grid": {"low": 1e-5, "high": 10.0, "per_decade": 24},
        "bound_fraction": 0.99,  # plain GD is also run at 0.99 · 2/max|y|^{p−2} (Section 7's bound)
        "tolerance": 1e-2,  # converged: |Δ_i| ≤ 1e-2·|y_i| for both i from then on
        "num_steps": 400_000,
        "record_points": 300,
    },
    "claim1": {
        "shape": [4, 3],  # (d, k), Keras layout
        "seed": 0,
        "depths": [1, 2, 3, 8],
        "rank_deficient_singular_values": [2.0, 0.5],  # a rank-2 (4, 3) kernel: zero eigenvalues
    },
    "theorem2": {
        "p": 4,
        "num_examples": 50,
        "dim": 5,
        "planted_weight_norm": 1.0,
        "label_noise": 0.1,
        "data_seed": 2,
        "normal_seed": 3,  # f ⊥ e spans the plane of the two half circles
        "depths": [1, 2, 3, 4, 5, 6, 7, 8],
        "outer_radii": [1e-3, 1e-2, 1e-1, 1.0],
        "inner_ratio": 0.5,  # r = R/2
        "num_nodes": 64,  # Gauss–Legendre nodes per segment; 2× as many estimate the error
        "picture_depth": 3,
    },
}

QUICK = {
    "warmup": {"num_steps": 600},
    "two_point": {"learning_rate_grid": {"low": 1e-4, "high": 10.0, "per_decade": 8}, "record_points": 80},
    "claim1": {},
    "theorem2": {"depths": [1, 2, 3, 8], "outer_radii": [1e-2, 1.0], "num_nodes": 32},
}


def make_config(quick=False, settings=None):
    """CONFIG, with the QUICK overrides when `quick` (seconds, for CI), then `settings` (`--set`)."""
    return configs.experiment_config(CONFIG, QUICK, quick, settings)


def _learning_rate_grid(low, high, per_decade):
    count = int(round(np.log10(high / low) * per_decade)) + 1
    return np.geomspace(low, high, count)


def _synthetic_data(config):
    return problems.synthetic_regression(config["num_examples"], config["dim"], config["planted_weight_norm"],
                                       config["label_noise"], config["data_seed"])


def _sample_indices(length, count):
    """About `count` indices spread evenly on a log axis over range(length), for the JSON curves."""
    return problems.geometric_record_steps(length - 1, count)


# --------------------------------------------------------------------------------------------
# Part 1: Section 3 warm-up
# --------------------------------------------------------------------------------------------


def compute_warmup(config):
    """GD on w, GD on (w₁, w₂) and the Eq. 11 (N = 2) rule on ℓp regression, and ρ, γ along the way."""
    p = config["p"]
    features, targets, planted = _synthetic_data(config)
    optimum = optimal_loss(features, targets, p).loss
    start_hessian = (p - 1) * (features.T * targets ** (p - 2)) @ features / len(targets)  # ∇²L(0)
    learning_rate = config["lr_fraction_of_start_bound"] * 2 / np.linalg.eigvalsh(start_hessian).max()

    rng = np.random.default_rng(config["init_seed"])
    initial_vector = config["init_std"] * rng.standard_normal(config["dim"])
    initial_scalar = config["init_std"] * rng.standard_normal()

    def gradient(weights):
        return problems.lp_regression_gradient(weights, features, targets, p)

    def trajectory(depth):  # depth 1: plain gradient descent on w
        return problems.end_to_end_trajectory(
            lambda kernel: problems.lp_regression_kernel_gradient(kernel, features, targets, p),
            (initial_vector * initial_scalar)[:, None], learning_rate, depth,
            np.arange(num_steps + 1))[..., 0]

    num_steps = config["num_steps"]
    plain = trajectory(1)
    vectors, scalars = problems.factorized_gradient_descent(
        gradient, initial_vector, initial_scalar, learning_rate, num_steps)
    product = vectors * scalars[:, None]
    end_to_end = trajectory(2)

    gradients = gradient(product[:-1])
    parts = theory.observation1_decomposition(vectors[:-1], scalars[:-1], gradients, learning_rate)
    adaptive_step = np.linalg.norm(parts["rho"][:, None] * gradients, axis=1)
    momentum_step = np.linalg.norm(parts["gamma"][:, None] * product[:-1], axis=1)
    second_order_step = np.linalg.norm(parts["second_order"], axis=1)
    actual_step = np.linalg.norm(np.diff(product, axis=0), axis=1)
    # The decomposition is an identity: w⁺ = w − ρ∇ − γw + second order, to round-off.
    reconstructed = product[:-1] - parts["rho"][:, None] * gradients - parts["gamma"][:, None] * product[:-1] \
        + parts["second_order"]
    identity_error = np.max(np.linalg.norm(reconstructed - product[1:], axis=1) / np.maximum(actual_step, 1e-300))

    gaps = {name: problems.lp_regression_loss(weights, features, targets, p) - optimum
            for name, weights in (("plain_gd", plain), ("factorized_gd", product), ("end_to_end_n2", end_to_end))}
    level = 1e-3 * gaps["plain_gd"][0]
    norms = np.linalg.norm(product, axis=1)
    return {
        "learning_rate": learning_rate,
        "optimal_loss": optimum,
        "planted_weights": planted,
        "loss_gaps": gaps,
        "effective_rate_over_lr": parts["rho"] / learning_rate,  # ρ⁽ᵗ⁾/η = (w₂⁽ᵗ⁾)²
        "norm_w": norms[:-1],  # ‖w⁽ᵗ⁾‖: Eq. 11's rate ‖w‖^{2−2/N} for N = 2
        "momentum_coefficient_over_lr": parts["gamma"] / learning_rate,
        "step_norms": {"adaptive_rate_term": adaptive_step, "momentum_term": momentum_step,
                       "second_order_term": second_order_step, "actual_step": actual_step},
        "summary": {
            "learning_rate": learning_rate,
            "start_hessian_max_eigenvalue": float(np.linalg.eigvalsh(start_hessian).max()),
            "optimal_loss": optimum,
            "final_loss_gap": {name: float(gap[-1]) for name, gap in gaps.items()},
            "gap_level_1e-3_of_start": float(level),
            "iterations_to_gap_level": {name: _first_below(gap, level) for name, gap in gaps.items()},
            "final_rho_over_lr": float(parts["rho"][-1] / learning_rate),
            "final_norm_w": float(norms[-2]),
            "max_second_order_over_step": float(np.max(second_order_step / np.maximum(actual_step, 1e-300))),
            "decomposition_identity_max_relative_error": float(identity_error),
            "max_distance_factorized_vs_end_to_end_over_norm_wstar": float(
                np.max(np.linalg.norm(product - end_to_end, axis=1)) / np.linalg.norm(planted)),
        },
    }


def _first_below(values, level):
    """First index from which `values` stay ≤ level (−1 if never)."""
    above = np.flatnonzero(~(np.asarray(values) <= level))
    if len(above) == 0:
        return 0
    return int(above[-1] + 1) if above[-1] + 1 < len(values) else -1


# --------------------------------------------------------------------------------------------
# Part 2: Section 7 two-point problem
# --------------------------------------------------------------------------------------------


def compute_two_point(config):
    """For each p and depth: every learning rate of the grid, the fastest one, its |Δ| curves."""
    targets = np.asarray(config["targets"])
    initial = config["init_std"] * np.random.default_rng(config["init_seed"]).standard_normal(2)
    grid = _learning_rate_grid(**config["learning_rate_grid"])
    record_steps = problems.geometric_record_steps(config["num_steps"], config["record_points"])
    results = {"initial_kernel": initial, "record_steps": record_steps, "runs": {}}
    for p in config["p_values"]:
        bound = problems.two_point_stability_bound(targets, p)
        for depth in config["depths"]:
            rates = grid if depth > 1 else np.append(grid, config["bound_fraction"] * bound)
            run = problems.two_point_descent(targets, p, depth, rates, initial, config["num_steps"],
                                           config["tolerance"], record_steps)
            best = problems.fastest_learning_rate(rates[: len(grid)], run["iterations_to_converge"][: len(grid)])
            entry = {
                "p": p, "depth": depth,
                "best_learning_rate": None if best is None else float(rates[best]),
                "best_iterations_to_converge": None if best is None else int(run["iterations_to_converge"][best]),
                "largest_non_diverging_learning_rate": float(rates[: len(grid)][~run["diverged"][: len(grid)]].max()),
                "best_deltas": None if best is None else run["deltas"][:, best, :],
            }
            if depth == 1:
                entry["stability_bound"] = float(bound)
                entry["at_bound_learning_rate"] = float(rates[-1])
                entry["at_bound_iterations_to_converge"] = int(run["iterations_to_converge"][-1])
                entry["at_bound_deltas"] = run["deltas"][:, -1, :]
            results["runs"][f"p{p}_depth{depth}"] = entry
    return results


# --------------------------------------------------------------------------------------------
# Part 3: Claim 1 spectrum
# --------------------------------------------------------------------------------------------


def compute_claim1(config):
    """Eigenvalues of the Eq. 29 Kronecker matrix against Claim 1's closed form; Q·vec(G) against P(G)."""
    rng = np.random.default_rng(config["seed"])
    d, k = config["shape"]
    kernel = rng.standard_normal((d, k))
    gradient = rng.standard_normal((d, k))
    left, _, right_t = np.linalg.svd(kernel)
    deficient = (left[:, :2] * config["rank_deficient_singular_values"]) @ right_t[:2]
    singular_values = np.linalg.svd(kernel, compute_uv=False)
    # The rank-2 kernel's singular values are known exactly (the SVD would return ~1e-16 for the
    # zero one, and a fractional power such as (1e-16)^{1/4} = 1e-4 is not a zero).
    exact_deficient = np.array(config["rank_deficient_singular_values"] + [0.0])
    results = {"kernel": kernel, "singular_values": singular_values, "depths": {}}
    for depth in config["depths"]:
        results["depths"][depth] = {"random": _claim1_check(kernel, singular_values, gradient, depth),
                                    "rank_deficient": _claim1_check(deficient, exact_deficient, gradient, depth)}
    return results


def _claim1_check(kernel, singular_values, gradient, depth):
    matrix = theory.kronecker_preconditioner(kernel, depth)
    numeric = np.sort(np.linalg.eigvalsh(matrix))[::-1]
    closed_form = theory.claim1_eigenvalues(singular_values, kernel.shape, depth)
    direction = theory.end_to_end_field(kernel, gradient, depth)
    return {
        "numeric_eigenvalues": numeric,
        "closed_form_eigenvalues": closed_form,
        "max_eigenvalue_error_over_largest": float(np.max(np.abs(numeric - closed_form)) / closed_form.max()),
        "direction_vs_matrix_relative_error": float(
            np.linalg.norm(theory.vec(direction) - matrix @ theory.vec(gradient)) / np.linalg.norm(direction)),
        "matrix_symmetry_error": float(np.max(np.abs(matrix - matrix.T))),
    }


# --------------------------------------------------------------------------------------------
# Part 4: Theorem 2 line integral
# --------------------------------------------------------------------------------------------


def compute_theorem2(config):
    """∮ P(∇L) around Γ_{r,R} for an ℓp loss and for the constant field e, against Lemma 3."""
    p = config["p"]
    features, targets, _ = _synthetic_data(config)

    def loss_gradient(points):
        return problems.lp_regression_gradient(points, features, targets, p)

    gradient_at_zero = loss_gradient(np.zeros(config["dim"]))
    scale = float(np.linalg.norm(gradient_at_zero))  # c = ‖∇L(0)‖ of Eq. 37
    direction, normal = theory.orthonormal_pair(gradient_at_zero, config["normal_seed"])

    def constant_field(points):
        return np.broadcast_to(direction, points.shape)

    nodes = config["num_nodes"]
    rows = []
    for depth in config["depths"]:
        for outer in config["outer_radii"]:
            inner = config["inner_ratio"] * outer
            def integral(field, num_nodes):
                return theory.line_integral_around_gamma(field, direction, normal, inner, outer, depth, num_nodes)

            loss_integral, refined = integral(loss_gradient, nodes), integral(loss_gradient, 2 * nodes)
            constant = integral(constant_field, nodes)
            lemma3 = theory.lemma3_value(depth, inner, outer)
            segments = theory.lemma3_segment_values(depth, inner, outer)
            rows.append({
                "depth": depth, "inner_radius": inner, "outer_radius": outer,
                "loss_integral": loss_integral["total"],
                "loss_integral_quadrature_change_2x_nodes": abs(refined["total"] - loss_integral["total"]),
                "c_times_lemma3": scale * lemma3,
                "loss_integral_over_c_lemma3": loss_integral["total"] / (scale * lemma3) if lemma3 != 0 else None,
                "normalized_loss_integral": loss_integral["total"] / (scale * outer ** (3 - 2 / depth)),
                "constant_field_integral": constant["total"],
                "lemma3": lemma3,
                "constant_field_abs_error": abs(constant["total"] - lemma3),
                "constant_field_max_segment_abs_error": max(abs(constant[name] - segments[name]) for name in segments),
            })
    return {"c": scale, "e": direction, "f": normal, "rows": rows,
            "picture": _theorem2_picture(loss_gradient, direction, normal, config["picture_depth"])}


def _theorem2_picture(loss_gradient, direction, normal, depth, outer=1.0, inner=0.5):
    """The curve Γ_{r,R} and the field F (projected on span(e, f)) at a grid of points, for panel (a)."""
    curve = np.concatenate([points for points, _ in theory.gamma_curve(direction, normal, inner, outer, 60)])
    grid = np.stack(np.meshgrid(np.linspace(-1.1, 1.1, 15), np.linspace(-0.1, 1.1, 9)), -1).reshape(-1, 2)
    points = grid[:, :1] * direction + grid[:, 1:] * normal
    field = theory.end_to_end_field(points[..., None], loss_gradient(points)[..., None], depth)[..., 0]
    return {"curve": np.stack([curve @ direction, curve @ normal], -1), "grid": grid,
            "field": np.stack([field @ direction, field @ normal], -1), "depth": depth}


# --------------------------------------------------------------------------------------------
# Run
# --------------------------------------------------------------------------------------------


def _json_two_point(result):
    """Drop the long curves, keep them sub-sampled."""
    keep = _sample_indices(len(result["record_steps"]), 60)
    runs = {}
    for name, run in result["runs"].items():
        runs[name] = {key: (value[keep] if isinstance(value, np.ndarray) else value) for key, value in run.items()}
    return {"initial_kernel": result["initial_kernel"], "record_steps": result["record_steps"][keep], "runs": runs}


def _json_warmup(result):
    keep = _sample_indices(len(result["effective_rate_over_lr"]), 60)
    return {**result["summary"], "planted_weights": result["planted_weights"], "curves": {
        "iteration": keep,
        "loss_gaps": {name: gap[keep] for name, gap in result["loss_gaps"].items()},
        "effective_rate_over_lr": result["effective_rate_over_lr"][keep],
        "momentum_coefficient_over_lr": result["momentum_coefficient_over_lr"][keep],
        "norm_w": result["norm_w"][keep]}}


COMPUTE = {"warmup": compute_warmup, "two_point": compute_two_point, "claim1": compute_claim1,
           "theorem2": compute_theorem2}


class TheoryPart:
    """One of the four computations as a run: seconds of arithmetic, computed every time (never
    stored: a rerun after an interruption computes it again)."""

    kind, parallel, cost = "theory part", False, 1.0

    def __init__(self, name, config):
        self.label = self.key = name
        self.config = config

    def stored_at(self, store):
        return store.path(self.key, ".never")

    def read(self, store):
        return None

    def write(self, store, result):
        """Nothing to keep."""

    def compute(self, name=""):
        start = time.perf_counter()
        value = COMPUTE[self.label](self.config[self.label])
        seconds = round(time.perf_counter() - start, 2)
        print(f"  {self.label}: {seconds} s", flush=True)
        return {"value": value, "info": {"total_time_s": seconds}}

    def record(self, result, curves=True):
        return "runs", {"info": result["info"]}


def prepare(config, data_dir, store, out_dir):
    return None


def runs(config, context, done) -> dict:
    return {name: TheoryPart(name, config) for name in COMPUTE}


def summarize(config, context, runs, done) -> dict:
    """The four parts' numbers as computed (the JSON keeps them sub-sampled: `to_record`)."""
    return {**{name: done[name]["value"] for name in COMPUTE},
            "seconds": {name: done[name]["info"]["total_time_s"] for name in COMPUTE}}


def to_record(results) -> dict:
    return {"warmup": _json_warmup(results["warmup"]), "two_point": _json_two_point(results["two_point"]),
            "claim1": results["claim1"],
            "theorem2": {key: value for key, value in results["theorem2"].items() if key != "picture"},
            "seconds": results["seconds"]}


def plot(results, config, context, out_dir):
    plot_warmup(results["warmup"], config["warmup"], out_dir)
    plot_two_point(results["two_point"], config["two_point"], out_dir)
    plot_claim1(results["claim1"], config["claim1"], out_dir)
    plot_theorem2(results["theorem2"], config["theorem2"], out_dir)


def run(out_dir=pathlib.Path("results/theory"), data_dir=None, quick=False, settings=None):
    """Compute, plot and record the four theory parts (no data, no network; `data_dir` is unused).

    Args:
        out_dir: output folder (created); gets four PNG + PDF pairs and theory.json.
        data_dir: ignored (the CLI passes it to every figure).
        quick: tiny settings for CI (a few seconds).
        settings: {key: value} applied to the config (the command line's `--set`).

    Returns:
        the JSON document written to theory.json.
    """
    with backend.float64_scope():  # JAX's 64-bit mode for the compiled loops; no-op elsewhere
        return runner.run(sys.modules[__name__], out_dir, data_dir, quick, settings)
