"""Losses: hand-computed values, PyTorch's label-smoothing and weight rules, gradchecks, errors."""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
import minidl.nn.functional as F

LOGITS = np.array([[1.0, 2.0, 3.0], [1.0, 0.0, -1.0]])
LABELS = np.array([2, 0])


def logsumexp(row):
    return np.log(np.exp(row).sum())


def test_cross_entropy_by_hand():
    # -log softmax: row 0 picks class 2, row 1 class 0
    l0 = logsumexp(LOGITS[0]) - 3.0
    l1 = logsumexp(LOGITS[1]) - 1.0
    got = F.cross_entropy(mdl.tensor(LOGITS), LABELS, reduction="none").numpy()
    assert np.allclose(got, [l0, l1])
    assert np.isclose(F.cross_entropy(mdl.tensor(LOGITS), LABELS).item(), (l0 + l1) / 2)
    assert np.isclose(F.cross_entropy(mdl.tensor(LOGITS), LABELS, reduction="sum").item(), l0 + l1)


def test_label_smoothing_follows_pytorch_formula():
    eps, c = 0.1, 3
    logp = LOGITS - np.array([[logsumexp(r)] for r in LOGITS])
    expected = np.mean([(1 - eps) * -logp[i, LABELS[i]] + eps / c * -logp[i].sum() for i in range(2)])
    assert np.isclose(F.cross_entropy(mdl.tensor(LOGITS), LABELS, label_smoothing=eps).item(), expected)


def test_class_weights_mean_divides_by_weight_sum():
    w = np.array([0.5, 1.0, 2.0])
    logp = LOGITS - np.array([[logsumexp(r)] for r in LOGITS])
    per = [-w[2] * logp[0, 2], -w[0] * logp[1, 0]]
    got = F.cross_entropy(mdl.tensor(LOGITS), LABELS, weight=w).item()
    assert np.isclose(got, sum(per) / (w[2] + w[0]))


def test_soft_targets_equal_one_hot_labels():
    onehot = np.eye(3)[LABELS]
    a = F.cross_entropy(mdl.tensor(LOGITS), onehot).item()
    b = F.cross_entropy(mdl.tensor(LOGITS), LABELS).item()
    assert np.isclose(a, b)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_gradcheck(reduction, smoothing, weighted, device, rng):
    x = mdl.tensor(rng.standard_normal((4, 5)), requires_grad=True, device=device)
    y = rng.integers(0, 5, 4)
    w = rng.uniform(0.5, 2, 5) if weighted else None
    assert mdl.gradcheck(lambda v: F.cross_entropy(v, y, weight=w, reduction=reduction, label_smoothing=smoothing), (x,))


def test_cross_entropy_soft_targets_and_spatial_gradcheck(device, rng):
    x = mdl.tensor(rng.standard_normal((4, 5)), requires_grad=True, device=device)
    soft = rng.random((4, 5))
    soft /= soft.sum(axis=1, keepdims=True)
    assert mdl.gradcheck(lambda v: F.cross_entropy(v, soft, label_smoothing=0.1), (x,))
    x4 = mdl.tensor(rng.standard_normal((2, 3, 2, 2)), requires_grad=True, device=device)
    y4 = rng.integers(0, 3, (2, 2, 2))
    assert mdl.gradcheck(lambda v: F.cross_entropy(v, y4), (x4,))
    assert F.cross_entropy(x4, y4, reduction="none").shape == (2, 2, 2)


def test_cross_entropy_stable_for_huge_logits():
    x = mdl.tensor([[1000.0, -1000.0]], requires_grad=True)
    loss = F.cross_entropy(x, np.array([1]))
    assert np.isclose(loss.item(), 2000.0)
    loss.backward()
    assert np.allclose(x.grad, [[1.0, -1.0]])


def test_cross_entropy_errors():
    x = mdl.tensor(LOGITS)
    with pytest.raises(ValueError, match="target label 3 is out of range for 3 classes"):
        F.cross_entropy(x, np.array([3, 0]))
    with pytest.raises(ValueError, match=r"target labels must have shape \(2,\).*got \(3,\)"):
        F.cross_entropy(x, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="soft targets must have the input's shape"):
        F.cross_entropy(x, np.ones((2, 4)) / 4)
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.cross_entropy(x, LABELS, reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, LABELS, label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"logits of shape \(N, C\)"):
        F.cross_entropy(mdl.tensor([1.0, 2.0]), np.array([0]))


def test_mse_by_hand_and_broadcast_gradients_keep_input_shapes(device, rng):
    a = mdl.tensor([[1.0, 2.0]], requires_grad=True, device=device)
    b = mdl.tensor([[0.0], [4.0]], requires_grad=True, device=device)
    loss = F.mse_loss(a, b)  # broadcasts to (2, 2): diffs [1, 2, -3, -2]
    assert np.isclose(loss.item(), (1 + 4 + 9 + 4) / 4)
    loss.backward()
    assert a.grad.shape == (1, 2) and b.grad.shape == (2, 1)
    for reduction in ("mean", "sum", "none"):
        assert mdl.gradcheck(lambda u, v: F.mse_loss(u, v, reduction), (
            mdl.tensor(rng.standard_normal((3, 1)), requires_grad=True, device=device),
            mdl.tensor(rng.standard_normal((3, 4)), requires_grad=True, device=device)))


def test_bce_with_logits_by_hand_stable_and_gradcheck(device, rng):
    x, y = np.array([0.5, -1.0]), np.array([1.0, 0.0])
    p = 1 / (1 + np.exp(-x))
    expected = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()
    assert np.isclose(F.binary_cross_entropy_with_logits(mdl.tensor(x), y).item(), expected)
    big = F.binary_cross_entropy_with_logits(mdl.tensor([1000.0, -1000.0]), np.array([0.0, 1.0]), reduction="none")
    assert np.allclose(big.numpy(), [1000.0, 1000.0])
    for kwargs in ({}, {"pos_weight": np.full(4, 3.0)}, {"weight": rng.random(4), "reduction": "sum"}):
        assert mdl.gradcheck(lambda u, v: F.binary_cross_entropy_with_logits(u, v, **kwargs), (
            mdl.tensor(rng.standard_normal((3, 4)), requires_grad=True, device=device),
            mdl.tensor(rng.random((3, 4)), requires_grad=True, device=device)))


def test_bce_shape_mismatch():
    with pytest.raises(ValueError, match=r"target shape \(3,\) must equal input shape \(2,\)"):
        F.binary_cross_entropy_with_logits(mdl.tensor([0.0, 1.0]), np.zeros(3))


def test_loss_modules_match_functions(rng):
    x = mdl.tensor(rng.standard_normal((4, 3)))
    y = rng.integers(0, 3, 4)
    assert np.isclose(nn.CrossEntropyLoss(label_smoothing=0.1)(x, y).item(),
                      F.cross_entropy(x, y, label_smoothing=0.1).item())
    t = rng.standard_normal((4, 3))
    assert np.isclose(nn.MSELoss(reduction="sum")(x, t).item(), F.mse_loss(x, t, "sum").item())
    b = rng.random((4, 3))
    assert np.isclose(nn.BCEWithLogitsLoss()(x, b).item(), F.binary_cross_entropy_with_logits(x, b).item())
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="mine")
