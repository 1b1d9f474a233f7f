"""The compiled full-batch loop: many configurations (learning rates × seeds) of one linear
network and one update rule, trained at once on one fixed (X, y).

The paper's regression figures (2 to 5-left) train many small models by full-batch gradient
descent for up to 100,000 iterations. A `model.fit` loop does ~30 steps per second on this
problem; this loop runs all learning rates and seeds of one model as one batch of independent
configurations, compiled (XLA) in chunks of thousands of iterations, thousands of times faster.

Per iteration: the end-to-end kernel K_e = K_1 ⋯ K_N (`ops.chain`), the loss and G = ∂L/∂K_e of
every configuration with two matrix products with X (`ops.lp`), each factor's gradient in closed
form (`ops.chain.factor_gradients`), and the update rule (`fullbatch.updates`). Each
configuration is watched: a non-finite loss, or a loss above `divergence_factor` × its initial
loss, freezes it (its parameters stop moving, its later recorded losses are NaN, `diverged_at`
says when), and the first iteration at which the loss reaches each of `loss_levels` is noted.
Frozen configurations leave the compiled loop at the end of a chunk.

Examples:
    >>> import numpy as np
    >>> from tf_overparam.fullbatch import LinearNetwork, train
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(200, 8)), rng.normal(size=200)
    >>> result = train(X, y, LinearNetwork(depth=3), "gd", p=4,
    ...                learning_rates=[1e-3, 1e-2], seeds=[0, 1], steps=1000, record_every=10)
    >>> result.losses.shape  # (learning rates × seeds, records)
    (4, 101)
"""

from __future__ import annotations

import math
import time
from typing import Callable, Sequence

import keras
import numpy as np
from keras import ops

from tf_overparam._validation import validate_number
from tf_overparam._validation import validate_p
from tf_overparam.fullbatch import backend
from tf_overparam.fullbatch import updates
from tf_overparam.fullbatch.network import LinearNetwork
from tf_overparam.fullbatch.objective import DTYPES
from tf_overparam.fullbatch.objective import Objective
from tf_overparam.fullbatch.result import TrainResult
from tf_overparam.ops.chain import chain_product
from tf_overparam.ops.chain import factor_gradients
from tf_overparam.ops.chain import suffix_products

#: jit_compile="auto" on TensorFlow uses XLA from this many iterations on (compiling costs 1–3 s).
AUTO_JIT_MIN_STEPS = 10_000
#: ... and runs the first this many iterations as a plain graph, so that configurations that
#: diverge early are dropped before XLA compiles the loop for the survivors.
AUTO_GRAPH_STEPS = 1_000


