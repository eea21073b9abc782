"""The array backend and the strict CuPy stand-in."""
import numpy as np
import pytest

import minidl as mdl
from minidl import backend, strict


def test_strict_refuses_implicit_numpy_conversion():
    a = strict.asarray(np.arange(3.0))
    for convert in (np.asarray, np.array, np.ascontiguousarray):
        with pytest.raises(TypeError, match="Implicit conversion"):
            convert(a)


def test_strict_refuses_mixing_with_numpy_arrays():
    a = strict.asarray(np.arange(3.0))
    with pytest.raises(TypeError, match="mixed"):
        a + np.ones(3)
    assert isinstance(a + 1.0, strict.ndarray)  # scalars are fine, as in CuPy


def test_strict_namespace_and_ufuncs_give_strict_arrays():
    a = strict.asarray(np.arange(6.0).reshape(2, 3))
    for r in (strict.exp(a), np.exp(a), a.sum(axis=0), strict.zeros((2,)), a.T, a[0], np.concatenate([a, a])):
        assert isinstance(r, strict.ndarray)
    assert isinstance(a.max(), strict.ndarray)  # 0-d array, as CuPy
    assert float(a.max()) == 5.0
    b = strict.zeros(3)
    strict.add.at(b, strict.asarray(np.array([0, 0, 2])), 1.0)
    assert b.get().tolist() == [2.0, 0.0, 1.0]
    assert strict.float32 is np.float32


def test_explicit_ways_out():
    a = strict.asarray(np.arange(3.0))
    assert isinstance(a.get(), np.ndarray)
    assert backend.to_numpy(a).tolist() == [0.0, 1.0, 2.0]


def test_get_array_module_and_device_of():
    n, s = np.zeros(2), strict.zeros(2)
    assert backend.get_array_module(n) is np
    assert backend.get_array_module(s) is strict
    assert backend.get_array_module(n, s) is strict
    assert backend.get_array_module(mdl.tensor(s)) is strict
    assert backend.device_of(n) == "cpu" and backend.device_of(s) == "strict"


@pytest.mark.parametrize(
    "spec, name", [("cpu", "cpu"), ("numpy", "cpu"), ("cuda", "cuda:0"), ("cuda:1", "cuda:1"), ("strict", "strict")]
)
def test_parse_device(spec, name):
    assert backend.parse_device(spec) == name


def test_parse_device_rejects_unknown():
    with pytest.raises(ValueError, match="device must be"):
        backend.parse_device("tpu")
    with pytest.raises(TypeError, match="device must be a string"):
        backend.parse_device(3)


@pytest.mark.skipif(backend.cuda_is_available(), reason="this machine has a GPU")
def test_asking_for_cuda_without_cupy_says_how_to_install():
    with pytest.raises(RuntimeError, match=r"pip install 'minidl\[gpu\]'"):
        mdl.set_backend("cupy")
    with pytest.raises(RuntimeError, match="gpu"):
        mdl.tensor([1.0]).to("cuda")


def test_set_backend_and_device_context():
    mdl.set_backend("strict")
    assert mdl.tensor([1.0]).device == "strict"
    mdl.set_backend("numpy")
    assert mdl.tensor([1.0]).device == "cpu"
    with mdl.device("strict"):
        assert mdl.tensor(np.ones(2)).device == "strict"
    assert mdl.get_default_device() == "cpu"


def test_manual_seed_fixes_new_generators():
    mdl.manual_seed(7)
    a = backend.new_generator().random(3)
    mdl.manual_seed(7)
    b = backend.new_generator().random(3)
    assert a.tolist() == b.tolist()
    assert backend.new_generator(5).random() == backend.new_generator(5).random()


def test_sum_to_shape_is_the_adjoint_of_broadcasting(rng):
    # <broadcast(x), y> == <x, sum_to_shape(y)>
    for shape, target in [((3, 1), (2, 3, 4)), ((4,), (3, 4)), ((1, 1), (5, 1)), ((), (2, 2))]:
        x = rng.standard_normal(shape)
        y = rng.standard_normal(target)
        lhs = (np.broadcast_to(x, target) * y).sum()
        rhs = (x * backend.sum_to_shape(y, shape)).sum()
        assert lhs == pytest.approx(rhs)


def test_scatter_add_sums_repeats(xp):
    t = xp.zeros(3)
    backend.scatter_add(t, xp.asarray(np.array([1, 1, 1])), 2.0)
    assert backend.to_numpy(t).tolist() == [0.0, 6.0, 0.0]


def test_keep_freed_memory_is_safe_to_call_twice():
    import platform

    first, second = backend.keep_freed_memory(), backend.keep_freed_memory()
    assert first == second
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert first is True


def test_making_an_optimizer_tunes_the_allocator(monkeypatch):
    """A hand-written loop gets the allocator setting too: the optimizer asks for it, not fit."""
    calls = []
    monkeypatch.setattr(backend, "keep_freed_memory", lambda: calls.append(1) or True)
    mdl.optim.SGD([mdl.nn.Parameter(np.zeros(3))], lr=0.1)
    assert calls == [1]
