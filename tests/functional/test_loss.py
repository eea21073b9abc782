"""Losses: values worked by hand, PyTorch's label-smoothing and weight rules, stability,
reductions, soft targets, gradients of broadcast inputs, gradchecks, errors."""
import math
import warnings

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
import minidl.nn.functional as F
from minidl import backend

LN2, LN3, LN5 = math.log(2), math.log(3), math.log(5)
# A 2x3 example with round softmax values:
#   row 0: exp([0, 0, ln 2]) = [1, 1, 2]  -> p = [1/4, 1/4, 1/2], label 2 -> loss -ln(1/2) = ln 2
#   row 1: exp([ln 3, 0, 0]) = [3, 1, 1]  -> p = [3/5, 1/5, 1/5], label 1 -> loss -ln(1/5) = ln 5
LOGITS = np.array([[0.0, 0.0, LN2], [LN3, 0.0, 0.0]])
LABELS = np.array([2, 1])
PROBS = np.array([[0.25, 0.25, 0.5], [0.6, 0.2, 0.2]])


def log_softmax_rows(a):
    return a - np.log(np.exp(a).sum(axis=1, keepdims=True))


# ---------------------------------------------------------------- cross-entropy
def test_cross_entropy_worked_by_hand(device):
    x = mdl.tensor(LOGITS, requires_grad=True, device=device)
    assert np.allclose(F.softmax(x).numpy(), PROBS)
    assert np.allclose(F.cross_entropy(x, LABELS, reduction="none").numpy(), [LN2, LN5])
    assert np.isclose(F.cross_entropy(x, LABELS, reduction="sum").item(), LN2 + LN5)
    loss = F.cross_entropy(x, LABELS)
    assert np.isclose(loss.item(), (LN2 + LN5) / 2)
    loss.backward()
    # (softmax - onehot) / N
    assert np.allclose(x.grad.tolist(), [[1 / 8, 1 / 8, -1 / 4], [3 / 10, -2 / 5, 1 / 10]])


def test_cross_entropy_gradient_is_softmax_minus_target_over_n(device, rng):
    a = rng.standard_normal((6, 4))
    y = rng.integers(0, 4, 6)
    x = mdl.tensor(a, requires_grad=True, device=device)
    F.cross_entropy(x, y).backward()
    p = np.exp(log_softmax_rows(a))
    assert np.allclose(x.grad.tolist(), (p - np.eye(4)[y]) / 6)


def test_label_smoothing_worked_by_hand():
    # PyTorch: loss = (1 - eps) * (-log p_y) + eps / C * sum_c (-log p_c)
    # row 0: 0.9 ln 2 + 0.1/3 (2 ln 4 + ln 2) = ln 2 (0.9 + 1/6)
    # row 1: 0.9 ln 5 + 0.1/3 (ln(5/3) + 2 ln 5) = ln 5 - ln 3 / 30
    got = F.cross_entropy(mdl.tensor(LOGITS), LABELS, reduction="none", label_smoothing=0.1).numpy()
    assert np.allclose(got, [LN2 * (0.9 + 1 / 6), LN5 - LN3 / 30])


@pytest.mark.parametrize("eps", [0.05, 0.3, 1.0])
def test_label_smoothing_follows_pytorch_formula(eps, rng):
    a, y, c = rng.standard_normal((5, 4)), rng.integers(0, 4, 5), 4
    logp = log_softmax_rows(a)
    per = [(1 - eps) * -logp[i, y[i]] + eps / c * -logp[i].sum() for i in range(5)]
    assert np.isclose(F.cross_entropy(mdl.tensor(a), y, label_smoothing=eps).item(), np.mean(per))
    assert np.isclose(F.cross_entropy(mdl.tensor(a), y, label_smoothing=eps, reduction="sum").item(), np.sum(per))


def test_label_smoothing_with_class_weights_follows_pytorch(rng):
    # PyTorch (LossNLL.cpp): (1 - eps) * nll(weighted mean) + eps / C * sum_n sum_c w_c (-log p_nc) / sum_n w_{y_n}
    a, y, w, eps, c = rng.standard_normal((5, 3)), rng.integers(0, 3, 5), np.array([0.5, 1.0, 2.0]), 0.2, 3
    logp = log_softmax_rows(a)
    nll = sum(-w[y[i]] * logp[i, y[i]] for i in range(5)) / w[y].sum()
    smooth = sum(-(w * logp[i]).sum() for i in range(5)) / w[y].sum()
    expected = (1 - eps) * nll + eps / c * smooth
    assert np.isclose(F.cross_entropy(mdl.tensor(a), y, weight=w, label_smoothing=eps).item(), expected)


