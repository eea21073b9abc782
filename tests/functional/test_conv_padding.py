"""conv2d, im2col and col2im with a padding of (left, right, top, bottom): values, gradients, adjointness, errors."""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F
from minidl.functional._windows import conv_arguments


def _t(a, device, grad=True):
    return mdl.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad, device=device)


def test_the_4_tuple_is_read_as_F_pad_reads_it():
    """(left, right, top, bottom), the width first: kept inside as ((top, bottom), (left, right))."""
    assert conv_arguments(3, 1, (1, 2, 3, 4), 1, "conv2d")[2] == ((3, 4), (1, 2))
    assert conv_arguments(3, 1, (1, 2), 1, "conv2d")[2] == ((1, 1), (2, 2))  # the pair stays (h, w)
    assert conv_arguments(3, 1, [0, 1, 0, 1], 1, "conv2d")[2] == ((0, 1), (0, 1))


def test_conv2d_by_hand_with_padding_only_on_the_right_and_below(device):
    x = mdl.tensor(np.arange(1.0, 5.0).reshape(1, 1, 2, 2), device=device)  # [[1, 2], [3, 4]]
    w = mdl.tensor(np.ones((1, 1, 2, 2)), device=device)                    # the sum of each 2x2 window
    y = F.conv2d(x, w, padding=(0, 1, 0, 1))                                # x padded to [[1,2,0],[3,4,0],[0,0,0]]
    np.testing.assert_array_equal(y.numpy()[0, 0], [[10, 6], [7, 4]])
    y = F.conv2d(x, w, padding=(1, 0, 0, 0))                                # one zero column on the left
    np.testing.assert_array_equal(y.numpy()[0, 0], [[4, 10]])


@pytest.mark.parametrize("padding, options", [
    ((1, 2, 0, 3), dict()),
    ((0, 1, 1, 0), dict(stride=2)),
    ((2, 0, 1, 1), dict(dilation=(2, 1))),
    ((1, 1, 0, 2), dict(groups=2)),
    ((0, 2, 2, 1), dict(groups=4)),  # depthwise
])
def test_conv2d_with_a_4_tuple_is_conv2d_of_the_padded_input(padding, options, device, rng):
    """conv2d(x, w, padding=p) == conv2d(F.pad(x, p), w): what PyTorch users write instead."""
    x = _t(rng.standard_normal((2, 4, 5, 6)), device)
    w = _t(rng.standard_normal((4, 4 // options.get("groups", 1), 3, 2)), device)
    y = F.conv2d(x, w, padding=padding, **options)
    np.testing.assert_allclose(y.numpy(), F.conv2d(F.pad(x, padding), w, **options).numpy(), rtol=1e-12, atol=1e-12)
    left, right, top, bottom = padding
    d = options.get("dilation", (1, 1))
    s = options.get("stride", 1)
    assert y.shape[2:] == ((5 + top + bottom - d[0] * 2 - 1) // s + 1, (6 + left + right - d[1] - 1) // s + 1)
    assert mdl.gradcheck(lambda u, v: F.conv2d(u, v, padding=padding, **options), (x, w))


def test_same_with_an_even_kernel_is_the_4_tuple_with_the_extra_pixel_after(device, rng):
    x = _t(rng.standard_normal((1, 2, 5, 6)), device, grad=False)
    w = _t(rng.standard_normal((3, 2, 2, 4)), device, grad=False)
    np.testing.assert_allclose(F.conv2d(x, w, padding="same").numpy(),
                               F.conv2d(x, w, padding=(1, 2, 0, 1)).numpy(), rtol=1e-12)


def test_im2col_col2im_with_a_4_tuple_are_adjoint_and_differentiable(device, rng):
    padding = (1, 0, 2, 1)
    x = _t(rng.standard_normal((2, 3, 5, 4)), device)
    cols = F.im2col(x, (2, 3), 1, padding)
    assert cols.shape == (2, 3 * 6, (5 + 3 - 1) * (4 + 1 - 2))
    np.testing.assert_allclose(cols.numpy(), F.im2col(F.pad(x, padding), (2, 3)).numpy())
    y = _t(rng.standard_normal(cols.shape), device)
    back = F.col2im(y, (5, 4), (2, 3), 1, padding)
    np.testing.assert_allclose((cols.numpy() * y.numpy()).sum(), (x.numpy() * back.numpy()).sum(), rtol=1e-10)
    assert mdl.gradcheck(lambda u: F.im2col(u, (2, 3), 1, padding), (x,))
    assert mdl.gradcheck(lambda u: F.col2im(u, (5, 4), (2, 3), 1, padding), (y,))


def test_bad_4_tuples_say_what_was_expected():
    x = mdl.tensor(np.ones((1, 3, 5, 5)))
    w = mdl.tensor(np.ones((4, 3, 3, 3)))
    with pytest.raises(TypeError, match=r"padding must be an int, a pair \(h, w\), a 4-tuple \(left, right, top, "
                                        r"bottom\), 'same' or 'valid', got \(1, 1, 1\) \(length 3\)"):
        F.conv2d(x, w, padding=(1, 1, 1))
    with pytest.raises(ValueError, match=r"conv2d: padding must be >= 0, got \(1, -1, 0, 0\)"):
        F.conv2d(x, w, padding=(1, -1, 0, 0))
    with pytest.raises(TypeError, match=r"padding must be an int.*got \(1, 1.5, 0, 0\)"):
        F.conv2d(x, w, padding=(1, 1.5, 0, 0))
    with pytest.raises(ValueError, match=r"padding must be an int, a pair, a 4-tuple.*got 'full'"):
        F.conv2d(x, w, padding="full")
    with pytest.raises(ValueError, match=r"im2col: padding must be >= 0, got \(0, 0, -2, 0\)"):
        F.im2col(x, 3, padding=(0, 0, -2, 0))
    with pytest.raises(ValueError, match=r"spans 3 pixels of height, more than the padded input's 2"):
        F.conv2d(mdl.tensor(np.ones((1, 3, 1, 5))), w, padding=(0, 0, 1, 0))
