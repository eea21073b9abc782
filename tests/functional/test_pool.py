"""Pooling: hand values, arg-max routing, gradcheck (square and not), errors."""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F


def _t(a, device, grad=True):
    return mdl.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad, device=device)


def test_max_pool_by_hand_routes_gradient_to_argmax(device):
    x = _t([[[[1, 5, 2, 0], [3, 4, 8, 1], [0, 0, 1, 1], [2, 9, 1, 7]]]], device)
    y = F.max_pool2d(x, 2)
    np.testing.assert_array_equal(y.numpy()[0, 0], [[5, 8], [9, 7]])
    y.backward(mdl.tensor(np.array([[[[10.0, 20.0], [30.0, 40.0]]]]), device=device))
    np.testing.assert_array_equal(
        mdl.tensor(x.grad).numpy()[0, 0], [[0, 10, 0, 0], [0, 0, 20, 0], [0, 0, 0, 0], [0, 30, 0, 40]]
    )


@pytest.mark.parametrize("k,s", [(2, 2), (2, 1), (3, 2)])
def test_max_pool_ties_go_to_the_first(k, s, device):
    x = _t(np.zeros((1, 1, 4, 4)), device)
    F.max_pool2d(x, k, s).sum().backward()
    g = mdl.tensor(x.grad).numpy()[0, 0]
    oh = (4 - k) // s + 1
    assert g.sum() == oh * oh  # one unit of gradient per window, not one per tied pixel
    assert g[0, 0] == 1


def test_max_pool_padding_is_minus_infinity(device):
    x = _t(-np.ones((1, 1, 2, 2)), device)
    y = F.max_pool2d(x, 2, stride=1, padding=1)  # zero padding would give 0 at the borders
    np.testing.assert_array_equal(y.numpy(), -np.ones((1, 1, 3, 3)))


POOLS = [(2, None, 0), ((2, 3), (1, 2), (1, 1)), (3, 2, 1), ((3, 1), (2, 1), 0), (2, 2, 0)]


@pytest.mark.parametrize("k,s,p", POOLS)
def test_max_pool_gradcheck(k, s, p, device, rng):
    x = _t(rng.permutation(2 * 3 * 7 * 6).reshape(2, 3, 7, 6) * 0.1, device)  # distinct: no ties
    assert mdl.gradcheck(lambda u: F.max_pool2d(u, k, s, p), (x,))


def test_max_pool_on_conv_output(device, rng):
    """The tiled fast path on a conv output (a transposed view) and an odd size (cropping)."""
    x = _t(rng.standard_normal((3, 2, 8, 8)), device)
    w = _t(rng.standard_normal((4, 2, 3, 3)), device)
    assert mdl.gradcheck(lambda u, v: F.max_pool2d(F.conv2d(u, v), 2), (x, w))


def test_avg_pool_by_hand(device):
    x = _t(np.arange(12.0).reshape(1, 1, 3, 4), device)
    y = F.avg_pool2d(x, (1, 2))  # non-square: pairs along the width
    np.testing.assert_array_equal(y.numpy()[0, 0], [[0.5, 2.5], [4.5, 6.5], [8.5, 10.5]])
    y = F.avg_pool2d(x, (3, 2), stride=(1, 2))
    np.testing.assert_array_equal(y.numpy()[0, 0], [[4.5, 6.5]])
    y = F.avg_pool2d(_t(np.ones((1, 1, 2, 2)), device), 2, stride=1, padding=1, count_include_pad=False)
    np.testing.assert_array_equal(y.numpy(), np.ones((1, 1, 3, 3)))


@pytest.mark.parametrize("k,s,p", POOLS)
@pytest.mark.parametrize("include", [True, False])
def test_avg_pool_gradcheck(k, s, p, include, device, rng):
    x = _t(rng.standard_normal((2, 2, 7, 6)), device)
    assert mdl.gradcheck(lambda u: F.avg_pool2d(u, k, s, p, count_include_pad=include), (x,))


@pytest.mark.parametrize("out", [1, (2, 3), (3, 4), (5, 6)])
def test_adaptive_avg_pool(out, device, rng):
    x = _t(rng.standard_normal((2, 2, 5, 6)), device)
    y = F.adaptive_avg_pool2d(x, out)
    oh, ow = (out, out) if isinstance(out, int) else out
    assert y.shape == (2, 2, oh, ow)
    if out == 1:
        np.testing.assert_allclose(y.numpy()[..., 0, 0], x.numpy().mean(axis=(2, 3)))
    if out == (5, 6):
        np.testing.assert_allclose(y.numpy(), x.numpy())
    assert mdl.gradcheck(lambda u: F.adaptive_avg_pool2d(u, out), (x,))


def test_adaptive_bins_by_hand():
    x = mdl.tensor(np.arange(5.0).reshape(1, 1, 1, 5))
    # PyTorch's bins for 5 -> 3: [0, 2), [1, 4), [3, 5)
    np.testing.assert_allclose(F.adaptive_avg_pool2d(x, (1, 3)).numpy()[0, 0, 0], [0.5, 2.0, 3.5])


def test_pool_bad_input():
    x = mdl.tensor(np.ones((1, 1, 4, 4)))
    with pytest.raises(ValueError, match=r"4-D \(N, C, H, W\), got shape \(4, 4\)"):
        F.max_pool2d(mdl.tensor(np.ones((4, 4))), 2)
    with pytest.raises(ValueError, match=r"spans 5 pixels of height.*would be 0"):
        F.avg_pool2d(x, 5)
    with pytest.raises(ValueError, match=r"stride must be >= 1, got 0"):
        F.max_pool2d(x, 2, stride=0)
    with pytest.raises(ValueError, match=r"padding must be >= 0"):
        F.avg_pool2d(x, 2, padding=-1)
    with pytest.raises(ValueError, match=r"at most half the kernel"):
        F.max_pool2d(x, 2, padding=2)


# ---- an empty batch (N = 0): the empty output of the right shape, forward and backward
@pytest.mark.parametrize("pool, out_hw", [
    (lambda v: F.max_pool2d(v, 2), (3, 3)),  # the tiled fast path (7 is not a multiple of 2)
    (lambda v: F.max_pool2d(v, 3, 2, 1), (4, 4)),
    (lambda v: F.avg_pool2d(v, 2), (3, 3)),
    (lambda v: F.avg_pool2d(v, 3, 1, 1, count_include_pad=False), (7, 7)),
    (lambda v: F.adaptive_avg_pool2d(v, (3, 2)), (3, 2)),
    (lambda v: F.adaptive_avg_pool2d(v, 1), (1, 1)),
])
def test_pooling_on_an_empty_batch(pool, out_hw, device):
    x = mdl.tensor(np.zeros((0, 3, 7, 7), dtype=np.float32), requires_grad=True, device=device)
    y = pool(x)
    assert y.shape == (0, 3) + out_hw and y.dtype == np.float32
    y.sum().backward()
    assert x.grad.shape == (0, 3, 7, 7)


def test_pooling_an_empty_conv_output(device):
    from minidl import nn
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                        nn.Linear(4, 2)).to(device)
    y = net(mdl.tensor(np.zeros((0, 1, 8, 8), dtype=np.float32), device=device))
    assert y.shape == (0, 2)
    y.sum().backward()
    assert net[0].weight.grad.shape == (4, 1, 3, 3)
