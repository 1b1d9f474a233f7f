"""A compiled, batched, full-batch trainer for linear ℓp regression with deep linear networks.

The paper's regression figures (2 to 5-left) train many small models by full-batch gradient
descent on one fixed (X, y): several depths, widths, initializations and optimizers, each over a
grid of learning rates, for up to 100,000 iterations. A `model.fit` loop does ~27 steps per second
on this problem; this module runs *all learning rates and seeds of one model at once* as one
batch of independent configurations, with the whole loop compiled into one `tf.function`
(XLA by default), which is several hundred to a few thousand times faster.

Layout (Keras' kernel layout, as everywhere in the project): a depth-N network has factors
K_1 (d, n_1), K_2 (n_1, n_2), …, K_N (n_{N−1}, k), no biases (paper Appendix B.1), and predicts
x ↦ x K_1 ⋯ K_N. The trainer stores each factor with a leading configuration axis, (B, n_{j−1}, n_j),
computes the end-to-end kernel K_e = K_1 ⋯ K_N once per step, the residuals of all B
configurations with one matrix product X · [K_e^(1) … K_e^(B)], G = ∂L/∂K_e with one more, and each
factor's gradient in closed form, ∂L/∂K_j = (K_1⋯K_{j−1})ᵀ G (K_{j+1}⋯K_N)ᵀ. The loss is the
project's ℓp loss, mean over rows and outputs of (1/p)(ŷ − y)^p (`tf_overparam.losses.LpLoss`).

Optimizers (all per configuration, with their own learning rate):

- `GradientDescent()`: plain full-batch GD on every factor (what `keras.optimizers.SGD` does).
- `EndToEnd(depth=None)`: the single-layer model trained with the end-to-end update rule of
  paper Eq. 9 / Eq. 11, K_e ← K_e − η P(G), with P computed by the project's one implementation,
  `tf_overparam.ops.end_to_end_direction`. It starts from the end-to-end kernel of the given
  `LinearNetwork`'s initial factors (same seed), because at K_e = 0 the rule never moves; that is
  also how the paper's Figure 2 emulation starts both curves at one point.
- `Adagrad`, `Adadelta`, `Adam`: the exact update rules of Keras 3's optimizers, with Keras'
  defaults pinned (Adagrad initial_accumulator_value 0.1, epsilon 1e-7; Adadelta rho 0.95,
  epsilon 1e-7; Adam beta_1 0.9, beta_2 0.999, epsilon 1e-7), applied to every factor.

Each configuration is watched for divergence: a non-finite loss, or a loss above
`divergence_factor` × its initial loss, freezes that configuration (its parameters stop moving,
its later recorded losses are NaN, `diverged_at` says when) and the others go on.

Example:
    >>> import numpy as np
    >>> from tf_overparam.trainer import LinearNetwork, GradientDescent, train
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(200, 8)), rng.normal(size=200)
    >>> result = train(X, y, LinearNetwork(depth=3), GradientDescent(), p=4,
    ...                learning_rates=[1e-3, 1e-2], seeds=[0, 1], steps=1000, record_every=10)
    >>> result.losses.shape  # (learning rates × seeds, records)
    (4, 101)
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import numbers
import threading
import time
from typing import Callable, Sequence

import numpy as np
import tensorflow as tf

from tf_overparam._validation import validate_depth
from tf_overparam._validation import validate_hidden_units
from tf_overparam.ops.end_to_end import end_to_end_direction

INITIALIZATIONS = ("near_zero", "identity")
#: "float64": everything in float64. "float32": everything in float32. "mixed": the two products
#: with X (the only O(n·d) work per step) in float32, everything else (parameters, optimizer
#: state, residual powers, the loss) in float64.
DTYPES = ("float64", "mixed", "float32")
#: jit_compile="auto" uses XLA from this many iterations on (compilation costs 1–3 s).
AUTO_JIT_MIN_STEPS = 10_000
#: ... and runs the first this many iterations as a plain graph, so that configurations that
#: diverge early are dropped before XLA compiles the loop for the survivors.
AUTO_GRAPH_STEPS = 1_000


# --------------------------------------------------------------------------------------------
# Models and optimizers (plain, hashable descriptions; `describe()` gives their JSON form)
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class LinearNetwork:
    """A depth-N linear network without biases (paper Section 4 and Appendix B.1).

    Args:
        depth: N, the number of factors (1 = the classic linear model).
        hidden_units: Widths n_1 … n_{N−1}: one int for all hidden layers, or a sequence of N−1
            ints. The paper's regression runs use 1 (scalars); Figure 2 also uses 100.
        init: "near_zero" (every entry i.i.d. N(0, init_stddev²), paper B.1) or "identity"
            (the same noise plus 1 on the diagonal of every factor, rectangular ones included:
            the paper's near-identity "linear residual" initialization of Figure 5-left).
        init_stddev: Standard deviation of the Gaussian entries (paper: 0.01).

    Initial factors are drawn with `numpy.random.default_rng(seed)` in float64, factor by factor
    (K_1 first), so a seed gives the same network for every learning rate and optimizer.
    """

    depth: int = 1
    hidden_units: int | tuple = 1
    init: str = "near_zero"
    init_stddev: float = 0.01

    def __post_init__(self):
        depth = validate_depth(self.depth)
        object.__setattr__(self, "depth", depth)
        if self.init not in INITIALIZATIONS:
            raise ValueError(f"init must be one of {INITIALIZATIONS}, got {self.init!r}.")
        hidden_units = validate_hidden_units(self.hidden_units, depth)
        if hidden_units is None:
            raise ValueError("`hidden_units` must be a positive int or a list of depth - 1 of them, got None.")
        object.__setattr__(self, "hidden_units", hidden_units if isinstance(hidden_units, int) else tuple(hidden_units))
        if isinstance(self.init_stddev, bool) or not isinstance(self.init_stddev, numbers.Real) or not self.init_stddev >= 0:
            raise ValueError(f"`init_stddev` must be a number >= 0, got {self.init_stddev!r}.")

    def widths(self, input_dim: int, output_dim: int) -> list[int]:
        """[d, n_1, …, n_{N−1}, k]."""
        hidden = (list(self.hidden_units) if not isinstance(self.hidden_units, int)
                  else [self.hidden_units] * (self.depth - 1))
        return [input_dim, *hidden, output_dim]

    def factor_shapes(self, input_dim: int, output_dim: int) -> list[tuple[int, int]]:
        w = self.widths(input_dim, output_dim)
        return [(w[j], w[j + 1]) for j in range(self.depth)]

    def initial_factors(self, seed: int, input_dim: int, output_dim: int) -> list[np.ndarray]:
        """The N initial factors for one seed, float64, Keras layout."""
        rng = np.random.default_rng(seed)
        factors = []
        for shape in self.factor_shapes(input_dim, output_dim):
            factor = rng.normal(0.0, self.init_stddev, size=shape)
            if self.init == "identity":
                factor = factor + np.eye(*shape)
            factors.append(factor)
        return factors

    def describe(self) -> dict:
        return {"type": "LinearNetwork", "depth": self.depth,
                "hidden_units": (self.hidden_units if isinstance(self.hidden_units, int)
                                 else list(self.hidden_units)),
                "init": self.init, "init_stddev": self.init_stddev, "bias": False}


@dataclasses.dataclass(frozen=True)
class GradientDescent:
    """Full-batch gradient descent on every factor: K_j ← K_j − η ∂L/∂K_j."""

    name = "gd"

    def slot_names(self):
        return ()

    def describe(self) -> dict:
        return {"type": "GradientDescent"}


@dataclasses.dataclass(frozen=True)
class EndToEnd:
    """The end-to-end update rule (paper Eq. 9 / Eq. 11) on the single-layer model.

    K_e ← K_e − η P(G) with P = `tf_overparam.ops.end_to_end_direction` for depth N (weight
    decay 0, as in the paper's experiments). N defaults to the depth of the `LinearNetwork` given
    to `train`, whose initial end-to-end kernel (same seed) is the starting point.
    """

    depth: int | None = None
    name = "end_to_end"

    def __post_init__(self):
        if self.depth is not None:
            object.__setattr__(self, "depth", validate_depth(self.depth))

    def slot_names(self):
        return ()

    def describe(self) -> dict:
        return {"type": "EndToEnd", "depth": self.depth, "weight_decay": 0.0}


@dataclasses.dataclass(frozen=True)
class Adagrad:
    """Keras 3's Adagrad rule: a ← a + g²; K ← K − η g / sqrt(a + ε); a starts at 0.1."""

    initial_accumulator_value: float = 0.1
    epsilon: float = 1e-7
    name = "adagrad"

    def slot_names(self):
        return ("accumulator",)

    def describe(self) -> dict:
        return {"type": "Adagrad", "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon, "keras_equivalent": "keras.optimizers.Adagrad"}


@dataclasses.dataclass(frozen=True)
class Adadelta:
    """Keras 3's Adadelta rule (zero-initialized accumulators, rho 0.95, epsilon 1e-7).

    a_g ← ρ a_g + (1−ρ) g²;  Δ = −sqrt(a_Δ + ε) / sqrt(a_g + ε) · g;  a_Δ ← ρ a_Δ + (1−ρ) Δ²;
    K ← K + η Δ.
    """

    rho: float = 0.95
    epsilon: float = 1e-7
    name = "adadelta"

    def slot_names(self):
        return ("accumulated_grad", "accumulated_delta")

    def describe(self) -> dict:
        return {"type": "Adadelta", "rho": self.rho, "epsilon": self.epsilon,
                "keras_equivalent": "keras.optimizers.Adadelta"}


@dataclasses.dataclass(frozen=True)
class Adam:
    """Keras 3's Adam rule (no AMSGrad), t = 1, 2, … counting updates:

    m ← m + (g − m)(1−β₁);  v ← v + (g² − v)(1−β₂);  α = η sqrt(1−β₂ᵗ)/(1−β₁ᵗ);
    K ← K − α m / (sqrt(v) + ε).
    """

    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7
    name = "adam"

    def slot_names(self):
        return ("momentum", "velocity")

    def describe(self) -> dict:
        return {"type": "Adam", "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": False,
                "keras_equivalent": "keras.optimizers.Adam"}


OPTIMIZERS = {"gd": GradientDescent, "end_to_end": EndToEnd, "adagrad": Adagrad,
              "adadelta": Adadelta, "adam": Adam}


def _as_optimizer(optimizer):
    if isinstance(optimizer, str):
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"Unknown optimizer {optimizer!r}; choose from {list(OPTIMIZERS)}.")
        return OPTIMIZERS[optimizer]()
    if not isinstance(optimizer, tuple(OPTIMIZERS.values())):
        raise TypeError(f"optimizer must be one of {list(OPTIMIZERS)} or an instance of their "
                        f"classes, got {optimizer!r}.")
    return optimizer


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class TrainResult:
    """What `train` returns. Configuration b is (learning_rates[b], seeds[b]).

    Attributes:
        steps: (R,) the iterations at which losses were recorded (0, k, 2k, …, steps).
        losses: (B, R) float64 training loss at those iterations, before the update of that
            iteration (so `losses[:, 0]` is the initial loss); NaN after a divergence.
        learning_rates, seeds: (B,) the configuration of each row.
        diverged_at: (B,) iteration at which the loss was found non-finite or exploding, −1 if
            never. The configuration was frozen from then on.
        level_steps: (B, L) the first iteration whose loss was ≤ `loss_levels[l]` (checked at
            every iteration, not only recorded ones), −1 if never.
        loss_levels: (L,) the levels asked for.
        factors: the final factors, each (B, n_{j−1}, n_j) float64 (one (B, d, k) kernel for
            `EndToEnd`).
        initial_end_to_end: (B, d, k) the initial end-to-end kernels (float64).
        wall_time_s: seconds spent in the compiled loop (excluding tracing/compilation);
            compile_time_s: seconds spent tracing and compiling.
        total_steps: iterations run (fewer than asked when every configuration diverged).
        device: the device the loop's tensors lived on; dtype; jit_compile (whether XLA ran);
            gram (whether the ℓ2 Gram form was used).
    """

    steps: np.ndarray
    losses: np.ndarray
    learning_rates: np.ndarray
    seeds: np.ndarray
    diverged_at: np.ndarray
    level_steps: np.ndarray
    loss_levels: np.ndarray
    factors: list
    initial_end_to_end: np.ndarray
    wall_time_s: float
    compile_time_s: float
    total_steps: int
    device: str
    dtype: str
    jit_compile: bool
    gram: bool
    model: dict
    optimizer: dict
    p: int

    @property
    def diverged(self) -> np.ndarray:
        return self.diverged_at >= 0

    @property
    def steps_per_second(self) -> float:
        """Iterations per second of the whole batch (each iteration updates all B configs)."""
        return self.total_steps / self.wall_time_s if self.wall_time_s > 0 else float("nan")

    @property
    def final_losses(self) -> np.ndarray:
        return self.losses[:, -1]

    @property
    def end_to_end_kernels(self) -> np.ndarray:
        """(B, d, k) final end-to-end kernels K_1 ⋯ K_N."""
        product = self.factors[0]
        for factor in self.factors[1:]:
            product = product @ factor
        return product

    def index(self, learning_rate: float, seed: int = 0) -> int:
        """Row of the configuration with this learning rate and seed."""
        hits = np.flatnonzero(np.isclose(self.learning_rates, learning_rate, rtol=1e-12, atol=0)
                              & (self.seeds == seed))
        if hits.size != 1:
            raise KeyError(f"No single configuration with lr={learning_rate}, seed={seed}.")
        return int(hits[0])

    def curve(self, learning_rate: float, seed: int = 0) -> np.ndarray:
        """(R,) recorded losses of one configuration."""
        return self.losses[self.index(learning_rate, seed)]

    def describe(self) -> dict:
        """JSON-friendly summary of how the run was made (no curves)."""
        return {"model": self.model, "optimizer": self.optimizer, "p": self.p,
                "total_steps": self.total_steps, "dtype": self.dtype,
                "jit_compile": self.jit_compile, "gram": self.gram, "device": self.device,
                "wall_time_s": self.wall_time_s, "compile_time_s": self.compile_time_s,
                "steps_per_second": self.steps_per_second}


# --------------------------------------------------------------------------------------------
# The compiled loop
# --------------------------------------------------------------------------------------------


def _integer_power(x, exponent: int):
    """x ** exponent for a small non-negative integer, by repeated squaring (exact and fast)."""
    result = None
    base = x
    while exponent:
        if exponent & 1:
            result = base if result is None else result * base
        exponent >>= 1
        if exponent:
            base = base * base
    return tf.ones_like(x) if result is None else result


class _Problem:
    """The fixed data and the per-step mathematics shared by every configuration.

    ℓp loss (any even p): two products with X per step, in `compute_dtype`. ℓ2 with `gram=True`:
    the same loss and gradient from the Gram matrix, L = c − ⟨K, b⟩ + ½⟨K, C K⟩ and
    G = C K − b with C = XᵀX/(nk), b = XᵀY/(nk), c = ΣY²/(2nk), all precomputed in float64 and
    used in the parameter dtype: O(d²k) per configuration instead of O(ndk), and exactly the
    same gradient descent (in float64 the loss's cancellation error is ~1e-16 × c).
    """

    def __init__(self, X, Y, p, dtype, compute_dtype, gram=False):
        self.n, self.d = X.shape
        self.k = Y.shape[1]
        self.p = p
        self.dtype = dtype  # parameters, optimizer state, losses
        self.compute_dtype = compute_dtype  # the two products with X (and the residual)
        self.gram = bool(gram)
        scale = float(self.n * self.k)
        if self.gram:
            self.C = tf.constant(X.T @ X / scale, dtype=dtype)
            self.b = tf.constant(X.T @ Y / scale, dtype=dtype)
            self.c = tf.constant(float(np.sum(Y ** 2)) / (2 * scale), dtype=dtype)
        else:
            self.X = tf.constant(X, dtype=compute_dtype)
            self.XT = tf.constant(np.ascontiguousarray(X.T), dtype=compute_dtype)
            self.Y = tf.constant(Y, dtype=compute_dtype)  # (n, k)

    def _residual(self, kernel):
        """(n, B, k) residuals X K_e − y of every configuration, in the parameter dtype."""
        stacked = tf.reshape(tf.transpose(kernel, [1, 0, 2]), [self.d, -1])  # (d, B·k)
        stacked = tf.cast(stacked, self.compute_dtype)
        predictions = tf.reshape(tf.matmul(self.X, stacked), [self.n, -1, self.k])
        return tf.cast(predictions - self.Y[:, None, :], self.dtype)

    def _gram_terms(self, kernel):
        product = tf.matmul(self.C[None], kernel)  # C K, (B, d, k)
        loss = self.c + tf.reduce_sum(kernel * (0.5 * product - self.b[None]), axis=[1, 2])
        return loss, product - self.b[None]

    def loss_and_gradient(self, kernel):
        """Per-configuration loss (B,) and G = ∂L/∂K_e (B, d, k) for end-to-end kernels (B, d, k)."""
        if self.gram:
            return self._gram_terms(kernel)
        batch = tf.shape(kernel)[0]
        residual = self._residual(kernel)
        slope = _integer_power(residual, self.p - 1)  # r^{p−1}
        loss = tf.reduce_mean(slope * residual, axis=[0, 2]) / self.p
        scaled = tf.reshape(slope, [self.n, -1]) / float(self.n * self.k)
        gradient = tf.matmul(self.XT, tf.cast(scaled, self.compute_dtype))  # (d, B·k)
        gradient = tf.cast(gradient, self.dtype)
        gradient = tf.transpose(tf.reshape(gradient, [self.d, batch, self.k]), [1, 0, 2])
        return loss, gradient

    def loss(self, kernel):
        if self.gram:
            return self._gram_terms(kernel)[0]
        residual = self._residual(kernel)
        return tf.reduce_mean(_integer_power(residual, self.p), axis=[0, 2]) / self.p


def _suffix_products(factors):
    """[S_1, …, S_N] with S_j = K_{j+1} ⋯ K_N (None for S_N), multiplied right to left.

    With few outputs (k = 1 in the paper) every S_j is a thin (n_j, k) matrix, so the chain costs
    O(Σ n_{j−1} n_j k) instead of the O(d n²) of forming K_1 K_2 first (width-100 networks).
    """
    suffixes = [None] * len(factors)
    for j in range(len(factors) - 2, -1, -1):
        nxt = factors[j + 1]
        suffixes[j] = nxt if suffixes[j + 1] is None else tf.matmul(nxt, suffixes[j + 1])
    return suffixes


def _end_to_end_kernel(factors):
    """K_e = K_1 K_2 ⋯ K_N, (B, d, k), multiplied right to left."""
    suffix = _suffix_products(factors)[0]
    return factors[0] if suffix is None else tf.matmul(factors[0], suffix)


def _factor_gradients(factors, gradient, suffixes):
    """∂L/∂K_j = (K_1⋯K_{j−1})ᵀ G (K_{j+1}⋯K_N)ᵀ = A_j S_jᵀ for every j, batched over configs.

    A_1 = G and A_{j+1} = K_jᵀ A_j are thin (n_j, k) matrices, so this costs O(Σ n_{j−1} n_j k).
    """
    grads = []
    left = gradient  # A_1 = G, (B, d, k)
    for j, factor in enumerate(factors):
        right = suffixes[j]
        grads.append(left if right is None else tf.matmul(left, right, transpose_b=True))
        if j + 1 < len(factors):
            left = tf.matmul(factor, left, transpose_a=True)
    return grads


def _make_update(optimizer):
    """(factors, slots, grads, lr (B,1,1), t) -> (new factors, new slots). t counts from 0."""

    if isinstance(optimizer, (GradientDescent, EndToEnd)):
        def update(factors, slots, grads, lr, t):
            return [f - lr * g for f, g in zip(factors, grads)], slots
    elif isinstance(optimizer, Adagrad):
        eps = optimizer.epsilon

        def update(factors, slots, grads, lr, t):
            (acc,) = slots
            new_acc = [a + tf.square(g) for a, g in zip(acc, grads)]
            new = [f - lr * g / tf.sqrt(a + eps) for f, g, a in zip(factors, grads, new_acc)]
            return new, (new_acc,)
    elif isinstance(optimizer, Adadelta):
        rho, eps = optimizer.rho, optimizer.epsilon

        def update(factors, slots, grads, lr, t):
            acc_g, acc_d = slots
            new_g = [rho * a + (1 - rho) * tf.square(g) for a, g in zip(acc_g, grads)]
            deltas = [-(tf.sqrt(ad + eps) * g) / tf.sqrt(ag + eps)
                      for ad, ag, g in zip(acc_d, new_g, grads)]
            new_d = [rho * ad + (1 - rho) * tf.square(dl) for ad, dl in zip(acc_d, deltas)]
            new = [f + lr * dl for f, dl in zip(factors, deltas)]
            return new, (new_g, new_d)
    elif isinstance(optimizer, Adam):
        b1, b2, eps = optimizer.beta_1, optimizer.beta_2, optimizer.epsilon

        def update(factors, slots, grads, lr, t):
            m, v = slots
            local_step = tf.cast(t + 1, lr.dtype)
            alpha = lr * tf.sqrt(1 - tf.pow(tf.cast(b2, lr.dtype), local_step)) / (
                1 - tf.pow(tf.cast(b1, lr.dtype), local_step))
            new_m = [mm + (g - mm) * (1 - b1) for mm, g in zip(m, grads)]
            new_v = [vv + (tf.square(g) - vv) * (1 - b2) for vv, g in zip(v, grads)]
            new = [f - (mm * alpha) / (tf.sqrt(vv) + eps)
                   for f, mm, vv in zip(factors, new_m, new_v)]
            return new, (new_m, new_v)
    else:  # pragma: no cover - guarded by _as_optimizer
        raise TypeError(optimizer)
    return update


def _device_of(tensor) -> str:
    try:
        return str(tensor.device)
    except AttributeError:  # pragma: no cover
        return "unknown"


def _select(mask, new, old):
    return [tf.where(mask, a, b) for a, b in zip(new, old)]


_QUIET_LOCK = threading.Lock()
_QUIET_STATE = {"depth": 0, "previous_level": None}


@contextlib.contextmanager
def _quiet_retracing_warnings():
    """Each `train` call builds fresh tf.functions (their shapes differ); TensorFlow then warns
    about "retracing" although nothing is retraced needlessly. Silence TensorFlow's logger while
    any `train` call runs; the figures run several at once in threads, hence the counted lock."""
    logger = tf.get_logger()
    with _QUIET_LOCK:
        if _QUIET_STATE["depth"] == 0:
            _QUIET_STATE["previous_level"] = logger.level
            logger.setLevel("ERROR")
        _QUIET_STATE["depth"] += 1
    try:
        yield
    finally:
        with _QUIET_LOCK:
            _QUIET_STATE["depth"] -= 1
            if _QUIET_STATE["depth"] == 0:
                logger.setLevel(_QUIET_STATE["previous_level"])


def _quietly(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with _quiet_retracing_warnings():
            return function(*args, **kwargs)
    return wrapper


@_quietly
def train(X, y, model: LinearNetwork = LinearNetwork(), optimizer="gd", *, p: int = 2,
          learning_rates: Sequence[float] = (1e-3,), seeds: Sequence[int] = (0,),
          steps: int = 1000, record_every: int | None = None,
          loss_levels: Sequence[float] = (), divergence_factor: float = 1e6,
          dtype: str = "float64", jit_compile: bool | str = "auto", initial_factors=None,
          chunk_steps: int | None = None, gram: bool | None = None,
          progress: Callable[[int, int, np.ndarray], None] | None = None) -> TrainResult:
    """Train every (learning rate, seed) configuration of one model and optimizer at once.

    Args:
        X: (n, d) features. y: (n,) or (n, k) targets. Both are used as given (normalize first).
        model: The `LinearNetwork` (depth, hidden widths, initialization). With `EndToEnd` it
            only provides the initial end-to-end kernel and the default emulated depth.
        optimizer: "gd", "end_to_end", "adagrad", "adadelta", "adam", or an instance of
            `GradientDescent`, `EndToEnd`, `Adagrad`, `Adadelta`, `Adam`.
        p: Even loss exponent (2 or 4 in the paper): L = mean (1/p)(ŷ − y)^p.
        learning_rates: One per configuration row group; configurations are the product
            learning_rates × seeds, learning-rate major (row b = i_lr · len(seeds) + i_seed).
        seeds: Initialization seeds (see `LinearNetwork.initial_factors`).
        steps: Number of updates.
        record_every: Record the loss every this many iterations (must divide `steps`;
            default: every iteration up to 1,000 records, else steps / 1000 rounded up to a divisor).
        loss_levels: Absolute loss levels whose first crossing is detected at every iteration
            (for "iterations to reach a gap").
        divergence_factor: Freeze a configuration whose loss exceeds this times its initial
            loss, or is not finite.
        dtype: "float64" (default; the ℓ4 gaps are followed far below 1e-3) or "float32".
        jit_compile: Compile the loop with XLA: True, False, or "auto" (default): XLA when
            `steps` ≥ 10,000, after a first 1,000 iterations as a plain graph. On this problem
            XLA made the loop about 2× faster on CPU but takes 1–3 s to compile against ~0.3 s
            for a plain graph, so short runs and configurations that diverge at once skip it.
        initial_factors: Optional list of N arrays overriding the seeded initialization, each
            (n_{j−1}, n_j) (shared by all configurations) or (B, n_{j−1}, n_j).
        chunk_steps: Run the compiled loop in chunks of about this many iterations, calling
            `progress(done, steps, latest_losses)` after each; default: one chunk unless a
            `progress` callback is given (then ~20,000 iterations per chunk).
        progress: Optional callback, see `chunk_steps`.
        gram: ℓ2 only: compute loss and gradient from XᵀX (O(d²) per configuration instead of
            O(nd); the same iterates up to round-off). Default: when p = 2 and n > d.

    Returns:
        A `TrainResult`.
    """
    optimizer = _as_optimizer(optimizer)
    if not isinstance(model, LinearNetwork):
        raise TypeError(f"model must be a LinearNetwork, got {model!r}.")
    if not isinstance(divergence_factor, numbers.Real) or not divergence_factor > 1:
        raise ValueError(f"divergence_factor must be a number > 1, got {divergence_factor!r}.")
    if isinstance(p, bool) or int(p) != p or p < 2 or p % 2:
        raise ValueError(f"p must be an even integer >= 2, got {p!r}.")
    p = int(p)
    steps = int(steps)
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}.")
    if record_every is None:
        record_every = _default_record_every(steps)
    record_every = int(record_every)
    if record_every < 1 or (steps and steps % record_every):
        raise ValueError(f"record_every={record_every} must be >= 1 and divide steps={steps}.")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}.")
    tf_dtype = tf.float32 if dtype == "float32" else tf.float64
    if jit_compile == "auto":
        graph_steps = AUTO_GRAPH_STEPS if steps >= AUTO_JIT_MIN_STEPS else steps + 1
    elif isinstance(jit_compile, bool):
        graph_steps = 0 if jit_compile else steps + 1
    else:
        raise ValueError(f"jit_compile must be True, False or 'auto', got {jit_compile!r}.")
    compute_dtype = tf.float64 if dtype == "float64" else tf.float32

    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(y, dtype=np.float64)
    if Y.ndim == 1:
        Y = Y[:, None]
    if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0]:
        raise ValueError(f"X must be (n, d) and y (n,) or (n, k); got {X.shape} and {Y.shape}.")
    d, k = X.shape[1], Y.shape[1]

    learning_rates = [float(lr) for lr in learning_rates]
    seeds = [int(s) for s in seeds]
    if not learning_rates or not seeds:
        raise ValueError("learning_rates and seeds must be non-empty.")
    if any(not np.isfinite(lr) or lr < 0 for lr in learning_rates):
        raise ValueError(f"learning_rates must be finite and >= 0, got {learning_rates}.")
    lr_column = np.repeat(np.asarray(learning_rates), len(seeds))
    seed_column = np.tile(np.asarray(seeds), len(learning_rates))
    batch = lr_column.size

    # Initial factors, float64, (B, a, b).
    if initial_factors is None:
        per_seed = {s: model.initial_factors(s, d, k) for s in seeds}
        factors0 = [np.stack([per_seed[s][j] for s in seed_column]) for j in range(model.depth)]
    else:
        shapes = model.factor_shapes(d, k)
        if len(initial_factors) != model.depth:
            raise ValueError(f"initial_factors needs {model.depth} arrays.")
        factors0 = []
        for factor, shape in zip(initial_factors, shapes):
            factor = np.asarray(factor, dtype=np.float64)
            if factor.shape == shape:
                factor = np.broadcast_to(factor, (batch, *shape)).copy()
            if factor.shape != (batch, *shape):
                raise ValueError(f"initial factor of shape {factor.shape}; expected {shape} or "
                                 f"{(batch, *shape)}.")
            factors0.append(factor)
    initial_e2e = factors0[0]
    for factor in factors0[1:]:
        initial_e2e = initial_e2e @ factor
    emulated_depth = None
    if isinstance(optimizer, EndToEnd):
        emulated_depth = model.depth if optimizer.depth is None else optimizer.depth
        factors0 = [initial_e2e.copy()]

    loss_levels = np.asarray(list(loss_levels), dtype=np.float64).reshape(-1)
    n_levels = loss_levels.size

    if gram is None:
        gram = p == 2 and X.shape[0] > X.shape[1]
    if gram and p != 2:
        raise ValueError("gram=True needs p = 2.")
    problem = _Problem(X, Y, p, tf_dtype, compute_dtype, gram=gram)
    update = _make_update(optimizer)
    n_slots = len(optimizer.slot_names())

    def gradients(factors):
        suffixes = _suffix_products(factors)
        kernel = factors[0] if suffixes[0] is None else tf.matmul(factors[0], suffixes[0])
        loss, gradient = problem.loss_and_gradient(kernel)
        if emulated_depth is not None:
            grads = [end_to_end_direction(factors[0], gradient, emulated_depth)]
        else:
            grads = _factor_gradients(factors, gradient, suffixes)
        return loss, grads

    levels_tensor = tf.constant(loss_levels.reshape(1, -1), dtype=tf_dtype)
    factor_value = float(divergence_factor)
    nan = tf.constant(np.nan, tf_dtype)

    def one_step(t, lr, factors, slots, alive, diverged_at, initial_loss, level_steps):
        loss, grads = gradients(factors)
        bad = tf.logical_or(tf.logical_not(tf.math.is_finite(loss)),
                            loss > factor_value * initial_loss)
        diverged_at = tf.where(tf.logical_and(alive, bad), t, diverged_at)
        still_alive = tf.logical_and(alive, tf.logical_not(bad))
        if n_levels:
            crossed = tf.logical_and(loss[:, None] <= levels_tensor, level_steps < 0)
            crossed = tf.logical_and(crossed, still_alive[:, None])
            level_steps = tf.where(crossed, t, level_steps)
        new_factors, new_slots = update(factors, slots, grads, lr, t)
        mask = still_alive[:, None, None]
        factors = _select(mask, new_factors, factors)
        slots = tuple(_select(mask, new, old) for new, old in zip(new_slots, slots))
        recorded = tf.where(alive, loss, nan)
        return factors, slots, still_alive, diverged_at, level_steps, recorded

    def run_chunk(t0, n_records, lr, factors, slots, alive, diverged_at, initial_loss,
                  level_steps):
        """n_records × record_every iterations from iteration t0; records the first loss of each."""
        size = tf.shape(initial_loss)[0]
        buffer = tf.fill([max_records, size], nan)  # (records, B); rows ≥ n_records unused

        def outer(r, t, factors, slots, alive, diverged_at, level_steps, buffer):
            def inner(i, t, factors, slots, alive, diverged_at, level_steps, first):
                factors, slots, alive, diverged_at, level_steps, recorded = one_step(
                    t, lr, factors, slots, alive, diverged_at, initial_loss, level_steps)
                first = tf.where(tf.equal(i, 0), recorded, first)
                return i + 1, t + 1, factors, slots, alive, diverged_at, level_steps, first

            first0 = tf.zeros([size], tf_dtype)
            _, t, factors, slots, alive, diverged_at, level_steps, first = tf.while_loop(
                lambda i, *_: i < record_every, inner,
                (tf.constant(0), t, factors, slots, alive, diverged_at, level_steps, first0))
            buffer = tf.tensor_scatter_nd_update(buffer, [[r]], first[None])
            return r + 1, t, factors, slots, alive, diverged_at, level_steps, buffer

        _, t, factors, slots, alive, diverged_at, level_steps, buffer = tf.while_loop(
            lambda r, *_: r < n_records, outer,
            (tf.constant(0), t0, factors, slots, alive, diverged_at, level_steps, buffer),
            maximum_iterations=max_records)
        return t, factors, slots, alive, diverged_at, level_steps, buffer

    def evaluate(t, factors, alive, diverged_at, initial_loss, level_steps):
        """Loss of the current parameters (the record at the last iteration), with checks."""
        loss = problem.loss(_end_to_end_kernel(factors))
        bad = tf.logical_or(tf.logical_not(tf.math.is_finite(loss)),
                            loss > factor_value * initial_loss)
        diverged_at = tf.where(tf.logical_and(alive, bad), t, diverged_at)
        if n_levels:
            crossed = tf.logical_and(loss[:, None] <= levels_tensor, level_steps < 0)
            crossed = tf.logical_and(crossed, tf.logical_and(alive, tf.logical_not(bad))[:, None])
            level_steps = tf.where(crossed, t, level_steps)
        return tf.where(alive, loss, nan), diverged_at, level_steps

    total_records = steps // record_every
    if chunk_steps is None:
        chunk_steps = 20_000 if progress is not None else 10_000
    max_records = max(1, min(total_records, max(1, int(chunk_steps) // record_every)))

    # "auto": the first AUTO_GRAPH_STEPS iterations run as a plain graph (traced in ~0.3 s), so
    # that configurations diverging early are dropped before XLA compiles the loop for the
    # survivors; runs of fewer than AUTO_JIT_MIN_STEPS iterations never use XLA.
    compiled = {
        mode: (tf.function(run_chunk, jit_compile=mode, reduce_retracing=True),
               tf.function(evaluate, jit_compile=mode, reduce_retracing=True))
        for mode in (False, True)}
    compiled_initial = tf.function(lambda f: problem.loss(_end_to_end_kernel(f)))

    # Full-batch bookkeeping (numpy); the compiled loop only sees the configurations still alive.
    losses = np.full((batch, total_records + 1), np.nan)
    diverged_full = np.full(batch, -1, dtype=np.int64)
    levels_full = np.full((batch, n_levels), -1, dtype=np.int64)
    final_factors = [f.copy() for f in factors0]
    active = np.arange(batch)

    factors = [tf.constant(f, dtype=tf_dtype) for f in factors0]
    slots = _initial_slots(optimizer, factors, tf_dtype)
    initial_loss = compiled_initial(factors)
    lr = tf.constant(lr_column.reshape(-1, 1, 1), dtype=tf_dtype)
    alive = tf.ones([batch], tf.bool)
    diverged_at = tf.fill([batch], tf.constant(-1, tf.int64))
    level_steps = tf.fill([batch, n_levels], tf.constant(-1, tf.int64))
    t = tf.constant(0, tf.int64)

    compile_time = 0.0
    compiled_keys = set()
    used_xla = False

    def functions(done_steps):
        """The (chunk, evaluate) pair for the current phase, compiled for the current size.

        Compilation happens in a call with zero records (same shapes as the calls that follow),
        so that the reported loop time excludes it; once per (mode, number of configurations).
        """
        nonlocal compile_time, used_xla
        mode = done_steps >= graph_steps
        used_xla = used_xla or mode
        chunk_fn, eval_fn = compiled[mode]
        if (mode, active.size) not in compiled_keys:
            start = time.perf_counter()
            chunk_fn(t, tf.constant(0), lr, factors, slots, alive, diverged_at, initial_loss,
                     level_steps)[-1].numpy()
            eval_fn(t, factors, alive, diverged_at, initial_loss, level_steps)[0].numpy()
            compile_time += time.perf_counter() - start
            compiled_keys.add((mode, active.size))
        return chunk_fn, eval_fn

    def store(rows, upto):
        """Copy the active configurations' state into the full-batch arrays."""
        diverged_full[rows] = diverged_at.numpy()
        levels_full[rows] = level_steps.numpy()
        for full, current in zip(final_factors, factors):
            full[rows] = current.numpy()

    done_records = 0
    wall = 0.0
    chunk_target = min(500, int(chunk_steps))
    while done_records < total_records and active.size:
        done_steps = done_records * record_every
        chunk_fn, _ = functions(done_steps)
        # Chunks grow geometrically (1, 2, 4, … × 500 iterations, up to `chunk_steps`) so that
        # early divergences leave the compiled loop early; a chunk ends where XLA takes over.
        target = chunk_target
        if done_steps < graph_steps:
            target = min(target, graph_steps - done_steps)
        n = min(max_records, total_records - done_records, max(1, target // record_every))
        chunk_target = min(2 * chunk_target, int(chunk_steps))
        start = time.perf_counter()
        t, factors, slots, alive, diverged_at, level_steps, chunk = chunk_fn(
            t, tf.constant(n), lr, factors, slots, alive, diverged_at, initial_loss, level_steps)
        chunk = chunk.numpy()[:n]
        wall += time.perf_counter() - start
        losses[active, done_records:done_records + n] = chunk.T
        done_records += n
        if progress is not None:
            latest = np.full(batch, np.nan)
            latest[active] = chunk[-1]
            progress(done_records * record_every, steps, latest)
        alive_now = alive.numpy()
        if not alive_now.all():
            # Drop frozen configurations from the compiled loop (fewer, cheaper iterations).
            store(active, done_records)
            keep = np.flatnonzero(alive_now)
            active = active[keep]
            index = tf.constant(keep)
            factors = [tf.gather(f, index) for f in factors]
            slots = tuple([tf.gather(s, index) for s in group] for group in slots)
            lr, alive, diverged_at, initial_loss, level_steps = (
                tf.gather(x, index) for x in (lr, alive, diverged_at, initial_loss, level_steps))
    steps_done = done_records * record_every
    if active.size:
        _, eval_fn = functions(steps_done)
        start = time.perf_counter()
        final_loss, diverged_at, level_steps = eval_fn(t, factors, alive, diverged_at,
                                                             initial_loss, level_steps)
        losses[active, total_records] = final_loss.numpy()
        wall += time.perf_counter() - start
        store(active, total_records)
    record_steps = np.arange(total_records + 1, dtype=np.int64) * record_every

    return TrainResult(
        steps=record_steps, losses=losses, learning_rates=lr_column, seeds=seed_column,
        diverged_at=diverged_full, level_steps=levels_full, loss_levels=loss_levels,
        factors=final_factors, initial_end_to_end=initial_e2e, wall_time_s=float(wall),
        compile_time_s=float(compile_time), total_steps=steps_done,
        device=_device_of(factors[0]), dtype=dtype, jit_compile=bool(used_xla),
        gram=bool(gram),
        model=model.describe(),
        optimizer={**optimizer.describe(),
                   **({"depth": emulated_depth} if emulated_depth is not None else {})},
        p=p)


def _initial_slots(optimizer, factors, dtype):
    if isinstance(optimizer, Adagrad):
        return ([tf.fill(tf.shape(f), tf.constant(optimizer.initial_accumulator_value, dtype))
                 for f in factors],)
    return tuple([tf.zeros_like(f) for f in factors] for _ in optimizer.slot_names())


def _default_record_every(steps: int) -> int:
    if steps <= 1000:
        return 1
    target = math.ceil(steps / 1000)
    for every in range(target, steps + 1):
        if steps % every == 0:
            return every
    return steps


def available_device() -> str:
    """A description of where the loop runs by default, e.g. 'GPU:0 (NVIDIA …)' or 'CPU:0'."""
    gpus = tf.config.list_logical_devices("GPU")
    if gpus:
        try:
            details = tf.config.experimental.get_device_details(
                tf.config.list_physical_devices("GPU")[0])
            return f"{gpus[0].name} ({details.get('device_name', 'GPU')})"
        except Exception:  # pragma: no cover
            return gpus[0].name
    return tf.config.list_logical_devices("CPU")[0].name
