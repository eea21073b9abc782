"""F.pad and the padding layers: values by hand, float64 gradient checks for every mode, errors."""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
import minidl.nn.functional as F
from minidl import backend

MODES = ["constant", "reflect", "replicate", "circular"]


@pytest.mark.parametrize("mode, expected", [
    ("constant", [9, 9, 0, 1, 2, 3, 9, 9]),
    ("reflect", [2, 1, 0, 1, 2, 3, 2, 1]),
    ("replicate", [0, 0, 0, 1, 2, 3, 3, 3]),
    ("circular", [2, 3, 0, 1, 2, 3, 0, 1]),
])
def test_values_on_a_row(device, mode, expected):
    x = mdl.tensor(np.arange(4.0), device=device)
    y = F.pad(x, (2, 2), mode, value=9)
    np.testing.assert_array_equal(backend.to_numpy(y.data), expected)


def test_pad_order_is_last_axis_first(device):
    x = mdl.tensor(np.ones((1, 1, 2, 3)), device=device)
    y = F.pad(x, (1, 2, 3, 0))  # width: 1 left, 2 right; height: 3 top, 0 bottom
    assert y.shape == (1, 1, 5, 6)
    data = backend.to_numpy(y.data)[0, 0]
    assert data[3:, 1:4].sum() == 6 and data.sum() == 6


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("pad", [(1, 2), (2, 0, 1, 1), (0, 1, 1, 0, 1, 1)])
def test_gradcheck(device, mode, pad):
    x = mdl.tensor(np.random.default_rng(0).standard_normal((2, 3, 4, 5)), requires_grad=True, device=device)
    assert mdl.gradcheck(lambda t: F.pad(t, pad, mode, value=0.5), [x])


def test_gradient_of_reflect_adds_the_copies():
    """Each input element receives the gradients of every output element that copied it."""
    x = mdl.tensor(np.arange(4.0), requires_grad=True)
    F.pad(x, (2, 2), "reflect").sum().backward()
    # output: c b | a b c d | c b  -> a once, b three times, c three times, d once
    np.testing.assert_array_equal(x.grad, [1, 3, 3, 1])


@pytest.mark.parametrize("args, message", [
    (((1,), "constant"), "integer pairs"),
    (((1, 1, 1, 1, 1, 1, 1, 1, 1, 1), "constant"), "at most 4 axes"),
    (((-1, 1), "constant"), "negative padding"),
    (((1, 1), "mirror"), "mode must be one of"),
    (((5, 5), "reflect"), "smaller than the axis; axis 3 has 5"),
    (((6, 0), "circular"), "at most the axis' size"),
])
def test_bad_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        F.pad(mdl.tensor(np.ones((1, 1, 5, 5))), *args)


@pytest.mark.parametrize("layer, mode", [(nn.ZeroPad2d, "constant"), (nn.ReflectionPad2d, "reflect"),
                                         (nn.ReplicationPad2d, "replicate")])
def test_layers(device, layer, mode):
    x = mdl.tensor(np.random.default_rng(1).standard_normal((2, 3, 4, 4)), device=device)
    np.testing.assert_array_equal(backend.to_numpy(layer((0, 1, 2, 1))(x).data),
                                  backend.to_numpy(F.pad(x, (0, 1, 2, 1), mode).data))
    assert layer(1)(x).shape == (2, 3, 6, 6)
    with pytest.raises(ValueError, match="left, right, top, bottom"):
        layer((1, 2))


def test_relu6(device):
    x = mdl.tensor(np.array([-1.0, 0.5, 3.0, 5.9, 7.0]), requires_grad=True, device=device)
    y = F.relu6(x)
    np.testing.assert_array_equal(backend.to_numpy(y.data), [0, 0.5, 3.0, 5.9, 6.0])
    y.sum().backward()
    np.testing.assert_array_equal(backend.to_numpy(x.grad), [0, 1, 1, 1, 0])
    away = mdl.tensor(np.random.default_rng(2).uniform(0.1, 5.9, (3, 4)) * np.array([1, -1, 1, 1]), requires_grad=True)
    assert mdl.gradcheck(F.relu6, [away])
    assert nn.ReLU6()(x).shape == x.shape
