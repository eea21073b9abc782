"""interpolate: nearest and bilinear by hand, PyTorch's coordinate rules, gradchecks, errors."""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F
from minidl.functional.interpolate import linear_matrix, nearest_indices


def _t(a, device, grad=True):
    return mdl.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad, device=device)


def _row(values, device):
    return _t(np.asarray(values).reshape(1, 1, 1, -1), device)


# ---- nearest
def test_nearest_doubling_repeats_pixels_and_adds_their_gradients(device):
    x = _t([[[[1, 2], [3, 4]]]], device)
    y = F.interpolate(x, scale_factor=2)
    np.testing.assert_array_equal(y.numpy()[0, 0], [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]])
    y.sum().backward()
    np.testing.assert_array_equal(mdl.tensor(x.grad).numpy()[0, 0], [[4, 4], [4, 4]])  # scatter-add: 4 copies each


def test_nearest_shrinking_picks_and_routes(device):
    x = _t(np.arange(8).reshape(1, 1, 2, 4), device)
    y = F.interpolate(x, size=(1, 2))  # scale 2 along both: rows 0, columns 0 and 2
    np.testing.assert_array_equal(y.numpy()[0, 0], [[0, 2]])
    y.sum().backward()
    np.testing.assert_array_equal(mdl.tensor(x.grad).numpy()[0, 0], [[1, 0, 1, 0], [0, 0, 0, 0]])


def test_nearest_samples_with_the_given_scale_factor(device):
    """scale_factor 1.7 on 4 pixels: 6 outputs sampled 1/1.7 apart, not 4/6 apart (PyTorch's default)."""
    x = _row([0, 1, 2, 3], device)
    np.testing.assert_array_equal(F.interpolate(x, scale_factor=(1, 1.7)).numpy().ravel(), [0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(F.interpolate(x, size=(1, 6)).numpy().ravel(), [0, 0, 1, 2, 2, 3])


def test_an_axis_that_keeps_its_size_is_copied(device):
    x = _row([0, 1, 2, 3], device)
    for mode in ("nearest", "bilinear"):
        np.testing.assert_array_equal(F.interpolate(x, scale_factor=(1, 1.2), mode=mode).numpy(), x.numpy())


def test_nearest_indices_by_hand():
    np.testing.assert_array_equal(nearest_indices(3, 7, None), [0, 0, 0, 1, 1, 2, 2])  # floor(i * 3/7)
    np.testing.assert_array_equal(nearest_indices(2, 4, 2.2), [0, 0, 1, 1])  # doubling: PyTorch's shortcut


# ---- bilinear
def test_bilinear_align_corners_true_by_hand(device):
    x = _t([[[[0, 1], [2, 3]]]], device)
    y = F.interpolate(x, size=3, mode="bilinear", align_corners=True)  # the corners stay, the middles average
    np.testing.assert_allclose(y.numpy()[0, 0], [[0, 0.5, 1], [1, 1.5, 2], [2, 2.5, 3]])


def test_bilinear_align_corners_false_by_hand(device):
    """2 -> 4 pixels: src = (dst + 0.5)/2 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (the last pixel only)."""
    y = F.interpolate(_row([0, 4], device), size=(1, 4), mode="bilinear", align_corners=False)
    np.testing.assert_allclose(y.numpy().ravel(), [0, 1, 3, 4])
    y = F.interpolate(_row([0, 4, 8, 12], device), size=(1, 2), mode="bilinear")  # shrinking: src 0.5 and 2.5
    np.testing.assert_allclose(y.numpy().ravel(), [2, 10])


def test_linear_matrix_rows_are_two_weights_summing_to_one():
    for n, m, factor, corners in ((5, 9, None, False), (5, 3, None, True), (4, 7, 1.9, False), (1, 3, None, False)):
        a = linear_matrix(n, m, factor, corners, np.float64)
        assert a.shape == (m, n) and ((a != 0).sum(axis=1) <= 2).all()
        np.testing.assert_allclose(a.sum(axis=1), 1)


def test_bilinear_backward_is_the_transposed_product(device, rng):
    """<A_h x A_w^T, g> = <x, A_h^T g A_w>: the adjoint identity of the two matrix products."""
    x = _t(rng.standard_normal((2, 3, 5, 4)), device)
    y = F.interpolate(x, scale_factor=(1.5, 2.5), mode="bilinear")
    g = rng.standard_normal(y.shape)
    y.backward(mdl.tensor(g, device=device))
    np.testing.assert_allclose((y.numpy() * g).sum(), (x.numpy() * mdl.tensor(x.grad).numpy()).sum())


# ---- gradchecks, every option
RESIZES = [dict(size=(9, 5)), dict(size=(3, 2)), dict(size=7), dict(scale_factor=2), dict(scale_factor=(1.5, 0.5)),
           dict(scale_factor=(0.7, 2.3)), dict(scale_factor=(1.1, 3)), dict(size=(1, 1))]


@pytest.mark.parametrize("resize", RESIZES, ids=str)
@pytest.mark.parametrize("mode, corners", [("nearest", None), ("bilinear", False), ("bilinear", True),
                                           ("bilinear", None)])
def test_interpolate_gradcheck(resize, mode, corners, device, rng):
    x = _t(rng.standard_normal((2, 2, 5, 4)), device)
    assert mdl.gradcheck(lambda u: F.interpolate(u, **resize, mode=mode, align_corners=corners), (x,))


def test_interpolate_keeps_float32(device):
    x = mdl.tensor(np.ones((1, 2, 3, 3), dtype=np.float32), device=device)
    for mode in ("nearest", "bilinear"):
        y = F.interpolate(x, scale_factor=2, mode=mode)
        assert y.dtype == np.float32 and y.shape == (1, 2, 6, 6)
        np.testing.assert_allclose(y.numpy(), 1)


# ---- errors
def test_interpolate_errors():
    x = mdl.tensor(np.ones((1, 1, 4, 4)))
    with pytest.raises(ValueError, match=r"give exactly one of size or scale_factor, got both"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(ValueError, match=r"give exactly one of size or scale_factor, got neither"):
        F.interpolate(x)
    with pytest.raises(ValueError, match=r"align_corners is for the interpolating modes.*got True"):
        F.interpolate(x, size=3, align_corners=True)
    with pytest.raises(ValueError, match=r"input must be 4-D \(N, C, H, W\), got shape \(4, 4\)"):
        F.interpolate(mdl.tensor(np.ones((4, 4))), size=3)
    with pytest.raises(ValueError, match=r"mode must be one of \('nearest', 'bilinear'\), got 'bicubic'"):
        F.interpolate(x, size=3, mode="bicubic")
    with pytest.raises(ValueError, match=r"size must be > 0, got 0"):
        F.interpolate(x, size=0)
    with pytest.raises(ValueError, match=r"size must be one number or one per spatial axis.*got \(2, 3, 4\)"):
        F.interpolate(x, size=(2, 3, 4))
    with pytest.raises(TypeError, match=r"size must be an int or a pair, got 2.5"):
        F.interpolate(x, size=2.5)
    with pytest.raises(ValueError, match=r"scale_factor 0.1 makes the input's \(H, W\) \(4, 4\) an empty output"):
        F.interpolate(x, scale_factor=0.1)
    with pytest.raises(ValueError, match=r"scale_factor must be > 0, got -1"):
        F.interpolate(x, scale_factor=-1)
    with pytest.raises(TypeError, match=r"input must be floating point, got dtype int64"):
        F.interpolate(mdl.tensor(np.ones((1, 1, 2, 2), dtype=np.int64)), size=3)
