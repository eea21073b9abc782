"""The linear op: hand values, gradcheck, errors."""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F


def test_linear_by_hand():
    x = mdl.tensor([[1.0, 2.0]])
    w = mdl.tensor([[1.0, 0.0], [0.5, -1.0], [2.0, 1.0]])
    b = mdl.tensor([0.0, 1.0, -1.0])
    assert F.linear(x, w, b).tolist() == [[1.0, -0.5, 3.0]]
    assert F.linear(x, w).tolist() == [[1.0, -1.5, 4.0]]


@pytest.mark.parametrize("xshape", [(4, 3), (2, 4, 3), (3,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradcheck(xshape, bias, device, rng):
    x = mdl.tensor(rng.standard_normal(xshape), requires_grad=True, device=device)
    w = mdl.tensor(rng.standard_normal((5, 3)), requires_grad=True, device=device)
    b = mdl.tensor(rng.standard_normal(5), requires_grad=True, device=device) if bias else None
    if bias:
        assert mdl.gradcheck(lambda u, v, c: F.linear(u, v, c), (x, w, b))
    else:
        assert mdl.gradcheck(lambda u, v: F.linear(u, v), (x, w))


def test_linear_frozen_weight_gets_no_gradient(rng):
    x = mdl.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    w = mdl.tensor(rng.standard_normal((4, 3)))
    F.linear(x, w).sum().backward()
    assert w.grad is None and x.grad.shape == (2, 3)


def test_linear_shape_errors():
    with pytest.raises(ValueError, match=r"input has 4 features.*in_features=3"):
        F.linear(mdl.tensor(np.ones((2, 4))), mdl.tensor(np.ones((5, 3))))
    with pytest.raises(ValueError, match=r"bias must have shape \(5,\)"):
        F.linear(mdl.tensor(np.ones((2, 3))), mdl.tensor(np.ones((5, 3))), mdl.tensor(np.ones(4)))
