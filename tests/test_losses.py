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


def test_gradient_of_l4_is_the_cubed_residual():
    import tensorflow as tf

    y_true, y_pred = tf.constant([[1.0], [0.0]]), tf.Variable([[3.0], [-1.0]])
    with tf.GradientTape() as tape:
        loss = LpLoss(4)(y_true, y_pred)
    # d/dŷ of mean (1/4) r⁴ over 2 samples is r³ / 2.
    np.testing.assert_allclose(tape.gradient(loss, y_pred).numpy(), [[4.0], [-0.5]])


def test_config_round_trip():
    loss = LpLoss(4, reduction="sum")
    restored = LpLoss.from_config(loss.get_config())
    assert restored.p == 4 and restored.reduction == "sum"


@pytest.mark.parametrize("p", [0, -2, "4", None, True])
def test_bad_p_names_the_argument(p):
    with pytest.raises(ValueError, match="`p`"):
        LpLoss(p)
