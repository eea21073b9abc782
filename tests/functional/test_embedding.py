"""F.embedding and nn.Embedding: the lookup, the scatter-add gradient, padding_idx, errors."""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
import minidl.nn.functional as F
from minidl import backend

TABLE = np.arange(12.0).reshape(4, 3)  # row k = [3k, 3k + 1, 3k + 2]


def _w(device, a=TABLE):
    return mdl.tensor(np.asarray(a, dtype=np.float64), requires_grad=True, device=device)


def test_lookup_by_hand(device, xp):
    y = F.embedding(xp.asarray(np.array([[1, 3], [0, 1]])), _w(device))
    assert y.shape == (2, 2, 3)
    np.testing.assert_array_equal(y.numpy(), [[[3, 4, 5], [9, 10, 11]], [[0, 1, 2], [3, 4, 5]]])


def test_repeated_indices_add_their_gradients_and_unused_rows_get_zero(device, xp):
    w = _w(device)
    y = F.embedding(mdl.tensor(xp.asarray(np.array([1, 1, 1, 3]))), w)
    y.backward(xp.asarray(np.array([[1.0, 0, 0], [2, 0, 0], [4, 0, 1], [0, 5, 0]])))
    np.testing.assert_array_equal(backend.to_numpy(w.grad), [[0, 0, 0], [7, 0, 1], [0, 0, 0], [0, 5, 0]])


def test_padding_row_gets_no_gradient(device, xp):
    w = _w(device)
    F.embedding(xp.asarray(np.array([0, 2, 2, 1])), w, padding_idx=2).sum().backward()
    np.testing.assert_array_equal(backend.to_numpy(w.grad), [[1, 1, 1], [1, 1, 1], [0, 0, 0], [0, 0, 0]])
    w.grad = None
    F.embedding(xp.asarray(np.array([3, 1])), w, padding_idx=-1).sum().backward()  # -1 is row 3
    np.testing.assert_array_equal(backend.to_numpy(w.grad)[3], [0, 0, 0])


@pytest.mark.parametrize("shape", [(5,), (2, 3), (2, 2, 2)])
@pytest.mark.parametrize("padding_idx", [None, 4, -1])
def test_gradcheck(shape, padding_idx, device, xp, rng):
    # indices with repeats; the padding row, whose gradient is zero by design, is not looked up here
    indices = xp.asarray(rng.integers(0, 4, shape))
    w = _w(device, rng.standard_normal((5, 3)))
    assert mdl.gradcheck(lambda w: F.embedding(indices, w, padding_idx), (w,))


def test_int32_indices_and_a_tensor_input(device, xp):
    w = _w(device)
    y = F.embedding(mdl.tensor(xp.asarray(np.array([2], dtype=np.int32))), w)
    np.testing.assert_array_equal(y.numpy(), [[6, 7, 8]])


@pytest.mark.parametrize("call, error, match", [
    (lambda w: F.embedding(np.array([4]), w), IndexError,
     r"embedding: index 4 is out of range for a table of 4 rows \(num_embeddings\); expected indices in \[0, 3\]"),
    (lambda w: F.embedding(np.array([-1]), w), IndexError, r"index -1 is out of range"),
    (lambda w: F.embedding(np.array([1.0]), w), TypeError, r"embedding: input must hold integer indices, got dtype float64"),
    (lambda w: F.embedding([1, 2], w), TypeError, r"embedding: input must be a Tensor or array of integer indices, got list"),
    (lambda w: F.embedding(np.array([1]), w[0]), ValueError,
     r"embedding: weight must be 2-D \(num_embeddings, embedding_dim\), got shape \(3,\)"),
    (lambda w: F.embedding(np.array([1]), mdl.tensor(np.ones((2, 2), np.int64))), TypeError,
     r"embedding: weight must be a floating-point table, got dtype int64"),
    (lambda w: F.embedding(np.array([1]), w, padding_idx=4), ValueError,
     r"embedding: padding_idx must be an int in \[-4, 3\] \(within num_embeddings=4\), got 4"),
])
def test_bad_input_is_named(call, error, match):
    with pytest.raises(error, match=match):
        call(_w("cpu"))


# ------------------------------------------------------------------ nn.Embedding
def test_layer_init_state_dict_and_padding_row():
    mdl.manual_seed(3)
    e = nn.Embedding(10, 4, padding_idx=0)
    assert list(e.state_dict()) == ["weight"] and e.weight.shape == (10, 4) and e.weight.dtype == np.float32
    np.testing.assert_array_equal(e.weight.numpy()[0], 0)
    assert abs(float(e.weight.numpy()[1:].std()) - 1) < 0.5  # N(0, 1)
    mdl.manual_seed(3)
    np.testing.assert_array_equal(nn.Embedding(10, 4, padding_idx=0).weight.numpy(), e.weight.numpy())
    assert repr(e) == "Embedding(10, 4, padding_idx=0)"


def test_layer_trains_only_the_rows_it_used(device, xp):
    e = nn.Embedding(5, 2, padding_idx=1).to(device)
    e(xp.asarray(np.array([[1, 3], [3, 4]]))).sum().backward()
    np.testing.assert_array_equal(backend.to_numpy(e.weight.grad), [[0, 0], [0, 0], [0, 0], [2, 2], [1, 1]])


def test_from_pretrained(device, xp):
    e = nn.Embedding.from_pretrained(xp.asarray(TABLE))
    assert not e.weight.requires_grad
    np.testing.assert_array_equal(e(xp.asarray(np.array([2]))).numpy(), [[6, 7, 8]])


@pytest.mark.parametrize("kwargs, match", [
    (dict(num_embeddings=0, embedding_dim=3), r"Embedding: num_embeddings must be a positive integer, got 0"),
    (dict(num_embeddings=3, embedding_dim=2.5), r"Embedding: embedding_dim must be a positive integer, got 2.5"),
    (dict(num_embeddings=3, embedding_dim=2, padding_idx=3), r"Embedding: padding_idx must be an int in \[-3, 2\]"),
])
def test_layer_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nn.Embedding(**kwargs)


def test_layer_matches_torch(rng):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Embedding(6, 3, padding_idx=2).double()
    ours = nn.Embedding(6, 3, padding_idx=2).to(dtype="float64")
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    idx = rng.integers(0, 6, (4, 5))
    up = rng.standard_normal((4, 5, 3))
    yo, yt = ours(idx), theirs(torch.as_tensor(idx))
    np.testing.assert_array_equal(yo.numpy(), yt.detach().numpy())
    yo.backward(up)
    yt.backward(torch.tensor(up))
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-12, atol=1e-12)