def train(X, y, model: LinearNetwork | None = None, optimizer="gd", *, p=2,
          learning_rates: Sequence[float] = (1e-3,), seeds: Sequence[int] = (0,),
          steps: int = 1000, record_every: int | None = None,
          loss_levels: Sequence[float] = (), divergence_factor: float = 1e6,
          dtype: str = "float64", jit_compile: bool | str = "auto", initial_factors=None,
          chunk_steps: int | None = None, gram: bool | None = None,
          progress: Callable[[int, int, np.ndarray], None] | None = None,
          devices: int | None = None) -> TrainResult:
    """Train every (learning rate, seed) configuration of one network and update rule at once.

    Args:
        X: (n, d) features. y: (n,) or (n, k) targets. Both are used as given (normalize first).
        model: the `LinearNetwork` (default: depth 1). With the end-to-end rule it only provides
            the initial end-to-end kernel and the default emulated depth.
        optimizer: a rule name ("gd", "end_to_end", "adagrad", "adadelta", "adam", "momentum",
            "tf1_momentum") or an `UpdateRule` such as `tf_overparam.fullbatch.adam(epsilon=1e-8)`.
        p: the loss exponent, a real number > 1 (2 or 4 in the paper):
            L = mean over rows and outputs of (1/p)|ŷ − y|^p.
        learning_rates: configurations are the product learning_rates × seeds, learning-rate
            major (row b = i_lr · len(seeds) + i_seed).
        seeds: initialization seeds (see `LinearNetwork.initial_factors`).
        steps: number of updates.
        record_every: record the loss every this many iterations (must divide `steps`;
            default: every iteration up to 1,000 records, else steps / 1000 rounded up to a
            divisor).
        loss_levels: absolute loss levels whose first crossing is detected at every iteration.
        divergence_factor: freeze a configuration whose loss exceeds this times its initial
            loss, or is not finite (a number > 1).
        dtype: "float64" (default), "mixed" (the two products with X in float32, the rest in
            float64) or "float32".
        jit_compile: True, False (TensorFlow only: a plain graph) or "auto" (default): on
            TensorFlow XLA when `steps` ≥ 10,000, after a first 1,000 iterations as a plain
            graph (cheap to trace, so early divergences are dropped before XLA compiles); on
            JAX always XLA.
        initial_factors: optional list of N arrays overriding the seeded initialization, each
            (n_{j−1}, n_j) (shared by all configurations) or (B, n_{j−1}, n_j).
        chunk_steps: run the compiled loop in chunks of at most about this many iterations,
            calling `progress(done, steps, latest_losses)` after each (default 10,000, or
            20,000 with a `progress` callback).
        gram: ℓ2 only: loss and gradient from XᵀX (O(d²) per configuration instead of O(nd);
            the same iterates up to round-off). Default: when p = 2 and n > d.
        progress: optional callback, see `chunk_steps`.
        devices: split the configurations over this many local devices (JAX only; default:
            all of them, e.g. every GPU, or the host devices made by
            `XLA_FLAGS=--xla_force_host_platform_device_count=N`). The data are replicated and
            each configuration is computed on one device, so the results do not depend on it.

    Returns:
        A `TrainResult`.

    Raises:
        ValueError: a bad argument, named, before any work.
        NotImplementedError: on a Keras backend other than TensorFlow and JAX.
    """
    backend.check_backend()
    model = LinearNetwork() if model is None else model
    if not isinstance(model, LinearNetwork):
        raise ValueError(f"`model` must be a LinearNetwork, got {model!r}.")
    rule = updates.get(optimizer)
    if rule.end_to_end and rule.hyperparameters["depth"] is None:
        rule = updates.RULES[rule.name](**{**rule.hyperparameters, "depth": model.depth})
    p = validate_p(p, for_training=True)
    divergence_factor = validate_number(divergence_factor, "divergence_factor", low=1,
                                        low_inclusive=False)
    steps, record_every = _check_steps(steps, record_every)
    if dtype not in DTYPES:
        raise ValueError(f"`dtype` must be one of {DTYPES}, got {dtype!r}.")
    jit_compile = backend.check_jit_compile(jit_compile)
    split = backend.ConfigurationSplit(devices)
    X, Y = _check_data(X, y)
    lr_column, seed_column = _configurations(learning_rates, seeds)
    loss_levels = np.asarray(list(loss_levels), dtype=np.float64).reshape(-1)
    if gram is None:
        gram = p == 2 and X.shape[0] > X.shape[1]
    objective = Objective(X, Y, p, dtype, gram=gram)
    params0, initial_e2e = _initial_parameters(model, rule, initial_factors, seed_column,
                                               X.shape[1], Y.shape[1])
    if jit_compile == "auto":
        graph_steps = 0 if backend.name() == "jax" else (
            AUTO_GRAPH_STEPS if steps >= AUTO_JIT_MIN_STEPS else steps + 1)
    else:
        graph_steps = 0 if jit_compile else steps + 1
    if chunk_steps is None:
        chunk_steps = 20_000 if progress is not None else 10_000
    loop = _Loop(objective, rule, divergence_factor, record_every,
                 max_records=max(1, min(steps // record_every, int(chunk_steps) // record_every)),
                 split=split)
    with backend.float64_scope(), backend.quiet():
        outcome = loop.run(params0, lr_column, loss_levels, steps, graph_steps,
                           int(chunk_steps), progress)
    return TrainResult(
        steps=np.arange(steps // record_every + 1, dtype=np.int64) * record_every,
        losses=outcome["losses"], learning_rates=lr_column, seeds=seed_column,
        diverged_at=outcome["diverged_at"], level_steps=outcome["level_steps"],
        loss_levels=loss_levels, factors=outcome["params"], initial_end_to_end=initial_e2e,
        wall_time_s=outcome["wall"], compile_time_s=outcome["compile"],
        total_steps=outcome["steps_done"], backend=backend.name(), device=outcome["device"],
        dtype=dtype, jit_compile=outcome["used_xla"], gram=bool(gram), model=model.describe(),
        optimizer=rule.describe(), p=p)


class _Loop:
    """The compiled pieces (a chunk of iterations, the final evaluation) and their driver."""

    def __init__(self, objective, rule, divergence_factor, record_every, max_records, split):
        self.objective, self.rule, self.split = objective, rule, split
        self.divergence_factor = divergence_factor
        self.record_every, self.max_records = record_every, max_records
        self.compiled = {}
        self.compile_time = 0.0

    # ---- the mathematics of one iteration (keras.ops, traced once per compiled function) ----

    def _loss_and_grads(self, data, params):
        if self.rule.end_to_end:  # the rule preconditions G itself
            loss, gradient = self.objective.loss_and_gradient(data, params[0])
            return loss, [gradient]
        suffixes = suffix_products(params)
        loss, gradient = self.objective.loss_and_gradient(data, chain_product(params, suffixes))
        return loss, factor_gradients(params, gradient, suffixes)

    def _watch(self, t, loss, watch):
        """Divergence and level crossings at iteration t: the one place both are decided."""
        alive, diverged_at, level_steps, initial_loss, levels = watch
        bad = ops.logical_or(ops.logical_not(ops.isfinite(loss)),
                             loss > self.divergence_factor * initial_loss)
        diverged_at = ops.where(ops.logical_and(alive, bad), t, diverged_at)
        still_alive = ops.logical_and(alive, ops.logical_not(bad))
        if levels.shape[1]:
            crossed = ops.logical_and(ops.expand_dims(loss, 1) <= levels, level_steps < 0)
            crossed = ops.logical_and(crossed, ops.expand_dims(still_alive, 1))
            level_steps = ops.where(crossed, t, level_steps)
        return still_alive, diverged_at, level_steps

    def _chunk(self, data, t, n_records, lr, params, state, watch):
        """n_records × record_every iterations from iteration t; records the first loss of each
        group of record_every. `watch` = (alive, diverged_at, level_steps, initial_loss, levels)."""
        alive, diverged_at, level_steps, initial_loss, levels = watch
        nan = ops.cast(float("nan"), initial_loss.dtype)

        def iteration(i, carry):
            t, params, state, alive, diverged_at, level_steps, first = carry
            loss, grads = self._loss_and_grads(data, params)
            still_alive, diverged_at, level_steps = self._watch(
                t, loss, (alive, diverged_at, level_steps, initial_loss, levels))
            new_params, new_state = self.rule.update(grads, state, params, lr)
            params = _select(still_alive, new_params, params)
            state = _select(still_alive, new_state, state)
            first = ops.where(ops.equal(i, 0), ops.where(alive, loss, nan), first)
            return t + 1, params, state, still_alive, diverged_at, level_steps, first

        def record(r, carry):
            t, params, state, alive, diverged_at, level_steps, buffer = carry
            carry = ops.fori_loop(0, self.record_every, iteration,
                                  (t, params, state, alive, diverged_at, level_steps,
                                   ops.zeros_like(initial_loss)))
            *carry, first = carry
            buffer = ops.slice_update(buffer, (r, ops.zeros_like(r)), ops.expand_dims(first, 0))
            return (*carry, buffer)

        # ops.shape: the number of configurations may be left dynamic by the compiler.
        buffer = ops.full((self.max_records, ops.shape(initial_loss)[0]), float("nan"),
                          dtype=initial_loss.dtype)
        return ops.fori_loop(0, n_records, record,
                             (t, params, state, alive, diverged_at, level_steps, buffer))

    def _evaluate(self, data, t, params, watch):
        """The loss of the current parameters (the record at the last iteration), checked."""
        loss = self.objective.loss(data, chain_product(params))
        alive = watch[0]
        _, diverged_at, level_steps = self._watch(t, loss, watch)
        return ops.where(alive, loss, ops.cast(float("nan"), loss.dtype)), diverged_at, level_steps

    # ---- the driver (NumPy bookkeeping around the compiled chunks) ----

    def _functions(self, xla, size, args):
        """The (chunk, evaluate) pair for one phase, compiled once per (phase, configurations,
        devices).

        Compilation happens in a call with zero records (the shapes of the calls that follow),
        so that the measured loop time excludes it.
        """
        key = (xla, size, self.split.count)
        if key not in self.compiled:
            start = time.perf_counter()
            chunk = backend.compile_function(self._chunk, xla)
            evaluate = backend.compile_function(self._evaluate, xla)
            data, t, lr, params, state, watch = args
            ops.convert_to_numpy(chunk(data, t, ops.convert_to_tensor(0, "int32"), lr, params,
                                       state, watch)[-1])
            ops.convert_to_numpy(evaluate(data, t, params, watch)[0])
            self.compile_time += time.perf_counter() - start
            self.compiled[key] = (chunk, evaluate)
        return self.compiled[key]

    def run(self, params0, lr_column, loss_levels, steps, graph_steps, chunk_steps, progress):
        dtype = self.objective.dtype
        batch = lr_column.size
        total_records = steps // self.record_every
        split = self.split
        # The compiled loop sees the configurations `active` (indices into the full batch),
        # padded for the device split by copies of the last one; rows [:active.size] are real.
        active = np.arange(batch)
        split.resize(batch)
        rows = split.padded(active)
        data = split.replicate(self.objective.arrays())
        params = split.place([ops.convert_to_tensor(f[rows], dtype=dtype) for f in params0])
        state = split.place(self.rule.init(params))
        lr = split.place(ops.convert_to_tensor(lr_column[rows].reshape(-1, 1, 1), dtype=dtype))
        levels = split.replicate(ops.convert_to_tensor(loss_levels.reshape(1, -1), dtype=dtype))
        initial_loss = backend.compile_function(
            lambda d, f: self.objective.loss(d, chain_product(f)), False)(data, params)
        watch = (*split.place((ops.ones((rows.size,), "bool"), ops.full((rows.size,), -1, "int32"),
                               ops.full((rows.size, loss_levels.size), -1, "int32"),
                               initial_loss)), levels)
        t = split.replicate(ops.convert_to_tensor(0, "int32"))

        # Full-batch bookkeeping (NumPy); the compiled loop only sees the configurations alive.
        losses = np.full((batch, total_records + 1), np.nan)
        diverged_full = np.full(batch, -1, dtype=np.int64)
        levels_full = np.full((batch, loss_levels.size), -1, dtype=np.int64)
        final_params = [np.array(f, dtype=np.float64) for f in params0]

        def real(tensor):
            return ops.convert_to_numpy(tensor)[:active.size]

        def store():
            diverged_full[active] = real(watch[1])
            levels_full[active] = real(watch[2])
            for full, current in zip(final_params, params):
                full[active] = real(current)

        done, wall, used_xla = 0, 0.0, False
        target = min(500, chunk_steps)
        while done < total_records and active.size:
            done_steps = done * self.record_every
            xla = done_steps >= graph_steps
            used_xla = used_xla or xla
            chunk_fn, _ = self._functions(xla, rows.size, (data, t, lr, params, state, watch))
            # Chunks grow geometrically (500, 1,000, 2,000, … iterations up to `chunk_steps`)
            # so that early divergences leave the compiled loop early; a chunk ends where XLA
            # takes over.
            size = target if done_steps >= graph_steps else min(target, graph_steps - done_steps)
            n = min(self.max_records, total_records - done, max(1, size // self.record_every))
            target = min(2 * target, chunk_steps)
            start = time.perf_counter()
            t, params, state, *tracked, buffer = chunk_fn(
                data, t, ops.convert_to_tensor(n, "int32"), lr, params, state, watch)
            chunk = ops.convert_to_numpy(buffer)[:n, :active.size]
            wall += time.perf_counter() - start
            watch = (*tracked, *watch[3:])
            losses[active, done:done + n] = chunk.T
            done += n
            if progress is not None:
                latest = np.full(batch, np.nan)
                latest[active] = chunk[-1]
                progress(done * self.record_every, steps, latest)
            alive_now = real(watch[0])
            if not alive_now.all():
                # Drop frozen configurations from the compiled loop (fewer, cheaper iterations).
                store()
                keep = np.flatnonzero(alive_now)
                active = active[keep]
                if not active.size:
                    break
                split.resize(active.size)
                rows = split.padded(keep)
                index = ops.convert_to_tensor(rows, "int32")
                params, state, lr, tracked = split.place(
                    _take((params, state, lr, watch[:4]), index))
                data, levels, t = split.replicate((data, watch[4], t))
                watch = (*tracked, levels)  # the levels are shared, not per configuration
        steps_done = done * self.record_every
        if active.size:
            _, evaluate = self._functions(steps_done >= graph_steps, rows.size,
                                          (data, t, lr, params, state, watch))
            start = time.perf_counter()
            final_loss, diverged_at, level_steps = evaluate(data, t, params, watch)
            losses[active, total_records] = real(final_loss)
            wall += time.perf_counter() - start
            watch = (watch[0], diverged_at, level_steps, *watch[3:])
            store()
        return {"losses": losses, "diverged_at": diverged_full, "level_steps": levels_full,
                "params": final_params, "wall": float(wall), "compile": float(self.compile_time),
                "steps_done": steps_done, "device": backend.device_of(params[0]),
                "used_xla": bool(used_xla)}


def _select(mask, new, old):
    """Per configuration: `new` where mask (B,) is true, else `old` (leaves without a
    configuration axis, such as Adam's step count, take `new`)."""
    def choose(a, b):
        if len(a.shape) == 0:
            return a
        return ops.where(ops.reshape(mask, (-1,) + (1,) * (len(a.shape) - 1)), a, b)

    return keras.tree.map_structure(choose, new, old)


def _take(tree, index):
    """The configurations `index` of every leaf with a configuration axis."""
    return keras.tree.map_structure(
        lambda x: x if len(x.shape) == 0 else ops.take(x, index, axis=0), tree)


def _check_steps(steps, record_every):
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"`steps` must be an integer >= 0, got {steps!r}.")
    steps = int(steps)
    if record_every is None:
        record_every = _default_record_every(steps)
    if (isinstance(record_every, bool) or not isinstance(record_every, (int, np.integer))
            or record_every < 1 or (steps and steps % record_every)):
        raise ValueError(f"`record_every` must be an integer >= 1 that divides steps={steps}, "
                         f"got {record_every!r}.")
    return steps, int(record_every)


def _default_record_every(steps: int) -> int:
    if steps <= 1000:
        return 1
    for every in range(math.ceil(steps / 1000), steps + 1):
        if steps % every == 0:
            return every
    return steps  # pragma: no cover


def _check_data(X, y):
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(y, dtype=np.float64)
    if Y.ndim == 1:
        Y = Y[:, None]
    if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0]:
        raise ValueError(f"`X` must be (n, d) and `y` (n,) or (n, k); got {X.shape} and "
                         f"{Y.shape}.")
    return X, Y


def _configurations(learning_rates, seeds):
    learning_rates = [float(lr) for lr in learning_rates]
    seeds = [int(s) for s in seeds]
    if not learning_rates or not seeds:
        raise ValueError("`learning_rates` and `seeds` must be non-empty.")
    if any(not np.isfinite(lr) or lr < 0 for lr in learning_rates):
        raise ValueError(f"`learning_rates` must be finite and >= 0, got {learning_rates}.")
    return (np.repeat(np.asarray(learning_rates), len(seeds)),
            np.tile(np.asarray(seeds), len(learning_rates)))


def _initial_parameters(model, rule, initial_factors, seed_column, d, k):
    """The initial factors (B, n_{j−1}, n_j) of every configuration (float64), or the initial
    end-to-end kernel alone for the end-to-end rule; and the initial end-to-end kernels."""
    batch = seed_column.size
    shapes = model.factor_shapes(d, k)
    if initial_factors is None:
        per_seed = {s: model.initial_factors(s, d, k) for s in np.unique(seed_column)}
        factors = [np.stack([per_seed[s][j] for s in seed_column]) for j in range(model.depth)]
    else:
        if len(initial_factors) != model.depth:
            raise ValueError(f"`initial_factors` needs {model.depth} arrays (the model's depth), "
                             f"got {len(initial_factors)}.")
        factors = []
        for factor, shape in zip(initial_factors, shapes):
            factor = np.asarray(factor, dtype=np.float64)
            if factor.shape == shape:
                factor = np.broadcast_to(factor, (batch, *shape)).copy()
            if factor.shape != (batch, *shape):
                raise ValueError(f"`initial_factors`: an array of shape {factor.shape}; "
                                 f"expected {shape} or {(batch, *shape)}.")
            factors.append(factor)
    initial_e2e = chain_product(factors)
    return ([initial_e2e.copy()] if rule.end_to_end else factors), initial_e2e
