"""prod, var, std, logsumexp, any, all, cumsum, argmax/argmin(keepdim=), sort, argsort and topk
(minidl/functional/reduce.py): float64 gradchecks on every device for every option, hand values, clear errors."""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minidl as mdl
import minidl.nn.functional as F
from minidl import backend


def leaf(a, device):
    return mdl.tensor(np.asarray(a, dtype=np.float64), requires_grad=True, device=device)


def no_ties(rng, shape):
    """Distinct values at least 0.5 apart: sort and topk pick one order, and eps = 1e-6 never swaps two."""
    n = int(np.prod(shape))
    return (rng.permutation(n) + rng.uniform(0, 0.5, n)).reshape(shape) / 4


AXES = [None, 0, 1, -1, (0, 2)]


# ------------------------------------------------------------------ prod
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdim", [False, True])
def test_prod_gradcheck(axis, keepdim, device, rng):
    x = leaf(rng.uniform(0.5, 1.5, (2, 3, 4)) * rng.choice([-1, 1], (2, 3, 4)), device)
    y = F.prod(x, axis, keepdim)
    assert np.allclose(y.numpy(), np.prod(x.numpy(), axis=axis, keepdims=keepdim))
    assert mdl.gradcheck(lambda v: F.prod(v, axis, keepdim), (x,))
    assert mdl.gradcheck(lambda v: v.prod(dim=axis, keepdim=keepdim), (x,))


@pytest.mark.parametrize("zeros", [1, 2])
def test_prod_gradient_with_zeros(zeros, device, rng):
    a = rng.uniform(0.5, 1.5, (3, 4))
    a[:, 1] = 0.0
    if zeros == 2:
        a[:, 3] = 0.0
    x = leaf(a, device)
    assert mdl.gradcheck(lambda v: v.prod(dim=1), (x,))  # prod is a polynomial: finite differences are exact here
    x.prod(dim=1).sum().backward()
    if zeros == 1:  # the zero's gradient is the product of the others; every other gradient is 0
        expected = np.zeros_like(a)
        expected[:, 1] = a[:, 0] * a[:, 2] * a[:, 3]
    else:
        expected = np.zeros_like(a)
    assert np.allclose(backend.to_numpy(x.grad), expected)


def test_prod_by_hand(device):
    x = leaf([[2.0, 0.0, 3.0], [0.0, 0.0, 1.0], [1.0, 2.0, 4.0]], device)
    y = x.prod(1)
    assert y.tolist() == [0.0, 0.0, 8.0]
    y.sum().backward()
    assert x.grad.tolist() == [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [8.0, 4.0, 2.0]]
    assert mdl.prod(mdl.tensor([2, 3, 4])).item() == 24  # integers stay integers
    assert F.prod(leaf(5.0, device)).item() == 5.0


# ------------------------------------------------------------------ var, std
@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("correction", [0, 1, 2])
@pytest.mark.parametrize("keepdim", [False, True])
def test_var_std_gradcheck(name, axis, correction, keepdim, device, rng):
    x = leaf(rng.standard_normal((3, 4, 5)), device)  # every axis longer than the correction
    fn = lambda v: getattr(F, name)(v, dim=axis, correction=correction, keepdim=keepdim)  # noqa: E731
    expected = getattr(np, name)(x.numpy(), axis=axis, ddof=correction, keepdims=keepdim)
    assert np.allclose(fn(x).numpy(), expected)
    assert mdl.gradcheck(fn, (x,))
    assert mdl.gradcheck(lambda v: getattr(v, name)(axis, correction=correction, keepdims=keepdim), (x,))


@pytest.mark.parametrize("unbiased", [True, False])
def test_var_unbiased_alias_gradcheck(unbiased, device, rng):
    x = leaf(rng.standard_normal((3, 4)), device)
    assert np.allclose(F.var(x, 1, unbiased).numpy(), np.var(x.numpy(), axis=1, ddof=int(unbiased)))
    assert mdl.gradcheck(lambda v: F.std(v, 1, unbiased), (x,))


