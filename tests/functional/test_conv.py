"""conv2d, im2col, col2im: hand values, gradcheck over the options, adjointness, chunking, errors."""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F
from minidl import backend, nn


def _t(a, device, grad=True):
    return mdl.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad, device=device)


def test_conv2d_by_hand(device):
    x = mdl.tensor(np.arange(16.0).reshape(1, 1, 4, 4), device=device)
    w = mdl.tensor(np.array([[[[1.0, 0.0], [0.0, -1.0]]]]), device=device)  # x[i, j] - x[i+1, j+1]
    y = F.conv2d(x, w, mdl.tensor([0.5], dtype=np.float64, device=device))
    assert y.shape == (1, 1, 3, 3)
    np.testing.assert_allclose(y.numpy(), np.full((1, 1, 3, 3), -5.0 + 0.5))
    y = F.conv2d(x, w, stride=2, padding=1)  # padded 6x6, windows at 0, 2, 4
    xp_ = np.pad(np.arange(16.0).reshape(4, 4), 1)
    expect = [[xp_[i, j] - xp_[i + 1, j + 1] for j in (0, 2, 4)] for i in (0, 2, 4)]
    np.testing.assert_allclose(y.numpy()[0, 0], expect)


def _reference_conv(x, w, b, stride, pad, dil, groups):
    """Plain loops, the definition."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xpad = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    oh = (h + 2 * pad[0] - dil[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wd + 2 * pad[1] - dil[1] * (kw - 1) - 1) // stride[1] + 1
    y = np.zeros((n, o, oh, ow))
    og = o // groups
    for oc in range(o):
        g = oc // og
        for i in range(oh):
            for j in range(ow):
                patch = xpad[:, g * cg:(g + 1) * cg, i * stride[0]: i * stride[0] + dil[0] * (kh - 1) + 1: dil[0],
                             j * stride[1]: j * stride[1] + dil[1] * (kw - 1) + 1: dil[1]]
                y[:, oc, i, j] = (patch * w[oc]).sum(axis=(1, 2, 3)) + (b[oc] if b is not None else 0)
    return y


GRID = [
    # (N, C, H, W), O, kernel, stride, padding, dilation, groups, bias
    ((2, 2, 5, 5), 3, 3, 1, 0, 1, 1, True),
    ((1, 2, 6, 5), 2, (2, 3), (2, 1), (1, 0), 1, 1, False),
    ((2, 4, 5, 6), 4, 3, 2, 1, 1, 2, True),
    ((1, 2, 7, 6), 2, (3, 2), 1, (2, 1), (2, 1), 1, True),
    ((1, 3, 4, 4), 3, 1, 1, 0, 1, 3, True),  # depthwise 1x1
]


@pytest.mark.parametrize("shape,o,k,s,p,d,g,bias", GRID)
def test_conv2d_matches_loops_and_gradcheck(shape, o, k, s, p, d, g, bias, device, rng):
    kh, kw = (k, k) if isinstance(k, int) else k
    x = _t(rng.standard_normal(shape), device)
    w = _t(rng.standard_normal((o, shape[1] // g, kh, kw)), device)
    b = _t(rng.standard_normal(o), device) if bias else None
    pair = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731
    expect = _reference_conv(x.numpy(), w.numpy(), None if b is None else b.numpy(), pair(s), pair(p), pair(d), g)
    y = F.conv2d(x, w, b, s, p, d, g)
    np.testing.assert_allclose(y.numpy(), expect, atol=1e-10)
    if bias:
        assert mdl.gradcheck(lambda u, v, c: F.conv2d(u, v, c, s, p, d, g), (x, w, b))
    else:
        assert mdl.gradcheck(lambda u, v: F.conv2d(u, v, None, s, p, d, g), (x, w))


@pytest.mark.parametrize("k,d", [(3, 1), (2, 1), ((2, 3), (1, 2))])
def test_conv2d_same_keeps_size_and_valid_is_zero_padding(k, d, device, rng):
    x = _t(rng.standard_normal((1, 2, 5, 6)), device)
    kh, kw = (k, k) if isinstance(k, int) else k
    w = _t(rng.standard_normal((3, 2, kh, kw)), device)
    y = F.conv2d(x, w, padding="same", dilation=d)
    assert y.shape == (1, 3, 5, 6)
    assert mdl.gradcheck(lambda u, v: F.conv2d(u, v, padding="same", dilation=d), (x, w))
    np.testing.assert_allclose(F.conv2d(x, w, padding="valid").numpy(), F.conv2d(x, w).numpy())


def test_conv2d_output_feeds_next_conv(device, rng):
    """Conv outputs are transposed views; a second conv and its gradient must not care."""
    x = _t(rng.standard_normal((3, 2, 6, 6)), device)
    w1 = _t(rng.standard_normal((4, 2, 3, 3)), device)
    w2 = _t(rng.standard_normal((2, 4, 2, 2)), device)
    assert mdl.gradcheck(lambda u, a, b: F.conv2d(F.conv2d(u, a, padding=1), b, stride=2), (x, w1, w2))


def test_im2col_by_hand_and_col2im_adds():
    x = mdl.tensor(np.arange(9.0).reshape(1, 1, 3, 3))
    cols = F.im2col(x, 2)
    assert cols.shape == (1, 4, 4)
    # column 0 is the top-left 2x2 patch [0, 1, 3, 4]; row 0 is each patch's top-left pixel
    np.testing.assert_array_equal(cols.numpy()[0, :, 0], [0, 1, 3, 4])
    np.testing.assert_array_equal(cols.numpy()[0, 0], [0, 1, 3, 4])
    back = F.col2im(mdl.tensor(np.ones((1, 4, 4))), (3, 3), 2)
    # each pixel comes back once per patch that covers it
    np.testing.assert_array_equal(back.numpy()[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


@pytest.mark.parametrize("k,s,p,d", [(3, 1, 0, 1), ((2, 3), (2, 1), (1, 2), 1), (2, 2, 1, 2)])
def test_im2col_col2im_are_adjoint(k, s, p, d, device, rng):
    """<im2col(x), y> == <x, col2im(y)>: why col2im adds."""
    x = _t(rng.standard_normal((2, 3, 7, 6)), device, grad=False)
    cols = F.im2col(x, k, s, p, d)
    y = _t(rng.standard_normal(cols.shape), device, grad=False)
    back = F.col2im(y, (7, 6), k, s, p, d)
    assert back.shape == x.shape
    np.testing.assert_allclose((cols.numpy() * y.numpy()).sum(), (x.numpy() * back.numpy()).sum(), rtol=1e-10)


def test_im2col_col2im_gradcheck(device, rng):
    x = _t(rng.standard_normal((1, 2, 4, 5)), device)
    assert mdl.gradcheck(lambda u: F.im2col(u, (2, 3), 1, 1, 1), (x,))
    y = _t(rng.standard_normal((1, 2 * 4, 12)), device)
    assert mdl.gradcheck(lambda u: F.col2im(u, (4, 5), 2, 1, 0, 1), (y,))


def test_float32_stays_float32(device, rng):
    x = mdl.tensor(rng.standard_normal((2, 1, 5, 5)).astype(np.float32), requires_grad=True, device=device)
    w = mdl.tensor(rng.standard_normal((2, 1, 3, 3)).astype(np.float32), requires_grad=True, device=device)
    y = F.conv2d(x, w)
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32 and w.grad.dtype == np.float32


def test_conv2d_bad_input():
    x = mdl.tensor(np.ones((1, 3, 5, 5)))
    w = mdl.tensor(np.ones((4, 3, 3, 3)))
    with pytest.raises(ValueError, match=r"4-D \(N, C, H, W\), got shape \(3, 5, 5\)"):
        F.conv2d(mdl.tensor(np.ones((3, 5, 5))), w)
    with pytest.raises(ValueError, match=r"expected input with 3 channels.*got 2 channels"):
        F.conv2d(mdl.tensor(np.ones((1, 2, 5, 5))), w)
    with pytest.raises(ValueError, match=r"spans 7 pixels of height.*would be -1"):
        F.conv2d(mdl.tensor(np.ones((1, 3, 5, 5))), mdl.tensor(np.ones((4, 3, 7, 3))))
    with pytest.raises(ValueError, match=r"stride must be >= 1, got 0"):
        F.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match=r"padding must be >= 0, got -1"):
        F.conv2d(x, w, padding=-1)
    with pytest.raises(ValueError, match=r"input channels \(3\) must be divisible by groups \(2\)"):
        F.conv2d(x, mdl.tensor(np.ones((4, 1, 3, 3))), groups=2)
    with pytest.raises(ValueError, match=r"'same' needs stride 1"):
        F.conv2d(x, w, stride=2, padding="same")
    with pytest.raises(TypeError, match=r"stride must be an int or a pair"):
        F.conv2d(x, w, stride=(1, 2, 3))
    with pytest.raises(ValueError, match=r"bias must have shape \(4,\)"):
        F.conv2d(x, w, mdl.tensor(np.ones(3)))


# ---- an empty batch (N = 0) gives the empty output of the right shape, as PyTorch
@pytest.mark.parametrize("kw", [dict(padding=1), dict(stride=2), dict(groups=3, dilation=2), dict(padding="same")])
def test_conv2d_on_an_empty_batch(kw, device):
    layer = nn.Conv2d(3, 6, 3, **kw).to(device)
    x = mdl.tensor(np.zeros((0, 3, 9, 9), dtype=np.float32), requires_grad=True, device=device)
    full = layer(mdl.tensor(np.zeros((2, 3, 9, 9), dtype=np.float32), device=device))
    y = layer(x)  # before: "cannot reshape array of size 0"
    assert y.shape == (0,) + full.shape[1:] and y.dtype == np.float32
    y.sum().backward()
    assert x.grad.shape == (0, 3, 9, 9)
    assert backend.to_numpy(layer.weight.grad).shape == layer.weight.shape
    assert not backend.to_numpy(layer.weight.grad).any() and not backend.to_numpy(layer.bias.grad).any()


def test_im2col_and_col2im_on_an_empty_batch(device):
    x = mdl.tensor(np.zeros((0, 2, 5, 5)), requires_grad=True, device=device)
    cols = F.im2col(x, 3, padding=1)
    assert cols.shape == (0, 18, 25)
    cols.sum().backward()
    assert x.grad.shape == (0, 2, 5, 5)
    assert F.col2im(cols, (5, 5), 3, padding=1).shape == (0, 2, 5, 5)
