"""Pooling options, PyTorch's: ceil_mode, dilation, return_indices (max); ceil_mode, divisor_override (avg).

Hand-computed values on x = arange (so a maximum's value is its own flat
index), float64 gradchecks for every option, and the errors.
"""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F
from minidl.functional._windows import pool_output_size


def _t(a, device, grad=True):
    return mdl.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad, device=device)


def _arange(h, w, device):
    return _t(np.arange(h * w).reshape(1, 1, h, w), device)


# ---- output sizes: PyTorch's rule
@pytest.mark.parametrize("size, k, s, p, d, ceil, out", [
    (5, 2, 2, 0, 1, False, 2), (5, 2, 2, 0, 1, True, 3),   # ceil: a last window over row 4 alone
    (6, 2, 2, 0, 1, True, 3),                              # nothing left over: the same as floor
    (6, 3, 2, 1, 1, True, 4), (5, 3, 2, 1, 1, True, 3),    # 5: a 4th window would start in the right padding
    (2, 3, 2, 0, 1, True, 1),                              # a kernel larger than the input, in ceil mode
    (7, 3, 1, 1, 2, False, 5), (7, 3, 2, 0, 3, True, 1),
])
def test_pool_output_size(size, k, s, p, d, ceil, out):
    assert pool_output_size(size, k, s, p, d, ceil) == out


# ---- ceil_mode
def test_max_pool_ceil_mode_by_hand(device):
    x = _arange(5, 5, device)
    y, i = F.max_pool2d(x, 2, ceil_mode=True, return_indices=True)
    expected = [[6, 8, 9], [16, 18, 19], [21, 23, 24]]  # the last row and column are windows of one pixel
    np.testing.assert_array_equal(y.numpy()[0, 0], expected)
    np.testing.assert_array_equal(i.numpy()[0, 0], expected)  # on arange, the value is the index
    y.sum().backward()
    np.testing.assert_array_equal(mdl.tensor(x.grad).numpy()[0, 0].ravel()[expected].ravel(), np.ones(9))
    assert mdl.tensor(x.grad).numpy().sum() == 9


def test_avg_pool_ceil_mode_counts_only_real_pixels(device):
    x = _arange(5, 5, device)
    y = F.avg_pool2d(x, 2, ceil_mode=True)
    assert y.numpy()[0, 0, 2, 2] == 24  # the corner window holds one real pixel: divided by 1
    assert y.numpy()[0, 0, 0, 2] == (4 + 9) / 2
    assert y.numpy()[0, 0, 0, 0] == (0 + 1 + 5 + 6) / 4


@pytest.mark.parametrize("include", [True, False])
def test_avg_pool_ceil_mode_with_padding_by_hand(include, device):
    """6x6 ones, kernel 3, stride 2, padding 1, ceil: the windows start at -1, 1, 3, 5.

    Counted with padding: 3, 3, 3, and 2 (pixel 5 and the padding pixel 6;
    pixel 7 is past the padding). Real pixels: 2, 3, 3, 1.
    """
    y = F.avg_pool2d(_t(np.ones((1, 1, 6, 6)), device), 3, 2, 1, ceil_mode=True, count_include_pad=include)
    real, counted = np.array([2, 3, 3, 1]), np.array([3, 3, 3, 2])
    expected = np.outer(real, real) / np.outer(counted, counted) if include else np.ones((4, 4))
    np.testing.assert_allclose(y.numpy()[0, 0], expected)


def test_avg_pool_divisor_override(device):
    y = F.avg_pool2d(_t(np.ones((1, 2, 4, 4)), device), 2, divisor_override=3)
    np.testing.assert_allclose(y.numpy(), np.full((1, 2, 2, 2), 4 / 3))
    x = _t(np.ones((1, 1, 3, 3)), device)
    F.avg_pool2d(x, 2, 1, 1, ceil_mode=True, count_include_pad=False, divisor_override=2).sum().backward()
    np.testing.assert_allclose(mdl.tensor(x.grad).numpy()[0, 0], np.full((3, 3), 4 / 2))  # 4 windows a pixel


# ---- dilation and return_indices
def test_max_pool_dilation_by_hand(device):
    x = _arange(5, 5, device)
    y, i = F.max_pool2d(x, 2, stride=1, dilation=2, return_indices=True)  # windows of pixels 2 apart
    expected = [[12, 13, 14], [17, 18, 19], [22, 23, 24]]  # the bottom-right pixel of each window
    np.testing.assert_array_equal(y.numpy()[0, 0], expected)
    np.testing.assert_array_equal(i.numpy()[0, 0], expected)