def test_var_and_std_by_hand(device):
    x = leaf([1.0, 2.0, 3.0, 6.0], device)  # mean 3, squares of deviations 4 + 1 + 0 + 9 = 14
    assert x.var().item() == pytest.approx(14 / 3)
    assert x.var(correction=0).item() == pytest.approx(14 / 4)
    assert x.std(unbiased=False).item() == pytest.approx(math.sqrt(3.5))
    x.var().backward()
    assert x.grad.tolist() == pytest.approx([2 * d / 3 for d in (-2.0, -1.0, 0.0, 3.0)])
    assert mdl.var(mdl.tensor([1, 2, 3])).dtype == np.float32  # integers: the default float


def test_var_with_no_degrees_of_freedom_is_inf_or_nan_as_pytorch(device):
    assert math.isnan(leaf([3.0], device).var().item())  # n - correction = 0, every x equal: 0 / 0
    assert math.isinf(leaf([1.0, 2.0], device).var(correction=2).item())  # ss > 0 over 0


# ------------------------------------------------------------------ logsumexp, cumsum
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdim", [False, True])
def test_logsumexp_gradcheck(axis, keepdim, device, rng):
    x = leaf(rng.standard_normal((2, 3, 4)), device)
    expected = np.log(np.exp(x.numpy()).sum(axis=axis, keepdims=keepdim))
    assert np.allclose(F.logsumexp(x, dim=axis, keepdim=keepdim).numpy(), expected)
    assert mdl.gradcheck(lambda v: v.logsumexp(axis, keepdim), (x,))


@pytest.mark.filterwarnings("ignore:divide by zero encountered in log")  # log(0) = -inf for the all -inf row
def test_logsumexp_is_stable(device):
    x = leaf([[1000.0, 1000.0], [-1000.0, -1000.0]], device)
    assert x.logsumexp(1).tolist() == pytest.approx([1000 + math.log(2), -1000 + math.log(2)])
    x.logsumexp(1).sum().backward()
    assert np.allclose(backend.to_numpy(x.grad), 0.5)  # the softmax of each row
    all_minus_inf = mdl.tensor([-math.inf, -math.inf], device=device)
    assert F.logsumexp(all_minus_inf, 0).item() == -math.inf


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_cumsum_gradcheck(axis, device, rng):
    x = leaf(rng.standard_normal((2, 3, 4)), device)
    assert np.allclose(F.cumsum(x, dim=axis).numpy(), np.cumsum(x.numpy(), axis=axis))
    assert mdl.gradcheck(lambda v: v.cumsum(axis), (x,))


def test_cumsum_by_hand(device):
    x = leaf([1.0, 2.0, 3.0], device)
    y = x.cumsum(dim=0)
    assert y.tolist() == [1.0, 3.0, 6.0]
    y.backward(backend.namespace(device).asarray([1.0, 10.0, 100.0]))
    assert x.grad.tolist() == [111.0, 110.0, 100.0]  # x_j reaches y_j, ..., y_(n-1)
    assert mdl.cumsum(mdl.tensor([1, 2]), 0).tolist() == [1, 3]


# ------------------------------------------------------------------ any, all, argmax, argmin
def test_any_all(device):
    x = mdl.tensor(backend.namespace(device).asarray([[0.0, 1.0], [0.0, 0.0]]))
    assert x.any().item() is True and x.all().item() is False
    assert F.any(x, dim=1).tolist() == [True, False] and F.all(x > -1, 0).tolist() == [True, True]
    assert mdl.any(x, 0, keepdim=True).shape == (1, 2) and F.all(x, axis=1, keepdims=True).shape == (2, 1)
    assert x.any(1).requires_grad is False


def test_argmax_argmin_keepdim(device):
    x = mdl.tensor(backend.namespace(device).asarray([[1.0, 7.0, 3.0], [9.0, 0.0, 9.0]]))
    assert x.argmax().item() == 3 and x.argmin().item() == 4
    assert x.argmax(dim=1).tolist() == [1, 0]  # a tie: the first index
    assert x.argmax(dim=1, keepdim=True).tolist() == [[1], [0]]
    assert F.argmin(x, 0, keepdim=True).tolist() == [[0, 1, 0]]
    assert mdl.argmax(x, keepdim=True).shape == (1, 1)  # no axis: every axis kept, as PyTorch
    assert x.argmax(axis=-1, keepdims=True).shape == (2, 1)


