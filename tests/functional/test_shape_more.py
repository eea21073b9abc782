"""More shape and indexing ops (issue 10): flip, roll, expand, repeat, repeat_interleave, split, chunk,
unflatten, permute, clone, gather, scatter_add, one_hot, tril, triu, diagonal, numel, dim.

Float64 gradchecks for every option on every device, hand-computed values on small cases, and the
clear error of each bad input.
"""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F
from minidl import backend
from minidl.functional import shape as S


def leaf(rng, shape, device):
    return mdl.tensor(rng.standard_normal(shape), requires_grad=True, device=device)


def ints(values, device):
    return mdl.tensor(np.asarray(values, dtype=np.int64), device=device)


def values(t):
    return backend.to_numpy(t.data)


# ---------------------------------------------------------------- flip, roll
def test_flip_values(device):
    x = mdl.tensor(np.arange(6.0).reshape(2, 3), device=device)
    assert values(F.flip(x, 0)).tolist() == [[3, 4, 5], [0, 1, 2]]
    assert values(x.flip(-1)).tolist() == [[2, 1, 0], [5, 4, 3]]
    assert values(x.flip(0, 1)).tolist() == values(x.flip((0, 1))).tolist() == [[5, 4, 3], [2, 1, 0]]
    assert values(mdl.flip(x, [1])).tolist() == [[2, 1, 0], [5, 4, 3]]


@pytest.mark.parametrize("dims", [0, -1, (0, 2), (0, 1, 2)])
def test_flip_gradcheck(device, rng, dims):
    assert mdl.gradcheck(lambda v: F.flip(v, dims), (leaf(rng, (2, 3, 4), device),))


def test_roll_values(device):
    x = mdl.tensor(np.arange(6.0).reshape(2, 3), device=device)
    assert values(F.roll(x, 1)).tolist() == [[5, 0, 1], [2, 3, 4]]          # flat, shape kept
    assert values(x.roll(1, 1)).tolist() == [[2, 0, 1], [5, 3, 4]]
    assert values(x.roll(-1, dims=1)).tolist() == [[1, 2, 0], [4, 5, 3]]
    assert values(mdl.roll(x, (1, 2), (0, 1))).tolist() == [[4, 5, 3], [1, 2, 0]]


@pytest.mark.parametrize("shifts, dims", [(1, None), (-7, None), (2, 1), ((1, -2), (0, 2)), (5, -1)])
def test_roll_gradcheck(device, rng, shifts, dims):
    assert mdl.gradcheck(lambda v: F.roll(v, shifts, dims), (leaf(rng, (2, 3, 4), device),))


def test_flip_roll_errors():
    x = mdl.tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"flip: dims 2 is out of range .* 2 dimension"):
        F.flip(x, 2)
    with pytest.raises(ValueError, match=r"flip: dims \(0, -2\) names an axis twice"):
        F.flip(x, (0, -2))
    with pytest.raises(TypeError, match=r"flip: dims must be an int or a sequence of ints, got 0.5"):
        F.flip(x, 0.5)
    with pytest.raises(ValueError, match=r"roll: shifts and dims must have the same length"):
        F.roll(x, (1, 2), 0)
    with pytest.raises(ValueError, match=r"roll: without dims, shifts must be one int"):
        F.roll(x, (1, 2))
    with pytest.raises(ValueError, match=r"roll: dims 5 is out of range"):
        x.roll(1, 5)
    scalar = mdl.tensor(3.0)
    assert F.roll(scalar, 2).item() == 3.0 and F.roll(scalar, 1, 0).item() == 3.0 and scalar.flip(0).item() == 3.0
    with pytest.raises(ValueError, match=r"roll: dims 1 is out of range"):
        F.roll(scalar, 1, 1)


# ---------------------------------------------------------------- expand, repeat
def test_expand_values_and_shapes(device):
    x = mdl.tensor(np.array([[1.0], [2.0]]), device=device)
    assert values(x.expand(2, 3)).tolist() == [[1, 1, 1], [2, 2, 2]]
    assert x.expand(-1, 4).shape == (2, 4) and x.expand((3, 2, 2)).shape == (3, 2, 2)
    assert F.expand(x, 2, 1).shape == (2, 1)


