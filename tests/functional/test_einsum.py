"""einsum (minidl/functional/einsum.py): float64 gradchecks on every device for each kind of equation,
hand values, the backward as one einsum per operand, clear errors."""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F
from minidl import backend

EQUATIONS = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),  # matrix product
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),  # batched
    ("i,i->", [(4,), (4,)]),  # dot
    ("i,j->ij", [(3,), (4,)]),  # outer
    ("ij->ji", [(3, 4)]),  # transpose
    ("ij->", [(3, 4)]),  # sum of everything: the gradient is a broadcast
    ("ij,k->ik", [(3, 4), (5,)]),  # j summed inside one operand, k only in the other
    ("...ij,jk->...ik", [(2, 2, 3, 4), (4, 5)]),  # ellipsis
    ("ij,jk", [(3, 4), (4, 5)]),  # implicit output: ik
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),  # attention scores
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),  # three operands
    ("bij,bjk->bik", [(1, 3, 4), (5, 4, 2)]),  # a batch axis of 1 broadcasts
    ("ii->i", [(3, 3)]),  # a diagonal
    ("ii", [(3, 3)]),  # the trace (implicit output: no letter appears once)
    ("bii->bi", [(2, 3, 3)]),  # batched diagonals
    ("ij,jj->i", [(2, 3), (3, 3)]),  # a diagonal inside a product
]


@pytest.mark.parametrize("equation,shapes", EQUATIONS, ids=[e for e, _ in EQUATIONS])
def test_einsum_gradcheck_and_values(equation, shapes, device, rng):
    arrays = [rng.standard_normal(s) for s in shapes]
    xs = [mdl.tensor(a, requires_grad=True, device=device) for a in arrays]
    assert np.allclose(F.einsum(equation, *xs).numpy(), np.einsum(equation, *arrays))
    assert mdl.gradcheck(lambda *ops: mdl.einsum(equation, *ops), tuple(xs))


def test_einsum_takes_a_list_and_skips_frozen_operands(device, rng):
    a = mdl.tensor(rng.standard_normal((3, 4)), requires_grad=True, device=device)
    b = mdl.tensor(rng.standard_normal((4, 2)), device=device)  # no gradient wanted
    y = F.einsum("ij,jk->ik", [a, b])
    y.sum().backward()
    assert b.grad is None
    assert np.allclose(backend.to_numpy(a.grad), np.ones((3, 2)) @ b.numpy().T)


def test_einsum_backward_is_the_rearranged_einsum(device, rng):
    """ga = einsum("ik,jk->ij", gy, b) = gy @ b^T and gb = einsum("ik,ij->jk", gy, a) = a^T @ gy."""
    xp = backend.namespace(device)
    a = mdl.tensor(rng.standard_normal((3, 4)), requires_grad=True, device=device)
    b = mdl.tensor(rng.standard_normal((4, 5)), requires_grad=True, device=device)
    gy = rng.standard_normal((3, 5))
    F.einsum("ij,jk->ik", a, b).backward(xp.asarray(gy))
    assert np.allclose(backend.to_numpy(a.grad), gy @ b.numpy().T)
    assert np.allclose(backend.to_numpy(b.grad), a.numpy().T @ gy)


def test_einsum_by_hand(device):
    a = mdl.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, device=device)
    v = mdl.tensor([1.0, 10.0], device=device)
    assert F.einsum("ij,j->i", a, v).tolist() == [21.0, 43.0]
    assert F.einsum("ij->j", a).tolist() == [4.0, 6.0]
    s = F.einsum("ij->", a)
    assert s.item() == 10.0
    s.backward()
    assert a.grad.tolist() == [[1.0, 1.0], [1.0, 1.0]]  # the same along every summed letter
    assert F.einsum("i,i", mdl.tensor([1, 2]), mdl.tensor([3.0, 4.0])).item() == 11.0  # an int meets a float


def test_einsum_diagonal_and_trace_by_hand(device):
    x = mdl.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, device=device)
    d = F.einsum("ii->i", x)
    assert d.tolist() == [1.0, 4.0]
    d.backward(backend.namespace(device).asarray([10.0, 20.0]))
    assert x.grad.tolist() == [[10.0, 0.0], [0.0, 20.0]]  # gy on the diagonal, 0 elsewhere
    assert F.einsum("ii", x).item() == 5.0  # the trace


def test_einsum_clear_errors():
    a, b = mdl.tensor(np.zeros((3, 4))), mdl.tensor(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="einsum: letter 'j' has size 4 in one operand and 5 in another"):
        F.einsum("ij,jk->ik", a, b)
    with pytest.raises(ValueError,
                       match=r"einsum: equation 'ij,jk->ik' has 2 operand\(s\), but 1 tensor\(s\) were given"):
        F.einsum("ij,jk->ik", a)
    with pytest.raises(ValueError, match=r"einsum: subscripts 'ijk' name 3 axes, but the operand has shape \(3, 4\)"):
        F.einsum("ijk->i", a)
    with pytest.raises(ValueError, match="einsum: letter 'i' has size 3 in one operand and 4 in another"):
        F.einsum("ii->i", a)
    with pytest.raises(ValueError, match=r"einsum: output letters \['z'\] appear in no operand"):
        F.einsum("ij->z", a)
    with pytest.raises(ValueError, match="einsum: output subscripts 'ii' repeat a letter"):
        F.einsum("ij->ii", a)
    with pytest.raises(ValueError, match=r"einsum: equation 'i1->i' may hold only letters"):
        F.einsum("i1->i", a)
    with pytest.raises(TypeError, match="einsum: equation must be a string"):
        F.einsum(3, a)
    with pytest.raises(ValueError, match="einsum: needs at least one operand"):
        F.einsum("ij")
