"""load_table: any regression set as one table (CSV, .npy, .npz), checked and normalized as
load_ethanol normalizes; on the Ethanol rows written to a CSV it gives load_ethanol's arrays."""

import numpy as np
import pytest

from tf_overparam.datasets import DataFormatError, DataNotFoundError, load_ethanol, load_table


@pytest.fixture
def table():
    rng = np.random.default_rng(0)
    return rng.normal(size=(20, 4))


def test_csv_with_and_without_a_header(tmp_path, table):
    np.savetxt(tmp_path / "plain.csv", table, delimiter=",", fmt="%.17g")
    np.savetxt(tmp_path / "named.csv", table, delimiter=",", fmt="%.17g", header="a,b,c,target",
               comments="")
    for name in ("plain.csv", "named.csv"):
        X, y, meta = load_table(tmp_path / name, feature_normalization="none", target_normalization="none")
        np.testing.assert_array_equal(X, table[:, :3])
        np.testing.assert_array_equal(y, table[:, 3])
        assert meta["n_rows"] == 20 and meta["n_features"] == 3 and len(meta["sha256"]) == 64


def test_numpy_files_and_the_target_column(tmp_path, table):
    np.save(tmp_path / "t.npy", table)
    X, y, _ = load_table(tmp_path / "t.npy", target_column=0, feature_normalization="none",
                         target_normalization="none")
    np.testing.assert_array_equal(y, table[:, 0])
    np.testing.assert_array_equal(X, table[:, 1:])
    np.savez(tmp_path / "t.npz", X=table[:, :2], y=table[:, 2])
    X, y, _ = load_table(tmp_path / "t.npz", feature_normalization="none", target_normalization="none")
    np.testing.assert_array_equal(X, table[:, :2])


def test_normalizations_against_numpy(tmp_path, table):
    np.savetxt(tmp_path / "t.csv", table, delimiter=",", fmt="%.17g")
    X, y, meta = load_table(tmp_path / "t.csv")
    features = table[:, :3]
    np.testing.assert_allclose(X, (features - features.mean(0)) / features.std(0), rtol=1e-12)
    np.testing.assert_allclose(y, (table[:, 3] - table[:, 3].mean()) / table[:, 3].std(), rtol=1e-12)
    X, _, _ = load_table(tmp_path / "t.csv", feature_normalization="minmax")
    assert X.min() == 0.0 and X.max() == 1.0


def test_the_ethanol_rows_as_a_csv_give_load_ethanols_arrays(shared_data_dir, tmp_path):
    X, y, _ = load_ethanol(shared_data_dir, feature_normalization="none", target_normalization="none",
                           allow_partial=True)
    np.savetxt(tmp_path / "ethanol.csv", np.column_stack([X, y]), delimiter=",", fmt="%.17g")
    for features, target in (("standardize", "standardize"), ("minmax", "none")):
        expected = tuple(load_ethanol(shared_data_dir, feature_normalization=features,
                                      target_normalization=target, allow_partial=True))
        got = load_table(tmp_path / "ethanol.csv", feature_normalization=features,
                         target_normalization=target)
        np.testing.assert_array_equal(got[0], expected[0])  # bit for bit
        np.testing.assert_array_equal(got[1], expected[1])


@pytest.mark.parametrize("content, message", [
    ("1,2\n3,x\n", "not a numeric table"),
    ("1,2\n3,nan\n", "not finite"),
    ("1,2\n", "at least 2 rows"),
    ("1\n2\n3\n", "at least one feature"),
])
def test_bad_tables_are_refused_naming_the_file(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(DataFormatError, match=message) as error:
        load_table(path)
    assert "bad.csv" in str(error.value)
    assert path.read_text() == content  # never touched


def test_bad_arguments_and_missing_files(tmp_path):
    with pytest.raises(DataNotFoundError, match="no such file"):
        load_table(tmp_path / "absent.csv")
    (tmp_path / "t.txt").write_text("1,2\n3,4\n")
    with pytest.raises(DataFormatError, match=r"\.csv, \.npy or \.npz"):
        load_table(tmp_path / "t.txt")
    with pytest.raises(ValueError, match="feature_normalization must be one of"):
        load_table(tmp_path / "t.txt", feature_normalization="standardize_per_batch")
    with pytest.raises(ValueError, match="target_column"):
        load_table(tmp_path / "t.txt", target_column="last")
