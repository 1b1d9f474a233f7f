"""The end-to-end direction (paper Eq. 9, Claim 1, Claim 2 / Eq. 11) against numpy oracles."""

import zlib

import numpy as np
import pytest
from numpy_oracles import eq9_direction
from numpy_oracles import float64_tolerance
from numpy_oracles import sample_kernel
from numpy_oracles import eq11_direction
from keras import ops

from tf_overparam.ops import end_to_end_direction
from tf_overparam.ops import end_to_end_direction_single_output
from tf_overparam.ops import end_to_end_direction_svd

SHAPES = [(6, 1), (7, 3), (3, 7), (4, 4)]  # single output, d > k, d < k, d = k



@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("kind", ["full", "rank1", "zero"])
def test_direction_matches_eq9(shape, depth, kind):
    rng = np.random.default_rng(zlib.crc32(repr((shape, depth, kind)).encode()))
    kernel = sample_kernel(rng, shape, kind)
    gradient = rng.normal(size=shape)
    expected = eq9_direction(kernel, gradient, depth)
    actual = ops.convert_to_numpy(end_to_end_direction(kernel, gradient, depth))
    np.testing.assert_allclose(actual, expected, **float64_tolerance())
    if kind == "zero" and depth >= 2:
        assert np.all(actual == 0), "at K_e = 0 the rule must not move (docs/design.md §2)"


def test_depth_one_is_the_gradient_itself():
    rng = np.random.default_rng(0)
    kernel, gradient = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    actual = ops.convert_to_numpy(end_to_end_direction(kernel, gradient, 1))
    np.testing.assert_array_equal(actual, gradient)


def _kronecker_preconditioner(kernel, depth):
    """Paper Eq. 29 translated to Keras layout, as an explicit (dk × dk) matrix on vec(G).

    With column-first vec, vec(A G B) = (Bᵀ ⊗ A) vec(G). Each term of Eq. 9 is
    A_j = [K Kᵀ]^{(N−j)/N}, B_j = [Kᵀ K]^{(j−1)/N} (both symmetric), so P = Σ_j B_j ⊗ A_j.
    """
    from numpy_oracles import psd_power

    d, k = kernel.shape
    return sum(
        np.kron(psd_power(kernel.T @ kernel, (j - 1) / depth), psd_power(kernel @ kernel.T, (depth - j) / depth))
        for j in range(1, depth + 1)
    )


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (4, 1)])
@pytest.mark.parametrize("depth", [2, 3, 4])
def test_claim1_kronecker_preconditioner(shape, depth):
    rng = np.random.default_rng(depth)
    kernel, gradient = rng.normal(size=shape), rng.normal(size=shape)
    preconditioner = _kronecker_preconditioner(kernel, depth)
    expected = (preconditioner @ gradient.reshape(-1, order="F")).reshape(shape, order="F")
    actual = ops.convert_to_numpy(end_to_end_direction(kernel, gradient, depth))
    np.testing.assert_allclose(actual, expected, **float64_tolerance())
    # Claim 1's eigenvalues: Σ_j σ_r^{2(N−j)/N} σ_r'^{2(j−1)/N}, σ padded with zeros, 0^0 = 1.
    d, k = shape
    sigma = np.linalg.svd(kernel, compute_uv=False)
    left = np.pad(sigma, (0, d - len(sigma)))
    right = np.pad(sigma, (0, k - len(sigma)))
    closed_form = sum(
        np.outer(right ** (2 * (j - 1) / depth), left ** (2 * (depth - j) / depth))
        for j in range(1, depth + 1)  # numpy's 0.0 ** 0 is 1, the paper's convention
    )
    np.testing.assert_allclose(
        np.sort(np.linalg.eigvalsh(preconditioner)), np.sort(closed_form.ravel()), **float64_tolerance()
    )


@pytest.mark.parametrize("depth", [1, 2, 3, 5])
def test_claim2_general_path_equals_eq11(depth):
    rng = np.random.default_rng(depth)
    kernel, gradient = rng.normal(size=(9, 1)), rng.normal(size=(9, 1))
    svd_path = ops.convert_to_numpy(end_to_end_direction_svd(kernel, gradient, depth))
    eq11_path = ops.convert_to_numpy(end_to_end_direction_single_output(kernel, gradient, depth))
    np.testing.assert_allclose(svd_path, eq11_direction(kernel, gradient, depth), **float64_tolerance())
    np.testing.assert_allclose(eq11_path, eq11_direction(kernel, gradient, depth), **float64_tolerance())


def test_batched_kernels_match_one_at_a_time():
    rng = np.random.default_rng(1)
    for shape in [(5, 1), (5, 3)]:
        kernels, gradients = rng.normal(size=(4,) + shape), rng.normal(size=(4,) + shape)
        batched = ops.convert_to_numpy(end_to_end_direction(kernels, gradients, 3))
        for b in range(4):
            np.testing.assert_allclose(batched[b], eq9_direction(kernels[b], gradients[b], 3), **float64_tolerance())


@pytest.mark.parametrize("kernel_shape, gradient_shape", [((3, 1), (3, 2)), ((3, 2), (2, 3)), ((3,), (3,))])
def test_mismatched_shapes_name_the_arguments(kernel_shape, gradient_shape):
    with pytest.raises(ValueError, match="`kernel` and `gradient`"):
        end_to_end_direction(np.ones(kernel_shape), np.ones(gradient_shape), 2)


def test_numpy_integer_depth_is_accepted():
    kernel, gradient = np.ones((3, 2)), np.ones((3, 2))
    np.testing.assert_allclose(
        ops.convert_to_numpy(end_to_end_direction(kernel, gradient, np.int64(2))),
        eq9_direction(kernel, gradient, 2), **float64_tolerance()
    )


@pytest.mark.parametrize("depth", [0, -1, 2.0, True, "3"])
def test_bad_depth_names_the_argument(depth):
    with pytest.raises(ValueError, match="`depth`"):
        end_to_end_direction(np.ones((3, 1)), np.ones((3, 1)), depth)
