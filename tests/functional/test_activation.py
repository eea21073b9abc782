"""Activations: gradchecks, hand values, stability."""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F


def away_from_zero(rng, shape):
    a = rng.standard_normal(shape)
    return np.where(np.abs(a) < 0.05, 0.3, a)


@pytest.mark.parametrize("fn", [F.relu, F.sigmoid, F.tanh, lambda x: F.leaky_relu(x, 0.1),
                                F.softmax, F.log_softmax, lambda x: F.softmax(x, axis=0),
                                lambda x: F.log_softmax(x, dim=0)])
def test_activations_gradcheck(fn, device, rng):
    x = mdl.tensor(away_from_zero(rng, (3, 5)), requires_grad=True, device=device)
    assert mdl.gradcheck(fn, (x,))


def test_hand_values():
    x = mdl.tensor([-2.0, 0.0, 3.0])
    assert F.relu(x).tolist() == [0.0, 0.0, 3.0]
    assert np.allclose(F.leaky_relu(x, 0.1).numpy(), [-0.2, 0.0, 3.0])
    assert np.allclose(F.sigmoid(x).numpy(), 1 / (1 + np.exp([2.0, 0.0, -3.0])))
    assert np.allclose(F.tanh(x).numpy(), np.tanh([-2.0, 0.0, 3.0]))
    p = F.softmax(mdl.tensor([[1.0, 2.0, 3.0]])).numpy()
    assert np.allclose(p, np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum())


def test_relu_gradient_at_zero_is_zero():
    x = mdl.tensor([0.0, 1.0], requires_grad=True)
    F.relu(x).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0]


def test_stable_for_huge_logits():
    x = mdl.tensor([[1000.0, -1000.0, 0.0]], requires_grad=True)
    logp = F.log_softmax(x)
    assert np.all(np.isfinite(logp.numpy())) and np.allclose(logp.numpy(), [[0.0, -2000.0, -1000.0]])
    assert np.allclose(F.softmax(x).numpy(), [[1.0, 0.0, 0.0]])
    logp.sum().backward()
    assert np.all(np.isfinite(x.grad))
    s = F.sigmoid(mdl.tensor([-1000.0, 1000.0])).numpy()
    assert s.tolist() == [0.0, 1.0]


def test_activation_modules_match_functions(rng):
    import minidl.nn as nn

    x = mdl.tensor(rng.standard_normal((2, 3)))
    assert np.allclose(nn.ReLU()(x).numpy(), F.relu(x).numpy())
    assert np.allclose(nn.LeakyReLU(0.2)(x).numpy(), F.leaky_relu(x, 0.2).numpy())
    assert np.allclose(nn.Sigmoid()(x).numpy(), F.sigmoid(x).numpy())
    assert np.allclose(nn.Tanh()(x).numpy(), F.tanh(x).numpy())
    assert np.allclose(nn.Softmax(dim=1)(x).numpy(), F.softmax(x, 1).numpy())
    assert np.allclose(nn.LogSoftmax(dim=0)(x).numpy(), F.log_softmax(x, 0).numpy())
