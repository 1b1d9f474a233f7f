"""Update rules as pure (init, update) pairs, each written once (optax style, on `keras.ops`).

    state = rule.init(params)
    params, state = rule.update(grads, state, params, learning_rate)

`params` and `grads` are lists of arrays (the factors of a network, or the one end-to-end kernel);
the state is a tuple of such lists (plus a step count where the rule needs one). Everything is
elementwise, so the same rule runs on single variables and on the trainer's batches of
configurations (a leading axis, with one learning rate per configuration of shape (B, 1, 1)).

The adaptive rules are Keras 3's update rules with Keras' defaults (the trainer's tests compare
them with `keras.optimizers.*` step by step). Adding a rule is one factory function below,
registered with `@_register`; `get(name_or_rule)` and `train(optimizer=...)` then know it.

Examples:
    >>> import numpy as np
    >>> rule = adam(epsilon=1e-8)
    >>> params = [np.ones((3, 1))]
    >>> state = rule.init(params)
    >>> params, state = rule.update([np.full((3, 1), 0.5)], state, params, 1e-3)
"""

from __future__ import annotations

import dataclasses
from typing import Callable

from keras import ops

from tf_overparam._validation import validate_depth
from tf_overparam._validation import validate_number
from tf_overparam.ops.end_to_end import end_to_end_update

#: name -> factory; filled by `@_register`.
RULES: dict[str, Callable[..., "UpdateRule"]] = {}


@dataclasses.dataclass(frozen=True)
class UpdateRule:
    """A pure update rule.

    Attributes:
        name: the registry name (`RULES[name](**hyperparameters)` rebuilds the rule).
        hyperparameters: the factory's arguments, JSON-friendly.
        init: params -> state.
        update: (grads, state, params, learning_rate) -> (params, state).
        end_to_end: True for the end-to-end rule, which trains the single-layer model (the
            network's end-to-end kernel) instead of the factors.
    """

    name: str
    hyperparameters: dict
    init: Callable
    update: Callable
    end_to_end: bool = False

    def describe(self) -> dict:
        return {"rule": self.name, **self.hyperparameters}


def _register(factory):
    RULES[factory.__name__] = factory
    return factory


def get(identifier) -> UpdateRule:
    """A rule from its registry name (default hyperparameters) or an `UpdateRule` itself."""
    if isinstance(identifier, UpdateRule):
        return identifier
    if isinstance(identifier, str) and identifier in RULES:
        return RULES[identifier]()
    raise ValueError(f"`optimizer` must be one of {sorted(RULES)} or an UpdateRule (e.g. "
                     f"tf_overparam.fullbatch.adam(epsilon=1e-8)), got {identifier!r}.")


def _no_state(params):
    return ()


def _zeros(params):
    return [ops.zeros_like(p) for p in params]


@_register
def gd() -> UpdateRule:
    """Plain gradient descent: K ← K − η g (what `keras.optimizers.SGD()` does)."""

    def update(grads, state, params, learning_rate):
        return [p - learning_rate * g for p, g in zip(params, grads)], state

    return UpdateRule("gd", {}, _no_state, update)


@_register
def end_to_end(depth=None, weight_decay=0.0) -> UpdateRule:
    """The end-to-end rule (paper Eq. 9 / Eq. 11) on the single-layer model:
    K_e ← (1 − ηλN) K_e − η P(G), through `tf_overparam.ops.end_to_end_update`.

    Args:
        depth: N, the depth emulated; None takes the depth of the network given to `train`,
            whose initial end-to-end kernel (same seed) is the starting point (at K_e = 0 the
            rule never moves).
        weight_decay: λ >= 0, the factors' weight decay (0 in the paper's experiments).
    """
    if depth is not None:
        depth = validate_depth(depth)
    weight_decay = validate_number(weight_decay, "weight_decay", low=0)

    def update(grads, state, params, learning_rate):
        if depth is None:
            raise ValueError("end_to_end(depth=None) needs its depth: train() takes the network's.")
        return [end_to_end_update(k, g, learning_rate, depth, weight_decay)
                for k, g in zip(params, grads)], state

    return UpdateRule("end_to_end", {"depth": depth, "weight_decay": weight_decay},
                      _no_state, update, end_to_end=True)


@_register
def adagrad(initial_accumulator_value=0.1, epsilon=1e-7) -> UpdateRule:
    """Keras 3's Adagrad: a ← a + g²; K ← K − η g / sqrt(a + ε); a starts at 0.1."""
    start = validate_number(initial_accumulator_value, "initial_accumulator_value", low=0)
    epsilon = validate_number(epsilon, "epsilon", low=0)

    def init(params):
        return ([ops.full_like(p, start) for p in params],)

    def update(grads, state, params, learning_rate):
        (accumulators,) = state
        accumulators = [a + ops.square(g) for a, g in zip(accumulators, grads)]
        params = [p - learning_rate * g / ops.sqrt(a + epsilon)
                  for p, g, a in zip(params, grads, accumulators)]
        return params, (accumulators,)

    return UpdateRule("adagrad", {"initial_accumulator_value": start, "epsilon": epsilon},
                      init, update)