@pytest.mark.parametrize("sizes", [(3, 4), (-1, 4), (2, 3, 4), (2, -1, 1)])
def test_expand_gradcheck(device, rng, sizes):
    x = leaf(rng, (3, 1), device)
    assert mdl.gradcheck(lambda v: v.expand(*sizes), (x,))


def test_expand_sums_the_copies_back(device):
    x = mdl.tensor(np.array([[1.0], [2.0]]), requires_grad=True, device=device)
    x.expand(3, 2, 4).sum().backward()
    assert values(x.grad).tolist() == [[12.0], [12.0]]  # 3 * 4 copies of each


def test_expand_errors():
    x = mdl.tensor(np.zeros((3, 1)))
    with pytest.raises(ValueError, match=r"expand: cannot expand dimension 0 of size 3 to 4"):
        x.expand(4, 2)
    with pytest.raises(ValueError, match=r"expand: sizes \(4,\) has fewer entries than the tensor's 2"):
        x.expand(4)
    with pytest.raises(ValueError, match=r"expand: size -1 at position 0 is a new leading dimension"):
        x.expand(-1, 3, 1)
    with pytest.raises(TypeError, match=r"expand: sizes must be an int or a sequence of ints"):
        x.expand(3.0, 1)


def test_repeat_values(device):
    x = mdl.tensor(np.array([1.0, 2.0]), device=device)
    assert values(x.repeat(3)).tolist() == [1, 2, 1, 2, 1, 2]
    assert values(F.repeat(x, 2, 2)).tolist() == [[1, 2, 1, 2], [1, 2, 1, 2]]
    assert x.repeat((2, 1, 1)).shape == (2, 1, 2) and x.repeat(0).shape == (0,)


@pytest.mark.parametrize("sizes", [(2, 3), (1, 1), (3, 1, 2), (2, 0)])
def test_repeat_gradcheck(device, rng, sizes):
    assert mdl.gradcheck(lambda v: v.repeat(*sizes), (leaf(rng, (2, 3), device),))


def test_repeat_errors():
    x = mdl.tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"repeat: sizes \(2,\) must have at least one entry per dimension"):
        x.repeat(2)
    with pytest.raises(ValueError, match=r"repeat: sizes must be >= 0, got \(2, -1\)"):
        x.repeat(2, -1)


def test_repeat_interleave_values(device):
    x = mdl.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), device=device)
    assert values(x.repeat_interleave(2)).tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    assert values(F.repeat_interleave(x, 2, dim=1)).tolist() == [[1, 1, 2, 2], [3, 3, 4, 4]]
    assert values(mdl.repeat_interleave(x, [1, 2], dim=0)).tolist() == [[1, 2], [3, 4], [3, 4]]
    assert values(x.repeat_interleave(ints([0, 3], device), dim=1)).tolist() == [[2, 2, 2], [4, 4, 4]]


@pytest.mark.parametrize("repeats, dim", [(2, None), (3, 1), ([1, 0, 2], 1), ([2, 1], 0), (1, -1)])
def test_repeat_interleave_gradcheck(device, rng, repeats, dim):
    assert mdl.gradcheck(lambda v: F.repeat_interleave(v, repeats, dim), (leaf(rng, (2, 3), device),))


def test_repeat_interleave_errors():
    x = mdl.tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"repeat_interleave: repeats must be one int or one count per element "
                                         r"along dim 1 \(3\), got 2 counts"):
        x.repeat_interleave([1, 2], dim=1)
    with pytest.raises(ValueError, match=r"repeat_interleave: repeats must be >= 0"):
        x.repeat_interleave(-1)
    with pytest.raises(ValueError, match=r"repeat_interleave: dim 2 is out of range"):
        x.repeat_interleave(2, dim=2)


# ---------------------------------------------------------------- split, chunk, unflatten
def test_split_and_chunk_pieces(device):
    x = mdl.tensor(np.arange(10.0).reshape(2, 5), device=device)
    assert [p.shape for p in x.split(2, 1)] == [(2, 2), (2, 2), (2, 1)]
    assert [values(p).tolist() for p in F.split(x, [1, 4], dim=1)] == [[[0], [5]], [[1, 2, 3, 4], [6, 7, 8, 9]]]
    assert [p.shape for p in mdl.split(x, 7, dim=1)] == [(2, 5)]
    assert [p.shape for p in x.chunk(4, 1)] == [(2, 2), (2, 2), (2, 1)]  # 3 pieces, as PyTorch
    assert [p.shape for p in mdl.chunk(x, 2)] == [(1, 5), (1, 5)]


