"""The losses added for issue 10: binary_cross_entropy, nll_loss, cross_entropy's ignore_index,
1-D logits and soft targets that get a gradient, smooth_l1_loss, huber_loss, kl_div.
Gradchecks for every option (targets too, where they take a gradient), hand values, PyTorch's
edge rules (the log clamped at -100, all labels ignored, batchmean), errors."""
import math
import warnings

import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F
from minidl import backend

REDUCTIONS = ("mean", "sum", "none")


def grad_of(t):
    return backend.to_numpy(t.grad)


def log_probs(rng, n, c):
    return np.log(rng.dirichlet(np.ones(c), n))


def differences_away_from(rng, shape, corner):
    """Input and target whose difference stays 0.05 away from +-corner (the loss's kink)."""
    t = rng.standard_normal(shape)
    d = rng.uniform(-3, 3, shape)
    d = np.where(np.abs(np.abs(d) - corner) < 0.05, np.sign(d) * (corner + 0.2), d)
    return t + d, t


# ------------------------------------------------------------ binary cross-entropy
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_gradcheck_input_and_target(reduction, weighted, device, rng):
    x = mdl.tensor(rng.uniform(0.05, 0.95, (4, 3)), requires_grad=True, device=device)
    t = mdl.tensor(rng.uniform(0, 1, (4, 3)), requires_grad=True, device=device)
    w = rng.uniform(0.5, 2, (3,)) if weighted else None
    assert mdl.gradcheck(lambda x, t: F.binary_cross_entropy(x, t, weight=w, reduction=reduction), (x, t))


def test_binary_cross_entropy_hand_values(device, xp):
    p = mdl.tensor([0.5, 0.8, 0.1], requires_grad=True, device=device)
    t = xp.asarray([1.0, 1.0, 0.0])
    assert np.allclose(F.binary_cross_entropy(p, t, reduction="none").numpy(),
                       [math.log(2), -math.log(0.8), -math.log(0.9)])
    loss = F.binary_cross_entropy(p, t, weight=xp.asarray([1.0, 2.0, 3.0]), reduction="sum")
    assert loss.item() == pytest.approx(math.log(2) - 2 * math.log(0.8) - 3 * math.log(0.9), rel=1e-6)
    F.binary_cross_entropy(p, t).backward()
    assert np.allclose(grad_of(p), [(0.5 - 1) / 0.25 / 3, (0.8 - 1) / 0.16 / 3, 0.1 / 0.09 / 3])  # (x-t)/(x(1-x))/N


def test_binary_cross_entropy_clamps_the_log_at_minus_100_as_pytorch(device):
    p = mdl.tensor([0.0, 1.0, 0.0, 1.0], dtype="float64", requires_grad=True, device=device)
    t = mdl.tensor([1.0, 0.0, 0.0, 1.0], dtype="float64", requires_grad=True, device=device)
    with np.errstate(divide="raise", invalid="raise"):
        loss = F.binary_cross_entropy(p, t, reduction="none")
        loss.sum().backward()
    assert loss.tolist() == [100.0, 100.0, 0.0, 0.0]  # torch: [100, 100, 0, 0]
    assert np.allclose(grad_of(p), [-1e12, 1e12, 0.0, 0.0])  # (x - t) / max(x (1 - x), 1e-12), as torch
    assert np.allclose(grad_of(t), [100.0, -100.0, 100.0, -100.0])  # the clamped logs (torch: +-inf)


