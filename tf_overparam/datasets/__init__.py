"""Real data sets of the paper (the UCI gas-sensor Ethanol regression and MNIST), and four more
public regression sets.

The loaders take the same ``data_dir``: a folder holding the files, or a root folder holding

- ``gas_sensor_drift/``: ``batch1.dat`` … ``batch10.dat`` of the UCI Gas Sensor Array Drift
  Dataset (UCI id 270, CC BY 4.0; each file checked against its official sha256);
- ``gas_sensor_drift_reconstructed/``: the rebuilt Ethanol rows of batches 7 and 10, used only
  where those files are absent (`load_ethanol`);
- ``mnist/`` and ``fashion_mnist/``: the four IDX files (gzipped or not) or ``mnist.npz``
  (content checked against the published MD5s);
- ``uci_regression/``: ``concrete.csv.gz``, ``wine.csv.gz``, ``parkinsons.csv.gz``,
  ``pumadyn32nm.csv.gz`` of the package ``treforevans/uci_datasets`` (MIT; each checked against
  its sha256), for `load_uci_regression`.

So a command line needs one ``--data-dir`` option. Without it the loaders use
``$TF_OVERPARAM_DATA_DIR``, then the cache ``~/.cache/tf_overparam``, then a download (the
official UCI archive; Keras' copy of MNIST) whose checksum is verified. Offline, a download
fails within seconds with a message saying how to supply a local copy. A modified file is
refused (``ChecksumError``), never used or changed.

Any other regression set loads as one table with ``load_table`` (a CSV, a NumPy file or a
tensorflow-datasets name), normalized the same way.

Examples:
    >>> from tf_overparam.datasets import load_ethanol, load_mnist
    >>> X, y, meta = load_ethanol("data", allow_partial=True)  # doctest: +SKIP
    >>> (x_train, y_train), (x_test, y_test) = load_mnist("data")  # doctest: +SKIP
    >>> X, y, meta = load_uci_regression("concrete", "data")  # doctest: +SKIP
"""

from __future__ import annotations

import os

from . import _reconstructed, _sources, ethanol, mnist, table, uci_regression
from ._normalization import RegressionData
from ._sources import (DATA_DIR_ENV_VAR, ChecksumError, DataFormatError, DataNotFoundError,
                       PartialDataWarning, default_cache_root)
from .ethanol import EthanolData, load_ethanol
from .mnist import load_mnist
from .table import load_table
from .uci_regression import UCI_REGRESSION_SETS, UciRegressionSet, load_uci_regression

__all__ = [
    "DATA_DIR_ENV_VAR",
    "ChecksumError",
    "DataFormatError",
    "DataNotFoundError",
    "EthanolData",
    "PartialDataWarning",
    "RegressionData",
    "UCI_REGRESSION_SETS",
    "UciRegressionSet",
    "default_cache_root",
    "find_local_data",
    "load_ethanol",
    "load_mnist",
    "load_table",
    "load_uci_regression",
]


def find_local_data(data_dir: str | os.PathLike | None = None) -> dict[str, str]:
    """Where each loader would find its files now, in words, without loading or downloading.

    Follows the loaders' own order (``data_dir``, ``$TF_OVERPARAM_DATA_DIR``, the cache). Returns
    {"Ethanol": ..., "MNIST": ..., "UCI regression": ...}, each "FOLDER (origin)[: details]" or
    "not found: ...".
    """
    uci_files = [spec.filename for spec in UCI_REGRESSION_SETS.values()]
    checks = {
        "Ethanol": (ethanol.SUBFOLDER, ethanol._has_any_batch, "gas-sensor batch files"),
        "MNIST": (mnist.SUBFOLDER, lambda f: mnist._has_idx(f) or mnist._has_npz(f),
                  "MNIST files"),
        "UCI regression": (uci_regression.SUBFOLDER,
                           lambda f: any((f / name).is_file() for name in uci_files),
                           "UCI regression files (" + ", ".join(uci_files) + ")"),
    }
    found = {}
    for name, (subfolder, has_data, what) in checks.items():
        try:
            located = _sources.locate(data_dir, subfolder=subfolder, has_data=has_data,
                                      what=what)
        except DataNotFoundError as error:  # a named folder without the data
            found[name] = "not found: " + str(error).splitlines()[0]
            continue
        if located.folder is None:
            found[name] = ("not found locally (" + "; ".join(located.tried)
                           + "); a loader would try the download")
            continue
        found[name] = f"{located.folder} ({located.origin})"
        if name == "Ethanol":
            present = [b for b in ethanol.BATCHES
                       if (located.folder / ethanol.batch_filename(b)).is_file()]
            rebuilt = _reconstructed.find(located.folder)
            found[name] += (f": {len(present)} of {len(ethanol.BATCHES)} batch files"
                            + (f", reconstructed rows in {rebuilt}" if rebuilt else ""))
        if name == "UCI regression":
            present = [spec.name for spec in UCI_REGRESSION_SETS.values()
                       if (located.folder / spec.filename).is_file()]
            found[name] += f": {len(present)} of {len(uci_files)} sets ({', '.join(present)})"
    return found
