"""Real data sets of the paper: the UCI gas-sensor Ethanol regression and MNIST.

Both loaders take the same ``data_dir`` (a folder holding the files, or a root folder holding
``gas_sensor_drift/`` and ``mnist/``), so a command line needs one ``--data-dir`` option. Without
it they use ``$TF_OVERPARAM_DATA_DIR``, then the cache ``~/.cache/tf_overparam``, then a download
whose checksum is verified. See docs/datasets.md.

Example:
    >>> from tf_overparam.datasets import load_ethanol, load_mnist
    >>> X, y, meta = load_ethanol("/work/shared/data", allow_partial=True)  # doctest: +SKIP
    >>> (x_train, y_train), (x_test, y_test) = load_mnist("/work/shared/data")  # doctest: +SKIP
"""

from ._sources import (DATA_DIR_ENV_VAR, ChecksumError, DataFormatError, DataNotFoundError,
                       PartialDataWarning, default_cache_root)
from .ethanol import EthanolData, load_ethanol
from .mnist import load_mnist

__all__ = [
    "DATA_DIR_ENV_VAR",
    "ChecksumError",
    "DataFormatError",
    "DataNotFoundError",
    "EthanolData",
    "PartialDataWarning",
    "default_cache_root",
    "load_ethanol",
    "load_mnist",
]
