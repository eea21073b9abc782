"""The nn. forms of the activations and losses added for issue 10: each module gives its
function's result with its options, PReLU's slope is a trained Parameter, the loss modules'
options and weights (buffers that move with .to()), and their clear errors."""
import math

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
import minidl.nn.functional as F
from minidl import backend

X = np.array([[-3.5, -1.2, -0.4, 0.3], [0.8, 1.6, 2.4, 4.5]])

MODULES = [
    (nn.ELU(), F.elu), (nn.ELU(alpha=0.5), lambda x: F.elu(x, 0.5)),
    (nn.SELU(), F.selu),
    (nn.CELU(), F.celu), (nn.CELU(alpha=2.0), lambda x: F.celu(x, 2.0)),
    (nn.SiLU(), F.silu), (nn.Mish(), F.mish),
    (nn.GELU(), F.gelu), (nn.GELU(approximate="tanh"), lambda x: F.gelu(x, approximate="tanh")),
    (nn.Softplus(), F.softplus), (nn.Softplus(beta=2.0, threshold=3.0), lambda x: F.softplus(x, 2.0, 3.0)),
    (nn.Softsign(), F.softsign), (nn.Hardswish(), F.hardswish), (nn.Hardsigmoid(), F.hardsigmoid),
    (nn.Hardtanh(), F.hardtanh), (nn.Hardtanh(-2.0, 0.5), lambda x: F.hardtanh(x, -2.0, 0.5)),
    (nn.LogSigmoid(), F.logsigmoid),
]


@pytest.mark.parametrize("module, fn", MODULES, ids=[repr(m) for m, _ in MODULES])
def test_activation_modules_match_their_functions_and_gradcheck(module, fn, device):
    x = mdl.tensor(X, requires_grad=True, device=device)
    assert np.array_equal(module(x).numpy(), fn(x).numpy())
    assert mdl.gradcheck(module, (x,))
    assert list(module.parameters()) == []


def test_activation_module_reprs():
    assert repr(nn.ELU(alpha=0.5)) == "ELU(alpha=0.5)"
    assert repr(nn.GELU(approximate="tanh")) == "GELU(approximate='tanh')"
    assert repr(nn.Softplus(beta=2.0, threshold=3.0)) == "Softplus(beta=2.0, threshold=3.0)"
    assert repr(nn.Hardtanh(-2.0, 0.5)) == "Hardtanh(min_val=-2.0, max_val=0.5)"
    assert repr(nn.PReLU(3)) == "PReLU(num_parameters=3)"


def test_prelu_module_has_a_learned_slope_per_channel(device):
    layer = nn.PReLU(num_parameters=2, init=0.1).to(device)
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    assert layer.weight.shape == (2,) and layer.weight.dtype == np.float32
    assert np.allclose(backend.to_numpy(layer.weight.data), [0.1, 0.1])
    x = mdl.tensor(np.array([[[-1.0, 2.0], [-3.0, -4.0]]], dtype=np.float32), device=device)
    y = layer(x)  # (N=1, C=2, L=2)
    assert np.allclose(y.numpy(), [[[-0.1, 2.0], [-0.3, -0.4]]])
    y.sum().backward()
    assert np.allclose(backend.to_numpy(layer.weight.grad), [-1.0, -7.0])
    opt = mdl.optim.SGD(layer.parameters(), lr=0.1)
    opt.step()
    assert np.allclose(backend.to_numpy(layer.weight.data), [0.2, 0.8])
    assert list(layer.state_dict()) == ["weight"]


def test_prelu_module_default_is_one_slope_of_a_quarter():
    layer = nn.PReLU()
    assert layer.weight.tolist() == [0.25]
    x = mdl.tensor(np.array([[-4.0, 1.0, -8.0]]), dtype="float32")
    assert layer(x).tolist() == [[-1.0, 1.0, -2.0]]
    assert mdl.gradcheck(nn.PReLU(2, dtype="float64"), (mdl.tensor(X[:, :2], requires_grad=True),))


def test_activation_module_errors():
    with pytest.raises(ValueError, match="PReLU: num_parameters must be a positive integer, got 0"):
        nn.PReLU(0)
    with pytest.raises(ValueError, match="GELU: approximate must be 'none' or 'tanh', got 'fast'"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match="Hardtanh: min_val must be <= max_val, got min_val=2, max_val=1"):
        nn.Hardtanh(2, 1)
    with pytest.raises(ValueError, match=r"prelu: weight must have shape \(1,\) or \(4,\)"):
        nn.PReLU(3)(mdl.tensor(X, dtype="float32"))


