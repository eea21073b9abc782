"""One axis check everywhere an axis is taken (minidl/functional/_axes.py)."""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F
from minidl import nn
from minidl.functional import shape as S
from minidl.validate import normalize_axes, normalize_axis


def test_helper_ranges():
    assert normalize_axis(-1, 3, "op") == 2 and normalize_axis(2, 3, "op") == 2
    assert normalize_axis(-1, 2, "op", new_axis=True) == 2 and normalize_axis(2, 2, "op", new_axis=True) == 2
    assert normalize_axis(0, 0, "op") == 0 and normalize_axis(-1, 0, "op") == 0  # a scalar counts as 1 axis
    assert normalize_axes(None, 3, "op") == (0, 1, 2) and normalize_axes((-1, 0), 3, "op") == (0, 2)
    assert normalize_axes(0, 0, "op") == () and normalize_axes(-1, 0, "op") == ()
    with pytest.raises(ValueError, match=r"op: axis 3 is out of range for a tensor of 3 dimension\(s\); "
                                         r"expected an axis in \[-3, 2\]"):
        normalize_axis(3, 3, "op")
    with pytest.raises(ValueError, match=r"axis 1 is out of range for a tensor of 0 dimension\(s\)"):
        normalize_axis(1, 0, "op")
    with pytest.raises(TypeError, match=r"op: axis must be an int, got 1.5"):
        normalize_axis(1.5, 2, "op")
    with pytest.raises(ValueError, match=r"names an axis twice"):
        normalize_axes((1, -1), 2, "op")


def test_scalar_squeeze_and_reductions_give_the_scalar_back(device):
    # PyTorch: a 0-d tensor takes dim 0 / -1 (these raised ZeroDivisionError / AxisError)
    t = mdl.tensor(3.0, requires_grad=True, device=device)
    for out in (t.squeeze(0), t.squeeze(-1), t.sum(0), t.mean(-1), t.max(0), t.min(-1), F.sum(t, (0,))):
        assert out.shape == () and out.item() == 3.0
    assert F.softmax(t, 0).item() == 1.0 and F.log_softmax(t, dim=-1).item() == 0.0
    assert t.argmax(0).item() == 0 and t.flatten().shape == (1,) and t.unsqueeze(-1).shape == (1,)
    t.sum(0).backward()
    assert t.grad.item() == 1.0


@pytest.mark.parametrize("call, message", [
    (lambda x: x.squeeze(7), r"squeeze: axis 7 is out of range for a tensor of 4 dimension\(s\) \(shape \(1, 2, 1, 3\)\)"),
    (lambda x: x.squeeze((0, -5)), r"squeeze: axis -5 is out of range for a tensor of 4 dimension"),
    (lambda x: x.unsqueeze(10), r"unsqueeze: axis 10 is out of range for a tensor of 4 dimension\(s\).*\[-5, 4\]"),
    (lambda x: x.unsqueeze(-6), r"unsqueeze: axis -6 is out of range"),
    (lambda x: x.sum(4), r"sum: axis 4 is out of range for a tensor of 4 dimension"),
    (lambda x: x.mean(axis=(1, 9)), r"mean: axis 9 is out of range"),
    (lambda x: x.max(dim=-5), r"max: axis -5 is out of range"),
    (lambda x: x.min(4), r"min: axis 4 is out of range"),
    (lambda x: x.argmax(4), r"argmax: axis 4 is out of range"),
    (lambda x: x.argmin(-5), r"argmin: axis -5 is out of range"),
    (lambda x: F.softmax(x, 4), r"softmax: axis 4 is out of range"),
    (lambda x: F.log_softmax(x, dim=-5), r"log_softmax: axis -5 is out of range"),
    (lambda x: F.cat([x, x], 4), r"cat: axis 4 is out of range"),
    (lambda x: F.stack([x, x], 5), r"stack: axis 5 is out of range.*\[-5, 4\]"),
    (lambda x: x.transpose(0, 1, 2, 4), r"transpose: axis 4 is out of range"),
    (lambda x: x.flatten(4), r"flatten: start_dim 4 is out of range.*expected a start_dim in \[-4, 3\]"),
    (lambda x: x.flatten(0, -5), r"flatten: end_dim -5 is out of range"),
    (lambda x: nn.Flatten(1, 6)(x), r"flatten: end_dim 6 is out of range"),
])
def test_out_of_range_axes_raise_naming_axis_and_ndim(call, message, device):
    x = mdl.tensor(np.ones((1, 2, 1, 3)), device=device)
    with pytest.raises(ValueError, match=message):
        call(x)


def test_squeeze_and_unsqueeze_no_longer_wrap_or_clamp(device):
    x = mdl.tensor(np.ones((2, 3)), device=device)
    # before: unsqueeze(10) clamped to the end, squeeze(7) wrapped to 7 % 4
    with pytest.raises(ValueError, match="unsqueeze: axis 10"):
        x.unsqueeze(10)
    assert x.unsqueeze(2).shape == (2, 3, 1) and x.unsqueeze(-3).shape == (1, 2, 3)
    with pytest.raises(ValueError, match="squeeze: axis 7"):
        mdl.tensor(np.ones((1, 2, 1, 3))).squeeze(7)


def test_cat_of_scalars_and_stack_of_scalars(device):
    a, b = mdl.tensor(1.0, device=device), mdl.tensor(2.0, device=device)
    with pytest.raises(ValueError, match="cat: a 0-d tensor"):
        F.cat([a, b])
    assert F.stack([a, b], -1).tolist() == [1.0, 2.0]


def test_flatten_start_and_end(device):
    x = mdl.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True, device=device)
    assert x.flatten().shape == (24,) and x.flatten(1).shape == (2, 12) and x.flatten(0, 1).shape == (6, 4)
    assert S.flatten(x, -2, -1).shape == (2, 12) and nn.Flatten(0, -2)(x).shape == (6, 4)
    x64 = mdl.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True, dtype=np.float64, device=device)
    assert mdl.gradcheck(lambda v: v.flatten(0, 1) * 2, (x64,))
