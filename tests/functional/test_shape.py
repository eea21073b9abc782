"""Shape ops: gradchecks and adjoint identities <A x, y> == <x, A^T y>."""
import numpy as np
import pytest

import minidl as mdl
from minidl import backend
from minidl.functional import shape as S


def adjoint_holds(forward, backward, x, y):
    """<forward(x), y> == <x, backward(y)> for a linear map."""
    return np.isclose((forward(x) * y).sum(), (x * backward(y)).sum())


def test_reshape_transpose_gradcheck(device, rng):
    x = mdl.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True, device=device)
    assert mdl.gradcheck(lambda v: v.reshape(4, 6), (x,))
    assert mdl.gradcheck(lambda v: v.reshape((6, -1)), (x,))
    assert mdl.gradcheck(lambda v: v.transpose(2, 0, 1), (x,))
    assert mdl.gradcheck(lambda v: v.T, (x,))
    assert mdl.gradcheck(lambda v: v.flatten(1), (x,))
    assert mdl.gradcheck(lambda v: v.unsqueeze(1).squeeze(1), (x,))


def test_transpose_follows_numpy(rng):
    a = rng.standard_normal((2, 3, 4))
    x = mdl.tensor(a)
    assert x.transpose(1, 2, 0).shape == (3, 4, 2) and x.T.shape == (4, 3, 2)
    assert np.array_equal(x.transpose(1, 2, 0).numpy(), a.transpose(1, 2, 0))
    with pytest.raises(ValueError, match="not a permutation"):
        x.transpose(0, 0, 1)


def test_transpose_adjoint(rng):
    op = S.Transpose((2, 0, 1))
    x, y = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 2, 3))
    assert adjoint_holds(op.forward, op.backward, x, y)


def test_reshape_error_names_shapes():
    with pytest.raises(ValueError, match=r"shape \(2, 3\) \(6 values\) into shape \(4, 2\)"):
        mdl.tensor(np.ones((2, 3))).reshape(4, 2)


@pytest.mark.parametrize("index", [
    1, slice(1, 3), (slice(None), 2), (Ellipsis, 0), (None, 1),
    [0, 2, 2], (np.array([0, 1, 1]), np.array([2, 0, 0])), np.array([[True, False, True, False]] * 3),
])
def test_getitem_gradcheck(index, device, rng):
    x = mdl.tensor(rng.standard_normal((3, 4)), requires_grad=True, device=device)
    if isinstance(index, np.ndarray):
        index = backend.namespace(device).asarray(index)
    elif isinstance(index, tuple):
        index = tuple(backend.namespace(device).asarray(i) if isinstance(i, np.ndarray) else i for i in index)
    assert mdl.gradcheck(lambda v: v[index], (x,))


def test_repeated_indices_accumulate():
    x = mdl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_getitem_adjoint_is_scatter_add(rng):
    index = np.array([0, 3, 3, 1])
    op = S.GetItem(index)
    x, y = rng.standard_normal(5), rng.standard_normal(4)
    op.forward(x)
    assert adjoint_holds(lambda v: v[index], op.backward, x, y)


def test_concat_and_stack_gradcheck(device, rng):
    a = mdl.tensor(rng.standard_normal((2, 3)), requires_grad=True, device=device)
    b = mdl.tensor(rng.standard_normal((4, 3)), requires_grad=True, device=device)
    c = mdl.tensor(rng.standard_normal((2, 3)), requires_grad=True, device=device)
    assert mdl.gradcheck(lambda u, v: mdl.concat([u, v], axis=0), (a, b))
    assert mdl.gradcheck(lambda u, v: mdl.cat([u, v.T], axis=1), (a, mdl.tensor(rng.standard_normal((3, 2)), requires_grad=True, device=device)))
    assert mdl.gradcheck(lambda u, v: mdl.stack([u, v], axis=1), (a, c))
    assert mdl.stack([a, c], axis=2).shape == (2, 3, 2)


def test_concat_stack_need_tensors():
    with pytest.raises(ValueError, match="at least one"):
        mdl.concat([])
    with pytest.raises(ValueError, match="at least one"):
        mdl.stack([])


def test_comparisons_are_boolean_and_not_differentiable(device):
    x = mdl.tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    for r in (x > 2, x >= 2, x < 2, x <= 2, x == 2, x != 2):
        assert r.dtype == np.bool_ and not r.requires_grad and r.creator is None
    assert (x > 1.5).tolist() == [False, True, True]
    assert (x == x).tolist() == [True, True, True]


def test_squeeze_error():
    with pytest.raises(ValueError, match="cannot squeeze axis 0 of size 2"):
        mdl.tensor(np.ones((2, 1))).squeeze(0)
