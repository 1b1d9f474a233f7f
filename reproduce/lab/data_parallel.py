"""Keras models trained data-parallel over the local devices (JAX): each batch split across
the devices, the weights replicated, the gradients all-reduced, by
`keras.distribution.DataParallel`.

Used by the convolution experiment, whose runs are Keras models trained with `train_on_batch`:
inside `data_parallel(sizes)`, models are built, trained and evaluated as on one device. Only JAX
splits: Keras' distribution API is JAX's, and on TensorFlow `train_on_batch` under a
`tf.distribute` strategy gives every replica the whole batch (no split, no speed-up), so there
the runs stay on one device; the Keras layers themselves are tested under `MirroredStrategy`.
"""

from __future__ import annotations

import contextlib
import math

import keras


def device_count(sizes) -> int:
    """How many local devices a data-parallel run uses: the most (JAX) that divide every batch
    size in `sizes` evenly (the batch is split in equal shares), else 1."""
    if keras.backend.backend() != "jax":
        return 1
    import jax

    common = math.gcd(*[int(s) for s in sizes])
    return max(d for d in range(1, jax.local_device_count() + 1) if common % d == 0)


@contextlib.contextmanager
def data_parallel(sizes):
    """Build, train and evaluate Keras models inside: data-parallel over `device_count(sizes)`
    devices (nothing changes with one). Yields the device count."""
    count = device_count(sizes)
    if count == 1:
        yield 1
        return
    devices = keras.distribution.list_devices()[:count]
    with keras.distribution.DataParallel(devices=devices).scope():
        yield count
