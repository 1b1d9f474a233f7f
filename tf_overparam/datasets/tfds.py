"""tensorflow-datasets access: the `gas_sensor_drift` and `uci_regression` builders, and MNIST
read through `tfds.load`.

Importing this module registers the builders `gas_sensor_drift` (config `ethanol`) and
`uci_regression` (configs `concrete`, `wine`, `parkinsons`, `pumadyn32nm`) with TFDS;
`import tf_overparam` and `tf_overparam.datasets` never import tensorflow_datasets, so the core
library (and the JAX/PyTorch path, where TensorFlow is absent) does not need it.

Examples:
    >>> import tensorflow_datasets as tfds
    >>> import tf_overparam.datasets.tfds  # registers gas_sensor_drift  # doctest: +SKIP
    >>> ds = tfds.load("gas_sensor_drift/ethanol", split="train", as_supervised=True,
    ...                download_and_prepare_kwargs={"download_config":
    ...                    tfds.download.DownloadConfig(manual_dir="data")})  # doctest: +SKIP
"""

from __future__ import annotations

import os

import numpy as np

from ._sources import DataNotFoundError
from .ethanol import load_ethanol
from .uci_regression import PACKAGE, UCI_REGRESSION_SETS, load_uci_regression

try:
    import tensorflow_datasets as tfds
except ImportError as error:  # a dependency; only missing in a partial installation
    raise ImportError(
        "tf_overparam.datasets.tfds needs tensorflow-datasets: pip install tensorflow-datasets"
    ) from error

MANUAL_DIR_INSTRUCTIONS = """\
Point `manual_dir` at the folder you would give `--data-dir` or `load_ethanol(data_dir=...)`:
either the folder holding batch1.dat ... batch10.dat, or a root folder holding
`gas_sensor_drift/` (and, where batch7.dat / batch10.dat are absent, the reconstructed rows in
`gas_sensor_drift_reconstructed/`). The files come from the UCI archive
https://archive.ics.uci.edu/dataset/270. Without `manual_dir` the builder
uses load_ethanol's own sources: $TF_OVERPARAM_DATA_DIR, the cache, then the checked download.
"""


class _GivenManualDir:
    """What both builders share: the `manual_dir` the caller gave, checked to be a folder.

    TFDS itself puts a default in its place and treats a missing one as "not given", which would
    drop a typo; the builders read it here instead (None: the loader's own sources).
    """

    _given_manual_dir = None

    def download_and_prepare(self, *, download_config=None, **kwargs):
        """TFDS's, with a `manual_dir` that was given checked first: it must be a folder."""
        given = None if download_config is None else download_config.manual_dir
        if given is not None and not os.path.isdir(os.fspath(given)):
            raise DataNotFoundError(
                f"manual_dir {os.fspath(given)!r} (DownloadConfig) is not a folder.\n"
                + self.MANUAL_DOWNLOAD_INSTRUCTIONS)
        self._given_manual_dir = None if given is None else os.fspath(given)
        return super().download_and_prepare(download_config=download_config, **kwargs)


