"""The MNIST tutorial's training loop on any Keras backend (TensorFlow, JAX, PyTorch), with
checkpoints and resuming: `Trainer` and `train_model` for `reproduce.lab.mnist_tutorial`'s port.

Every backend runs the same step (`mnist_tutorial.take_batch`, `objective`,
`current_learning_rate` and `TF1Momentum`, whose rule is `tf_overparam.fullbatch.tf1_momentum`):
the batch of step s sliced at `batch_offset(s)` from the training images held on the device,
the forward pass with dropout on, the gradient of cross-entropy + L2, the rate read before the
update, then the update. Only the driving differs, by backend (`tf_overparam.fullbatch.backend`
names it):

- TensorFlow: a `tf.function` loop over a chunk of steps, the step optionally XLA-compiled
  (`jit_compile`), on whatever device TensorFlow picks.
- JAX: the step is pure (`model.stateless_call`, `optimizer.stateless_apply`, the dropout seed
  state carried with the weights), jitted, called once per step: XLA:CPU ran the same step 7x
  slower inside a `lax.scan` of 10 steps (1.1 s against 0.17 s on 2 cores). Always XLA; the
  state goes back into the Keras variables after each chunk.
- PyTorch: eager steps (`loss.backward()`, `optimizer.apply`).

Nothing here imports TensorFlow unless the backend is TensorFlow.
"""

from __future__ import annotations

import pathlib
import time

import keras
import numpy as np
from keras import ops

from tf_overparam.fullbatch import backend
from .mnist_tutorial import (BATCH_SIZE, EVAL_FREQUENCY, NUM_STEPS, TRAIN_SIZE, count_params,
                             current_learning_rate, error_rate, make_optimizer, objective,
                             take_batch)
from . import mnist_run_files as run_files
from .mnist_run_files import BadRunFile
from .provenance import device_description
from .records import move_aside
from .records import write_json


def _numpy(value):
    return np.asarray(ops.convert_to_numpy(value))