def test_class_weights_mean_divides_by_weight_sum():
    w = np.array([0.5, 1.0, 2.0])
    got = F.cross_entropy(mdl.tensor(LOGITS), LABELS, weight=w).item()
    assert np.isclose(got, (2.0 * LN2 + 1.0 * LN5) / (2.0 + 1.0))
    got = F.cross_entropy(mdl.tensor(LOGITS), LABELS, weight=mdl.tensor(w), reduction="none").numpy()
    assert np.allclose(got, [2.0 * LN2, 1.0 * LN5])


def test_soft_targets(device, rng):
    x = mdl.tensor(LOGITS, requires_grad=True, device=device)
    # one-hot rows give the labels' loss
    assert np.isclose(F.cross_entropy(x, np.eye(3)[LABELS]).item(), F.cross_entropy(x, LABELS).item())
    # a mixed target (as MixUp makes): 0.7 * label 2 + 0.3 * label 0 on row 0
    t = np.array([[0.3, 0.0, 0.7], [0.0, 1.0, 0.0]])
    per = F.cross_entropy(x, t, reduction="none").numpy()
    assert np.allclose(per, [0.3 * 2 * LN2 + 0.7 * LN2, LN5])
    F.cross_entropy(x, t).backward()
    assert np.allclose(x.grad.tolist(), (PROBS - t) / 2)  # (softmax - T) / N


def test_soft_targets_with_smoothing_and_weights_follow_pytorch(rng):
    a = rng.standard_normal((4, 3))
    t = rng.random((4, 3))
    t /= t.sum(axis=1, keepdims=True)
    w, eps = np.array([1.0, 2.0, 0.5]), 0.2
    ts = t * (1 - eps) + eps / 3
    logp = log_softmax_rows(a)
    assert np.isclose(F.cross_entropy(mdl.tensor(a), t, label_smoothing=eps).item(), -(ts * logp).sum() / 4)
    # weighted soft targets: the mean divides by N, not by a sum of weights (PyTorch)
    assert np.isclose(F.cross_entropy(mdl.tensor(a), t, weight=w).item(), -(t * w * logp).sum() / 4)


def test_cross_entropy_spatial_matches_per_position(device, rng):
    a = rng.standard_normal((2, 3, 2, 2))
    y = rng.integers(0, 3, (2, 2, 2))
    x = mdl.tensor(a, device=device)
    per = F.cross_entropy(x, y, reduction="none")
    assert per.shape == (2, 2, 2)
    rows, labels = a.transpose(0, 2, 3, 1).reshape(-1, 3), y.reshape(-1)
    expected = -log_softmax_rows(rows)[np.arange(8), labels]
    assert np.allclose(per.numpy().reshape(-1), expected)
    assert np.isclose(F.cross_entropy(x, y).item(), expected.mean())
    soft = np.eye(3)[y].transpose(0, 3, 1, 2)  # (N, C, H, W) one-hot
    assert np.isclose(F.cross_entropy(x, soft).item(), expected.mean())


def test_reductions_relate(device, rng):
    x = mdl.tensor(rng.standard_normal((5, 4)), device=device)
    y = rng.integers(0, 4, 5)
    none = F.cross_entropy(x, y, reduction="none").numpy()
    assert none.shape == (5,)
    assert np.isclose(F.cross_entropy(x, y, reduction="sum").item(), none.sum())
    assert np.isclose(F.cross_entropy(x, y, reduction="mean").item(), none.mean())


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("soft", [False, True])
def test_cross_entropy_gradcheck(reduction, smoothing, weighted, soft, device, rng):
    x = mdl.tensor(rng.standard_normal((4, 5)), requires_grad=True, device=device)
    if soft:
        y = rng.random((4, 5))
        y /= y.sum(axis=1, keepdims=True)
    else:
        y = rng.integers(0, 5, 4)
    w = rng.uniform(0.5, 2, 5) if weighted else None
    assert mdl.gradcheck(
        lambda v: F.cross_entropy(v, y, weight=w, reduction=reduction, label_smoothing=smoothing), (x,)
    )


