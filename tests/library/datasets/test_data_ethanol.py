"""load_ethanol on the real data (the tests' data folder): the eight exact batch files alone (partial),
and all 2,565 rows with the reconstructed Ethanol rows of batches 7 and 10."""

import json
import warnings

import numpy as np
import pytest

from tf_overparam.datasets import (DATA_DIR_ENV_VAR, DataNotFoundError, PartialDataWarning,
                                   load_ethanol)

# Ethanol rows per batch in the eight exact UCI files; batch7 and batch10 absent.
PRESENT_COUNTS = {1: 90, 2: 164, 3: 365, 4: 64, 5: 28, 6: 514, 8: 30, 9: 61}


def raw_ethanol(folder, batches):
    """Independent oracle: a plain-Python reading of the class-1 rows."""
    X, y = [], []
    for batch in batches:
        with open(folder / f"batch{batch}.dat") as handle:
            for line in handle:
                head, *fields = line.split()
                cls, conc = head.split(";")
                if cls == "1":
                    X.append([float(f.split(":")[1]) for f in fields])
                    y.append(float(conc))
    return np.array(X), np.array(y)


@pytest.fixture(scope="module")
def raw(shared_data_dir):
    return raw_ethanol(shared_data_dir / "gas_sensor_drift", PRESENT_COUNTS)


@pytest.fixture(scope="module")
def loaded(shared_data_dir):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = load_ethanol(shared_data_dir, allow_partial=True, reconstructed=False)
    partial_warnings = [w for w in caught if issubclass(w.category, PartialDataWarning)]
    return data, partial_warnings


def test_partial_opt_in_shape_and_counts(loaded):
    data, partial_warnings = loaded
    X, y, meta = data
    assert X.shape == (1316, 128) and y.shape == (1316,)
    assert X.dtype == np.float64 and y.dtype == np.float64
    assert np.isfinite(X).all() and np.isfinite(y).all()
    assert meta["rows_per_batch"] == PRESENT_COUNTS
    assert meta["batches_used"] == [1, 2, 3, 4, 5, 6, 8, 9]
    assert meta["batches_missing"] == [7, 10]
    assert meta["partial"] is True and meta["n_rows"] == 1316
    assert meta["sha256_verified"] is True and meta["sha256_mismatches"] == []
    assert meta["source"] == "data_dir argument"
    assert meta["source_dir"].endswith("gas_sensor_drift")
    # Warned exactly once, naming the missing files.
    assert len(partial_warnings) == 1
    assert "batch7.dat" in str(partial_warnings[0].message)
    assert "batch10.dat" in str(partial_warnings[0].message)
    json.dumps(meta)  # the metadata can be written next to every figure


def test_concentration_set(loaded, raw):
    meta = loaded[0].metadata
    concentrations = np.array(meta["concentrations_ppmv"])
    assert len(concentrations) == 17
    assert concentrations.min() == 10.0 and concentrations.max() == 600.0
    np.testing.assert_array_equal(concentrations, np.unique(raw[1]))