class Trainer:
    """The tutorial's training step for a model, compiled where the backend compiles; runs chunks
    of steps from any step.

    The training images live on the device; step s takes the batch at `batch_offset(s)`.
    `train(first_step, num_steps)` returns per-step numpy arrays of the total loss (what the
    optimizer minimizes: cross-entropy + L2), the cross-entropy alone and the learning rate
    used, each computed in the step's own forward pass (dropout on, weights before the update).
    `jit_compile` XLA-compiles the TensorFlow step (JAX always compiles; PyTorch runs eagerly).
    """

    def __init__(self, model, train_data, optimizer=None, jit_compile=False, eval_batch_size=500):
        self.backend = backend.name()
        self.model = model
        self.optimizer = optimizer or make_optimizer()
        self.optimizer.build(model.trainable_variables)
        images, labels = train_data
        self.train_size = len(labels)
        self.eval_batch_size = eval_batch_size
        self.jit_compile = jit_compile
        labels = np.asarray(labels, np.int64 if self.backend != "jax" else np.int32)
        setup = {"tensorflow": self._setup_tensorflow, "jax": self._setup_jax, "torch": self._setup_torch}
        if self.backend not in setup:
            raise NotImplementedError(f"no tutorial training loop for the Keras backend {self.backend!r}")
        # The logits' float type (float32 as the original; float64 where tests compare backends).
        self.dtype = keras.backend.standardize_dtype(model.outputs[0].dtype)
        setup[self.backend](np.asarray(images, self.dtype), labels)

    # --- TensorFlow: a tf.function loop over the chunk's steps ---------------------------------

    def _setup_tensorflow(self, images, labels):
        import tensorflow as tf

        self.images = tf.Variable(images, trainable=False, name="train_images")
        self.labels = tf.Variable(labels, trainable=False, name="train_labels")
        # The loop and the batch slicing stay outside XLA: an XLA cluster that reads the whole
        # image variable copies it every call (seconds per step on CPU); only the step is jitted.
        step = tf.function(self._tf_step, jit_compile=True) if self.jit_compile else self._tf_step

        def chunk(first_step, num_steps):
            totals, entropies, rates = (tf.TensorArray(self.dtype, size=num_steps) for _ in range(3))
            for i in tf.range(num_steps):
                x, y = take_batch(self.images, self.labels, first_step + tf.cast(i, tf.int64), self.train_size)
                total, cross_entropy, learning_rate = step(x, y)
                totals, entropies, rates = totals.write(i, total), entropies.write(i, cross_entropy), rates.write(i, learning_rate)
            return totals.stack(), entropies.stack(), rates.stack()

        compiled = tf.function(chunk)
        self._run = lambda first, n: compiled(tf.constant(first, tf.int64), tf.constant(n, tf.int32))
        predict = tf.function(lambda x: self.model(x, training=False), jit_compile=self.jit_compile)
        self._predict = lambda x: predict(tf.constant(x))

    def _tf_step(self, x, y):
        import tensorflow as tf

        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            total, cross_entropy = objective(self.model(x, training=True), y, self.model.losses)
        gradients = tape.gradient(total, variables)
        learning_rate = current_learning_rate(self.optimizer, self.dtype)
        self.optimizer.apply_gradients(zip(gradients, variables))
        return total, cross_entropy, learning_rate

    # --- JAX: a pure step, jitted ----------------------------------------------------------------

    def _setup_jax(self, images, labels):
        import jax
        import jax.numpy as jnp

        model, optimizer = self.model, self.optimizer
        self.images, self.labels = jnp.asarray(images), jnp.asarray(labels)
        optimizer_variables = optimizer.variables

        def loss(trainable, non_trainable, x, y):
            logits, non_trainable, losses = model.stateless_call(trainable, non_trainable, x, training=True,
                                                                 return_losses=True)
            total, cross_entropy = objective(logits, y, losses)
            return total, (cross_entropy, non_trainable)

        def step(state, images, labels, step_index):
            trainable, non_trainable, optimizer_values = state
            x, y = take_batch(images, labels, step_index, self.train_size)
            (total, (cross_entropy, non_trainable)), gradients = jax.value_and_grad(loss, has_aux=True)(
                trainable, non_trainable, x, y)
            with keras.StatelessScope(state_mapping=list(zip(optimizer_variables, optimizer_values))):
                learning_rate = current_learning_rate(optimizer, self.dtype)
            trainable, optimizer_values = optimizer.stateless_apply(optimizer_values, gradients, trainable)
            return (trainable, non_trainable, optimizer_values), (total, cross_entropy, learning_rate)

        # The images are an argument, not a closure: a captured array would be compiled in as a
        # 172 MB constant.
        self._jax_step = jax.jit(step)
        self._run = self._run_jax
        predict = jax.jit(lambda trainable, non_trainable, x: model.stateless_call(
            trainable, non_trainable, x, training=False)[0])
        self._predict = lambda x: predict([v.value for v in model.trainable_variables],
                                          [v.value for v in model.non_trainable_variables], x)

    def _run_jax(self, first_step, num_steps):
        groups = (self.model.trainable_variables, self.model.non_trainable_variables, self.optimizer.variables)
        state = tuple([v.value for v in group] for group in groups)
        outputs = []
        for step_index in range(first_step, first_step + num_steps):
            state, out = self._jax_step(state, self.images, self.labels, step_index)
            outputs.append(out)
        for group, values in zip(groups, state):
            for variable, value in zip(group, values):
                variable.assign(value)
        values = _numpy(ops.stack([ops.stack(out) for out in outputs])) if outputs else np.zeros((0, 3), self.dtype)
        return values[:, 0], values[:, 1], values[:, 2]

    # --- PyTorch: eager steps -------------------------------------------------------------------

    def _setup_torch(self, images, labels):
        import torch

        self.images, self.labels = ops.convert_to_tensor(images), ops.convert_to_tensor(labels)

        def run(first_step, num_steps):
            outputs = []
            variables = self.model.trainable_variables
            for step_index in range(first_step, first_step + num_steps):
                x, y = take_batch(self.images, self.labels, step_index, self.train_size)
                self.model.zero_grad()
                total, cross_entropy = objective(self.model(x, training=True), y, self.model.losses)
                total.backward()
                gradients = [v.value.grad for v in variables]
                learning_rate = current_learning_rate(self.optimizer, self.dtype)
                with torch.no_grad():
                    self.optimizer.apply(gradients, variables)
                outputs.append(torch.stack([total.detach(), cross_entropy.detach(), learning_rate]))
            values = _numpy(torch.stack(outputs)) if outputs else np.zeros((0, 3), self.dtype)
            return values[:, 0], values[:, 1], values[:, 2]

        def predict(x):
            with torch.no_grad():
                return self.model(ops.convert_to_tensor(x), training=False)

        self._run, self._predict = run, predict

    # --- Every backend --------------------------------------------------------------------------

    def train(self, first_step, num_steps):
        """Run steps first_step … first_step + num_steps − 1; numpy (total, cross-entropy, lr) in
        the model's float type."""
        at = int(_numpy(self.optimizer.iterations))
        if at != first_step:
            raise ValueError(f"optimizer is at step {at}, asked to start at {first_step}")
        totals, entropies, rates = self._run(first_step, num_steps)
        return tuple(np.asarray(_numpy(values), self.dtype) for values in (totals, entropies, rates))

    def logits(self, images):
        outputs = [_numpy(self._predict(images[begin:begin + self.eval_batch_size]))
                   for begin in range(0, len(images), self.eval_batch_size)]
        return np.concatenate(outputs)

    def error(self, data):
        images, labels = data
        return error_rate(self.logits(images), labels)

    # Checkpoints: every variable of the model (the dropout seed state included) and optimizer.
    def state_variables(self):
        return list(self.model.variables) + list(self.optimizer.variables)

    def get_state(self):
        return [_numpy(v) for v in self.state_variables()]

    def set_state(self, values):
        variables = self.state_variables()
        if len(values) != len(variables):
            raise ValueError(f"checkpoint holds {len(values)} variables, the model and optimizer {len(variables)}")
        for variable, value in zip(variables, values):  # all checked before any is assigned
            if tuple(variable.shape) != tuple(value.shape):
                raise ValueError(f"checkpoint shape {value.shape} does not fit {variable.path} {variable.shape}")
        for variable, value in zip(variables, values):
            variable.assign(value)