# ------------------------------------------------------------------ sort, argsort, topk
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_gradcheck_and_values(axis, descending, device, rng):
    x = leaf(no_ties(rng, (3, 4, 5)), device)
    values, indices = F.sort(x, dim=axis, descending=descending)
    order = np.argsort(x.numpy(), axis=axis)
    order = np.flip(order, axis=axis) if descending else order
    assert np.array_equal(indices.numpy(), order)
    assert np.array_equal(values.numpy(), np.take_along_axis(x.numpy(), order, axis=axis))
    assert np.array_equal(F.argsort(x, axis, descending).numpy(), order)
    assert mdl.gradcheck(lambda v: v.sort(axis, descending).values, (x,))


@pytest.mark.parametrize("k", [1, 3, 4])
@pytest.mark.parametrize("axis", [0, -1])
@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("sorted_", [True, False])
def test_topk_gradcheck_and_values(k, axis, largest, sorted_, device, rng):
    x = leaf(no_ties(rng, (4, 6)), device)
    values, indices = x.topk(k, dim=axis, largest=largest, sorted=sorted_)
    order = np.argsort(-x.numpy() if largest else x.numpy(), axis=axis)
    first = np.take(order, range(k), axis=axis)
    assert np.array_equal(indices.numpy(), first)
    assert np.array_equal(values.numpy(), np.take_along_axis(x.numpy(), first, axis=axis))
    assert mdl.gradcheck(lambda v: F.topk(v, k, axis, largest, sorted_).values, (x,))


def test_sort_is_stable_and_descending_keeps_ties_in_order(device):
    x = leaf([1.0, 2.0, 2.0, 0.0, 2.0], device)
    assert x.sort().indices.tolist() == [3, 0, 1, 2, 4]
    assert x.sort(descending=True).indices.tolist() == [1, 2, 4, 0, 3]  # equal 2.0s keep their order
    assert mdl.argsort(x, descending=True, stable=True).tolist() == [1, 2, 4, 0, 3]
    nan = mdl.tensor([1.0, math.nan, 3.0], device=device)
    assert nan.sort(descending=True).indices.tolist() == [1, 2, 0]  # NaN counts as the largest, as PyTorch
    assert nan.sort().indices.tolist() == [0, 2, 1]


def test_sort_and_topk_gradients_by_hand(device):
    xp = backend.namespace(device)
    x = leaf([3.0, 1.0, 2.0], device)
    values, indices = mdl.sort(x, descending=True)
    assert values.tolist() == [3.0, 2.0, 1.0] and indices.tolist() == [0, 2, 1]
    values.backward(xp.asarray([10.0, 20.0, 30.0]))
    assert x.grad.tolist() == [10.0, 30.0, 20.0]  # each gradient goes back to where its value came from
    x.grad = None
    top = mdl.topk(x, 2)
    assert top.values.tolist() == [3.0, 2.0] and top.indices.tolist() == [0, 2]
    top.values.backward(xp.asarray([1.0, 5.0]))
    assert x.grad.tolist() == [1.0, 0.0, 5.0]  # the value left out gets no gradient


def test_sort_and_topk_of_a_0d_tensor(device):
    s = leaf(4.0, device)
    values, indices = s.sort()
    assert values.item() == 4.0 and indices.item() == 0
    assert s.topk(1).values.item() == 4.0


