"""Creation ops (minidl/functional/creation.py): values, dtypes, devices, seeds, errors."""
import numpy as np
import pytest

import minidl as mdl
from minidl import backend


def _on(t, device):
    return backend.device_of(t.data) == backend.parse_device(device)


def test_constant_fills_by_hand(device):
    for t, shape in ((mdl.zeros(2, 3, device=device), (2, 3)), (mdl.zeros((2, 3), device=device), (2, 3)),
                     (mdl.ones([4], device=device), (4,)), (mdl.empty(3, 1, device=device), (3, 1))):
        assert t.shape == shape and t.dtype == np.float32 and _on(t, device) and t.is_leaf
    assert mdl.zeros(2, device=device).tolist() == [0.0, 0.0] and mdl.ones(2, device=device).tolist() == [1.0, 1.0]
    assert mdl.empty(2, device=device).tolist() == [0.0, 0.0]  # zero-filled in minidl
    assert mdl.zeros(device=device).shape == () and mdl.zeros(0, 3, device=device).shape == (0, 3)
    assert mdl.full((2, 2), 7, device=device).tolist() == [[7, 7], [7, 7]]


def test_full_infers_its_dtype_from_the_fill_value(device):
    assert mdl.full((2,), 7, device=device).dtype == np.int64
    assert mdl.full((2,), 0.5, device=device).dtype == np.float32
    assert mdl.full((2,), True, device=device).dtype == np.bool_
    assert mdl.full(3, 2.0, dtype=np.float64, device=device).tolist() == [2.0, 2.0, 2.0]


def test_sequences_by_hand(device):
    assert mdl.arange(5, device=device).tolist() == [0, 1, 2, 3, 4] and mdl.arange(5).dtype == np.int64
    assert mdl.arange(2, 9, 3, device=device).tolist() == [2, 5, 8]
    assert mdl.arange(5, 0, -2, device=device).tolist() == [5, 3, 1]
    a = mdl.arange(0, 1, 0.25, device=device)
    assert a.dtype == np.float32 and a.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert mdl.arange(0, 1, 0.1).shape == (10,)  # ceil((1 - 0) / 0.1), as PyTorch
    s = mdl.linspace(-1, 1, 5, device=device)
    assert s.dtype == np.float32 and s.tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0] and _on(s, device)
    assert mdl.linspace(0, 1, 1).tolist() == [0.0] and mdl.linspace(0, 1, 0).shape == (0,)
    assert mdl.eye(2, device=device).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert mdl.eye(2, 3, dtype=np.int64, device=device).tolist() == [[1, 0, 0], [0, 1, 0]]


def test_random_draws_follow_manual_seed_and_match_on_every_device(device):
    mdl.manual_seed(5)
    cpu = [mdl.rand(3, 4).numpy(), mdl.randn(3, 4).numpy(), mdl.randint(10, (3, 4)).numpy()]
    mdl.manual_seed(5)
    dev = [mdl.rand(3, 4, device=device), mdl.randn(3, 4, device=device), mdl.randint(10, (3, 4), device=device)]
    assert all(_on(t, device) for t in dev)
    assert all(np.array_equal(a, t.numpy()) for a, t in zip(cpu, dev))  # bit for bit
    g = np.random.default_rng(5)  # the default generator's first draws, by hand
    assert np.array_equal(cpu[0], g.random((3, 4)).astype(np.float32))
    assert not np.array_equal(mdl.rand(3, 4).numpy(), cpu[0])  # the generator moves on


def test_random_values_and_ranges():
    u = mdl.rand(20000, dtype=np.float64).numpy()
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    z = mdl.randn(20000).numpy()
    assert z.dtype == np.float32 and abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.03
    r = mdl.randint(3, 7, size=(5000,)).numpy()
    assert r.dtype == np.int64 and set(np.unique(r)) == {3, 4, 5, 6}
    assert set(np.unique(mdl.randint(2, (100,)).numpy())) == {0, 1}


def test_generator_argument():
    a = mdl.rand(4, generator=7).numpy()
    assert np.array_equal(a, mdl.rand(4, generator=np.random.default_rng(7)).numpy())
    assert np.array_equal(mdl.randn(2, generator=3).numpy(), mdl.randn(2, generator=3).numpy())
    with pytest.raises(TypeError, match="rand: generator must be a numpy.random.Generator, an int seed or None"):
        mdl.rand(2, generator="seven")


def test_like_forms_take_shape_dtype_and_device(device):
    x = mdl.tensor(np.ones((2, 3)), device=device)  # float64
    for t in (mdl.zeros_like(x), mdl.ones_like(x), mdl.empty_like(x), mdl.full_like(x, 3.0),
              mdl.rand_like(x), mdl.randn_like(x), mdl.randint_like(x, 5)):
        assert t.shape == (2, 3) and t.dtype == np.float64 and _on(t, device)
    assert mdl.full_like(x, 3.0).numpy().tolist() == [[3.0] * 3] * 2
    assert mdl.zeros_like(x, dtype=np.float32).dtype == np.float32
    assert _on(mdl.ones_like(x, device="cpu"), "cpu")
    r = mdl.randint_like(x, 2, 4).numpy()
    assert set(np.unique(r)) <= {2.0, 3.0}
    assert mdl.zeros_like(x.data).shape == (2, 3)  # a raw array works too


def test_requires_grad_makes_a_trainable_leaf(device):
    w = mdl.randn(3, requires_grad=True, device=device)
    (w * w).sum().backward()
    assert np.allclose(backend.to_numpy(w.grad), 2 * w.numpy())
    assert mdl.zeros_like(w, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="arange: only floating tensors can require gradients, got dtype int64"):
        mdl.arange(3, requires_grad=True)


@pytest.mark.parametrize("call, error, message", [
    (lambda: mdl.zeros(2, -1), ValueError, r"zeros: size must be non-negative ints .*got \(2, -1\)"),
    (lambda: mdl.ones(2.5), ValueError, r"ones: size must be non-negative ints"),
    (lambda: mdl.full((2,), "a"), TypeError, r"full: fill_value must be a number, got str"),
    (lambda: mdl.arange(0, 3, 0), ValueError, r"arange: step must be nonzero"),
    (lambda: mdl.arange(0, 3, -1), ValueError, r"arange: end 3 cannot be reached from start 0 with step -1"),
    (lambda: mdl.linspace(0, 1, -2), ValueError, r"linspace: steps must be a non-negative int, got -2"),
    (lambda: mdl.rand(2, dtype=np.int64), TypeError, r"rand: dtype must be a floating type, got int64"),
    (lambda: mdl.randn(2, dtype=np.int32), TypeError, r"randn: dtype must be a floating type"),
    (lambda: mdl.randint(5, 5, (2,)), ValueError, r"randint: needs low < high .* got low=5, high=5"),
    (lambda: mdl.randint(5), TypeError, r"randint: call it as randint\(high, size\)"),
    (lambda: mdl.randint_like(mdl.zeros(2)), TypeError, r"randint_like: call it as"),
    (lambda: mdl.zeros_like([1, 2]), TypeError, r"expected a Tensor or an array as input, got list"),
])
def test_bad_arguments_name_what_was_wrong(call, error, message):
    with pytest.raises(error, match=message):
        call()
