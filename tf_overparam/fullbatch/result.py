"""What `tf_overparam.fullbatch.train` returns."""

from __future__ import annotations

import dataclasses

import numpy as np

from tf_overparam.ops.chain import chain_product


@dataclasses.dataclass
class TrainResult:
    """The curves and final state of every configuration. Configuration b is
    (learning_rates[b], seeds[b]).

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
            the end-to-end rule).
        initial_end_to_end: (B, d, k) the initial end-to-end kernels (float64).
        wall_time_s: seconds spent in the compiled loop (excluding tracing/compilation);
            compile_time_s: seconds spent tracing and compiling.
        total_steps: iterations run (fewer than asked when every configuration diverged).
        backend: the Keras backend; device: the device the loop's tensors lived on; dtype;
            jit_compile (whether XLA ran); gram (whether the ℓ2 Gram form was used).
        model, optimizer: JSON descriptions of the network and the update rule; p: the exponent.
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
    backend: str
    device: str
    dtype: str
    jit_compile: bool
    gram: bool
    model: dict
    optimizer: dict
    p: float

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
        return chain_product(self.factors)

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
                "total_steps": self.total_steps, "dtype": self.dtype, "backend": self.backend,
                "jit_compile": self.jit_compile, "gram": self.gram, "device": self.device,
                "wall_time_s": self.wall_time_s, "compile_time_s": self.compile_time_s,
                "steps_per_second": self.steps_per_second}