# ------------------------------------------------------------------ errors
def test_clear_errors():
    x = mdl.tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"topk: k must be at most the size of axis 1 \(3\), got 4"):
        x.topk(4)
    with pytest.raises(ValueError, match="topk: k must be an integer >= 0, got -1"):
        x.topk(-1)
    with pytest.raises(ValueError, match="sort: axis 2 is out of range for a tensor of 2 dimension"):
        x.sort(2)
    with pytest.raises(ValueError, match="prod: axis 5 is out of range"):
        x.prod(5)
    with pytest.raises(TypeError, match="cumsum: give the axis to sum along"):
        x.cumsum()
    with pytest.raises(TypeError, match="var: give correction= or unbiased=, not both"):
        x.var(unbiased=True, correction=1)
    with pytest.raises(TypeError, match="var: unbiased must be True or False, got 1"):
        x.var(0, 1)
    with pytest.raises(ValueError, match="std: correction must be >= 0, got -1"):
        x.std(correction=-1)
    with pytest.raises(TypeError, match="logsumexp: give axis= or dim=, not both"):
        F.logsumexp(x, axis=0, dim=0)
    with pytest.raises(TypeError, match="any: give keepdims= or keepdim=, not both"):
        x.any(0, keepdims=True, keepdim=True)
    with pytest.raises(ValueError, match="argmax: axis -3 is out of range"):
        x.argmax(dim=-3)


@pytest.mark.parametrize("op", ["sum", "mean", "max", "min"])
def test_the_first_reductions_take_pytorchs_dim_and_keepdim(op, device, rng):
    x = leaf(no_ties(rng, (2, 3, 4)), device)
    expected = getattr(np, op)(x.numpy(), axis=1, keepdims=True)
    assert np.allclose(getattr(x, op)(dim=1, keepdim=True).numpy(), expected)
    assert np.allclose(getattr(F, op)(x, dim=1, keepdim=True).numpy(), expected)
    assert mdl.gradcheck(lambda v: getattr(F, op)(v, dim=(0, 2), keepdim=True), (x,))
    with pytest.raises(TypeError, match=f"{op}: give axis= or dim=, not both"):
        getattr(F, op)(x, 0, dim=0)


EDGE_OPS = {
    "prod": lambda v: v.prod(0), "logsumexp": lambda v: v.logsumexp(0), "cumsum": lambda v: v.cumsum(0),
    "sort": lambda v: v.sort(0).values, "topk": lambda v: v.topk(1, 0).values, "var": lambda v: v.var(0, correction=0),
}


@pytest.mark.parametrize("name", sorted(EDGE_OPS))
def test_0d_tensors_reduce_to_themselves(name, device):
    s = leaf(2.5, device)
    y = EDGE_OPS[name](s)
    assert y.shape == () and y.item() == (0.0 if name == "var" else 2.5)
    assert mdl.gradcheck(EDGE_OPS[name], (s,))


@pytest.mark.parametrize("name", ["prod", "cumsum", "sort", "var"])
def test_empty_tensors_give_empty_gradients(name, device):
    x = leaf(np.zeros((0, 3)), device)
    y = {"prod": lambda v: v.prod(0), "cumsum": lambda v: v.cumsum(0), "sort": lambda v: v.sort(0).values,
         "var": lambda v: v.var(1)}[name](x)
    y.backward(backend.namespace(device).ones(y.shape))
    assert x.grad.shape == (0, 3)
    if name == "prod":
        assert y.tolist() == [1.0, 1.0, 1.0]  # the empty product


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=4), data=st.data(),
       op=st.sampled_from(["prod", "var", "std", "logsumexp"]), keepdim=st.booleans())
def test_gradcheck_on_drawn_shapes_and_axes(shape, data, op, keepdim, device):
    axes = data.draw(st.lists(st.integers(0, len(shape) - 1), unique=True, max_size=len(shape)))
    axis = tuple(axes) if axes else None
    x = leaf(no_ties(np.random.default_rng(0), tuple(shape)) + 0.5, device)
    n = int(np.prod([shape[a] for a in (axes or range(len(shape)))]))
    kw = {"correction": 0} if op in ("var", "std") else {}
    if op == "std" and n == 1:
        return  # a single value: std 0, whose slope sqrt'(0) is infinite
    assert mdl.gradcheck(lambda v: getattr(v, op)(dim=axis, keepdim=keepdim, **kw), (x,))
