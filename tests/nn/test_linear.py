"""Linear, Flatten, Identity, Sequential, ModuleList."""
import math

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn


def test_linear_hand_computed(device):
    layer = nn.Linear(2, 3, device=device)
    layer.load_state_dict({"weight": np.array([[1.0, 0.0], [0.5, -1.0], [2.0, 1.0]]), "bias": np.array([0.0, 1.0, -1.0])})
    y = layer(mdl.tensor([[1.0, 2.0]], device=device))
    assert y.tolist() == [[1.0, -0.5, 3.0]]
    assert y.device == mdl.backend.parse_device(device)


def test_linear_init_bounds_follow_pytorch():
    mdl.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert np.abs(b).max() <= bound
    assert np.isclose(w.std(), bound / math.sqrt(3), rtol=0.02)  # U(-a, a) has std a/sqrt(3)
    assert layer.weight.dtype == np.float32


def test_linear_seeded_init_is_reproducible():
    mdl.manual_seed(3)
    a = nn.Linear(5, 4).weight.numpy()
    mdl.manual_seed(3)
    b = nn.Linear(5, 4).weight.numpy()
    assert np.array_equal(a, b)


def test_linear_in_features_mismatch_names_both_numbers():
    with pytest.raises(ValueError, match=r"expects 1600 input features, got input of shape \(2, 1024\) \(1024 features\)"):
        nn.Linear(1600, 10)(np.zeros((2, 1024), dtype=np.float32))
    with pytest.raises(ValueError, match="positive sizes"):
        nn.Linear(0, 3)


def test_linear_gradcheck(device, rng):
    layer = nn.Linear(3, 2, device=device, dtype=np.float64)
    x = mdl.tensor(rng.standard_normal((4, 3)), requires_grad=True, device=device)
    assert mdl.gradcheck(lambda v, w, b: layer(v), (x, layer.weight, layer.bias))


def test_flatten_and_identity(rng):
    x = mdl.tensor(rng.standard_normal((2, 3, 4, 5)))
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Flatten(2)(x).shape == (2, 3, 20)
    assert nn.Identity()(x) is x


def test_sequential_order_indexing_and_append(rng):
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
    seq.append(nn.Linear(4, 2))
    assert len(seq) == 3 and isinstance(seq[1], nn.ReLU) and isinstance(seq[-1], nn.Linear)
    assert len(seq[:2]) == 2
    x = rng.standard_normal((1, 3)).astype(np.float32)
    manual = seq[2](seq[1](seq[0](x)))
    assert np.allclose(seq(x).numpy(), manual.numpy())
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_module_list_registers_parameters():
    ml = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 1)])
    assert len(list(ml.parameters())) == 4 and len(ml) == 2 and isinstance(ml[1], nn.Linear)
