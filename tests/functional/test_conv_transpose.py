"""conv_transpose2d: hand values, the adjoint identity with conv2d, sizes, gradcheck over every option, errors."""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F
from minidl.functional.conv_transpose import output_padding_for, transposed_size


def _t(a, device, grad=True):
    return mdl.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad, device=device)


def test_conv_transpose2d_by_hand(device):
    x = mdl.tensor(np.arange(1.0, 5.0).reshape(1, 1, 2, 2), device=device)  # [[1, 2], [3, 4]]
    w = mdl.tensor(np.ones((1, 1, 2, 2)), device=device)
    # stride 1: every pixel spreads over a 2x2 block; where blocks overlap they add
    y = F.conv_transpose2d(x, w)
    np.testing.assert_array_equal(y.numpy()[0, 0], [[1, 3, 2], [4, 10, 6], [3, 7, 4]])
    # stride 2: the blocks tile the output without overlap (nearest-neighbour up-sampling)
    y = F.conv_transpose2d(x, w, stride=2)
    np.testing.assert_array_equal(y.numpy()[0, 0], np.kron([[1, 2], [3, 4]], np.ones((2, 2))))
    # padding crops what conv2d would have padded: the middle 2x2 of the 4x4 above
    y = F.conv_transpose2d(x, w, stride=2, padding=1)
    np.testing.assert_array_equal(y.numpy()[0, 0], [[1, 2], [3, 4]])
    # output_padding adds a row below and a column on the right that no kernel reaches: the bias alone
    y = F.conv_transpose2d(x, w, mdl.tensor(np.array([0.5]), device=device), stride=2, output_padding=1)
    np.testing.assert_array_equal(y.numpy()[0, 0], np.pad(np.kron([[1, 2], [3, 4]], np.ones((2, 2))), (0, 1)) + 0.5)


def test_two_input_and_two_output_channels_by_hand(device):
    """weight[c_in, c_out]: input channel c_in's kernel into output channel c_out."""
    x = mdl.tensor(np.array([1.0, 10.0]).reshape(1, 2, 1, 1), device=device)
    w = mdl.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(2, 2, 1, 1), device=device)
    np.testing.assert_array_equal(F.conv_transpose2d(x, w).numpy().ravel(), [1 + 30, 2 + 40])
    np.testing.assert_array_equal(F.conv_transpose2d(x, w[:, :1], groups=2).numpy().ravel(), [1, 30])


OPTIONS = [  # (C_in, C_out, kernel, options)
    (3, 2, 3, dict()),
    (3, 2, 3, dict(stride=2)),
    (3, 2, 3, dict(stride=2, padding=1, output_padding=1)),
    (2, 3, (2, 3), dict(stride=(2, 1), padding=(1, 0))),
    (2, 2, 3, dict(dilation=2)),
    (2, 2, 3, dict(dilation=2, stride=2, padding=2, output_padding=1)),
    (4, 6, 3, dict(groups=2, padding=1)),
    (4, 4, 3, dict(groups=4, stride=2, output_padding=1)),  # depthwise
    (2, 3, 3, dict(padding=(1, 0, 2, 1), stride=2)),         # (left, right, top, bottom)
]


