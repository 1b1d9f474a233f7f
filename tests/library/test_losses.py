"""LpLoss against numpy: mean of (1/p)|ŷ − y|^p (paper Section 3)."""

import keras
import numpy as np
import pytest

from tf_overparam import LpLoss


@pytest.mark.parametrize("p", [2, 4, 3, 1.5, 1])
def test_matches_numpy(p):
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.normal(size=(8, 3)), rng.normal(size=(8, 3))
    expected = np.mean(np.abs(y_pred - y_true) ** p) / p
    assert float(LpLoss(p)(y_true, y_pred)) == pytest.approx(expected, rel=1e-6)


def test_l2_is_half_the_mean_squared_error():
    rng = np.random.default_rng(1)
    y_true, y_pred = rng.normal(size=(10, 1)), rng.normal(size=(10, 1))
    mse = float(keras.losses.MeanSquaredError()(y_true, y_pred))
    assert float(LpLoss(2)(y_true, y_pred)) == pytest.approx(mse / 2, rel=1e-6)


def test_vector_targets_against_column_predictions():
    y_true, y_pred = np.array([1.0, 2.0, 3.0]), np.array([[2.0], [2.0], [5.0]])
    assert float(LpLoss(4)(y_true, y_pred)) == pytest.approx((1 + 0 + 16) / 3 / 4)


@pytest.mark.parametrize("true_shape, pred_shape",
                         [((10,), (10, 1)), ((10, 1), (10,)), ((10, 1), (10, 1)), ((10,), (10,))])
def test_shapes_aligned_as_keras_mean_squared_error(true_shape, pred_shape):
    """(n,) against (n, 1) either way round is one residual per row, as in Keras' own losses:
    p = 2 is half of keras.losses.MeanSquaredError on every shape pair (no (n, n) broadcast)."""
    rng = np.random.default_rng(2)
    values_true, values_pred = rng.normal(size=10), rng.normal(size=10)
    y_true, y_pred = values_true.reshape(true_shape), values_pred.reshape(pred_shape)
    mse = float(keras.losses.MeanSquaredError()(y_true, y_pred))
    assert mse == pytest.approx(np.mean((values_pred - values_true) ** 2), rel=1e-6)
    assert float(LpLoss(2)(y_true, y_pred)) == pytest.approx(mse / 2, rel=1e-6)
    expected_l4 = np.mean((values_pred - values_true) ** 4) / 4
    assert float(LpLoss(4)(y_true, y_pred)) == pytest.approx(expected_l4, rel=1e-6)
    assert float(LpLoss(4)(y_true, y_true.reshape(pred_shape))) == 0.0  # equal values: no loss


def test_one_sgd_step_on_l4_moves_by_the_cubed_residual():
    """d/dK of mean (1/4)(xK − y)⁴ is xᵀ r³ / n: one SGD step through fit (any backend)."""
    x = np.array([[1.0, 0.0], [0.0, 2.0]], dtype="float32")
    y = np.array([[1.0], [0.0]], dtype="float32")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=LpLoss(4))
    model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    residual = x @ np.ones((2, 1)) - y  # [0, 2]
    expected = np.ones((2, 1)) - 0.1 * x.T @ residual**3 / 2
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.layers[0].kernel), expected, rtol=1e-6)


def test_config_round_trip():
    loss = LpLoss(4, reduction="sum")
    restored = LpLoss.from_config(loss.get_config())
    assert restored.p == 4 and restored.reduction == "sum"


@pytest.mark.parametrize("p", [0, -2, "4", None, True, float("inf"), float("nan"), -float("inf"),
                               np.float64("inf")])
def test_bad_p_names_the_argument(p):
    with pytest.raises(ValueError, match="`p` must be a finite real number > 0"):
        LpLoss(p)