@pytest.mark.parametrize("pieces, dim", [(2, 1), ([1, 3, 1], 1), ([2, 0], 0), (1, -1)])
def test_split_gradcheck(device, rng, pieces, dim):
    weights = [1.0, -2.0, 3.0]

    def weighted(v):  # every piece reaches the output, each with its own weight
        return F.cat([p.flatten() * w for p, w in zip(F.split(v, pieces, dim), weights)])
    assert mdl.gradcheck(weighted, (leaf(rng, (2, 5), device),))


@pytest.mark.parametrize("chunks, dim", [(2, 0), (3, 1), (4, 1), (9, -1)])
def test_chunk_gradcheck(device, rng, chunks, dim):
    def weighted(v):
        return F.cat([p.flatten() * (k + 1) for k, p in enumerate(F.chunk(v, chunks, dim))])
    assert mdl.gradcheck(weighted, (leaf(rng, (2, 5), device),))


def test_an_unused_piece_gets_zero_gradient(device):
    x = mdl.tensor(np.ones((2, 5)), requires_grad=True, device=device)
    first, _, last = x.split(2, 1)
    (first * 3).sum().backward()
    assert values(x.grad).tolist() == [[3, 3, 0, 0, 0]] * 2
    y = mdl.tensor(np.ones((2, 5)), requires_grad=True, device=device)
    y.chunk(2, 1)[1].sum().backward()  # the first piece is dropped at once: zeros for it
    assert values(y.grad).tolist() == [[0, 0, 0, 1, 1]] * 2


def test_split_chunk_errors():
    x = mdl.tensor(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"split: split_size_or_sections must be a positive integer, got 0"):
        x.split(0)
    with pytest.raises(ValueError, match=r"split: the sizes \[2, 2\] must be >= 0 and add up to the length of "
                                         r"dim 1 \(5"):
        x.split([2, 2], dim=1)
    with pytest.raises(ValueError, match=r"split: dim 2 is out of range"):
        x.split(1, 2)
    with pytest.raises(ValueError, match=r"split: a 0-d tensor"):
        F.split(mdl.tensor(1.0), 1)
    with pytest.raises(ValueError, match=r"chunk: chunks must be a positive integer, got 0"):
        x.chunk(0)
    with pytest.raises(ValueError, match=r"chunk: dim -3 is out of range"):
        x.chunk(2, -3)


def test_unflatten(device, rng):
    x = leaf(rng, (2, 12, 3), device)
    assert x.unflatten(1, (3, 4)).shape == (2, 3, 4, 3)
    assert F.unflatten(x, -1, (1, 3)).shape == (2, 12, 1, 3)
    assert mdl.unflatten(x, 1, (2, -1, 3)).shape == (2, 2, 2, 3, 3)
    assert np.array_equal(values(x.unflatten(1, (3, 4))), values(x).reshape(2, 3, 4, 3))
    assert mdl.gradcheck(lambda v: v.unflatten(1, (-1, 4)) * 2, (x,))
    with pytest.raises(ValueError, match=r"unflatten: sizes \(5, 2\) do not multiply to the size 12 of dim 1"):
        x.unflatten(1, (5, 2))
    with pytest.raises(ValueError, match=r"unflatten: sizes \(-1, -1\) do not multiply"):
        x.unflatten(1, (-1, -1))
    with pytest.raises(ValueError, match=r"unflatten: dim 3 is out of range"):
        x.unflatten(3, (1, 3))