@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("soft", [False, True])
def test_cross_entropy_spatial_gradcheck(reduction, soft, device, rng):
    x = mdl.tensor(rng.standard_normal((2, 3, 2, 2)), requires_grad=True, device=device)
    y = rng.integers(0, 3, (2, 2, 2))
    if soft:
        y = np.eye(3)[y].transpose(0, 3, 1, 2) * 0.8 + 0.2 / 3
    w = np.array([1.0, 0.5, 2.0])
    assert mdl.gradcheck(lambda v: F.cross_entropy(v, y, weight=w, reduction=reduction, label_smoothing=0.1), (x,))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_stable_for_huge_logits(dtype, device):
    x = mdl.tensor(np.array([[1000.0, -1000.0], [-1000.0, 1000.0]], dtype=dtype), requires_grad=True, device=device)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = F.cross_entropy(x, np.array([1, 1]), reduction="none")
        soft = F.cross_entropy(x, np.array([[0.5, 0.5], [0.0, 1.0]], dtype=dtype), reduction="none")
        F.cross_entropy(x, np.array([1, 1])).backward()
    assert np.allclose(loss.numpy(), [2000.0, 0.0]) and loss.dtype == dtype
    assert np.allclose(soft.numpy(), [1000.0, 0.0])
    assert np.allclose(x.grad.tolist(), [[0.5, -0.5], [0.0, 0.0]])


def test_cross_entropy_accepts_lists_and_numpy_labels_on_any_device(device):
    x = mdl.tensor(LOGITS, device=device)
    for y in ([2, 1], np.array([2, 1], dtype=np.uint8), mdl.tensor(np.array([2, 1]), device=device)):
        assert np.isclose(F.cross_entropy(x, y).item(), (LN2 + LN5) / 2)


def test_cross_entropy_errors():
    x = mdl.tensor(LOGITS)
    with pytest.raises(ValueError, match=r"target label 3 is out of range for 3 classes \(labels must be in 0..2\)"):
        F.cross_entropy(x, np.array([3, 0]))
    with pytest.raises(ValueError, match="target label -1 is out of range for 3 classes"):
        F.cross_entropy(x, np.array([0, -1]))
    with pytest.raises(ValueError, match=r"labels must have shape \(2,\) for input of shape \(2, 3\), got \(3,\)"):
        F.cross_entropy(x, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"soft targets must have the input's shape \(2, 3\), got \(2, 4\)"):
        F.cross_entropy(x, np.ones((2, 4)) / 4)
    with pytest.raises(ValueError, match=r"got \(2,\); class labels must have an integer dtype"):
        F.cross_entropy(x, np.array([2.0, 1.0]))
    with pytest.raises(TypeError, match="integer class labels or float probabilities, got dtype bool"):
        F.cross_entropy(x, np.array([True, False]))
    with pytest.raises(ValueError, match=r"reduction must be one of \('mean', 'sum', 'none'\), got 'avg'"):
        F.cross_entropy(x, LABELS, reduction="avg")
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\], got 1.5"):
        F.cross_entropy(x, LABELS, label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"for input of shape \(2,\) \(one sample\) the target must be a 0-d class label"):
        F.cross_entropy(mdl.tensor([1.0, 2.0]), np.array([0]))  # 1-D logits are one sample (C,): a 0-d label
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\) \(one per class\), got \(2,\)"):
        F.cross_entropy(x, LABELS, weight=np.ones(2))


# ---------------------------------------------------------------- mean squared error
def test_mse_by_hand(device):
    x = mdl.tensor([1.0, 2.0, 4.0], requires_grad=True, device=device)
    t = np.array([0.0, 2.0, 1.0])
    assert np.isclose(F.mse_loss(x, t).item(), (1 + 0 + 9) / 3)
    assert np.isclose(F.mse_loss(x, t, "sum").item(), 10.0)
    assert np.allclose(F.mse_loss(x, t, reduction="none").numpy(), [1.0, 0.0, 9.0])
    F.mse_loss(x, t).backward()
    assert np.allclose(x.grad.tolist(), [2 / 3, 0.0, 2.0])  # 2 (x - t) / n


def test_broadcast_inputs_get_gradients_of_their_own_shapes(device):
    # A loss whose inputs broadcast must hand each input a gradient of its own
    # shape (summed over the broadcast copies), not of the broadcast shape.
    a = mdl.tensor([[1.0, 2.0]], requires_grad=True, device=device)      # (1, 2)
    b = mdl.tensor([[0.0], [4.0]], requires_grad=True, device=device)    # (2, 1)
    with pytest.warns(UserWarning, match=r"broadcast to \(2, 2\)"):
        loss = F.mse_loss(a, b)  # broadcasts to (2, 2): diffs [[1, 2], [-3, -2]]
    assert np.isclose(loss.item(), (1 + 4 + 9 + 4) / 4)
    loss.backward()
    assert a.grad.shape == (1, 2) and b.grad.shape == (2, 1)
    assert np.allclose(a.grad.tolist(), [[(2 * 1 + 2 * -3) / 4, (2 * 2 + 2 * -2) / 4]])  # [[-1, 0]]
    assert np.allclose(b.grad.tolist(), [[-(2 * 1 + 2 * 2) / 4], [-(2 * -3 + 2 * -2) / 4]])  # [[-1.5], [2.5]]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 1), (3, 4)), ((4,), (3, 1)), ((), (2, 3))])
