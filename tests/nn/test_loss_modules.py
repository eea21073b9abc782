"""Loss layers: values worked out from the formulas, options, device handling."""
import math

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
from minidl import backend

LOGITS = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
LABELS = np.array([2, 0])


def log_softmax_ref(x):
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))


def test_cross_entropy_hand_value(device, xp):
    x = mdl.tensor(LOGITS, device=device)
    per_sample = [-(3 - math.log(math.e + math.e**2 + math.e**3)), math.log(3)]
    loss = nn.CrossEntropyLoss()(x, xp.asarray(LABELS))
    assert loss.item() == pytest.approx(sum(per_sample) / 2, rel=1e-6)
    assert nn.CrossEntropyLoss(reduction="sum")(x, LABELS).item() == pytest.approx(sum(per_sample), rel=1e-6)
    none = nn.CrossEntropyLoss(reduction="none")(x, LABELS)
    assert none.shape == (2,) and np.allclose(none.numpy(), per_sample)


def test_cross_entropy_weights_are_a_buffer_moved_with_to(device):
    w = np.array([1.0, 2.0, 4.0])
    loss_fn = nn.CrossEntropyLoss(weight=w).to(device)
    assert backend.device_of(loss_fn.weight) == backend.parse_device(device)
    assert list(loss_fn.state_dict()) == ["weight"]
    x = mdl.tensor(LOGITS, device=device)
    nll = -log_softmax_ref(LOGITS)[[0, 1], LABELS]
    expected = (4 * nll[0] + 1 * nll[1]) / (4 + 1)  # weighted mean divides by the labels' weights
    assert loss_fn(x, LABELS).item() == pytest.approx(expected, rel=1e-6)


def test_cross_entropy_label_smoothing_and_soft_targets():
    eps = 0.1
    logp = log_softmax_ref(LOGITS)
    target = (1 - eps) * np.eye(3)[LABELS] + eps / 3
    expected = -(target * logp).sum(axis=1).mean()
    x = mdl.tensor(LOGITS)
    assert nn.CrossEntropyLoss(label_smoothing=eps)(x, LABELS).item() == pytest.approx(expected, rel=1e-6)
    soft = np.array([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])
    assert nn.CrossEntropyLoss()(x, soft).item() == pytest.approx(-(soft * logp).sum(axis=1).mean(), rel=1e-6)


def test_cross_entropy_gradient_is_softmax_minus_onehot():
    x = mdl.tensor(LOGITS, requires_grad=True)
    nn.CrossEntropyLoss()(x, LABELS).backward()
    expected = (np.exp(log_softmax_ref(LOGITS)) - np.eye(3)[LABELS]) / 2
    assert np.allclose(x.grad, expected)


def test_loss_module_arguments_are_checked():
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\], got 1.5"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.MSELoss(reduction="total")
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.BCEWithLogitsLoss(reduction="")


def test_mse_hand_values(device, xp):
    x = mdl.tensor(np.array([1.0, -2.0, 3.0]), device=device, requires_grad=True)
    t = xp.asarray(np.array([0.0, 0.0, 1.0]))
    loss = nn.MSELoss()(x, t)  # (1 + 4 + 4) / 3
    assert loss.item() == pytest.approx(3.0)
    loss.backward()
    assert np.allclose(backend.to_numpy(x.grad), 2 * np.array([1.0, -2.0, 2.0]) / 3)
    assert nn.MSELoss(reduction="sum")(x, t).item() == pytest.approx(9.0)
    assert nn.MSELoss(reduction="none")(x, t).tolist() == [1.0, 4.0, 4.0]


def test_bce_with_logits_hand_values_and_stability(device, xp):
    x = mdl.tensor(np.array([0.0, 1000.0, -1000.0, 2.0]), device=device)
    t = xp.asarray(np.array([1.0, 0.0, 0.0, 1.0]))
    per = [math.log(2), 1000.0, 0.0, math.log(1 + math.exp(-2))]  # softplus(-x) for t=1, softplus(x) for t=0
    assert np.allclose(nn.BCEWithLogitsLoss(reduction="none")(x, t).numpy(), per)
    assert nn.BCEWithLogitsLoss()(x, t).item() == pytest.approx(sum(per) / 4)
    pos = nn.BCEWithLogitsLoss(reduction="sum", pos_weight=[3.0, 1.0, 1.0, 1.0]).to(device)
    assert pos(x, t).item() == pytest.approx(3 * per[0] + sum(per[1:]))


def test_loss_reprs():
    assert repr(nn.CrossEntropyLoss(label_smoothing=0.1)) == "CrossEntropyLoss(reduction='mean', label_smoothing=0.1)"
    assert repr(nn.MSELoss()) == "MSELoss(reduction='mean')"