# ---------------------------------------------------------------- permute, clone, numel, dim
def test_permute(device, rng):
    x = leaf(rng, (2, 3, 4, 5), device)
    assert x.permute(0, 2, 3, 1).shape == (2, 4, 5, 3) and F.permute(x, (3, 2, 1, 0)).shape == (5, 4, 3, 2)
    assert mdl.permute(x, [-1, 0, 1, 2]).shape == (5, 2, 3, 4)
    assert np.array_equal(values(x.permute(0, 2, 3, 1)), values(x).transpose(0, 2, 3, 1))
    assert mdl.gradcheck(lambda v: v.permute(0, 2, 3, 1), (x,))
    assert mdl.gradcheck(lambda v: v.permute((3, 1, 0, 2)), (x,))
    with pytest.raises(ValueError, match=r"permute axes \(0, 1\) are not a permutation of the 4 axes"):
        x.permute(0, 1)
    with pytest.raises(ValueError, match=r"permute: axis 4 is out of range"):
        x.permute(0, 1, 2, 4)


def test_clone_is_a_copy_in_the_graph(device, rng):
    x = leaf(rng, (3, 4), device)
    y = x.clone()
    assert y.data is not x.data and np.array_equal(values(y), values(x)) and y.creator is not None
    y.data[0, 0] = 100.0
    assert values(x)[0, 0] != 100.0
    assert mdl.gradcheck(lambda v: F.clone(v) * v, (x,))
    assert mdl.clone(x).shape == (3, 4)


def test_numel_and_dim(device):
    x = mdl.tensor(np.zeros((2, 3, 4)), device=device)
    assert x.numel() == 24 and x.dim() == 3 and mdl.numel(x) == 24
    assert mdl.tensor(5.0).numel() == 1 and mdl.tensor(5.0).dim() == 0


# ---------------------------------------------------------------- gather, scatter_add
def test_gather_values(device):
    x = mdl.tensor(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), device=device)
    assert values(x.gather(1, ints([[2, 0], [1, 1]], device))).tolist() == [[3, 1], [5, 5]]
    assert values(F.gather(x, 0, ints([[1, 0, 1]], device))).tolist() == [[4, 2, 6]]
    assert values(mdl.gather(x, 1, np.array([[0], [2]]))).tolist() == [[1], [6]]  # a host index is moved over


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_gather_gradcheck_with_repeated_indices(device, rng, dim):
    x = leaf(rng, (3, 4, 5), device)
    shape = [2, 3, 4]
    shape[dim] = 6                          # more picks than the axis has: indices repeat
    index = ints(rng.integers(0, x.shape[dim], shape), device)
    assert mdl.gradcheck(lambda v: v.gather(dim, index), (x,))


def test_gather_gradient_adds_repeated_picks(device):
    x = mdl.tensor(np.zeros((1, 3)), requires_grad=True, device=device)
    x.gather(1, ints([[2, 2, 0, 2]], device)).sum().backward()
    assert values(x.grad).tolist() == [[1, 0, 3]]


def test_scatter_add_values(device):
    x = mdl.tensor(np.zeros((2, 3)), device=device)
    src = mdl.tensor(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), device=device)
    y = x.scatter_add(1, ints([[0, 0], [2, 1]], device), src)
    assert values(y).tolist() == [[3, 0, 0], [0, 5, 4]]  # only src's (2, 2) corner is used
    assert values(x).tolist() == [[0, 0, 0]] * 2         # out of place
    counts = mdl.scatter_add(mdl.tensor(np.zeros(4), device=device), 0, ints([1, 3, 1, 1], device),
                             mdl.tensor(np.ones(4), device=device))
    assert values(counts).tolist() == [0, 3, 0, 1]        # a histogram


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_scatter_add_gradcheck(device, rng, dim):
    x, src = leaf(rng, (3, 4, 5), device), leaf(rng, (6, 5, 6), device)
    shape = [2, 3, 4]
    shape[dim] = 5
    index = ints(rng.integers(0, x.shape[dim], shape), device)
    assert mdl.gradcheck(lambda a, b: F.scatter_add(a, dim, index, b), (x, src))
    frozen = mdl.tensor(rng.standard_normal((3, 4, 5)), device=device)  # a gradient for src only
    assert mdl.gradcheck(lambda b: F.scatter_add(frozen, dim, index, b), (src,))


def test_gather_scatter_add_are_adjoints(device, rng):
    """<gather(x), y> == <x, scatter_add(0, y)>: one is the other's transpose."""
    x = mdl.tensor(rng.standard_normal((3, 4)), device=device)
    y = mdl.tensor(rng.standard_normal((3, 6)), device=device)
    index = ints(rng.integers(0, 4, (3, 6)), device)
    left = float((x.gather(1, index) * y).sum().item())
    right = float((x * F.scatter_add(mdl.tensor(np.zeros((3, 4)), device=device), 1, index, y)).sum().item())
    assert np.isclose(left, right)


