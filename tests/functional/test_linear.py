"""The linear op y = x W^T + b: hand values, gradchecks for every shape and option, errors."""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F
from minidl import backend


def test_linear_by_hand(device):
    x = mdl.tensor([[1.0, 2.0]], requires_grad=True, device=device)
    w = mdl.tensor([[1.0, 0.0], [0.5, -1.0], [2.0, 1.0]], requires_grad=True, device=device)
    b = mdl.tensor([0.0, 1.0, -1.0], requires_grad=True, device=device)
    assert F.linear(x, w).tolist() == [[1.0, -1.5, 4.0]]
    y = F.linear(x, w, b)
    assert y.tolist() == [[1.0, -0.5, 3.0]]
    y.backward(backend.namespace(device).asarray([[1.0, 2.0, 3.0]]))
    assert x.grad.tolist() == [[1 + 1 + 6, 0 - 2 + 3]]  # G W
    assert w.grad.tolist() == [[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]]  # G^T X
    assert b.grad.tolist() == [1.0, 2.0, 3.0]  # rows of G summed


@pytest.mark.parametrize("xshape", [(4, 3), (2, 4, 3), (3,), (1, 3), (2, 1, 2, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradcheck(xshape, bias, device, rng):
    x = mdl.tensor(rng.standard_normal(xshape), requires_grad=True, device=device)
    w = mdl.tensor(rng.standard_normal((5, 3)), requires_grad=True, device=device)
    b = mdl.tensor(rng.standard_normal(5), requires_grad=True, device=device) if bias else None
    if bias:
        assert mdl.gradcheck(lambda u, v, c: F.linear(u, v, c), (x, w, b))
    else:
        assert mdl.gradcheck(lambda u, v: F.linear(u, v), (x, w))
    y = F.linear(x, w, b)
    expected = x.numpy() @ w.numpy().T + (b.numpy() if bias else 0)
    assert y.shape == xshape[:-1] + (5,) and np.allclose(y.numpy(), expected)


def test_linear_matches_the_composed_ops(device, rng):
    x = mdl.tensor(rng.standard_normal((4, 3)), requires_grad=True, device=device)
    w = mdl.tensor(rng.standard_normal((2, 3)), requires_grad=True, device=device)
    b = mdl.tensor(rng.standard_normal(2), requires_grad=True, device=device)
    gy = backend.namespace(device).asarray(rng.standard_normal((4, 2)))
    F.linear(x, w, b).backward(gy)
    fused = [backend.to_numpy(t.grad) for t in (x, w, b)]
    for t in (x, w, b):
        t.grad = None
    (x @ w.T + b).backward(gy)
    for g, t in zip(fused, (x, w, b)):
        assert np.allclose(g, backend.to_numpy(t.grad))


def test_linear_frozen_inputs_get_no_gradient(device, rng):
    x = mdl.tensor(rng.standard_normal((2, 3)), requires_grad=True, device=device)
    w = mdl.tensor(rng.standard_normal((4, 3)), device=device)
    b = mdl.tensor(rng.standard_normal(4), device=device)
    F.linear(x, w, b).sum().backward()
    assert w.grad is None and b.grad is None and x.grad.shape == (2, 3)
    w2 = mdl.tensor(rng.standard_normal((4, 3)), requires_grad=True, device=device)
    data = mdl.tensor(rng.standard_normal((2, 3)), device=device)  # input data: no gradient wanted
    F.linear(data, w2).sum().backward()
    assert data.grad is None and np.allclose(backend.to_numpy(w2.grad), np.tile(data.numpy().sum(axis=0), (4, 1)))


def test_linear_keeps_float32(device, rng):
    x = mdl.tensor(rng.standard_normal((2, 3)).astype(np.float32), device=device)
    w = mdl.tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True, device=device)
    b = mdl.tensor(np.zeros(4, dtype=np.float32), requires_grad=True, device=device)
    y = F.linear(x, w, b)
    assert y.dtype == np.float32
    y.sum().backward()
    assert w.grad.dtype == np.float32 and b.grad.dtype == np.float32


def test_linear_shape_errors():
    with pytest.raises(ValueError, match=r"input has 4 features .*\(2, 4\).*in_features=3 \(weight shape \(5, 3\)\)"):
        F.linear(mdl.tensor(np.ones((2, 4))), mdl.tensor(np.ones((5, 3))))
    with pytest.raises(ValueError, match=r"input has no features"):
        F.linear(mdl.tensor(1.0), mdl.tensor(np.ones((5, 3))))
    with pytest.raises(ValueError, match=r"bias must have shape \(5,\), got \(4,\)"):
        F.linear(mdl.tensor(np.ones((2, 3))), mdl.tensor(np.ones((5, 3))), mdl.tensor(np.ones(4)))
    with pytest.raises(ValueError, match=r"weight must be 2-D \(out_features, in_features\), got shape \(3,\)"):
        F.linear(mdl.tensor(np.ones((2, 3))), mdl.tensor(np.ones(3)))
