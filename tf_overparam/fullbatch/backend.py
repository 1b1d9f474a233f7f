"""The one place where the full-batch trainer differs by Keras backend: how a `keras.ops`
function is compiled, how float64 is switched on, and how devices are named.

- TensorFlow: `tf.function`, with XLA (`jit_compile=True`) or as a plain graph.
- JAX: `jax.jit` (always XLA); `keras.ops` loops become `lax` loops. JAX computes in float32
  unless 64-bit mode is on, so `float64_scope()` turns it on for the duration of a call only.
- PyTorch is not supported: `check_backend()` says so before any work.
- Devices: on JAX the configuration axis is split over several local devices
  (`ConfigurationSplit`); on TensorFlow the loop runs on one device.
Nothing here imports TensorFlow unless the backend is TensorFlow.
"""

from __future__ import annotations

import contextlib
import threading

import keras
import numpy as np

SUPPORTED = ("tensorflow", "jax")


def name() -> str:
    return keras.backend.backend()


def check_backend() -> str:
    backend = name()
    if backend not in SUPPORTED:
        raise NotImplementedError(
            f"The full-batch trainer runs on the TensorFlow and JAX backends; the Keras backend "
            f"is {backend!r}. Set KERAS_BACKEND=jax or KERAS_BACKEND=tensorflow before importing "
            f"Keras. (The layers, the loss and EndToEndSGD do run on PyTorch.)")
    return backend


def check_jit_compile(jit_compile):
    """True, False or "auto"; on JAX the loop is always compiled, so False is refused."""
    if jit_compile != "auto" and not isinstance(jit_compile, bool):
        raise ValueError(f"`jit_compile` must be True, False or 'auto', got {jit_compile!r}.")
    if jit_compile is False and name() == "jax":
        raise ValueError("`jit_compile=False` is TensorFlow-only (a plain graph); on JAX the "
                         "loop is always compiled by jax.jit: use True or 'auto'.")
    return jit_compile


def compile_function(function, xla: bool):
    """`function` (written with keras.ops) compiled for the current backend (left as it is on
    other backends: the theory figures' loops still run there, only slower)."""
    if name() == "tensorflow":
        import tensorflow as tf

        # reduce_retracing: after configurations drop out, one trace with a dynamic batch
        # size serves every later size (XLA still compiles per shape). No autograph: the loops
        # are keras.ops loops already, and converting the code costs tracing time.
        return tf.function(function, jit_compile=xla, reduce_retracing=True, autograph=False)
    if name() == "jax":
        import jax

        return jax.jit(function)
    return function


@contextlib.contextmanager
def float64_scope():
    """Let float64 arrays be float64 inside (JAX's 64-bit mode, this thread only)."""
    if name() == "jax":
        import jax

        with jax.enable_x64(True):
            yield
    else:
        yield


def device_of(tensor) -> str:
    """Where a backend tensor lives, e.g. '/job:localhost/…/device:CPU:0' or 'cuda:0'."""
    if name() == "jax":
        try:
            return ", ".join(sorted(str(d) for d in tensor.devices()))
        except AttributeError:  # pragma: no cover
            return "unknown"
    try:
        return str(tensor.device)
    except AttributeError:  # pragma: no cover
        return "unknown"


def available_device() -> str:
    """Where the loop runs by default, e.g. 'GPU:0 (NVIDIA H200)', 'cuda:0 (NVIDIA H200)' or
    'CPU:0'."""
    if name() == "jax":
        import jax

        device = jax.devices()[0]
        kind = getattr(device, "device_kind", "")
        return f"{device} ({kind})" if kind else str(device)
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    if gpus:
        try:
            details = tf.config.experimental.get_device_details(
                tf.config.list_physical_devices("GPU")[0])
            return f"{gpus[0].name} ({details.get('device_name', 'GPU')})"
        except Exception:  # pragma: no cover
            return gpus[0].name
    return tf.config.list_logical_devices("CPU")[0].name