def test_gather_scatter_add_errors():
    x = mdl.tensor(np.zeros((2, 3)))
    with pytest.raises(TypeError, match=r"gather: index must be an integer tensor, got dtype float64"):
        x.gather(1, mdl.tensor(np.zeros((2, 1))))
    with pytest.raises(ValueError, match=r"gather: index must have as many dimensions as the input \(2\), got "
                                         r"shape \(2,\)"):
        x.gather(1, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"gather: index values must be in \[0, 2\] \(the size of dim 1\), got "
                                         r"values from 0 to 3"):
        x.gather(1, np.array([[0, 3]]))
    with pytest.raises(ValueError, match=r"gather: index values must be in \[0, 2\]"):
        x.gather(1, np.array([[-1]]))
    with pytest.raises(ValueError, match=r"gather: index shape \(3, 1\) is larger than the input shape \(2, 3\) "
                                         r"at dimension 0"):
        x.gather(1, np.zeros((3, 1), dtype=np.int64))
    with pytest.raises(ValueError, match=r"gather: dim 2 is out of range"):
        x.gather(2, np.zeros((1, 1), dtype=np.int64))
    with pytest.raises(ValueError, match=r"gather: a 0-d tensor \(a scalar\) has no dimension to index along"):
        mdl.tensor(1.0).gather(0, np.zeros((), dtype=np.int64))
    with pytest.raises(ValueError, match=r"gather: index is on device 'strict', the input on 'cpu'; move one"):
        x.gather(1, ints([[0]], "strict"))
    src = mdl.tensor(np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"scatter_add: index shape \(2, 1\) is larger than the input shape "
                                         r"\(2, 3\) or the src shape \(1, 3\) at dimension 0"):
        x.scatter_add(1, np.zeros((2, 1), dtype=np.int64), src)
    with pytest.raises(TypeError, match=r"scatter_add: src dtype float32 does not match the input dtype float64"):
        x.scatter_add(1, np.zeros((1, 1), dtype=np.int64), mdl.tensor(np.ones((1, 3), dtype=np.float32)))
    with pytest.raises(ValueError, match=r"scatter_add: src must have as many dimensions as the input \(2\)"):
        x.scatter_add(1, np.zeros((1, 1), dtype=np.int64), mdl.tensor(np.ones(3)))


# ---------------------------------------------------------------- one_hot
def test_one_hot(device):
    labels = ints([2, 0, 1], device)
    out = F.one_hot(labels, 4)
    assert out.dtype == np.int64 and not out.requires_grad and backend.device_of(out.data) == device
    assert values(out).tolist() == [[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]]
    assert F.one_hot(labels).shape == (3, 3)                      # num_classes = largest label + 1
    assert F.one_hot(ints([[0, 1]], device), 2).shape == (1, 2, 2)
    assert F.one_hot(ints(np.zeros(0, dtype=np.int64), device), 5).shape == (0, 5)
    with pytest.raises(ValueError, match=r"one_hot: class labels must be in \[0, 1\] \(num_classes 2\), got "
                                         r"values from 0 to 2"):
        F.one_hot(labels, 2)
    with pytest.raises(ValueError, match=r"one_hot: class labels must be in \[0, 2\]"):
        F.one_hot(ints([-1, 2], device))
    with pytest.raises(TypeError, match=r"one_hot: tensor must hold integer class labels, got dtype float"):
        F.one_hot(mdl.tensor([1.0, 2.0], device=device))
    with pytest.raises(ValueError, match=r"one_hot: num_classes must be a positive integer, got 0"):
        F.one_hot(labels, 0)
    with pytest.raises(ValueError, match=r"one_hot: cannot infer num_classes from an empty tensor"):
        F.one_hot(ints(np.zeros(0, dtype=np.int64), device))


