"""Activations: gradchecks for every option, hand values, stability at +-1000, errors."""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F
from minidl import backend


def away_from_zero(rng, shape):
    """Normal draws moved off the kink of relu / leaky_relu at 0."""
    a = rng.standard_normal(shape)
    return np.where(np.abs(a) < 0.05, 0.3, a)


ACTIVATIONS = {
    "relu": F.relu, "Tensor.relu": lambda x: x.relu(),
    "leaky_relu": F.leaky_relu, "leaky_relu(0.1)": lambda x: F.leaky_relu(x, 0.1),
    "leaky_relu(slope=2)": lambda x: F.leaky_relu(x, negative_slope=2.0),
    "sigmoid": F.sigmoid, "Tensor.sigmoid": lambda x: x.sigmoid(),
    "tanh": F.tanh, "Tensor.tanh": lambda x: x.tanh(),
    "softmax": F.softmax, "softmax(axis=0)": lambda x: F.softmax(x, axis=0),
    "softmax(axis=1)": lambda x: F.softmax(x, 1), "softmax(dim=-2)": lambda x: F.softmax(x, dim=-2),
    "log_softmax": F.log_softmax, "log_softmax(axis=0)": lambda x: F.log_softmax(x, axis=0),
    "log_softmax(dim=1)": lambda x: F.log_softmax(x, dim=1),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("shape", [(3, 5), (2, 3, 4)])
def test_activations_gradcheck(name, shape, device, rng):
    x = mdl.tensor(away_from_zero(rng, shape), requires_grad=True, device=device)
    assert mdl.gradcheck(ACTIVATIONS[name], (x,))


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_keep_dtype_shape_and_device(name, device, rng):
    x = mdl.tensor(away_from_zero(rng, (2, 3)).astype(np.float32), requires_grad=True, device=device)
    y = ACTIVATIONS[name](x)
    assert y.dtype == np.float32 and y.shape == (2, 3)
    assert backend.device_of(y.data) == backend.parse_device(device)
    y.sum().backward()
    assert x.grad.dtype == np.float32 and backend.device_of(x.grad) == backend.parse_device(device)


def test_hand_values(device):
    x = mdl.tensor([-2.0, 0.0, 3.0], device=device)
    assert F.relu(x).tolist() == [0.0, 0.0, 3.0]
    assert np.allclose(F.leaky_relu(x).numpy(), [-0.02, 0.0, 3.0])  # default slope 0.01
    assert np.allclose(F.leaky_relu(x, 0.1).numpy(), [-0.2, 0.0, 3.0])
    assert np.allclose(F.sigmoid(x).numpy(), [0.11920292202211755, 0.5, 0.9525741268224334])
    assert np.allclose(F.tanh(x).numpy(), [-0.9640275800758169, 0.0, 0.9950547536867305])
    p = F.softmax(mdl.tensor([[1.0, 2.0, 3.0]], device=device)).numpy()
    assert np.allclose(p, [[0.09003057317038046, 0.24472847105479767, 0.6652409557748219]])
    logp = F.log_softmax(mdl.tensor([[0.0, np.log(3.0)]], device=device)).numpy()
    assert np.allclose(logp, np.log([[0.25, 0.75]]))


def test_hand_gradients(device):
    xp = backend.namespace(device)
    x = mdl.tensor([-2.0, 0.0, 3.0], requires_grad=True, device=device)
    F.leaky_relu(x, 0.1).backward(xp.asarray([1.0, 1.0, 1.0]))
    assert np.allclose(x.grad.tolist(), [0.1, 0.1, 1.0])  # at 0: the negative side's slope, as PyTorch
    x.grad = None
    F.sigmoid(x).backward(xp.asarray([1.0, 1.0, 1.0]))
    s = 1 / (1 + np.exp([2.0, 0.0, -3.0]))
    assert np.allclose(x.grad.tolist(), s * (1 - s)) and np.isclose(x.grad.tolist()[1], 0.25)
    x.grad = None
    F.tanh(x).backward(xp.asarray([1.0, 1.0, 1.0]))
    assert np.allclose(x.grad.tolist(), 1 - np.tanh([-2.0, 0.0, 3.0]) ** 2) and x.grad.tolist()[1] == 1.0


def test_relu_gradient_at_zero_is_zero(device):
    x = mdl.tensor([0.0, 1.0, -1.0], requires_grad=True, device=device)
    F.relu(x).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]