@_register
def adadelta(rho=0.95, epsilon=1e-7) -> UpdateRule:
    """Keras 3's Adadelta (zero-initialized accumulators):

    a_g ← ρ a_g + (1−ρ) g²;  Δ = −sqrt(a_Δ + ε) / sqrt(a_g + ε) · g;  a_Δ ← ρ a_Δ + (1−ρ) Δ²;
    K ← K + η Δ.
    """
    rho = validate_number(rho, "rho", low=0, high=1)
    epsilon = validate_number(epsilon, "epsilon", low=0)

    def init(params):
        return (_zeros(params), _zeros(params))

    def update(grads, state, params, learning_rate):
        accumulated_grads, accumulated_deltas = state
        accumulated_grads = [rho * a + (1 - rho) * ops.square(g)
                             for a, g in zip(accumulated_grads, grads)]
        deltas = [-(ops.sqrt(d + epsilon) * g) / ops.sqrt(a + epsilon)
                  for d, a, g in zip(accumulated_deltas, accumulated_grads, grads)]
        accumulated_deltas = [rho * d + (1 - rho) * ops.square(delta)
                              for d, delta in zip(accumulated_deltas, deltas)]
        params = [p + learning_rate * delta for p, delta in zip(params, deltas)]
        return params, (accumulated_grads, accumulated_deltas)

    return UpdateRule("adadelta", {"rho": rho, "epsilon": epsilon}, init, update)


@_register
def adam(beta_1=0.9, beta_2=0.999, epsilon=1e-7) -> UpdateRule:
    """Keras 3's Adam (no AMSGrad), t = 1, 2, … counting updates:

    m ← m + (g − m)(1−β₁);  v ← v + (g² − v)(1−β₂);  α = η sqrt(1−β₂ᵗ)/(1−β₁ᵗ);
    K ← K − α m / (sqrt(v) + ε).
    """
    beta_1 = validate_number(beta_1, "beta_1", low=0, high=1)
    beta_2 = validate_number(beta_2, "beta_2", low=0, high=1)
    epsilon = validate_number(epsilon, "epsilon", low=0)

    def init(params):
        return (ops.zeros((), "int32"), _zeros(params), _zeros(params))

    def update(grads, state, params, learning_rate):
        count, first, second = state
        count = count + 1
        t = ops.cast(count, params[0].dtype)
        # convert_to_tensor keeps β exact in float64 on every backend (ops.cast of a Python
        # float rounds it to float32 first on TensorFlow, as Keras' own Adam does there).
        alpha = learning_rate * ops.sqrt(
            1 - ops.power(ops.convert_to_tensor(beta_2, t.dtype), t)) / (
            1 - ops.power(ops.convert_to_tensor(beta_1, t.dtype), t))
        first = [m + (g - m) * (1 - beta_1) for m, g in zip(first, grads)]
        second = [v + (ops.square(g) - v) * (1 - beta_2) for v, g in zip(second, grads)]
        params = [p - (m * alpha) / (ops.sqrt(v) + epsilon)
                  for p, m, v in zip(params, first, second)]
        return params, (count, first, second)

    return UpdateRule("adam", {"beta_1": beta_1, "beta_2": beta_2, "epsilon": epsilon},
                      init, update)


@_register
def momentum(momentum=0.9, nesterov=False) -> UpdateRule:
    """Keras 3's SGD with momentum: m ← μ m − η g; K ← K + m (Nesterov: K ← K + μ m − η g)."""
    mu = validate_number(momentum, "momentum", low=0, high=1)
    if not isinstance(nesterov, bool):
        raise ValueError(f"`nesterov` must be True or False, got {nesterov!r}.")

    def init(params):
        return (_zeros(params),)

    def update(grads, state, params, learning_rate):
        (velocities,) = state
        velocities = [mu * m - learning_rate * g for m, g in zip(velocities, grads)]
        if nesterov:
            params = [p + (mu * m - learning_rate * g)
                      for p, m, g in zip(params, velocities, grads)]
        else:
            params = [p + m for p, m in zip(params, velocities)]
        return params, (velocities,)

    return UpdateRule("momentum", {"momentum": mu, "nesterov": nesterov}, init, update)


@_register
def tf1_momentum(momentum=0.9) -> UpdateRule:
    """TensorFlow 1's `tf.train.MomentumOptimizer`: a ← μ a + g; K ← K − η a.

    Equal to Keras' momentum only while η is constant: after a change of rate, Keras' velocity
    still carries the old rate, TF1's accumulator is scaled by the new one at once.
    """
    mu = validate_number(momentum, "momentum", low=0, high=1)

    def init(params):
        return (_zeros(params),)

    def update(grads, state, params, learning_rate):
        (accumulators,) = state
        accumulators = [a * mu + g for a, g in zip(accumulators, grads)]
        params = [p - learning_rate * a for p, a in zip(params, accumulators)]
        return params, (accumulators,)

    return UpdateRule("tf1_momentum", {"momentum": mu}, init, update)
