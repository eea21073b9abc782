"""Activation layers: hand-computed values, options, repr."""
import math

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn

X = np.array([[-2.0, 0.5, 1.0]], dtype=np.float32)


def test_pointwise_activations(device, xp):
    x = xp.asarray(X)
    assert nn.ReLU()(x).tolist() == [[0.0, 0.5, 1.0]]
    assert np.allclose(nn.LeakyReLU(0.1)(x).numpy(), [[-0.2, 0.5, 1.0]])
    assert np.allclose(nn.LeakyReLU()(x).numpy(), [[-0.02, 0.5, 1.0]])  # default slope 0.01
    assert np.allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp(-X)))
    assert np.allclose(nn.Tanh()(x).numpy(), np.tanh(X))


def test_softmax_and_log_softmax_axes(device, xp):
    x = xp.asarray(np.array([[0.0, math.log(3.0)], [0.0, 0.0]], dtype=np.float32))
    assert np.allclose(nn.Softmax(dim=1)(x).numpy(), [[0.25, 0.75], [0.5, 0.5]])
    assert np.allclose(nn.Softmax(axis=-1)(x).numpy(), [[0.25, 0.75], [0.5, 0.5]])
    assert np.allclose(nn.Softmax(dim=0)(x).numpy()[:, 1], [0.75, 0.25])
    assert np.allclose(nn.LogSoftmax(dim=1)(x).numpy(), np.log([[0.25, 0.75], [0.5, 0.5]]))
    with pytest.raises(TypeError, match="not both"):
        nn.Softmax(dim=0, axis=1)


def test_activation_reprs():
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)" and repr(nn.LogSoftmax()) == "LogSoftmax(dim=-1)"


def test_activation_modules_pass_gradients():
    x = mdl.tensor(X, requires_grad=True)
    nn.Sequential(nn.LeakyReLU(0.1), nn.Tanh())(x).sum().backward()
    expected = np.where(X > 0, 1.0, 0.1) * (1 - np.tanh(np.where(X > 0, X, 0.1 * X)) ** 2)
    assert np.allclose(x.grad, expected, atol=1e-6)
