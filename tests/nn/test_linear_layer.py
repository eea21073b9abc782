"""nn.Linear, nn.Identity, nn.Flatten.

(Named test_linear_layer.py: tests/functional/test_linear.py already holds the
basename test_linear, and pytest refuses two test modules of the same name.)
"""
import math

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
from minidl import backend

W = np.array([[1.0, 0.0], [0.5, -1.0], [2.0, 1.0]])  # (out=3, in=2)
B = np.array([0.0, 1.0, -1.0])


def test_linear_hand_computed(device):
    layer = nn.Linear(2, 3, device=device)
    layer.load_state_dict({"weight": W, "bias": B})
    y = layer(mdl.tensor([[1.0, 2.0], [0.0, -1.0]], device=device))
    # row 1: [1*1 + 0*2, 0.5*1 - 1*2 + 1, 2*1 + 1*2 - 1]; row 2: [0, 1 + 1, -1 - 1]
    assert y.tolist() == [[1.0, -0.5, 3.0], [0.0, 2.0, -2.0]]
    assert backend.device_of(y.data) == backend.parse_device(device) and y.dtype == np.float32
    y.sum().backward()
    # dL/dW = G^T X with G all ones: every row of W gets the column sums of X, (1, 1)
    assert layer.weight.grad.tolist() == [[1.0, 1.0]] * 3 and layer.bias.grad.tolist() == [2.0, 2.0, 2.0]


def test_linear_without_bias_and_extra_leading_axes(device, xp):
    layer = nn.Linear(2, 3, bias=False, device=device)
    layer.load_state_dict({"weight": W})
    assert layer.bias is None and [n for n, _ in layer.named_parameters()] == ["weight"]
    x = xp.asarray(np.ones((4, 5, 2), dtype=np.float32))  # a raw array, with two leading axes
    y = layer(x)
    assert y.shape == (4, 5, 3) and np.allclose(y.numpy()[2, 3], [1.0, -0.5, 3.0])


def test_linear_parameters_shapes_dtype_device(device):
    layer = nn.Linear(4, 3, device=device, dtype=np.float64)
    assert layer.weight.shape == (3, 4) and layer.bias.shape == (3,)
    assert layer.weight.dtype == np.float64 and layer.weight.requires_grad
    assert backend.device_of(layer.weight.data) == backend.parse_device(device)
    assert repr(layer) == "Linear(in_features=4, out_features=3, bias=True)"


def test_linear_init_follows_pytorch():
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform_(a=sqrt(5)) == U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.9 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)  # U(-a, a) has std a/sqrt(3)
    assert layer.weight.dtype == np.float32


def test_linear_seeded_init_is_reproducible_and_device_independent(device):
    mdl.manual_seed(3)
    a = nn.Linear(5, 4).weight.numpy()
    mdl.manual_seed(3)
    b = nn.Linear(5, 4, device=device).weight.numpy()
    c = nn.Linear(5, 4).weight.numpy()
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_linear_in_features_mismatch_names_both_numbers():
    with pytest.raises(ValueError, match=r"expects 1600 input features, got input of shape \(2, 1024\) \(1024 features\)"):
        nn.Linear(1600, 10)(np.zeros((2, 1024), dtype=np.float32))
    with pytest.raises(ValueError, match=r"expects 3 input features, got input of shape \(\) \(0 features\)"):
        nn.Linear(3, 1)(mdl.tensor(1.0))


def test_linear_bad_arguments():
    with pytest.raises(ValueError, match="positive sizes, got in_features=0, out_features=3"):
        nn.Linear(0, 3)
    with pytest.raises(ValueError, match="positive sizes"):
        nn.Linear(2.5, 3)
    with pytest.raises(TypeError, match="floating dtype"):
        nn.Linear(2, 3, dtype=np.int32)


def test_linear_input_on_another_device_is_a_clear_error():
    layer = nn.Linear(2, 1).to("strict")
    with pytest.raises(ValueError, match="input is on 'cpu' but its weight is on 'strict'"):
        layer(np.ones((1, 2), dtype=np.float32))


@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradcheck(device, rng, bias):
    layer = nn.Linear(3, 2, bias=bias, device=device, dtype=np.float64)
    x = mdl.tensor(rng.standard_normal((4, 3)), requires_grad=True, device=device)
    params = (x, layer.weight) + ((layer.bias,) if bias else ())
    assert mdl.gradcheck(lambda *args: layer(args[0]), params)


def test_identity_passes_through(rng):
    x = mdl.tensor(rng.standard_normal((2, 3)))
    assert nn.Identity()(x) is x
    assert nn.Identity(54, unused="arguments")(x) is x


def test_flatten_shapes_and_gradient(device, xp, rng):
    x = mdl.tensor(rng.standard_normal((2, 3, 4, 5)), device=device, requires_grad=True)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Flatten(2)(x).shape == (2, 3, 20)
    assert nn.Flatten(-3, -2)(x).shape == (2, 12, 5)
    y = nn.Flatten()(x)
    assert np.array_equal(y.numpy(), x.numpy().reshape(2, 60))  # C-order, as PyTorch
    (y * mdl.tensor(np.arange(120.0).reshape(2, 60), device=device)).sum().backward()
    assert np.array_equal(backend.to_numpy(x.grad), np.arange(120.0).reshape(2, 3, 4, 5))
    assert nn.Flatten()(xp.ones((2, 3))).shape == (2, 3)  # raw arrays too
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


def test_flatten_bad_axes():
    x = mdl.tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"flatten: start_dim 2 is out of range for a tensor of 2 dimension\(s\) \(shape \(2, 3\)\)"):
        nn.Flatten(start_dim=2)(x)
    with pytest.raises(ValueError, match="start_dim 1 comes after end_dim 0"):
        nn.Flatten(1, 0)(x)
