"""Shape ops: gradchecks, hand values and adjoint identities <A x, y> == <x, A^T y>."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minidl as mdl
import minidl.nn.functional as F
from minidl import backend
from minidl.functional import shape as S

DRAWN = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def leaf(rng, shape, device):
    return mdl.tensor(rng.standard_normal(shape), requires_grad=True, device=device)


def on(device, index):
    """An index with its NumPy arrays moved to ``device`` (as a user would build it there)."""
    xp = backend.namespace(device)
    if isinstance(index, np.ndarray):
        return xp.asarray(index)
    if isinstance(index, tuple):
        return tuple(on(device, i) for i in index)
    return index


def adjoint_holds(op, x, y_shape, rng, device):
    """For a linear Function op: <op.forward(x), y> == <x, op.backward(y)>."""
    xp = backend.namespace(device)
    x = xp.asarray(x)
    ax = op.forward(x)
    y = xp.asarray(rng.standard_normal(y_shape if y_shape is not None else ax.shape))
    aty = op.backward(y)
    assert aty.shape == x.shape
    return np.isclose(float((ax * y).sum()), float((x * aty).sum()))


# ---------------------------------------------------------------- reshape, transpose
def test_reshape_transpose_gradcheck(device, rng):
    x = leaf(rng, (2, 3, 4), device)
    assert mdl.gradcheck(lambda v: v.reshape(4, 6), (x,))
    assert mdl.gradcheck(lambda v: v.reshape((6, -1)), (x,))
    assert mdl.gradcheck(lambda v: F.reshape(v, 24), (x,))
    assert mdl.gradcheck(lambda v: v.view(3, 8), (x,))
    assert mdl.gradcheck(lambda v: v.transpose(2, 0, 1), (x,))
    assert mdl.gradcheck(lambda v: v.transpose((1, -1, 0)), (x,))
    assert mdl.gradcheck(lambda v: F.transpose(v, 0, 2, 1), (x,))
    assert mdl.gradcheck(lambda v: v.T, (x,))
    assert mdl.gradcheck(lambda v: v.flatten(1), (x,))
    assert mdl.gradcheck(lambda v: v.unsqueeze(1).squeeze(1), (x,))
    assert mdl.gradcheck(lambda v: v.unsqueeze(-1) * 2, (x,))


def test_squeeze_and_unsqueeze_shapes(device):
    x = mdl.tensor(np.ones((1, 3, 1)), device=device)
    assert x.squeeze().shape == (3,) and x.squeeze(0).shape == (3, 1) and x.squeeze(-1).shape == (1, 3)
    assert x.squeeze((0, 2)).shape == (3,) and F.squeeze(x, 2).shape == (1, 3)
    assert x.unsqueeze(0).shape == (1, 1, 3, 1) and x.unsqueeze(-1).shape == (1, 3, 1, 1)
    assert F.unsqueeze(x, 3).shape == (1, 3, 1, 1)


def test_transpose_follows_numpy(rng):
    a = rng.standard_normal((2, 3, 4))
    x = mdl.tensor(a)
    assert x.transpose(1, 2, 0).shape == (3, 4, 2) and x.T.shape == (4, 3, 2) and x.transpose().shape == (4, 3, 2)
    assert np.array_equal(x.transpose(1, 2, 0).numpy(), a.transpose(1, 2, 0))
    assert np.array_equal(x.transpose(-1, 0, 1).numpy(), a.transpose(-1, 0, 1))
    with pytest.raises(ValueError, match="not a permutation"):
        x.transpose(0, 0, 1)
    with pytest.raises(ValueError, match="not a permutation"):
        x.transpose(0, 1)


@pytest.mark.parametrize("axes", [(2, 0, 1), (1, 0, 2), None, (0, -1, 1)])
def test_transpose_adjoint(axes, device, rng):
    op = S.Transpose(axes)
    assert adjoint_holds(op, rng.standard_normal((2, 3, 4)), None, rng, device)


@DRAWN
@given(perm=st.permutations(range(4)))
def test_transpose_adjoint_on_drawn_permutations(perm, device):
    rng = np.random.default_rng(0)
    assert adjoint_holds(S.Transpose(tuple(perm)), rng.standard_normal((2, 3, 1, 4)), None, rng, device)


def test_reshape_adjoint(device, rng):
    assert adjoint_holds(S.Reshape((4, -1)), rng.standard_normal((2, 3, 4)), None, rng, device)


def test_reshape_error_names_shapes():
    with pytest.raises(ValueError, match=r"shape \(2, 3\) \(6 values\) into shape \(4, 2\)"):
        mdl.tensor(np.ones((2, 3))).reshape(4, 2)


def test_squeeze_error():
    with pytest.raises(ValueError, match=r"cannot squeeze axis 0 of size 2 \(shape \(2, 1\)\)"):
        mdl.tensor(np.ones((2, 1))).squeeze(0)


# ---------------------------------------------------------------- indexing
INDICES = [
    1, -1, slice(1, 3), slice(None, None, -2), (slice(None), 2), (Ellipsis, 0), (None, 1), (1, slice(None, None, -1)),
    [0, 2, 2], np.array([2, 0, 0, 2]), (np.array([0, 1, 1]), np.array([2, 0, 0])), (slice(None), [0, 0, 3]),
    (np.array([[0, 1], [1, 1]]), slice(1, 3)), np.array([[True, False, True, False]] * 3), np.array([True, False, True]),
]


@pytest.mark.parametrize("k", range(len(INDICES)))
def test_getitem_gradcheck_and_values(k, device, rng):
    x = leaf(rng, (3, 4), device)
    index = on(device, INDICES[k])
    assert mdl.gradcheck(lambda v: v[index], (x,))
    assert mdl.gradcheck(lambda v: F.getitem(v, index), (x,))
    expected = x.numpy()[INDICES[k] if not isinstance(INDICES[k], list) else np.array(INDICES[k])]
    assert np.array_equal(x[index].numpy(), expected)


@pytest.mark.parametrize("k", range(len(INDICES)))
def test_getitem_adjoint_is_scatter_add(k, device, rng):
    index = on(device, INDICES[k])
    if isinstance(index, list):
        index = backend.namespace(device).asarray(index)
    assert adjoint_holds(S.GetItem(index), rng.standard_normal((3, 4)), None, rng, device)


def test_repeated_indices_accumulate(device):
    x = mdl.tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_repeated_index_pairs_accumulate_weighted(device):
    xp = backend.namespace(device)
    x = mdl.tensor(np.zeros((2, 3)), requires_grad=True, device=device)
    rows, cols = xp.asarray([0, 1, 0, 0]), xp.asarray([2, 1, 2, 2])
    x[rows, cols].backward(xp.asarray([1.0, 10.0, 100.0, 1000.0]))
    assert x.grad.tolist() == [[0.0, 0.0, 1101.0], [0.0, 10.0, 0.0]]


def test_repeated_rows_with_a_slice_accumulate(device):
    x = mdl.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True, device=device)
    y = x[[1, 1, 0], :]
    assert y.tolist() == [[2.0, 3.0], [2.0, 3.0], [0.0, 1.0]]
    y.backward(backend.namespace(device).asarray([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    assert x.grad.tolist() == [[5.0, 6.0], [4.0, 6.0], [0.0, 0.0]]


def test_tensor_and_list_indices(device):
    x = mdl.tensor([10.0, 20.0, 30.0], requires_grad=True, device=device)
    idx = mdl.tensor(np.array([2, 2]), device=device)
    x[idx].sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 2.0]
    assert x[[1, 0]].tolist() == [20.0, 10.0] and x[x > 15].tolist() == [20.0, 30.0]


def test_basic_index_gradient_by_hand(device):
    x = mdl.tensor(np.zeros((2, 3)), requires_grad=True, device=device)
    x[1, 1:].backward(backend.namespace(device).asarray([4.0, 5.0]))
    assert x.grad.tolist() == [[0.0, 0.0, 0.0], [0.0, 4.0, 5.0]]


# ---------------------------------------------------------------- concat, stack
def test_concat_and_stack_gradcheck(device, rng):
    a, b, c = leaf(rng, (2, 3), device), leaf(rng, (4, 3), device), leaf(rng, (2, 3), device)
    assert mdl.gradcheck(lambda u, v: mdl.concat([u, v], axis=0), (a, b))
    assert mdl.gradcheck(lambda u, v: mdl.cat([u, v.T], axis=1), (a, leaf(rng, (3, 2), device)))
    assert mdl.gradcheck(lambda u, v: F.concat([u, v, u], axis=-1), (a, c))  # u twice: gradients add
    assert mdl.gradcheck(lambda u, v: mdl.stack([u, v], axis=1), (a, c))
    assert mdl.gradcheck(lambda u, v: F.stack((u, v, u), axis=-1), (a, c))
    assert mdl.gradcheck(lambda u, v: mdl.stack([u, v]), (a, c))
    assert mdl.stack([a, c], axis=2).shape == (2, 3, 2) and mdl.stack([a, c]).shape == (2, 2, 3)
    assert mdl.concat([a, b, a]).shape == (8, 3)


def test_concat_and_stack_values_and_gradients_by_hand(device):
    xp = backend.namespace(device)
    a = mdl.tensor([[1.0, 2.0]], requires_grad=True, device=device)
    b = mdl.tensor([[3.0, 4.0], [5.0, 6.0]], device=device)  # a constant: no gradient
    y = mdl.concat([a, b])
    assert y.tolist() == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    y.backward(xp.asarray([[7.0, 8.0], [0.0, 0.0], [0.0, 0.0]]))
    assert a.grad.tolist() == [[7.0, 8.0]] and b.grad is None
    u = mdl.tensor([1.0, 2.0], requires_grad=True, device=device)
    v = mdl.tensor([3.0, 4.0], requires_grad=True, device=device)
    s = mdl.stack([u, v], axis=1)
    assert s.tolist() == [[1.0, 3.0], [2.0, 4.0]]
    s.backward(xp.asarray([[1.0, 2.0], [3.0, 4.0]]))
    assert u.grad.tolist() == [1.0, 3.0] and v.grad.tolist() == [2.0, 4.0]


def test_concat_and_stack_are_adjoint_to_their_backward(device, rng):
    xp = backend.namespace(device)
    parts = [xp.asarray(rng.standard_normal((2, n))) for n in (1, 3, 2)]
    op = S.Concat(axis=1)
    y = xp.asarray(rng.standard_normal((2, 6)))
    lhs = float((op.forward(*parts) * y).sum())
    assert np.isclose(lhs, sum(float((p * g).sum()) for p, g in zip(parts, op.backward(y))))
    same = [xp.asarray(rng.standard_normal((2, 3))) for _ in range(3)]
    st_op = S.Stack(axis=-1)
    y = xp.asarray(rng.standard_normal((2, 3, 3)))
    lhs = float((st_op.forward(*same) * y).sum())
    assert np.isclose(lhs, sum(float((p * g).sum()) for p, g in zip(same, st_op.backward(y))))


def test_concat_stack_need_tensors():
    with pytest.raises(ValueError, match="at least one"):
        mdl.concat([])
    with pytest.raises(ValueError, match="at least one"):
        mdl.stack([])


# ---------------------------------------------------------------- comparisons, devices
def test_comparisons_are_boolean_and_not_differentiable(device):
    x = mdl.tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    other = mdl.tensor([3.0, 2.0, 1.0], device=device)
    for r in (x > 2, x >= 2, x < 2, x <= 2, x == 2, x != 2, x > other, x == other, 2 < x):
        assert r.dtype == np.bool_ and not r.requires_grad and r.creator is None
        assert backend.device_of(r.data) == backend.parse_device(device)
    assert (x > 1.5).tolist() == [False, True, True]
    assert (x <= other).tolist() == [True, True, False]
    assert (x == x).tolist() == [True, True, True]
    assert (x != 2).tolist() == [True, False, True]
    assert (2 < x).tolist() == [False, False, True]


def test_masks_from_comparisons_block_gradient_only_where_false(device):
    x = mdl.tensor([-1.0, 2.0, 3.0], requires_grad=True, device=device)
    (x * (x > 0)).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0]


def test_to_dtype_and_device_pass_gradients_back(device, rng):
    x = mdl.tensor(rng.standard_normal(3), requires_grad=True)  # float64 on the CPU
    y = x.to(device, dtype=np.float32)
    assert y.dtype == np.float32 and backend.device_of(y.data) == backend.parse_device(device)
    (y * 2).sum().backward()
    assert x.grad.dtype == np.float64 and backend.device_of(x.grad) == "cpu" and np.allclose(x.grad, 2.0)
    assert mdl.gradcheck(lambda v: v.to(device) * 3, (mdl.tensor(rng.standard_normal(4), requires_grad=True),))
