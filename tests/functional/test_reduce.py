"""Reductions over every axis option, and the tie rule of max/min."""
import numpy as np
import pytest

import minidl as mdl


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("op", ["sum", "mean", "max", "min"])
def test_reductions_gradcheck_and_values(op, axis, keepdims, device, rng):
    a = rng.permutation(24).reshape(2, 3, 4) + rng.uniform(0, 0.5, (2, 3, 4))  # no ties
    x = mdl.tensor(a, requires_grad=True, device=device)
    y = getattr(x, op)(axis=axis, keepdims=keepdims)
    assert np.allclose(y.numpy(), getattr(np, op)(a, axis=axis, keepdims=keepdims))
    assert mdl.gradcheck(lambda v: getattr(v, op)(axis=axis, keepdims=keepdims), (x,))


def test_max_shares_the_gradient_among_ties():
    x = mdl.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]], requires_grad=True)
    x.max(axis=1).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]]


def test_mean_gradient_is_one_over_n():
    x = mdl.tensor(np.zeros((2, 5)), requires_grad=True)
    x.mean().backward()
    assert np.allclose(x.grad, 0.1)


def test_axis_out_of_range_and_empty_max():
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        mdl.tensor(np.ones((2, 2))).sum(axis=2)
    with pytest.raises(ValueError, match="empty"):
        mdl.tensor(np.ones((0,))).max()