# ------------------------------------------------------------ nll_loss and cross_entropy's labels
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, 2])
def test_nll_loss_gradcheck(reduction, weighted, ignore_index, device, rng):
    x = mdl.tensor(log_probs(rng, 6, 4), requires_grad=True, device=device)
    y = np.array([0, 2, 1, ignore_index, 3, 1])
    w = rng.uniform(0.5, 2, 4) if weighted else None
    assert mdl.gradcheck(lambda x: F.nll_loss(x, y, weight=w, ignore_index=ignore_index, reduction=reduction), (x,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_gradcheck_spatial_and_one_sample(reduction, device, rng):
    x = mdl.tensor(rng.standard_normal((2, 3, 2, 2)), requires_grad=True, device=device)
    y = rng.integers(0, 3, (2, 2, 2))
    assert mdl.gradcheck(lambda x: F.nll_loss(x, y, reduction=reduction), (x,))
    one = mdl.tensor(rng.standard_normal(4), requires_grad=True, device=device)
    assert mdl.gradcheck(lambda x: F.nll_loss(x, np.array(1), reduction=reduction), (one,))


def test_nll_loss_hand_values(device):
    x = mdl.tensor([[-1.0, -2.0, -3.0], [-0.5, -1.5, -2.5]], requires_grad=True, device=device)
    y = np.array([2, 0])
    assert np.allclose(F.nll_loss(x, y, reduction="none").numpy(), [3.0, 0.5])
    assert F.nll_loss(x, y).item() == pytest.approx(1.75)
    w = np.array([1.0, 1.0, 3.0])
    assert F.nll_loss(x, y, weight=w).item() == pytest.approx((3 * 3.0 + 1 * 0.5) / 4)  # / sum of labels' weights
    assert F.nll_loss(x, np.array([2, -100])).item() == pytest.approx(3.0)  # the ignored one is not counted
    F.nll_loss(x, y, weight=w).backward()
    assert np.allclose(grad_of(x), [[0, 0, -3 / 4], [-1 / 4, 0, 0]])
    assert F.nll_loss(mdl.tensor([-1.0, -2.0]), np.array(1)).shape == ()  # one sample (C,), a 0-d label


def test_log_softmax_then_nll_loss_is_cross_entropy(rng):
    a, y = rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    expected = F.cross_entropy(mdl.tensor(a), y).item()
    assert F.nll_loss(F.log_softmax(mdl.tensor(a), 1), y).item() == pytest.approx(expected)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_ignore_index_gradcheck(reduction, smoothing, weighted, device, rng):
    x = mdl.tensor(rng.standard_normal((6, 4)), requires_grad=True, device=device)
    y = np.array([0, -100, 1, 3, -100, 2])
    w = rng.uniform(0.5, 2, 4) if weighted else None
    assert mdl.gradcheck(lambda x: F.cross_entropy(x, y, w, reduction, smoothing, ignore_index=-100), (x,))


def test_cross_entropy_ignore_index_hand_values(device):
    ln2, ln5 = math.log(2), math.log(5)
    x = mdl.tensor([[0.0, 0.0, ln2], [math.log(3), 0.0, 0.0], [5.0, 1.0, 2.0]], requires_grad=True, device=device)
    y = np.array([2, 1, 7])  # the third is ignored: 7 would be out of range, but it is ignore_index
    assert np.allclose(F.cross_entropy(x, y, reduction="none", ignore_index=7).numpy(), [ln2, ln5, 0.0])
    loss = F.cross_entropy(x, y, ignore_index=7)
    assert loss.item() == pytest.approx((ln2 + ln5) / 2)  # the mean over the 2 kept labels
    loss.backward()
    assert np.allclose(grad_of(x)[2], 0.0)  # no gradient for an ignored row
    assert np.allclose(grad_of(x)[0], [1 / 8, 1 / 8, -1 / 4])


def test_every_label_ignored_gives_nan_mean_as_pytorch():
    x = mdl.tensor([[1.0, 2.0], [0.5, 0.1]])
    with np.errstate(invalid="ignore"):
        assert math.isnan(F.cross_entropy(x, np.array([-100, -100])).item())
        assert math.isnan(F.nll_loss(x, np.array([-100, -100])).item())
    assert F.cross_entropy(x, np.array([-100, -100]), reduction="sum").item() == 0.0


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_one_sample_1d_logits(reduction, device, rng):
    a = rng.standard_normal(5)
    x = mdl.tensor(a, requires_grad=True, device=device)
    loss = F.cross_entropy(x, np.array(3), reduction=reduction)
    assert loss.shape == () and loss.item() == pytest.approx(-(a[3] - np.log(np.exp(a).sum())))
    assert mdl.gradcheck(lambda x: F.cross_entropy(x, np.array(3), reduction=reduction), (x,))
    p = mdl.tensor(rng.dirichlet(np.ones(5)), requires_grad=True, device=device)
    assert mdl.gradcheck(lambda x, p: F.cross_entropy(x, p, reduction=reduction), (x, p))


# ------------------------------------------------------------ soft targets with a gradient
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_soft_targets_gradcheck_both(reduction, smoothing, weighted, device, rng):
    x = mdl.tensor(rng.standard_normal((5, 4)), requires_grad=True, device=device)
    p = mdl.tensor(rng.dirichlet(np.ones(4), 5), requires_grad=True, device=device)
    w = rng.uniform(0.5, 2, 4) if weighted else None
    assert mdl.gradcheck(lambda x, p: F.cross_entropy(x, p, w, reduction, smoothing), (x, p))


def test_cross_entropy_soft_targets_gradcheck_spatial(device, rng):
    x = mdl.tensor(rng.standard_normal((2, 3, 2, 2)), requires_grad=True, device=device)
    p = mdl.tensor(rng.dirichlet(np.ones(3), (2, 2, 2)).transpose(0, 3, 1, 2), requires_grad=True, device=device)
    assert mdl.gradcheck(lambda x, p: F.cross_entropy(x, p), (x, p))


def test_soft_target_gradient_is_minus_log_softmax_over_n(device, rng):
    a = rng.standard_normal((3, 4))
    p = mdl.tensor(rng.dirichlet(np.ones(4), 3), requires_grad=True, device=device)
    F.cross_entropy(mdl.tensor(a, device=device), p).backward()
    log_p = a - np.log(np.exp(a).sum(axis=1, keepdims=True))
    assert np.allclose(grad_of(p), -log_p / 3)
    constant = mdl.tensor(rng.dirichlet(np.ones(4), 3), device=device)  # no requires_grad: a constant, as before
    x = mdl.tensor(a, requires_grad=True, device=device)
    F.cross_entropy(x, constant).backward()
    assert constant.grad is None and x.grad is not None


# ------------------------------------------------------------ smooth L1 and Huber
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("beta", [1.0, 0.5, 0.0])
def test_smooth_l1_loss_gradcheck_input_and_target(reduction, beta, device, rng):
    a, b = differences_away_from(rng, (3, 4), beta)
    x = mdl.tensor(a, requires_grad=True, device=device)
    t = mdl.tensor(b, requires_grad=True, device=device)
    assert mdl.gradcheck(lambda x, t: F.smooth_l1_loss(x, t, reduction, beta), (x, t))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("delta", [1.0, 0.3, 2.0])
def test_huber_loss_gradcheck_input_and_target(reduction, delta, device, rng):
    a, b = differences_away_from(rng, (3, 4), delta)
    x = mdl.tensor(a, requires_grad=True, device=device)
    t = mdl.tensor(b, requires_grad=True, device=device)
    assert mdl.gradcheck(lambda x, t: F.huber_loss(x, t, reduction, delta), (x, t))


def test_smooth_l1_and_huber_hand_values(device):
    x = mdl.tensor([0.0, 0.5, 3.0, -2.0], requires_grad=True, device=device)
    t = mdl.tensor([0.0, 0.0, 0.0, 0.0], device=device)
    assert np.allclose(F.smooth_l1_loss(x, t, reduction="none").numpy(), [0.0, 0.125, 2.5, 1.5])
    assert np.allclose(F.smooth_l1_loss(x, t, reduction="none", beta=2.0).numpy(), [0.0, 0.0625, 2.0, 1.0])
    assert np.allclose(F.smooth_l1_loss(x, t, reduction="none", beta=0.0).numpy(), [0.0, 0.5, 3.0, 2.0])  # L1
    assert np.allclose(F.huber_loss(x, t, reduction="none", delta=2.0).numpy(), [0.0, 0.125, 4.0, 2.0])
    assert F.huber_loss(x, t).item() == pytest.approx((0.125 + 2.5 + 1.5) / 4)  # delta = 1: smooth L1
    F.huber_loss(x, t, reduction="sum", delta=2.0).backward()
    assert np.allclose(grad_of(x), [0.0, 0.5, 2.0, -2.0])  # d inside, delta sign(d) beyond


def test_elementwise_losses_warn_on_broadcast_shapes():
    x, t = mdl.tensor(np.zeros((4, 1))), mdl.tensor(np.ones(4))
    for fn in (F.smooth_l1_loss, F.huber_loss, F.kl_div):
        with pytest.warns(UserWarning, match=r"target shape \(4,\) differs from input shape \(4, 1\)"):
            fn(x, t, reduction="sum")


# ------------------------------------------------------------ KL divergence
@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none", "mean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_gradcheck_input_and_target(reduction, log_target, device, rng):
    x = mdl.tensor(log_probs(rng, 3, 4), requires_grad=True, device=device)
    q = rng.dirichlet(np.ones(4), 3)
    t = mdl.tensor(np.log(q) if log_target else q, requires_grad=True, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # reduction="mean" warns, as PyTorch
        assert mdl.gradcheck(lambda x, t: F.kl_div(x, t, reduction, log_target), (x, t))


def test_kl_div_hand_values(device):
    p = np.array([[0.5, 0.5], [0.9, 0.1]])
    q = np.array([[0.25, 0.75], [1.0, 0.0]])  # a zero target: 0 log 0 = 0
    x = mdl.tensor(np.log(p), requires_grad=True, device=device)
    per_row = [0.25 * math.log(0.25 / 0.5) + 0.75 * math.log(0.75 / 0.5), math.log(1 / 0.9)]
    assert F.kl_div(x, q, reduction="batchmean").item() == pytest.approx(sum(per_row) / 2)  # KL(q || p) per row
    assert F.kl_div(x, q, reduction="sum").item() == pytest.approx(sum(per_row))
    none = F.kl_div(x, q, reduction="none").numpy()
    assert none[1, 1] == 0.0 and none.sum() == pytest.approx(sum(per_row))
    with pytest.warns(UserWarning, match="reduction='mean' divides the total loss by the batch size and by the number"):
        assert F.kl_div(x, q).item() == pytest.approx(sum(per_row) / 4)
    assert F.kl_div(x[:1], np.log(q[:1]), reduction="sum", log_target=True).item() == pytest.approx(per_row[0])
    F.kl_div(x, q, reduction="batchmean").backward()
    assert np.allclose(grad_of(x), -q / 2)


# ------------------------------------------------------------ errors
def test_errors():
    p = mdl.tensor([[0.2, 0.7]])
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input must be probabilities in \[0, 1\], got values"
                                         r" in \[-0.5, 0.7.*binary_cross_entropy_with_logits"):
        F.binary_cross_entropy(mdl.tensor([[-0.5, 0.7]]), np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: target shape \(2,\) must equal input shape \(1, 2\)"):
        F.binary_cross_entropy(p, np.ones(2))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: weight of shape \(3,\) does not broadcast"):
        F.binary_cross_entropy(p, np.ones((1, 2)), weight=np.ones(3))
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.binary_cross_entropy(p, np.ones((1, 2)), reduction="avg")
    logp = mdl.tensor(np.log([[0.2, 0.3, 0.5]]))
    with pytest.raises(ValueError, match=r"nll_loss: target label 3 is out of range for 3 classes \(labels must be in "
                                         r"0..2\) or equal ignore_index=-100"):
        F.nll_loss(logp, np.array([3]))
    with pytest.raises(TypeError, match="nll_loss: target must hold integer class labels, got dtype float64"):
        F.nll_loss(logp, np.array([1.0]))
    with pytest.raises(ValueError, match=r"nll_loss: target labels must have shape \(1,\) for input of shape \(1, 3\)"):
        F.nll_loss(logp, np.array([1, 2]))
    with pytest.raises(ValueError, match=r"nll_loss: weight must have shape \(3,\) \(one per class\), got \(2,\)"):
        F.nll_loss(logp, np.array([1]), weight=np.ones(2))
    with pytest.raises(ValueError, match=r"nll_loss: input must have shape \(C,\), \(N, C\)"):
        F.nll_loss(mdl.tensor(1.0), np.array(0))
    with pytest.raises(ValueError, match=r"cross_entropy: for input of shape \(3,\) \(one sample\) the target must be"
                                         r" soft targets of shape \(3,\), got shape \(2,\)"):
        F.cross_entropy(mdl.tensor([1.0, 2.0, 3.0]), np.array([0.5, 0.5]))
    with pytest.raises(ValueError, match="target label -1 is out of range"):
        F.cross_entropy(logp, np.array([-1]), ignore_index=-100)
    x = mdl.tensor([[1.0, 2.0]])
    with pytest.raises(ValueError, match="smooth_l1_loss: beta must be >= 0, got -1"):
        F.smooth_l1_loss(x, x, beta=-1)
    with pytest.raises(ValueError, match="huber_loss: delta must be > 0, got 0.0"):
        F.huber_loss(x, x, delta=0)
    with pytest.raises(ValueError, match="huber_loss: delta must be >= 0, got -2"):
        F.huber_loss(x, x, delta=-2)
    with pytest.raises(ValueError, match=r"smooth_l1_loss: input shape \(1, 2\) and target shape \(3,\) do not"):
        F.smooth_l1_loss(x, np.ones(3))
    with pytest.raises(ValueError, match=r"kl_div: reduction must be one of \('mean', 'batchmean', 'sum', 'none'\), "
                                         r"got 'avg'"):
        F.kl_div(x, x, reduction="avg")
    with pytest.raises(TypeError, match="kl_div: log_target must be True or False, got 1"):
        F.kl_div(x, x, reduction="sum", log_target=1)