def _chunk_ends(start, num_steps, eval_frequency, checkpoint_every, stop_after):
    """Steps (exclusive ends) at which a compiled chunk stops: after each evaluation step
    (step % eval_frequency == 0, as the original), each checkpoint, the end and `stop_after`."""
    ends = {num_steps}
    ends.update(s + 1 for s in range(0, num_steps, eval_frequency))
    ends.update(range(checkpoint_every, num_steps, checkpoint_every))
    if stop_after is not None:
        ends.add(min(stop_after, num_steps))
    return sorted(e for e in ends if e > start)


def train_model(model, data, out_dir, num_steps=NUM_STEPS, eval_frequency=EVAL_FREQUENCY,
                checkpoint_every=500, jit_compile=False, run_config=None, stop_after=None, log=print,
                optimizer=None):
    """Train `model` as the tutorial does, writing into `out_dir` as it goes; resumes.

    Writes `losses.csv` (one row per step, appended after each chunk), `checkpoint.npz` (weights,
    optimizer, dropout seed state and every record, every `checkpoint_every` steps and at the end)
    and `result.json` (validation errors, test error, step times, device) when done. A rerun
    with the same `run_config` resumes from the checkpoint: its losses equal an uninterrupted
    run's (on the same backend). `stop_after` stops after that many steps without a checkpoint (an interruption, for
    tests). `optimizer`: a Keras optimizer, or a no-argument factory returning one (called only
    when training is needed), passed to `Trainer`; None is the tutorial's (`make_optimizer`).
    It is not part of the config hash: name it in `run_config` when it differs from the
    tutorial's. Returns the result dict (with "complete": False when stopped early).
    """
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result_path, checkpoint_path, losses_path = out_dir / "result.json", out_dir / "checkpoint.npz", out_dir / "losses.csv"
    config = run_files.full_config(run_config, num_steps, eval_frequency)
    config_hash = run_files.config_hash(config)
    result = run_files.completed_result(out_dir, run_config, num_steps, eval_frequency)
    if result is not None:
        log(f"  {out_dir.name}: complete, kept ({result_path})")
        return result

    if callable(optimizer) and not isinstance(optimizer, keras.optimizers.Optimizer):
        optimizer = optimizer()
    trainer = Trainer(model, data["train"], optimizer=optimizer, jit_compile=jit_compile)
    records = run_files.empty_records()
    start = 0
    if checkpoint_path.exists():
        try:
            variables, saved, saved_hash = run_files.read_checkpoint(checkpoint_path)
            if saved_hash != config_hash:
                raise RuntimeError(f"{checkpoint_path} was written with another configuration; move {out_dir} "
                                   "away (or pass another out_dir) to start over")
            run_files.check_checkpoint(variables, saved, [v.shape for v in trainer.state_variables()], num_steps)
        except BadRunFile as error:
            move_aside(checkpoint_path, f"{error}; starting over")
        else:
            trainer.set_state(variables)
            records.update(saved)
            start = len(records["total"])
            log(f"  {out_dir.name}: resuming at step {start}")
    run_files.write_losses(losses_path, records, 0)

    first_in_process = True
    for end in _chunk_ends(start, num_steps, eval_frequency, checkpoint_every, stop_after):
        began = time.perf_counter()
        totals, entropies, rates = trainer.train(start, end - start)
        seconds = time.perf_counter() - began
        for key, values in (("total", totals), ("cross_entropy", entropies), ("learning_rate", rates)):
            records[key] = np.concatenate([records[key], values])
        records["chunk_steps"] = np.append(records["chunk_steps"], end - start)
        records["chunk_seconds"] = np.append(records["chunk_seconds"], seconds)
        records["chunk_first_in_process"] = np.append(records["chunk_first_in_process"], first_in_process)
        first_in_process = False
        run_files.write_losses(losses_path, records, start)
        last_step = end - 1
        if last_step % eval_frequency == 0 or end == num_steps:
            validation = trainer.error(data["validation"])
            records["eval_iteration"] = np.append(records["eval_iteration"], end)
            records["validation_error"] = np.append(records["validation_error"], validation)
            log(f"  {out_dir.name}: step {last_step} (epoch {last_step * BATCH_SIZE / TRAIN_SIZE:.2f}), "
                f"{1000 * seconds / (end - start):.1f} ms/step, batch loss {totals[-1]:.3f} "
                f"(cross-entropy {entropies[-1]:.3f}), lr {rates[-1]:.6f}, validation error {validation:.1f}%")
        start = end
        if stop_after is not None and end >= stop_after and end < num_steps:
            return {"complete": False, "steps_done": end}
        if end % checkpoint_every == 0 or end == num_steps:
            run_files.write_checkpoint(checkpoint_path, trainer.get_state(), records, config_hash)

    test_error = trainer.error(data["test"])
    steady = ~records["chunk_first_in_process"]  # the first chunk of a process includes tracing
    steps, seconds = records["chunk_steps"], records["chunk_seconds"]
    result = {
        "complete": True,
        "config_hash": config_hash,
        "config": config,
        "parameters": count_params(model),
        "steps": num_steps,
        "test_error_percent": test_error,
        "final_validation_error_percent": float(records["validation_error"][-1]),
        "validation": {"iteration": records["eval_iteration"].tolist(),
                       "error_percent": records["validation_error"].tolist()},
        "device": device_description(),  # the one probe: lab.provenance
        "variable_device": backend.device_of(trainer.model.trainable_variables[0].value),
        "backend": trainer.backend,
        "optimizer": type(trainer.optimizer).__name__,
        "jit_compile": jit_compile,
        "train_seconds": float(seconds.sum()),
        "seconds_per_step_median": float(np.median(seconds[steady] / steps[steady])) if steady.any() else None,
        "seconds_per_step_mean": float(seconds[steady].sum() / steps[steady].sum()) if steady.any() else None,
        "keras": keras.__version__,
    }
    write_json(result_path, result)
    log(f"  {out_dir.name}: test error {test_error:.2f}%")
    return result