def accelerators() -> list[str]:
    """Names of the GPUs (or other accelerators) the backend sees."""
    if name() == "jax":
        import jax

        return [str(d) for d in jax.devices() if d.platform != "cpu"]
    if name() == "tensorflow":
        import tensorflow as tf

        return [d.name for d in tf.config.list_logical_devices("GPU")]
    return []


def local_device_count() -> int:
    """How many devices the configuration axis can be split over: JAX's local devices (GPUs,
    or host devices under XLA_FLAGS=--xla_force_host_platform_device_count=N); 1 on TensorFlow,
    whose multi-device path is tf.distribute for the Keras layers."""
    if name() != "jax":
        return 1
    import jax

    return jax.local_device_count()


class ConfigurationSplit:
    """The configuration axis laid over up to `devices` devices (JAX), everything else
    replicated.

    Each configuration is computed on one device from its own rows and a copy of the data, so
    a split changes where a configuration runs, not its arithmetic, with one exception that
    `resize` avoids: a configuration alone in its batch runs a different matrix-product kernel
    than in a batch of two or more, and its round-off differs. XLA needs equal shares, so the
    axis is padded to a multiple of the device count with copies of its last configuration
    (`padded`), whose results are discarded. With one device nothing is padded or placed.
    """

    AXIS = "configurations"

    def __init__(self, devices=None):
        """`devices`: None (every local device) or a count from 1 to the local devices, checked
        here, before any work."""
        available = local_device_count()
        if devices is not None and (isinstance(devices, bool)
                                    or not isinstance(devices, (int, np.integer)) or devices < 1):
            raise ValueError(f"`devices` must be None (every local device) or an integer >= 1, "
                             f"got {devices!r}.")
        if devices is not None and devices > available:
            raise ValueError(f"`devices={devices}`, but the {name()} backend has {available} "
                             f"local device(s) for the configuration axis (JAX: every local "
                             f"device; TensorFlow: one).")
        self.devices = available if devices is None else int(devices)
        self.count = 1
        self._shardings = None  # (split, replicated) over the first `count` devices

    def resize(self, size: int) -> None:
        """Use as many devices as give each at least two of `size` configurations."""
        count = max(1, min(self.devices, size // 2))
        if self.devices > 1 and (self._shardings is None or count != self.count):
            import jax

            mesh = jax.sharding.Mesh(np.array(jax.local_devices()[:count]), (self.AXIS,))
            self._shardings = (
                jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec(self.AXIS)),
                jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec()))
        self.count = count

    def padded(self, index) -> np.ndarray:
        """`index` (configurations) followed by copies of its last entry up to a multiple of
        the device count."""
        index = np.asarray(index)
        extra = -index.size % self.count
        return np.concatenate([index, np.repeat(index[-1:], extra)]) if extra else index

    def place(self, tree):
        """Leaves with a configuration axis split over the devices, scalars replicated."""
        if self._shardings is None:
            return tree
        import jax

        split, replicated = self._shardings
        return keras.tree.map_structure(
            lambda x: jax.device_put(x, split if len(x.shape) else replicated), tree)

    def replicate(self, tree):
        """Every leaf copied to every device in use (the data, the loss levels)."""
        if self._shardings is None:
            return tree
        import jax

        return keras.tree.map_structure(lambda x: jax.device_put(x, self._shardings[1]), tree)


_QUIET_LOCK = threading.Lock()
_QUIET_STATE = {"depth": 0, "previous_level": None}


@contextlib.contextmanager
def quiet():
    """Silence TensorFlow's "retracing" warnings while any `train` call runs.

    Each call builds fresh tf.functions (their shapes differ), and TensorFlow then warns about
    retracing although nothing is retraced needlessly. The figures run several calls at once in
    threads, hence the counted lock. Nothing to do on JAX.
    """
    if name() != "tensorflow":
        yield
        return
    import tensorflow as tf

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

