"""Reductions over every axis option, hand values, adjoints, and the tie rule of max/min."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minidl as mdl
import minidl.nn.functional as F
from minidl import backend
from minidl.functional import reduce as R

DRAWN = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def no_ties(rng, shape):
    """Distinct values at least 0.5 apart, so max/min have one winner and finite
    differences (eps = 1e-6) never cross a tie."""
    n = int(np.prod(shape))
    return (rng.permutation(n) + rng.uniform(0, 0.5, n)).reshape(shape)


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2), (-1, 0), (0, 1, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("op", ["sum", "mean", "max", "min"])
def test_reductions_gradcheck_and_values(op, axis, keepdims, device, rng):
    a = no_ties(rng, (2, 3, 4))
    x = mdl.tensor(a, requires_grad=True, device=device)
    y = getattr(x, op)(axis=axis, keepdims=keepdims)
    expected = getattr(np, op)(a, axis=axis, keepdims=keepdims)
    assert y.shape == expected.shape and np.allclose(y.numpy(), expected)
    assert mdl.gradcheck(lambda v: getattr(v, op)(axis=axis, keepdims=keepdims), (x,))
    assert mdl.gradcheck(lambda v: getattr(F, op)(v, axis, keepdims), (x,))


@DRAWN
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=4), data=st.data(),
       op=st.sampled_from(["sum", "mean", "max", "min"]), keepdims=st.booleans())
def test_reductions_gradcheck_on_drawn_shapes_and_axes(shape, data, op, keepdims, device):
    axes = data.draw(st.lists(st.integers(0, len(shape) - 1), unique=True, max_size=len(shape)))
    axis = tuple(axes) if axes else None
    x = mdl.tensor(no_ties(np.random.default_rng(0), tuple(shape)), requires_grad=True, device=device)
    assert mdl.gradcheck(lambda v: getattr(v, op)(axis=axis, keepdims=keepdims), (x,))


def test_reductions_of_1d_and_0d_tensors(device):
    v = mdl.tensor([1.0, 5.0, 3.0], requires_grad=True, device=device)
    assert v.sum().item() == 9.0 and v.mean().item() == 3.0 and v.max().item() == 5.0 and v.min().item() == 1.0
    v.max().backward()
    assert v.grad.tolist() == [0.0, 1.0, 0.0]
    s = mdl.tensor(2.5, requires_grad=True, device=device)
    assert s.sum().item() == 2.5 and s.mean().item() == 2.5 and s.max().item() == 2.5


def test_sum_and_mean_gradients_by_hand(device):
    xp = backend.namespace(device)
    x = mdl.tensor(np.zeros((2, 3)), requires_grad=True, device=device)
    x.sum(axis=1).backward(xp.asarray([1.0, 2.0]))
    assert x.grad.tolist() == [[1.0] * 3, [2.0] * 3]  # gy copied along the summed axis
    x.grad = None
    x.mean(axis=0, keepdims=True).backward(xp.asarray([[3.0, 6.0, 9.0]]))
    assert x.grad.tolist() == [[1.5, 3.0, 4.5]] * 2  # gy / 2 to each of the 2 rows


def test_mean_gradient_is_one_over_n():
    x = mdl.tensor(np.zeros((2, 5)), requires_grad=True)
    x.mean().backward()
    assert np.allclose(x.grad, 0.1)
    y = mdl.tensor(np.zeros((2, 3, 4)), requires_grad=True)
    y.mean(axis=(0, 2)).sum().backward()
    assert np.allclose(y.grad, 1 / 8)


def test_max_and_min_pick_the_winner_by_hand(device):
    x = mdl.tensor([[1.0, 7.0, 3.0], [9.0, 0.0, 4.0]], requires_grad=True, device=device)
    y = x.max(axis=1)
    assert y.tolist() == [7.0, 9.0]
    y.backward(backend.namespace(device).asarray([10.0, 20.0]))
    assert x.grad.tolist() == [[0.0, 10.0, 0.0], [20.0, 0.0, 0.0]]
    x.grad = None
    x.min(axis=0).backward(backend.namespace(device).asarray([1.0, 2.0, 3.0]))
    assert x.grad.tolist() == [[1.0, 0.0, 3.0], [0.0, 2.0, 0.0]]


def test_max_shares_the_gradient_among_ties(device):
    x = mdl.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]], requires_grad=True, device=device)
    x.max(axis=1).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]]


def test_min_and_full_reductions_share_ties_too(device):
    x = mdl.tensor([[2.0, 0.0, 0.0], [0.0, 5.0, 1.0]], requires_grad=True, device=device)
    x.min().backward()  # three zeros tie for the global minimum
    assert np.allclose(x.grad.tolist(), [[0, 1 / 3, 1 / 3], [1 / 3, 0, 0]])
    x.grad = None
    x.max(axis=0, keepdims=True).backward(backend.namespace(device).asarray([[6.0, 6.0, 6.0]]))
    assert x.grad.tolist() == [[6.0, 0.0, 0.0], [0.0, 6.0, 6.0]]


def test_tie_gradient_sums_to_the_upstream_gradient(rng):
    x = mdl.tensor(rng.integers(0, 3, (4, 6)).astype(float), requires_grad=True)  # many ties
    gy = rng.standard_normal(4)
    x.max(axis=1).backward(gy)
    assert np.allclose(x.grad.sum(axis=1), gy)


@pytest.mark.parametrize("axis, keepdims", [(None, False), (1, False), ((0, 2), True), (-1, True)])
def test_sum_and_its_broadcast_are_adjoint(axis, keepdims, device, rng):
    # A = sum over axes; A^T y = y copied back along them (Sum.backward).
    xp = backend.namespace(device)
    op = R.Sum(axis, keepdims)
    x = xp.asarray(rng.standard_normal((2, 3, 4)))
    ax = op.forward(x)
    y = xp.asarray(rng.standard_normal(ax.shape))
    assert np.isclose(float((ax * y).sum()), float((x * op.backward(y)).sum()))


def test_dim_is_an_alias_for_axis(rng):
    x = mdl.tensor(rng.standard_normal((2, 3)))
    assert np.allclose(x.sum(dim=1).numpy(), x.sum(axis=1).numpy())
    assert np.allclose(x.max(dim=0).numpy(), x.numpy().max(axis=0))
    with pytest.raises(TypeError, match="axis= or dim=, not both"):
        x.mean(axis=0, dim=1)


def test_reductions_keep_float32(device):
    x = mdl.tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True, device=device)
    for op in ("sum", "mean", "max", "min"):
        y = getattr(x, op)(axis=1)
        assert y.dtype == np.float32
        y.sum().backward()
        assert x.grad.dtype == np.float32
        x.grad = None


def test_axis_out_of_range_and_empty_max():
    with pytest.raises(ValueError, match="axis 2 is out of range for a tensor of 2 dimension"):
        mdl.tensor(np.ones((2, 2))).sum(axis=2)
    with pytest.raises(ValueError, match="axis -3 is out of range"):
        mdl.tensor(np.ones((2, 2))).max(axis=-3)
    with pytest.raises(ValueError, match=r"max\(\) of an empty tensor"):
        mdl.tensor(np.ones((0,))).max()
    with pytest.raises(ValueError, match=r"min\(\) of an empty tensor"):
        mdl.tensor(np.ones((2, 0))).min(axis=1)