# ------------------------------------------------------------------ losses
def test_bce_loss(device, xp):
    p = mdl.tensor(np.array([[0.5, 0.8], [0.1, 0.9]]), requires_grad=True, device=device)
    t = xp.asarray([[1.0, 1.0], [0.0, 1.0]])
    per = -np.log([[0.5, 0.8], [0.9, 0.9]])
    assert nn.BCELoss()(p, t).item() == pytest.approx(per.mean())
    assert nn.BCELoss(reduction="sum")(p, t).item() == pytest.approx(per.sum())
    weighted = nn.BCELoss(weight=[1.0, 3.0], reduction="none").to(device)
    assert backend.device_of(weighted.weight) == backend.parse_device(device)
    assert np.allclose(weighted(p, t).numpy(), per * [1.0, 3.0])
    assert repr(nn.BCELoss()) == "BCELoss(reduction='mean')"


def test_nll_loss_module(device):
    x = mdl.tensor(np.log([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]]), device=device)
    y = np.array([2, -100, 0])
    assert nn.NLLLoss()(x, y).item() == pytest.approx(-(math.log(0.5) + math.log(0.1)) / 2)
    loss_fn = nn.NLLLoss(weight=np.array([1.0, 1.0, 2.0]), ignore_index=0, reduction="none").to(device)
    assert np.allclose(loss_fn(x, np.array([2, 1, 0])).numpy(), [-2 * math.log(0.5), -math.log(0.3), 0.0])
    assert list(loss_fn.state_dict()) == ["weight"]
    logits = mdl.tensor(X, device=device)  # LogSoftmax + NLLLoss = CrossEntropyLoss
    labels = np.array([1, 3])
    assert nn.NLLLoss()(nn.LogSoftmax(dim=1)(logits), labels).item() == pytest.approx(
        nn.CrossEntropyLoss()(logits, labels).item())


def test_cross_entropy_loss_ignore_index(device):
    x = mdl.tensor(X, requires_grad=True, device=device)
    keep_first = nn.CrossEntropyLoss(ignore_index=3)(x, np.array([1, 3]))
    assert keep_first.item() == pytest.approx(F.cross_entropy(x[:1], np.array([1])).item())
    keep_first.backward()
    assert np.allclose(backend.to_numpy(x.grad)[1], 0.0)


def test_smooth_l1_and_huber_loss_modules(device):
    x = mdl.tensor([0.5, 3.0, -2.0], device=device)
    t = mdl.tensor([0.0, 0.0, 0.0], device=device)
    assert nn.SmoothL1Loss()(x, t).item() == pytest.approx((0.125 + 2.5 + 1.5) / 3)
    assert nn.SmoothL1Loss(reduction="sum", beta=2.0)(x, t).item() == pytest.approx(0.0625 + 2.0 + 1.0)
    assert nn.HuberLoss(reduction="sum", delta=2.0)(x, t).item() == pytest.approx(0.125 + 4.0 + 2.0)
    assert np.allclose(nn.HuberLoss(reduction="none")(x, t).numpy(), [0.125, 2.5, 1.5])
    assert repr(nn.HuberLoss(delta=0.5)) == "HuberLoss(reduction='mean', delta=0.5)"


def test_kl_div_loss_module(device):
    x = mdl.tensor(np.log([[0.5, 0.5]]), device=device)
    q = np.array([[0.25, 0.75]])
    kl = 0.25 * math.log(0.5) + 0.75 * math.log(1.5)
    assert nn.KLDivLoss(reduction="batchmean")(x, q).item() == pytest.approx(kl)
    assert nn.KLDivLoss(reduction="sum", log_target=True)(x, np.log(q)).item() == pytest.approx(kl)
    with pytest.warns(UserWarning, match="reduction='batchmean' gives the KL divergence per sample"):
        assert nn.KLDivLoss()(x, q).item() == pytest.approx(kl / 2)


def test_loss_module_errors():
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.BCELoss(reduction="avg")
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.NLLLoss(reduction="avg")
    with pytest.raises(ValueError, match="SmoothL1Loss: beta must be >= 0, got -1"):
        nn.SmoothL1Loss(beta=-1)
    with pytest.raises(ValueError, match="HuberLoss: delta must be > 0, got 0.0"):
        nn.HuberLoss(delta=0)
    with pytest.raises(ValueError, match=r"KLDivLoss: reduction must be one of \('mean', 'batchmean', 'sum', 'none'\)"):
        nn.KLDivLoss(reduction="avg")