# ---------------------------------------------------------------- tril, triu, diagonal
def test_tril_triu_values(device):
    x = mdl.tensor(np.arange(1.0, 10.0).reshape(3, 3), device=device)
    assert values(x.tril()).tolist() == [[1, 0, 0], [4, 5, 0], [7, 8, 9]]
    assert values(F.tril(x, -1)).tolist() == [[0, 0, 0], [4, 0, 0], [7, 8, 0]]
    assert values(x.triu()).tolist() == [[1, 2, 3], [0, 5, 6], [0, 0, 9]]
    assert values(mdl.triu(x, 1)).tolist() == [[0, 2, 3], [0, 0, 6], [0, 0, 0]]
    batch = mdl.tensor(np.ones((2, 2, 3)), device=device)
    assert values(batch.tril()).tolist() == [[[1, 0, 0], [1, 1, 0]]] * 2  # the last two axes


@pytest.mark.parametrize("diagonal", [0, 1, -1, 3])
@pytest.mark.parametrize("upper", [False, True])
def test_tril_triu_gradcheck(device, rng, diagonal, upper):
    op = F.triu if upper else F.tril
    assert mdl.gradcheck(lambda v: op(v, diagonal), (leaf(rng, (2, 3, 4), device),))


def test_tril_triu_errors():
    with pytest.raises(ValueError, match=r"tril: input must have at least 2 dimensions .* got shape \(3,\)"):
        F.tril(mdl.tensor(np.zeros(3)))
    with pytest.raises(TypeError, match=r"triu: diagonal must be an int, got 0.5"):
        F.triu(mdl.tensor(np.zeros((3, 3))), 0.5)


def test_diagonal_values(device):
    x = mdl.tensor(np.arange(12.0).reshape(3, 4), device=device)
    assert values(x.diagonal()).tolist() == [0, 5, 10]
    assert values(x.diagonal(1)).tolist() == [1, 6, 11]
    assert values(F.diagonal(x, -1)).tolist() == [4, 9]
    assert values(mdl.diagonal(x, 5)).tolist() == []
    assert values(x.diagonal(0, 1, 0)).tolist() == [0, 5, 10]
    batch = mdl.tensor(np.arange(8.0).reshape(2, 2, 2), device=device)
    assert values(batch.diagonal(dim1=1, dim2=2)).tolist() == [[0, 3], [4, 7]]
    assert batch.diagonal().shape == (2, 2)                     # (axis 2, the diagonal)


@pytest.mark.parametrize("offset, dim1, dim2", [(0, 0, 1), (1, 0, 1), (-2, 0, 1), (0, 1, 2), (1, 2, 0),
                                                (-1, -1, -3), (9, 0, 1)])
def test_diagonal_gradcheck(device, rng, offset, dim1, dim2):
    assert mdl.gradcheck(lambda v: F.diagonal(v, offset, dim1, dim2), (leaf(rng, (3, 4, 5), device),))


def test_diagonal_errors():
    x = mdl.tensor(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"diagonal: dim1 and dim2 must be different axes, got 0 and -2"):
        x.diagonal(0, 0, -2)
    with pytest.raises(ValueError, match=r"diagonal: dim2 2 is out of range"):
        x.diagonal(0, 0, 2)
    with pytest.raises(ValueError, match=r"diagonal: input must have at least 2 dimensions"):
        F.diagonal(mdl.tensor(np.zeros(3)))
    with pytest.raises(TypeError, match=r"diagonal: offset must be an int"):
        x.diagonal(1.0)


# ---------------------------------------------------------------- dim= next to axis=
def test_older_ops_take_pytorchs_dim(device, rng):
    a, b = leaf(rng, (2, 3), device), leaf(rng, (2, 3), device)
    assert F.cat([a, b], dim=1).shape == (2, 6) and mdl.stack([a, b], dim=-1).shape == (2, 3, 2)
    assert a.unsqueeze(dim=0).shape == (1, 2, 3) and a.unsqueeze(0).squeeze(dim=0).shape == (2, 3)
    with pytest.raises(TypeError, match=r"cat: give axis= or dim=, not both"):
        F.cat([a, b], axis=0, dim=1)


def test_integer_tensors_keep_their_dtype(device):
    x = ints([[1, 2], [3, 4]], device)
    for y in (x.flip(0), x.roll(1), x.expand(3, 2, 2), x.repeat(1, 2), x.repeat_interleave(2), x.split(1)[0],
              x.permute(1, 0), x.clone(), x.gather(1, ints([[0]], device)), x.tril(), x.diagonal()):
        assert y.dtype == np.int64