def test_default_normalization_recorded_and_applied(loaded, raw):
    data, _ = loaded
    X_raw, y_raw = raw
    meta = data.metadata
    assert meta["feature_normalization"] == "standardize"
    assert meta["target_normalization"] == "standardize"
    np.testing.assert_allclose(meta["feature_mean"], X_raw.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(meta["feature_std"], X_raw.std(axis=0), rtol=1e-12)
    assert meta["target_mean"] == pytest.approx(y_raw.mean(), rel=1e-12)
    assert meta["target_std"] == pytest.approx(y_raw.std(), rel=1e-12)
    assert meta["target_mean"] == pytest.approx(106.6, abs=0.05)  # PROVENANCE.md
    assert meta["target_std"] == pytest.approx(91.8, abs=0.05)
    np.testing.assert_allclose(data.X, (X_raw - X_raw.mean(0)) / X_raw.std(0), atol=1e-12)
    np.testing.assert_allclose(data.y, (y_raw - y_raw.mean()) / y_raw.std(), atol=1e-12)
    np.testing.assert_allclose(data.X.mean(0), 0, atol=1e-10)
    np.testing.assert_allclose(data.X.std(0), 1, rtol=1e-10)
    np.testing.assert_allclose(data.target_to_ppmv(data.y), y_raw, rtol=1e-12)


def test_other_normalizations(shared_data_dir, raw):
    X_raw, y_raw = raw
    with pytest.warns(PartialDataWarning):
        X, y, meta = load_ethanol(shared_data_dir, allow_partial=True, reconstructed=False,
                                  feature_normalization="none", target_normalization="none")
    np.testing.assert_array_equal(X, X_raw)
    np.testing.assert_array_equal(y, y_raw)
    assert meta["feature_mean"] is None and meta["target_std"] is None
    assert meta["target_units"] == "ppmv"
    with pytest.warns(PartialDataWarning):
        _, y_c, meta_c = load_ethanol(shared_data_dir, allow_partial=True, reconstructed=False,
                                      target_normalization="center")
    np.testing.assert_allclose(y_c, y_raw - y_raw.mean(), atol=1e-12)
    assert meta_c["target_mean"] == pytest.approx(y_raw.mean()) and meta_c["target_std"] is None


def test_minmax_and_per_batch_normalizations(shared_data_dir, raw):
    """Against numpy formulas on the plain-Python reading, batch by batch."""
    X_raw, _ = raw
    with pytest.warns(PartialDataWarning):
        X_mm, _, meta_mm = load_ethanol(shared_data_dir, allow_partial=True, reconstructed=False,
                                        feature_normalization="minmax")
    low, high = X_raw.min(0), X_raw.max(0)
    np.testing.assert_allclose(X_mm, (X_raw - low) / (high - low), atol=1e-12)
    assert X_mm.min() == 0.0 and X_mm.max() == 1.0
    np.testing.assert_allclose(meta_mm["feature_mean"], low)
    with pytest.warns(PartialDataWarning):
        X_pb, _, meta_pb = load_ethanol(shared_data_dir, allow_partial=True, reconstructed=False,
                                        feature_normalization="standardize_per_batch")
    start = 0
    for batch, count in PRESENT_COUNTS.items():
        block = X_raw[start:start + count]
        std = np.where(block.std(0) > 0, block.std(0), 1.0)
        np.testing.assert_allclose(X_pb[start:start + count], (block - block.mean(0)) / std,
                                   atol=1e-10)
        np.testing.assert_allclose(meta_pb["feature_mean"][batch], block.mean(0), rtol=1e-12)
        start += count
    assert start == len(X_pb)
    json.dumps(meta_pb)
    with pytest.raises(ValueError, match="feature_normalization"):
        load_ethanol(shared_data_dir, feature_normalization="robust")


def test_refuses_partial_folder_without_opt_in(shared_data_dir):
    with pytest.raises(DataNotFoundError) as info:
        load_ethanol(shared_data_dir, reconstructed=False)
    message = str(info.value)
    assert "batch7.dat" in message and "batch10.dat" in message
    assert "allow_partial=True" in message
    assert isinstance(info.value, FileNotFoundError)


def test_both_layouts_and_env_var(shared_data_dir, loaded, monkeypatch):
    expected = loaded[0]
    with pytest.warns(PartialDataWarning):
        direct = load_ethanol(shared_data_dir / "gas_sensor_drift", allow_partial=True,
                              reconstructed=False)
    np.testing.assert_array_equal(direct.X, expected.X)
    monkeypatch.setenv(DATA_DIR_ENV_VAR, str(shared_data_dir))
    with pytest.warns(PartialDataWarning):
        from_env = load_ethanol(allow_partial=True, reconstructed=False)
    np.testing.assert_array_equal(from_env.y, expected.y)
    assert from_env.metadata["source"] == f"${DATA_DIR_ENV_VAR}"


# ---------------------------------------------------------------------------------------------
# All 2,565 rows: the exact files plus the reconstructed rows of batches 7 and 10
# ---------------------------------------------------------------------------------------------

RECONSTRUCTED = "gas_sensor_drift_reconstructed/ethanol_batch7_batch10.csv"


def raw_reconstructed(path):
    """Independent oracle: a plain-Python reading of the reconstructed CSV."""
    X, y, batch = [], [], []
    with open(path) as handle:
        next(handle)
        for line in handle:
            fields = line.strip().split(",")
            batch.append(int(fields[0]))
            y.append(float(fields[1]))
            X.append([float(v) for v in fields[2:]])
    return np.array(X), np.array(y), np.array(batch)


def test_all_2565_rows_with_the_reconstructed_batches(shared_data_dir, raw):
    with warnings.catch_warnings():
        warnings.simplefilter("error", PartialDataWarning)  # complete: no partial warning
        X, y, meta = load_ethanol(shared_data_dir, feature_normalization="none",
                                  target_normalization="none")
    assert X.shape == (2565, 128) and meta["n_rows"] == 2565 and meta["partial"] is False
    assert meta["rows_per_batch"] == {**PRESENT_COUNTS, 7: 649, 10: 600}
    assert meta["batches_used"] == list(range(1, 11)) and meta["batches_missing"] == []
    assert meta["batches_reconstructed"] == [7, 10] and meta["rows_reconstructed"] == 1249
    assert meta["reconstructed"]["sha256"].startswith("7edeed59")
    assert "5 significant digits" in meta["reconstructed"]["description"]
    # PROVENANCE.md 1b: concentration mean 114.950, std 86.637 (n − 1) over the 2,565 rows.
    assert y.mean() == pytest.approx(114.950, abs=5e-4)
    assert y.std(ddof=1) == pytest.approx(86.637, abs=5e-4)
    # Rows in batch order: the exact files' rows as read, batch 7 after 6, batch 10 last.
    X_rec, y_rec, batch_rec = raw_reconstructed(shared_data_dir / RECONSTRUCTED)
    X_exact, y_exact = raw
    first = sum(PRESENT_COUNTS[b] for b in range(1, 7))
    np.testing.assert_array_equal(X[:first], X_exact[:first])
    np.testing.assert_array_equal(X[first:first + 649], X_rec[batch_rec == 7])
    np.testing.assert_array_equal(X[first + 649:first + 649 + 91], X_exact[first:])
    np.testing.assert_array_equal(y[-600:], y_rec[batch_rec == 10])
    json.dumps(meta)


def test_a_modified_reconstructed_file_is_refused_and_kept(shared_data_dir, tmp_path, snapshot):
    import shutil

    from tf_overparam.datasets import ChecksumError

    root = tmp_path / "data"
    shutil.copytree(shared_data_dir / "gas_sensor_drift", root / "gas_sensor_drift")
    (root / "gas_sensor_drift_reconstructed").mkdir()
    copy = root / RECONSTRUCTED
    text = (shared_data_dir / RECONSTRUCTED).read_text()
    copy.write_text(text.replace("2.500000", "2.600000", 1))  # one concentration changed
    before = snapshot(root)
    with pytest.raises(ChecksumError, match="ethanol_batch7_batch10.csv"):
        load_ethanol(root)
    assert snapshot(root) == before  # refused, never fixed or deleted


def test_real_batch_files_take_precedence(shared_data_dir, tmp_path):
    """A batch7.dat present is read; only batch 10 comes from the reconstruction."""
    import shutil

    root = tmp_path / "data"
    shutil.copytree(shared_data_dir / "gas_sensor_drift", root / "gas_sensor_drift")
    shutil.copytree(shared_data_dir / "gas_sensor_drift_reconstructed",
                    root / "gas_sensor_drift_reconstructed")
    line = "1;123.000000 " + " ".join(f"{k}:{k / 10:.6f}" for k in range(1, 129)) + " \n"
    (root / "gas_sensor_drift" / "batch7.dat").write_text(line * 3)
    with pytest.warns(UserWarning, match="batch7.dat"):  # not the official file: warned
        X, y, meta = load_ethanol(root, verify_checksums="warn", target_normalization="none",
                                  feature_normalization="none")
    assert meta["batches_reconstructed"] == [10] and meta["rows_per_batch"][7] == 3
    assert meta["n_rows"] == 1316 + 3 + 600
    np.testing.assert_array_equal(y[sum(PRESENT_COUNTS[b] for b in range(1, 7)):][:3], 123.0)


def test_reconstructed_argument_is_checked(shared_data_dir):
    with pytest.raises(ValueError, match="`reconstructed`"):
        load_ethanol(shared_data_dir, reconstructed="yes")