class GasSensorDrift(_GivenManualDir, tfds.core.GeneratorBasedBuilder):
    """The UCI gas-sensor drift data (id 270) as a TFDS data set; config `ethanol`: the paper's rows.

    Config `ethanol` holds the 2,565 Ethanol rows of all ten batches, in `load_ethanol`'s order
    (batch by batch, file order; shuffling is disabled so the order is the files'). Each example:
    ``features`` (128 float64 values, raw, as in the batch files), ``concentration`` (float64,
    ppmv; the regression target of Section 7), ``batch`` (int32, 1-10) and ``reconstructed``
    (True for the rows of batches 7 and 10 rebuilt at 5 significant digits when batch7.dat /
    batch10.dat are absent, `tf_overparam.datasets._reconstructed`). Features and target
    are not normalized: the paper's figures z-score both (`load_ethanol`'s default), e.g. with a
    `keras.layers.Normalization` adapted on the features. The rows are read by `load_ethanol`
    with every check it makes (sha256 of each batch file and of the reconstructed rows; all
    2,565 rows or an error). The dataset's metadata records the sources and their sha256.

    Examples:
        >>> ds = tfds.load("gas_sensor_drift/ethanol", split="train", as_supervised=True,
        ...                download_and_prepare_kwargs={"download_config":
        ...                    tfds.download.DownloadConfig(manual_dir=root)})  # doctest: +SKIP
    """

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Ethanol rows of all ten batches (2,565)."}
    BUILDER_CONFIGS = [
        tfds.core.BuilderConfig(name="ethanol", description=(
            "Class 1 (Ethanol) rows of batches 1-10: the paper's regression problem.")),
    ]
    MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DIR_INSTRUCTIONS

    def _info(self):
        return self.dataset_info_from_configs(
            description=("UCI Gas Sensor Array Drift Dataset at Different Concentrations (id 270),"
                         " Ethanol rows; the regression data of Arora, Cohen & Hazan (ICML 2018)."),
            features=tfds.features.FeaturesDict({
                # Stored as bytes: TFDS's default float encoding is float32, which would round
                # the files' values (up to 9 significant digits).
                "features": tfds.features.Tensor(shape=(128,), dtype=np.float64,
                                                 encoding=tfds.features.Encoding.BYTES),
                "concentration": tfds.features.Tensor(shape=(), dtype=np.float64,
                                                      encoding=tfds.features.Encoding.BYTES,
                                                      doc="ppmv"),
                "batch": tfds.features.Scalar(dtype=np.int32, doc="acquisition batch, 1-10"),
                "reconstructed": tfds.features.Scalar(
                    dtype=np.bool_, doc="row rebuilt at 5 significant digits"),
            }),
            supervised_keys=("features", "concentration"),
            homepage="https://archive.ics.uci.edu/dataset/270",
            disable_shuffling=True,
            metadata=tfds.core.MetadataDict(),
        )

    def _split_generators(self, dl_manager):
        X, y, metadata = load_ethanol(self._given_manual_dir, feature_normalization="none",
                                      target_normalization="none")
        counts = metadata["rows_per_batch"]
        batches = np.repeat(np.array(list(counts), np.int32), list(counts.values()))
        reconstructed = np.isin(batches, metadata["batches_reconstructed"])
        self.info.metadata.update({
            "source_dir": metadata["source_dir"], "sha256": metadata["sha256"],
            "batches_reconstructed": metadata["batches_reconstructed"],
            "reconstructed": metadata["reconstructed"],
        })
        return {"train": self._generate_examples(X, y, batches, reconstructed)}

    def _generate_examples(self, X, y, batches, reconstructed):
        for index in range(len(y)):
            yield index, {"features": X[index], "concentration": y[index],
                          "batch": batches[index], "reconstructed": bool(reconstructed[index])}


UCI_MANUAL_DIR_INSTRUCTIONS = """\
Point `manual_dir` at the folder you would give `--data-dir` or
`load_uci_regression(name, data_dir=...)`: either the folder holding <name>.csv.gz, or a root
folder holding `uci_regression/<name>.csv.gz`. The files are `uci_datasets/<name>/data.csv.gz` of
https://github.com/treforevans/uci_datasets. Without `manual_dir` the builder uses
load_uci_regression's own sources: $TF_OVERPARAM_DATA_DIR, the cache, then the checked download.
"""