def test_softmax_properties(device, rng):
    a = rng.standard_normal((4, 5))
    p = F.softmax(mdl.tensor(a, device=device), axis=1).numpy()
    assert np.allclose(p.sum(axis=1), 1.0) and np.all(p > 0)
    assert np.allclose(F.softmax(mdl.tensor(a + 7.5, device=device), axis=1).numpy(), p)  # shift invariant
    assert np.allclose(F.log_softmax(mdl.tensor(a, device=device), axis=1).numpy(), np.log(p))
    q = F.softmax(mdl.tensor(a, device=device), axis=0).numpy()
    assert np.allclose(q.sum(axis=0), 1.0)


def test_softmax_gradient_of_its_sum_is_zero(device, rng):
    # The outputs always sum to 1, so sum(softmax(x)) does not depend on x.
    x = mdl.tensor(rng.standard_normal((3, 4)), requires_grad=True, device=device)
    F.softmax(x).sum().backward()
    assert np.allclose(x.grad.tolist(), 0.0)
    # sum(log_softmax(x)) over a row of C: d/dx_j = 1 - C * softmax_j
    x.grad = None
    F.log_softmax(x).sum().backward()
    p = F.softmax(x).numpy()
    assert np.allclose(x.grad.tolist(), 1 - 4 * p)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_for_huge_logits(dtype, device):
    x = mdl.tensor(np.array([[1000.0, -1000.0, 0.0]], dtype=dtype), requires_grad=True, device=device)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        logp = F.log_softmax(x)
        p = F.softmax(x)
        s = F.sigmoid(mdl.tensor(np.array([-1000.0, 1000.0, -30.0], dtype=dtype), device=device))
        logp.sum().backward()
    assert np.all(np.isfinite(logp.numpy())) and np.allclose(logp.numpy(), [[0.0, -2000.0, -1000.0]])
    assert np.allclose(p.numpy(), [[1.0, 0.0, 0.0]])
    assert np.all(np.isfinite(x.grad.tolist())) and np.allclose(x.grad.tolist(), [[-2.0, 1.0, 1.0]])
    assert s.tolist()[:2] == [0.0, 1.0]
    assert np.isclose(s.tolist()[2], 9.357622968840175e-14, rtol=1e-5)  # tiny values keep their precision


def test_sigmoid_is_symmetric_and_exact_for_moderate_inputs(device):
    a = np.linspace(-40, 40, 81)
    s = F.sigmoid(mdl.tensor(a, device=device)).numpy()
    assert np.allclose(s + s[::-1], 1.0)  # sigmoid(-x) = 1 - sigmoid(x)
    assert np.allclose(s, 1 / (1 + np.exp(-a)), rtol=1e-12, atol=0)  # relative, even at 4e-18


def test_softmax_axis_errors():
    x = mdl.tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"softmax: axis 2 is out of range for a tensor of 2 dimension\(s\) \(shape \(2, 3\)\)"):
        F.softmax(x, axis=2)
    with pytest.raises(ValueError, match=r"log_softmax: axis -3 is out of range"):
        F.log_softmax(x, dim=-3)


def test_activations_take_raw_arrays(device, xp):
    a = xp.asarray(np.array([-1.0, 2.0]))
    assert F.relu(a).tolist() == [0.0, 2.0]
    assert np.allclose(F.softmax(a).numpy(), np.exp([-1.0, 2.0]) / np.exp([-1.0, 2.0]).sum())


def test_activation_modules_match_functions(rng):
    import minidl.nn as nn

    x = mdl.tensor(rng.standard_normal((2, 3)))
    assert np.allclose(nn.ReLU()(x).numpy(), F.relu(x).numpy())
    assert np.allclose(nn.LeakyReLU(0.2)(x).numpy(), F.leaky_relu(x, 0.2).numpy())
    assert np.allclose(nn.Sigmoid()(x).numpy(), F.sigmoid(x).numpy())
    assert np.allclose(nn.Tanh()(x).numpy(), F.tanh(x).numpy())
    assert np.allclose(nn.Softmax(dim=1)(x).numpy(), F.softmax(x, 1).numpy())
    assert np.allclose(nn.LogSoftmax(dim=0)(x).numpy(), F.log_softmax(x, 0).numpy())


def test_relu_gradient_is_zero_where_off_even_for_an_infinite_upstream(device):
    # sqrt of ReLU outputs: d sqrt(h)/dh = inf at h = 0; the unit is off there, so dL/dx = 0 (PyTorch), not NaN
    x = mdl.tensor([-1.0, 0.0, 4.0], requires_grad=True, device=device)
    with np.errstate(divide="ignore"):
        (F.relu(x) ** 0.5).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.25]