def _input_and_weight(c_in, c_out, k, options, device, rng, grad=False):
    """x (2, C_in, 4, 5) and W (C_in, C_out/groups, kh, kw), drawn from rng."""
    kh, kw = (k, k) if isinstance(k, int) else k
    x = _t(rng.standard_normal((2, c_in, 4, 5)), device, grad)
    w = _t(rng.standard_normal((c_in, c_out // options.get("groups", 1), kh, kw)), device, grad)
    return x, w


@pytest.mark.parametrize("c_in, c_out, k, options", OPTIONS, ids=[str(o) for *_, o in OPTIONS])
def test_conv_transpose2d_is_the_adjoint_of_conv2d(c_in, c_out, k, options, device, rng):
    """<conv2d(z, W), x> = <z, conv_transpose2d(x, W)>, with the same stride, padding, dilation and groups."""
    x, w = _input_and_weight(c_in, c_out, k, options, device, rng)
    out = F.conv_transpose2d(x, w, **options)
    conv_options = {key: v for key, v in options.items() if key != "output_padding"}
    z = _t(rng.standard_normal(out.shape), device, grad=False)
    assert F.conv2d(z, w, **conv_options).shape == x.shape  # output_padding picked z's size among those
    lhs = (F.conv2d(z, w, **conv_options).numpy() * x.numpy()).sum()
    rhs = (z.numpy() * out.numpy()).sum()
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10)


@pytest.mark.parametrize("c_in, c_out, k, options", OPTIONS, ids=[str(o) for *_, o in OPTIONS])
def test_conv_transpose2d_is_conv2d_s_input_gradient(c_in, c_out, k, options, device, rng):
    """The gradient of conv2d with respect to its input, for upstream x, is conv_transpose2d(x, W)."""
    x, w = _input_and_weight(c_in, c_out, k, options, device, rng)
    out = F.conv_transpose2d(x, w, **options)
    z = _t(np.zeros(out.shape), device)
    F.conv2d(z, w, **{key: v for key, v in options.items() if key != "output_padding"}).backward(x.data)
    np.testing.assert_allclose(out.numpy(), mdl.backend.to_numpy(z.grad), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("c_in, c_out, k, options", OPTIONS, ids=[str(o) for *_, o in OPTIONS])
@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose2d_sizes_and_gradcheck(c_in, c_out, k, options, bias, device, rng):
    x, w = _input_and_weight(c_in, c_out, k, options, device, rng, grad=True)
    b = _t(rng.standard_normal(c_out), device) if bias else None
    kh, kw = w.shape[2:]
    y = F.conv_transpose2d(x, w, b, **options)
    pair = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731
    s, d, op = (pair(options.get(key, default)) for key, default in
                (("stride", 1), ("dilation", 1), ("output_padding", 0)))
    p = options.get("padding", 0)
    pads = (p[2] + p[3], p[0] + p[1]) if isinstance(p, tuple) and len(p) == 4 else tuple(2 * q for q in pair(p))
    expect = tuple((n - 1) * s[a] - pads[a] + d[a] * ((kh, kw)[a] - 1) + op[a] + 1 for a, n in enumerate((4, 5)))
    assert y.shape == (2, c_out) + expect
    if bias:
        assert mdl.gradcheck(lambda u, v, c: F.conv_transpose2d(u, v, c, **options), (x, w, b))
    else:
        assert mdl.gradcheck(lambda u, v: F.conv_transpose2d(u, v, **options), (x, w))


def test_output_padding_below_the_dilation_is_allowed_and_its_rows_get_only_the_bias(device, rng):
    """PyTorch's rule: output_padding < stride *or* < dilation. With stride 1, dilation 2 the extra row is bias."""
    x = _t(rng.standard_normal((1, 2, 3, 3)), device)
    w = _t(rng.standard_normal((2, 1, 2, 2)), device)
    b = _t([0.25], device)
    y = F.conv_transpose2d(x, w, b, output_padding=1, dilation=2)
    assert y.shape == (1, 1, 3 - 1 + 2 + 1 + 1, 3 - 1 + 2 + 1 + 1)
    np.testing.assert_allclose(y.numpy()[0, 0, -1], 0.25)
    np.testing.assert_allclose(y.numpy()[0, 0, :, -1], 0.25)
    assert mdl.gradcheck(lambda u, v, c: F.conv_transpose2d(u, v, c, output_padding=1, dilation=2), (x, w, b))


def test_the_size_formula_and_output_padding_for():
    assert transposed_size(4, kernel=3, stride=2, pad=2, dilation=1, output_padding=0) == 7
    assert transposed_size(4, kernel=3, stride=2, pad=2, dilation=1, output_padding=1) == 8
    # conv2d(k=3, s=2, p=1) maps both 7 and 8 to 4: output_size says which one comes back
    assert output_padding_for((1, 1, 4, 4), (7, 8), 3, 2, 1, 1, "t") == (0, 1)
    assert output_padding_for((1, 1, 4, 4), (1, 1, 8, 7), 3, 2, 1, 1, "t") == (1, 0)
    with pytest.raises(ValueError, match=r"requested an output size of \(9, 8\), but for an input of \(4, 4\) "
                                         r"the sizes range from \(7, 7\) to \(8, 8\)"):
        output_padding_for((1, 1, 4, 4), (9, 8), 3, 2, 1, 1, "t")
    with pytest.raises(ValueError, match=r"output_size must be \(H_out, W_out\) or \(N, C, H_out, W_out\)"):
        output_padding_for((1, 1, 4, 4), (8,), 3, 2, 1, 1, "t")


def test_float32_and_an_empty_batch(device, rng):
    x = mdl.tensor(np.zeros((0, 2, 3, 3), dtype=np.float32), requires_grad=True, device=device)
    w = mdl.tensor(rng.standard_normal((2, 3, 3, 3)).astype(np.float32), requires_grad=True, device=device)
    b = mdl.tensor(np.ones(3, dtype=np.float32), requires_grad=True, device=device)
    y = F.conv_transpose2d(x, w, b, stride=2)
    assert y.shape == (0, 3, 7, 7) and y.dtype == np.float32
    y.sum().backward()
    assert x.grad.shape == (0, 2, 3, 3) and w.grad.dtype == np.float32
    assert not mdl.backend.to_numpy(w.grad).any() and not mdl.backend.to_numpy(b.grad).any()


def test_conv_transpose2d_bad_input():
    x = mdl.tensor(np.ones((1, 4, 5, 5)))
    w = mdl.tensor(np.ones((4, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"conv_transpose2d: input must be 4-D \(N, C, H, W\), got shape \(4, 5, 5\)"):
        F.conv_transpose2d(mdl.tensor(np.ones((4, 5, 5))), w)
    with pytest.raises(ValueError, match=r"weight must be 4-D \(in_channels, out_channels/groups, kh, kw\)"):
        F.conv_transpose2d(x, mdl.tensor(np.ones((4, 2, 3))))
    with pytest.raises(ValueError, match=r"expected input with 4 channels .*got 3 channels"):
        F.conv_transpose2d(mdl.tensor(np.ones((1, 3, 5, 5))), w)
    with pytest.raises(ValueError, match=r"input channels \(4\) must be divisible by groups \(3\)"):
        F.conv_transpose2d(x, w, groups=3)
    with pytest.raises(ValueError, match=r"bias must have shape \(4,\) \(out_channels\), got \(2,\)"):
        F.conv_transpose2d(x, w, mdl.tensor(np.ones(2)), groups=2)
    with pytest.raises(ValueError, match=r"output_padding must be smaller than the stride or the dilation.*"
                                         r"got output_padding \(2, 2\), stride \(2, 2\), dilation \(1, 1\)"):
        F.conv_transpose2d(x, w, stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"output_padding must be smaller"):
        F.conv_transpose2d(x, w, output_padding=(0, 1))
    with pytest.raises(ValueError, match=r"takes no 'same' or 'valid'"):
        F.conv_transpose2d(x, w, padding="same")
    with pytest.raises(ValueError, match=r"the output would be -1x-1.*the padding is too large"):
        F.conv_transpose2d(mdl.tensor(np.ones((1, 4, 1, 1))), w, padding=2)
    with pytest.raises(ValueError, match=r"padding must be >= 0, got \(0, 0, 0, -1\)"):
        F.conv_transpose2d(x, w, padding=(0, 0, 0, -1))
    with pytest.raises(TypeError, match=r"input dtype float32 does not match weight dtype float64"):
        F.conv_transpose2d(mdl.tensor(np.ones((1, 4, 5, 5), dtype=np.float32)), w)