class UciRegression(_GivenManualDir, tfds.core.GeneratorBasedBuilder):
    """Four public regression sets as a TFDS data set, one config each: `concrete`, `wine`,
    `parkinsons`, `pumadyn32nm` (`tf_overparam.datasets.UCI_REGRESSION_SETS`).

    Each config holds its set's rows in the file's order (shuffling disabled). Each example:
    ``features`` (the set's inputs, float64, the file's values) and ``target`` (float64). Nothing
    is normalized (the file's columns are centred, as ``treforevans/uci_datasets`` ships them).
    The rows are read by `load_uci_regression` with its checks (the file's sha256; a modified
    file is refused). The dataset's metadata names the set, its file, sha256 and sources.

    Examples:
        >>> ds = tfds.load("uci_regression/concrete", split="train", as_supervised=True,
        ...                download_and_prepare_kwargs={"download_config":
        ...                    tfds.download.DownloadConfig(manual_dir=root)})  # doctest: +SKIP
    """

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "concrete, wine, parkinsons and pumadyn32nm, all rows."}
    BUILDER_CONFIGS = [
        tfds.core.BuilderConfig(name=spec.name, description=(
            f"{spec.title}: {spec.rows:,} rows, {spec.inputs} inputs; target: {spec.target}."))
        for spec in UCI_REGRESSION_SETS.values()
    ]
    MANUAL_DOWNLOAD_INSTRUCTIONS = UCI_MANUAL_DIR_INSTRUCTIONS

    def _info(self):
        spec = UCI_REGRESSION_SETS[self.builder_config.name]
        return self.dataset_info_from_configs(
            description=(f"{spec.title}, as uci_datasets/{spec.name}/data.csv.gz of {PACKAGE} "
                         "(MIT licence; every column centred by that package)."),
            features=tfds.features.FeaturesDict({
                # Stored as bytes: TFDS's default float encoding is float32, which would round
                # the files' values.
                "features": tfds.features.Tensor(shape=(spec.inputs,), dtype=np.float64,
                                                 encoding=tfds.features.Encoding.BYTES),
                "target": tfds.features.Tensor(shape=(), dtype=np.float64,
                                               encoding=tfds.features.Encoding.BYTES,
                                               doc=spec.target),
            }),
            supervised_keys=("features", "target"),
            homepage=spec.original,
            citation=spec.citation,
            disable_shuffling=True,
            metadata=tfds.core.MetadataDict(),
        )

    def _split_generators(self, dl_manager):
        X, y, metadata = load_uci_regression(self.builder_config.name, self._given_manual_dir,
                                             feature_normalization="none",
                                             target_normalization="none")
        self.info.metadata.update({key: metadata[key] for key in (
            "name", "dataset", "file", "sha256", "package", "package_commit", "url",
            "original", "licence")})
        return {"train": self._generate_examples(X, y)}

    def _generate_examples(self, X, y):
        for index in range(len(y)):
            yield index, {"features": X[index], "target": y[index]}


def _idx_order(num_examples: int, split: str) -> np.ndarray:
    """The file order of the MNIST IDX rows as TFDS stores them.

    TFDS's MNIST builder keys example i by i and writes the examples sorted by a salted hash of
    the key (salt: the split name). Sorting the keys the same way gives, for each stored record,
    the IDX row it came from. `read_mnist` checks the result against the published MD5s, so a
    TFDS that stored them differently is caught, not silently mis-ordered.
    """
    from tensorflow_datasets.core import hashing

    hasher = hashing.Hasher(salt=split)
    return np.argsort([hasher.hash_key(key) for key in range(num_examples)], kind="stable")


def read_mnist(variant: str = "mnist", data_dir=None, download: bool = True):
    """MNIST or Fashion-MNIST through `tfds.load`, in the IDX files' order, as uint8 arrays.

    Use `tf_overparam.datasets.load_mnist(source="tfds")`, which checks the content.
    """
    name = {"mnist": "mnist", "fashion": "fashion_mnist"}[variant]
    try:
        splits = tfds.load(name, split=["train", "test"], batch_size=-1, as_supervised=True,
                           data_dir=None if data_dir is None else os.fspath(data_dir),
                           download=download)
    except Exception as error:  # TFDS raises AssertionError / OSError / download errors
        raise DataNotFoundError(
            f"tfds.load({name!r}) failed: {type(error).__name__}: {str(error).splitlines()[0]}\n"
            f"TFDS data_dir: {data_dir or 'the TFDS default ($TFDS_DATA_DIR or ~/tensorflow_datasets)'}; "
            f"download={download}. Without the network use source='files' (the IDX files), or "
            "prepare the TFDS data set where the network is available.") from error
    arrays = []
    for split, (images, labels) in zip(["train", "test"], tfds.as_numpy(splits)):
        images = np.asarray(images, np.uint8)[..., 0]
        labels = np.asarray(labels, np.uint8)
        restored_images = np.empty_like(images)
        restored_labels = np.empty_like(labels)
        order = _idx_order(len(labels), split)
        restored_images[order], restored_labels[order] = images, labels
        arrays.append((restored_images, restored_labels))
    return tuple(arrays), f"tfds.load({name!r}, data_dir={data_dir!r})"


__all__ = ["GasSensorDrift", "MANUAL_DIR_INSTRUCTIONS", "UCI_MANUAL_DIR_INSTRUCTIONS",
           "UciRegression", "read_mnist"]