def test_return_indices_with_padding_point_at_real_pixels(device):
    x = _t([[[[1, 2], [3, 4]]]], device)
    y, i = F.max_pool2d(x, 2, stride=1, padding=1, return_indices=True)
    np.testing.assert_array_equal(y.numpy()[0, 0], [[1, 2, 2], [3, 4, 4], [3, 4, 4]])
    np.testing.assert_array_equal(i.numpy()[0, 0], [[0, 1, 1], [2, 3, 3], [2, 3, 3]])


def test_indices_are_int64_per_plane_and_not_differentiable(device, rng):
    x = _t(rng.permutation(2 * 3 * 6 * 5).reshape(2, 3, 6, 5), device)
    y, i = F.max_pool2d(x, 3, 2, 1, ceil_mode=True, return_indices=True)
    assert i.dtype == np.int64 and i.shape == y.shape and not i.requires_grad
    flat = x.numpy().reshape(2, 3, -1)
    idx = i.numpy().reshape(2, 3, -1)
    assert idx.min() >= 0 and idx.max() < 6 * 5  # flat over each (H, W) plane
    np.testing.assert_array_equal(np.take_along_axis(flat, idx, axis=2), y.numpy().reshape(2, 3, -1))


# ---- gradchecks, every option
MAX_OPTIONS = [  # (kernel, stride, padding, dilation, ceil_mode)
    (2, 2, 0, 1, True), (3, 2, 1, 1, True), ((3, 2), (2, 3), (1, 1), 1, True), (2, 1, 0, 2, False),
    (3, 2, 1, 2, True), ((2, 3), 1, (1, 0), (2, 1), True), (2, 3, 1, 3, True),
]


@pytest.mark.parametrize("k, s, p, d, ceil", MAX_OPTIONS)
@pytest.mark.parametrize("indices", [False, True])
def test_max_pool_options_gradcheck(k, s, p, d, ceil, indices, device, rng):
    x = _t(rng.permutation(2 * 2 * 7 * 8).reshape(2, 2, 7, 8) * 0.1, device)  # distinct: no ties

    def pool(u):
        out = F.max_pool2d(u, k, s, p, d, ceil_mode=ceil, return_indices=indices)
        return out[0] if indices else out

    assert mdl.gradcheck(pool, (x,))


AVG_OPTIONS = [  # (kernel, stride, padding, ceil_mode, divisor_override)
    (2, 2, 0, True, None), (3, 2, 1, True, None), ((3, 2), (2, 3), (1, 1), True, None), (2, 3, 1, True, None),
    (3, 2, 1, False, 5), (3, 2, 1, True, 2),
]


@pytest.mark.parametrize("k, s, p, ceil, divisor", AVG_OPTIONS)
@pytest.mark.parametrize("include", [True, False])
def test_avg_pool_options_gradcheck(k, s, p, ceil, divisor, include, device, rng):
    x = _t(rng.standard_normal((2, 2, 7, 8)), device)
    assert mdl.gradcheck(lambda u: F.avg_pool2d(u, k, s, p, ceil, include, divisor), (x,))


# ---- errors
def test_pool_option_errors():
    x = mdl.tensor(np.ones((1, 1, 5, 5)))
    with pytest.raises(ValueError, match=r"padding \(2, 2\) must be at most half the kernel size \(3, 3\).*whatever "
                                         r"the dilation"):
        F.max_pool2d(x, 3, padding=2, dilation=2)  # PyTorch also refuses: half the kernel, not the dilated span
    with pytest.raises(ValueError, match=r"dilation must be >= 1, got 0"):
        F.max_pool2d(x, 2, dilation=0)
    with pytest.raises(ValueError, match=r"spans 7 pixels of height.*would be -1"):
        F.max_pool2d(x, 3, stride=1, dilation=3, ceil_mode=True)
    assert F.max_pool2d(x, 3, dilation=3, ceil_mode=True).shape == (1, 1, 1, 1)  # stride 3: one window, as PyTorch
    with pytest.raises(ValueError, match=r"divisor_override must be a positive integer, got 0"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(ValueError, match=r"divisor_override must be a positive integer, got 1.5"):
        F.avg_pool2d(x, 2, divisor_override=1.5)