def test_mse_gradcheck(reduction, shapes, device, rng):
    u = mdl.tensor(rng.standard_normal(shapes[0]), requires_grad=True, device=device)
    v = mdl.tensor(rng.standard_normal(shapes[1]), requires_grad=True, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("error" if shapes[0] == shapes[1] else "ignore")  # (warned: see below)
        assert mdl.gradcheck(lambda p, q: F.mse_loss(p, q, reduction), (u, v))


def test_mse_errors():
    with pytest.raises(ValueError, match=r"mse_loss: input shape \(3,\) and target shape \(4,\) do not broadcast"):
        F.mse_loss(mdl.tensor(np.ones(3)), np.ones(4))
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.mse_loss(mdl.tensor(np.ones(3)), np.ones(3), reduction="mine")


# ---------------------------------------------------------------- binary cross-entropy
def test_bce_with_logits_by_hand(device):
    x, y = mdl.tensor([0.5, -1.0], requires_grad=True, device=device), np.array([1.0, 0.0])
    # -log sigmoid(0.5) = log(1 + e^-0.5);  -log(1 - sigmoid(-1)) = log(1 + e^-1)
    l0, l1 = math.log1p(math.exp(-0.5)), math.log1p(math.exp(-1.0))
    assert np.isclose(F.binary_cross_entropy_with_logits(x, y).item(), (l0 + l1) / 2)
    assert np.allclose(F.binary_cross_entropy_with_logits(x, y, reduction="none").numpy(), [l0, l1])
    assert np.isclose(F.binary_cross_entropy_with_logits(x, y, reduction="sum").item(), l0 + l1)
    F.binary_cross_entropy_with_logits(x, y, reduction="sum").backward()
    s = 1 / (1 + np.exp(-np.array([0.5, -1.0])))
    assert np.allclose(x.grad.tolist(), s - y)  # sigmoid(x) - t


def test_bce_pos_weight_and_weight_follow_pytorch(rng):
    # PyTorch: l = -w [pw t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))], pw per class (last axis)
    a, t = rng.standard_normal((3, 4)), rng.random((3, 4))
    pw, w = np.array([1.0, 2.0, 3.0, 0.5]), np.array([0.2, 1.0, 1.5, 1.0])
    s = 1 / (1 + np.exp(-a))
    expected = -w * (pw * t * np.log(s) + (1 - t) * np.log(1 - s))
    got = F.binary_cross_entropy_with_logits(mdl.tensor(a), t, weight=w, pos_weight=pw, reduction="none").numpy()
    assert np.allclose(got, expected)
    assert np.isclose(F.binary_cross_entropy_with_logits(mdl.tensor(a), t, w, "mean", pw).item(), expected.mean())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_stable_for_huge_logits(dtype, device):
    x = mdl.tensor(np.array([1000.0, -1000.0, 1000.0, -1000.0], dtype=dtype), requires_grad=True, device=device)
    t = np.array([0.0, 1.0, 1.0, 0.0], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        big = F.binary_cross_entropy_with_logits(x, t, reduction="none")
        big.sum().backward()
    assert np.allclose(big.numpy(), [1000.0, 1000.0, 0.0, 0.0])
    assert np.allclose(x.grad.tolist(), [1.0, -1.0, 0.0, 0.0])


@pytest.mark.parametrize("kwargs", [
    {}, {"reduction": "sum"}, {"reduction": "none"}, {"pos_weight": np.array([3.0, 1.0, 0.5, 2.0])},
    {"weight": np.array([[0.5], [1.0], [2.0]]), "reduction": "sum"},
    {"weight": np.full((3, 4), 0.7), "pos_weight": np.full(4, 2.0), "reduction": "mean"},
])
def test_bce_gradcheck_input_and_target(kwargs, device, rng):
    u = mdl.tensor(rng.standard_normal((3, 4)), requires_grad=True, device=device)
    v = mdl.tensor(rng.random((3, 4)), requires_grad=True, device=device)
    assert mdl.gradcheck(lambda p, q: F.binary_cross_entropy_with_logits(p, q, **kwargs), (u, v))


def test_bce_errors():
    with pytest.raises(ValueError, match=r"target shape \(3,\) must equal input shape \(2,\)"):
        F.binary_cross_entropy_with_logits(mdl.tensor([0.0, 1.0]), np.zeros(3))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(3,\) does not broadcast to the input's shape \(2, 4\)"):
        F.binary_cross_entropy_with_logits(mdl.tensor(np.zeros((2, 4))), np.zeros((2, 4)), pos_weight=np.ones(3))
    with pytest.raises(ValueError, match=r"weight of shape \(2, 2, 4\) does not broadcast"):
        F.binary_cross_entropy_with_logits(mdl.tensor(np.zeros((2, 4))), np.zeros((2, 4)), weight=np.ones((2, 2, 4)))
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.binary_cross_entropy_with_logits(mdl.tensor([0.0]), np.zeros(1), reduction="max")


def test_losses_keep_float32_and_accept_host_targets(device, rng):
    x = mdl.tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True, device=device)
    losses = [
        F.cross_entropy(x, rng.integers(0, 4, 3)),
        F.cross_entropy(x, np.full((3, 4), 0.25)),  # float64 soft targets on the host
        F.mse_loss(x, rng.standard_normal((3, 4))),
        F.binary_cross_entropy_with_logits(x, rng.random((3, 4)), pos_weight=[1.0, 2.0, 3.0, 4.0]),
    ]
    for loss in losses:
        assert loss.dtype == np.float32 and backend.device_of(loss.data) == backend.parse_device(device)
        loss.backward()
        assert x.grad.dtype == np.float32
        x.grad = None


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


# ---- mse_loss on shapes that differ: computed, with PyTorch's UserWarning
def test_mse_warns_when_shapes_differ(device):
    pred = mdl.tensor(np.array([[1.0], [2.0], [3.0], [4.0]]), device=device)  # (4, 1)
    target = np.array([1.0, 2.0, 3.0, 4.0])  # (4,)
    with pytest.warns(UserWarning, match=r"mse_loss: target shape \(4,\) differs from input shape \(4, 1\); "
                                         r"they broadcast to \(4, 4\)"):
        loss = F.mse_loss(pred, target)  # before: silent
    assert np.isclose(loss.item(), np.mean((np.arange(1, 5)[:, None] - np.arange(1, 5)[None, :]) ** 2.0))
    with pytest.warns(UserWarning, match="differs from input shape"):
        nn.MSELoss()(pred, target)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one shape: no warning
        assert F.mse_loss(pred, target.reshape(4, 1)).item() == 0.0


# ---- a -inf logit on a class that is not the target (class masking)
MASKED = np.array([[1.0, -np.inf, 0.5], [0.2, 0.1, -np.inf]])


def _masked_reference(logits, target_rows):
    """-sum_c t_c log softmax_c, with 0 log 0 = 0, computed on the finite classes only."""
    out = []
    for row, t in zip(logits, target_rows):
        keep = np.isfinite(row)
        logp = row[keep] - np.log(np.exp(row[keep]).sum())
        out.append(-(t[keep] * logp).sum())
    return np.array(out)


def test_cross_entropy_with_a_masked_class_is_finite(device):
    x = mdl.tensor(MASKED, requires_grad=True, device=device)
    loss = F.cross_entropy(x, np.array([0, 1]))  # before: nan
    assert np.isclose(loss.item(), _masked_reference(MASKED, np.eye(3)[[0, 1]]).mean())
    loss.backward()
    grad = backend.to_numpy(x.grad)
    assert np.isfinite(grad).all() and grad[0, 1] == 0.0 and grad[1, 2] == 0.0
    p = np.exp(MASKED - MASKED.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    assert np.allclose(grad, (p - np.eye(3)[[0, 1]]) / 2)  # softmax - target, / N
    per_sample = F.cross_entropy(x, np.array([0, 1]), reduction="none", weight=np.array([1.0, 2.0, 3.0]))
    assert np.allclose(per_sample.numpy(), _masked_reference(MASKED, np.eye(3)[[0, 1]]) * [1.0, 2.0])


def test_cross_entropy_masked_class_with_soft_targets_and_smoothing(device):
    x = mdl.tensor(MASKED, requires_grad=True, device=device)
    soft = np.array([[0.7, 0.0, 0.3], [0.5, 0.5, 0.0]])  # no mass on the masked classes
    loss = F.cross_entropy(x, soft)  # finite (PyTorch: nan)
    assert np.isclose(loss.item(), _masked_reference(MASKED, soft).mean())
    loss.backward()
    assert np.isfinite(backend.to_numpy(x.grad)).all()
    x.grad = None
    smoothed = F.cross_entropy(x, np.array([0, 1]), label_smoothing=0.1)  # mass eps/C on the masked class
    assert smoothed.item() == np.inf  # as PyTorch: the target gives mass to a class ruled out
    smoothed.backward()
    assert np.isfinite(backend.to_numpy(x.grad)).all()