# ---------------------------------------------------------------- the module form
def test_unflatten_layer(device, rng):
    layer = mdl.nn.Unflatten(1, (2, 3))
    x = leaf(rng, (4, 6), device)
    assert layer(x).shape == (4, 2, 3) and "unflattened_size=(2, 3)" in repr(layer)
    assert mdl.nn.Sequential(mdl.nn.Flatten(), mdl.nn.Unflatten(1, (2, -1)))(leaf(rng, (4, 2, 3), device)).shape \
        == (4, 2, 3)
    assert mdl.gradcheck(lambda v: layer(v), (x,))


# ---------------------------------------------------------------- each backward is the forward's adjoint
@pytest.mark.parametrize("make", [
    lambda index: S.Flip((0, 2)), lambda index: S.Roll((1, -2), (0, 1)), lambda index: S.Expand((2, 3, 4, 5)),
    lambda index: S.Repeat((2, 1, 3)), lambda index: S.RepeatInterleave([2, 0, 1, 3], 1),
    lambda index: S.Clone(), lambda index: S.Gather(1, index), lambda index: S.Triangle(False, -1),
    lambda index: S.Triangle(True, 1), lambda index: S.Diagonal(1, 2, 0),
], ids=["flip", "roll", "expand", "repeat", "repeat_interleave", "clone", "gather", "tril", "triu", "diagonal"])
def test_backward_is_the_adjoint(device, rng, make):
    """<A x, y> == <x, A^T y> for the linear map A that forward computes and A^T that backward computes."""
    xp = backend.namespace(device)
    index = xp.asarray(rng.integers(0, 4, (3, 7, 5)))
    op = make(index)
    x = xp.asarray(rng.standard_normal((3, 4, 5)))
    ax = op.forward(x)
    y = xp.asarray(rng.standard_normal(ax.shape))
    aty = op.backward(y)
    assert aty.shape == x.shape
    assert np.isclose(float((ax * y).sum()), float((x * aty).sum()))


def test_split_backward_is_the_adjoint(device, rng):
    xp = backend.namespace(device)
    op = S.Split([1, 3, 1], 1)
    x = xp.asarray(rng.standard_normal((2, 5, 3)))
    pieces = op.forward(x)
    ys = [xp.asarray(rng.standard_normal(p.shape)) for p in pieces]
    left = sum(float((p * y).sum()) for p, y in zip(pieces, ys))
    assert np.isclose(left, float((x * op.backward(*ys)).sum()))


def test_flip_method_takes_dims_every_way(device):
    x = mdl.tensor(np.arange(6.0).reshape(2, 3), device=device)
    expected = np.arange(6.0).reshape(2, 3)[::-1, ::-1]
    for flipped in (x.flip(0, 1), x.flip((0, 1)), x.flip(dims=(0, 1)), x.flip(dims=[0, 1])):
        assert np.array_equal(mdl.backend.to_numpy(flipped.data), expected)
    assert np.array_equal(mdl.backend.to_numpy(x.flip(dims=1).data), np.arange(6.0).reshape(2, 3)[:, ::-1])
    with pytest.raises(TypeError, match="dims positionally or as dims="):
        x.flip(0, dims=1)
    with pytest.raises(TypeError, match="dims positionally or as dims="):
        x.flip(axis=0)


def test_sum_to_size_undoes_a_broadcast(device):
    x = mdl.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True, device=device)
    assert np.array_equal(mdl.backend.to_numpy(x.sum_to_size(1, 4).data), np.arange(12.0).reshape(3, 4).sum(0, keepdims=True))
    assert x.sum_to_size(4).shape == (4,)
    assert x.sum_to_size((3, 1)).shape == (3, 1)
    assert mdl.gradcheck(lambda t: t.sum_to_size(3, 1), [np.random.default_rng(0).standard_normal((2, 3, 4))])
    with pytest.raises(ValueError, match=r"sum_to_size: size \(2, 4\) does not broadcast to the input's shape \(3, 4\)"):
        x.sum_to_size(2, 4)
    with pytest.raises(ValueError, match="does not broadcast"):
        x.sum_to_size(1, 1, 3, 4, 5)
