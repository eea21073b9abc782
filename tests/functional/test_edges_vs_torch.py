"""Issue 10's edge cases checked against PyTorch itself (skipped cleanly without torch).

The other test files pin each behaviour by hand; this one shows that where
minidl claims "as PyTorch", PyTorch agrees, and where minidl differs on
purpose (soft targets on a masked class, indexing) the difference is the
documented one.
"""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F
from minidl import backend

torch = pytest.importorskip("torch")
TF = pytest.importorskip("torch.nn.functional")

MASKED = np.array([[1.0, -np.inf, 0.5], [0.2, 0.1, -np.inf]])


def _both(a):
    return mdl.tensor(a, requires_grad=True, dtype=np.float64), torch.tensor(a, requires_grad=True)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_masked_cross_entropy_matches_torch_with_labels(smoothing):
    m, t = _both(MASKED)
    ours = F.cross_entropy(m, np.array([0, 1]), label_smoothing=smoothing)
    theirs = TF.cross_entropy(t, torch.tensor([0, 1]), label_smoothing=smoothing)
    ours.backward(), theirs.backward()
    assert ours.item() == pytest.approx(theirs.item())  # finite without smoothing, inf with it
    np.testing.assert_allclose(m.grad, t.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_masked_cross_entropy_with_soft_targets_is_finite_where_torch_gives_nan():
    soft = np.array([[0.7, 0.0, 0.3], [0.5, 0.5, 0.0]])
    m, t = _both(MASKED)
    ours, theirs = F.cross_entropy(m, soft), TF.cross_entropy(t, torch.tensor(soft))
    ours.backward(), theirs.backward()
    assert np.isnan(theirs.item()) and np.isfinite(ours.item())  # the documented difference
    np.testing.assert_allclose(m.grad, t.grad.numpy(), rtol=1e-12, atol=1e-15)  # gradients agree


@pytest.mark.parametrize("base, exponent", [(0.0, 0.0), (0.0, 0.3), (0.0, 2.0), (2.0, 0.0), (0.0, -1.0)])
def test_pow_gradients_at_a_zero_base_match_torch(base, exponent):
    x, tx = _both(np.array(base))
    p, tp = _both(np.array(exponent))
    with np.errstate(divide="ignore"):
        (x**p).backward()
    (tx**tp).backward()
    assert [x.grad.item(), p.grad.item()] == [tx.grad.item(), tp.grad.item()]


def test_relu_then_sqrt_gradient_matches_torch():
    x, tx = _both(np.array([-1.0, 0.0, 4.0]))
    with np.errstate(divide="ignore"):
        (F.relu(x) ** 0.5).sum().backward()
    (torch.relu(tx) ** 0.5).sum().backward()
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())


def test_promotion_and_scalar_axes_match_torch():
    ours = [mdl.tensor([1, 2]) / 2, mdl.tensor(1) + 0.5, mdl.tensor(2).exp(), 0.7 ** mdl.tensor([1, 2])]
    theirs = [torch.tensor([1, 2]) / 2, torch.tensor(1) + 0.5, torch.tensor(2).exp(), 0.7 ** torch.tensor([1, 2])]
    assert [str(t.dtype) for t in ours] == [str(t.dtype).replace("torch.", "") for t in theirs]
    s, ts = mdl.tensor(3.0), torch.tensor(3.0)
    assert s.squeeze(0).shape == tuple(ts.squeeze(0).shape) == () and s.sum(-1).item() == ts.sum(-1).item()
    assert bool(mdl.tensor([0])) == bool(torch.tensor([0])) is False


def test_indexing_differs_from_torch_as_documented():
    a = np.zeros((2, 3, 4))
    assert mdl.tensor(a)[0, :, [0, 1]].shape == (2, 3)
    assert tuple(torch.tensor(a)[0, :, [0, 1]].shape) == (3, 2)
    assert mdl.tensor(a)[0][:, [0, 1]].shape == tuple(torch.tensor(a)[0][:, [0, 1]].shape)


def test_creation_shapes_and_dtypes_match_torch():
    pairs = [
        (mdl.arange(5), torch.arange(5)), (mdl.arange(0, 1, 0.1), torch.arange(0, 1, 0.1)),
        (mdl.arange(5, 0, -2), torch.arange(5, 0, -2)), (mdl.linspace(-1, 1, 7), torch.linspace(-1, 1, 7)),
        (mdl.full((2,), 7), torch.full((2,), 7)), (mdl.full((2,), True), torch.full((2,), True)),
        (mdl.eye(2, 3), torch.eye(2, 3)), (mdl.zeros(2, 3), torch.zeros(2, 3)),
    ]
    for ours, theirs in pairs:
        assert ours.shape == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_allclose(backend.to_numpy(ours.data), theirs.numpy(), rtol=1e-6, atol=1e-7)
