"""conv1d: hand values, the loops of the definition, gradcheck over every option, errors."""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F


def _t(a, device, grad=True):
    return mdl.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad, device=device)


def test_conv1d_by_hand(device):
    x = mdl.tensor(np.arange(6.0).reshape(1, 1, 6), device=device)
    w = mdl.tensor(np.array([[[1.0, 0.0, -1.0]]]), device=device)  # x[t] - x[t+2]
    y = F.conv1d(x, w, mdl.tensor(np.array([0.5]), device=device))
    np.testing.assert_array_equal(y.numpy(), np.full((1, 1, 4), -2.0 + 0.5))
    y = F.conv1d(x, w, stride=2, padding=1)  # padded 0 0 1 2 3 4 5 0, windows at 0, 2, 4
    np.testing.assert_array_equal(y.numpy()[0, 0], [0 - 1, 1 - 3, 3 - 5])
    y = F.conv1d(x, w, padding=(2, 0))       # two zeros on the left only: 0 0 | 0 1 2 3 4 5
    np.testing.assert_array_equal(y.numpy()[0, 0], [0 - 0, 0 - 1, 0 - 2, 1 - 3, 2 - 4, 3 - 5])


def _reference_conv1d(x, w, b, stride, left, right, dilation, groups):
    """The definition, in loops: y[n, o, t] = b[o] + sum_{c, j} w[o, c, j] * xpad[n, c', t*s + j*d]."""
    n, c, length = x.shape
    o, cg, k = w.shape
    xpad = np.pad(x, ((0, 0), (0, 0), (left, right)))
    out = (length + left + right - dilation * (k - 1) - 1) // stride + 1
    y = np.zeros((n, o, out))
    for oc in range(o):
        g = oc // (o // groups)
        for t in range(out):
            patch = xpad[:, g * cg:(g + 1) * cg, t * stride: t * stride + dilation * (k - 1) + 1: dilation]
            y[:, oc, t] = (patch * w[oc]).sum(axis=(1, 2)) + (0 if b is None else b[oc])
    return y


GRID = [
    # C, O, k, stride, padding, (left, right) it means, dilation, groups, bias
    (2, 3, 3, 1, 0, (0, 0), 1, 1, True),
    (2, 3, 3, 2, 1, (1, 1), 1, 1, False),
    (2, 2, 2, 1, "same", (0, 1), 1, 1, True),      # even kernel: the extra zero on the right
    (2, 2, 3, 1, "same", (2, 2), 2, 1, False),     # dilated "same"
    (2, 3, 3, 1, "valid", (0, 0), 1, 1, True),
    (2, 3, 3, 2, (2, 0), (2, 0), 1, 1, True),       # (left, right)
    (2, 3, 3, 1, (3,), (3, 3), 2, 1, True),         # a 1-tuple, as nn.Conv1d keeps it
    (4, 6, 3, 1, 1, (1, 1), 1, 2, True),            # groups
    (3, 3, 5, 2, 2, (2, 2), 1, 3, False),           # depthwise (conv2d's depthwise fast path)
]


@pytest.mark.parametrize("c,o,k,s,p,lr,d,g,bias", GRID)
def test_conv1d_matches_loops_and_gradcheck(c, o, k, s, p, lr, d, g, bias, device, rng):
    x = _t(rng.standard_normal((2, c, 9)), device)
    w = _t(rng.standard_normal((o, c // g, k)), device)
    b = _t(rng.standard_normal(o), device) if bias else None
    y = F.conv1d(x, w, b, s, p, d, g)
    expect = _reference_conv1d(x.numpy(), w.numpy(), None if b is None else b.numpy(), s, *lr, d, g)
    np.testing.assert_allclose(y.numpy(), expect, atol=1e-12)
    if p == "same":
        assert y.shape == (2, o, 9)
    if bias:
        assert mdl.gradcheck(lambda u, v, a: F.conv1d(u, v, a, s, p, d, g), (x, w, b))
    else:
        assert mdl.gradcheck(lambda u, v: F.conv1d(u, v, None, s, p, d, g), (x, w))


def test_conv1d_is_conv2d_of_height_1(device, rng):
    x = _t(rng.standard_normal((2, 4, 10)), device, grad=False)
    w = _t(rng.standard_normal((6, 2, 3)), device, grad=False)
    y1 = F.conv1d(x, w, stride=2, padding=(1, 2), dilation=2, groups=2)
    y2 = F.conv2d(x.reshape(2, 4, 1, 10), w.reshape(6, 2, 1, 3), stride=(1, 2), padding=(1, 2, 0, 0),
                  dilation=(1, 2), groups=2)
    np.testing.assert_allclose(y1.numpy(), y2.numpy()[:, :, 0], rtol=1e-12)


def test_conv1d_float32_and_an_empty_batch(device, rng):
    x = mdl.tensor(np.zeros((0, 2, 7), dtype=np.float32), requires_grad=True, device=device)
    w = mdl.tensor(rng.standard_normal((3, 2, 3)).astype(np.float32), requires_grad=True, device=device)
    y = F.conv1d(x, w, padding=1)
    assert y.shape == (0, 3, 7) and y.dtype == np.float32
    y.sum().backward()
    assert x.grad.shape == (0, 2, 7) and w.grad.dtype == np.float32


def test_conv1d_bad_input():
    x = mdl.tensor(np.ones((1, 3, 8)))
    w = mdl.tensor(np.ones((4, 3, 3)))
    with pytest.raises(ValueError, match=r"conv1d: input must be 3-D \(N, C, L\), got shape \(1, 3, 8, 1\) \(4-D\)"):
        F.conv1d(mdl.tensor(np.ones((1, 3, 8, 1))), w)
    with pytest.raises(ValueError, match=r"weight must be 3-D \(out_channels, in_channels/groups, k\)"):
        F.conv1d(x, mdl.tensor(np.ones((4, 3, 3, 3))))
    with pytest.raises(ValueError, match=r"conv1d: expected input with 3 channels.*got 2 channels"):
        F.conv1d(mdl.tensor(np.ones((1, 2, 8))), w)
    with pytest.raises(ValueError, match=r"conv1d: input channels \(3\) must be divisible by groups \(2\)"):
        F.conv1d(x, mdl.tensor(np.ones((4, 1, 3))), groups=2)
    with pytest.raises(ValueError, match=r"out_channels \(3\) must be divisible by groups \(2\)"):
        F.conv1d(mdl.tensor(np.ones((1, 4, 8))), mdl.tensor(np.ones((3, 2, 3))), groups=2)
    with pytest.raises(ValueError, match=r"conv1d: padding='same' needs stride 1, got stride 2"):
        F.conv1d(x, w, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"padding must be an int, \(left, right\), 'same' or 'valid', got 'full'"):
        F.conv1d(x, w, padding="full")
    with pytest.raises(TypeError, match=r"padding must be an int, \(left, right\).*got \(1, 1, 1\)"):
        F.conv1d(x, w, padding=(1, 1, 1))
    with pytest.raises(ValueError, match=r"conv1d: padding must be an integer >= 0, got -1"):
        F.conv1d(x, w, padding=(-1, 0))
    with pytest.raises(ValueError, match=r"conv1d: stride must be a positive integer, got 0"):
        F.conv1d(x, w, stride=0)
    with pytest.raises(ValueError, match=r"spans 9 positions, more than the padded input's 8"):
        F.conv1d(x, w, dilation=4)
    with pytest.raises(ValueError, match=r"bias must have shape \(4,\)"):
        F.conv1d(x, w, mdl.tensor(np.ones(3)))
