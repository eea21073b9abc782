"""The engine: graph building, backward order, accumulation, freeing, no_grad."""
import gc

import numpy as np
import pytest

import minidl as mdl
from minidl import Function, backend


class Square(Function):
    """The op of DESIGN.md, as a student writes it."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, gy):
        return 2 * self.x * gy


def test_student_function_builds_graph_and_backward(device):
    x = mdl.tensor([1.0, -2.0, 3.0], requires_grad=True, device=device)
    y = Square()(x)
    assert y.creator is not None and y.requires_grad and not y.is_leaf
    y.sum().backward()
    assert backend.to_numpy(x.grad).tolist() == [2.0, -4.0, 6.0]
    assert backend.device_of(x.grad) == backend.parse_device(device)


def test_diamond_graph_accumulates_both_paths(device):
    # y = a*b + a  ->  dy/da = b + 1 (two paths meet at a)
    a = mdl.tensor(3.0, requires_grad=True, device=device)
    b = mdl.tensor(4.0, requires_grad=True, device=device)
    y = a * b + a
    y.backward()
    assert float(a.grad) == 5.0 and float(b.grad) == 3.0


def test_reused_intermediate_gets_summed_gradient(device):
    x = mdl.tensor(2.0, requires_grad=True, device=device)
    h = x * x  # used twice below
    y = h * h + h  # x^4 + x^2 -> 4x^3 + 2x = 36
    y.backward()
    assert float(x.grad) == 36.0


def test_leaf_gradients_accumulate_across_backward_calls(device):
    x = mdl.tensor([1.0, 2.0], requires_grad=True, device=device)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    assert backend.to_numpy(x.grad).tolist() == [6.0, 6.0]


def test_same_array_to_two_leaves_is_not_aliased(device):
    a = mdl.tensor([1.0], requires_grad=True, device=device)
    b = mdl.tensor([1.0], requires_grad=True, device=device)
    (a + b).sum().backward()  # Add returns (gy, gy): one array for both
    a.grad[...] = 100.0
    assert float(b.grad[0]) == 1.0


def test_second_backward_through_freed_graph_is_an_error(device):
    x = mdl.tensor([1.0, 2.0], requires_grad=True, device=device)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()
    assert backend.to_numpy(x.grad).tolist() == [2.0, 4.0]  # not doubled


def test_retain_graph_allows_second_backward(device):
    x = mdl.tensor([1.0, 2.0], requires_grad=True, device=device)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert backend.to_numpy(x.grad).tolist() == [4.0, 8.0]


def test_graph_ten_thousand_ops_deep():
    x = mdl.tensor(1.0, requires_grad=True, dtype=np.float64)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert float(x.grad) == pytest.approx(1.0001**10_000, rel=1e-9)
    del y
    gc.collect()  # tearing the deep chain down must not overflow the stack


def test_no_grad_builds_no_graph(device):
    x = mdl.tensor([1.0], requires_grad=True, device=device)
    with mdl.no_grad():
        y = x * 2
    assert y.creator is None and not y.requires_grad
    assert mdl.is_grad_enabled()

    @mdl.no_grad()
    def f(t):
        return t * 2

    assert f(x).creator is None


def test_enable_grad_inside_no_grad():
    x = mdl.tensor([1.0], requires_grad=True)
    with mdl.no_grad():
        with mdl.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and not z.requires_grad


def test_backward_on_non_scalar_without_grad_is_an_error():
    x = mdl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"one-element output.*shape \(2,\)"):
        (x * 2).backward()


def test_backward_with_explicit_gradient_and_wrong_shape():
    x = mdl.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    with pytest.raises(ValueError, match=r"needs shape \(2,\).*got \(3,\)"):
        y.backward(np.ones(3, dtype=np.float32))
    y.backward(np.array([1.0, 10.0], dtype=np.float32))
    assert x.grad.tolist() == [3.0, 30.0]


def test_backward_without_requires_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mdl.tensor([1.0]).sum().backward()


def test_function_returning_wrong_number_of_gradients():
    class TwoInOneGrad(Function):
        def forward(self, a, b):
            return a + b

        def backward(self, gy):
            return gy  # forgot b's

    a = mdl.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"returned 1 gradient\(s\) for 2 input\(s\)"):
        TwoInOneGrad()(a, a).sum().backward()


def test_broadcast_gradients_are_summed_back_by_the_engine(device):
    a = mdl.tensor(np.ones((3, 1)), requires_grad=True, device=device)
    b = mdl.tensor(np.ones(4), requires_grad=True, device=device)
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (4,)
    assert backend.to_numpy(a.grad).ravel().tolist() == [4.0] * 3
    assert backend.to_numpy(b.grad).tolist() == [3.0] * 4


def test_only_inputs_that_need_grad_are_computed():
    seen = {}

    class Spy(Function):
        def forward(self, a, b):
            return a * b

        def backward(self, gy):
            seen["needs"] = self.needs_input_grad
            return gy, None

    w = mdl.tensor([2.0], requires_grad=True)
    frozen = mdl.tensor([3.0])
    Spy()(w, frozen).sum().backward()
    assert seen["needs"] == (True, False)
    assert frozen.grad is None


def test_retain_grad_keeps_intermediate_gradient():
    x = mdl.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    assert h.grad.tolist() == [6.0, 12.0]


def test_python_scalars_keep_dtype_and_device(device):
    x = mdl.tensor([1.0, 2.0], device=device)
    for y in (x * 2, 2 * x, x + 1.5, 1 - x, x / 2, 2 / x, x**2):
        assert y.dtype == np.float32
        assert backend.device_of(y.data) == backend.parse_device(device)


def test_tensor_constructor_dtypes_and_errors():
    assert mdl.tensor([1.0, 2.0]).dtype == np.float32
    assert mdl.tensor([1, 2]).dtype.kind == "i"
    assert mdl.tensor(np.zeros(2)).dtype == np.float64
    assert mdl.tensor([1.0], dtype=np.float64).dtype == np.float64
    with pytest.raises(TypeError, match="floating point"):
        mdl.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="cannot make a tensor"):
        mdl.tensor([[1.0], [1.0, 2.0]])


def test_tensor_is_a_copy():
    a = np.zeros(2, dtype=np.float32)
    t = mdl.tensor(a)
    a[0] = 5
    assert t.data[0] == 0


def test_detach_item_numpy_and_repr():
    x = mdl.tensor([[2.5]], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert d.creator is None and not d.requires_grad
    assert y.item() == 5.0
    assert isinstance(y.numpy(), np.ndarray)
    assert "grad_fn=<Mul>" in repr(y)
    with pytest.raises(ValueError, match="one element"):
        mdl.tensor([1.0, 2.0]).item()


def test_setitem_refused_on_graph_tensors_allowed_on_plain():
    x = mdl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        x[0] = 3.0
    y = mdl.tensor([1.0, 2.0])
    y[0] = 3.0
    assert y.tolist() == [3.0, 2.0]


def test_to_device_and_dtype_is_differentiable():
    x = mdl.tensor([1.0, 2.0], requires_grad=True)
    y = x.to("strict", dtype=np.float64)
    assert y.device == "strict" and y.dtype == np.float64
    (y * y).sum().backward()
    assert isinstance(x.grad, np.ndarray) and x.grad.dtype == np.float32
    assert x.grad.tolist() == [2.0, 4.0]


def test_grad_fn_alias_and_reductions_take_dim():
    x = mdl.tensor(np.arange(6.0).reshape(2, 3))
    assert x.sum(dim=1).tolist() == x.sum(axis=1).tolist() == [3.0, 12.0]
    with pytest.raises(TypeError, match="not both"):
        x.sum(axis=0, dim=0)


# ---- truthiness, as PyTorch
def test_one_element_tensors_are_truthy_by_value(device):
    assert bool(mdl.tensor([0], device=device)) is False  # before: True (len 1)
    assert bool(mdl.tensor(3.0, device=device)) is True  # before: TypeError len() of unsized object
    assert not mdl.tensor([[0.0]], device=device) and mdl.tensor([2], device=device)
    t = mdl.tensor([1.0], device=device)
    assert (t == 1.0) and not (t == 2.0)  # `assert t == 2.0` no longer passes for any value
    with pytest.raises(AssertionError):
        assert t == 2.0


def test_larger_or_empty_tensors_are_ambiguous(device):
    for t in (mdl.tensor([1.0, 2.0], device=device), mdl.tensor(np.zeros((0,)), device=device)):
        with pytest.raises(RuntimeError, match=r"truth value of a tensor of shape \((2|0),\) .* is ambiguous"):
            bool(t)
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(mdl.tensor(1.0))


def test_tensors_are_dict_keys_and_set_members_by_identity(device):
    a, b = mdl.tensor([3.0], device=device), mdl.tensor([3.0], device=device)  # equal values
    table = {a: "a", b: "b"}
    assert len(table) == 2 and table[a] == "a" and table[b] == "b"
    assert len({a, b, a}) == 2 and a in {a} and b not in {a}
    c, d = mdl.tensor([1.0, 2.0], device=device), mdl.tensor([1.0, 2.0], device=device)
    assert len({c: 1, d: 2}) == 2 and c in {c: 1}  # even multi-element ones (no __eq__ call)
    assert hash(a) != hash(b)


def test_in_on_a_list_is_not_fooled(device):
    assert not (mdl.tensor([3], device=device) in [mdl.tensor([4], device=device)])  # before: True
    a = mdl.tensor([3], device=device)
    assert a in [mdl.tensor([5], device=device), a] and mdl.tensor([4], device=device) in [mdl.tensor([4], device=device)]


# ---- PyTorch habits for Function
class Cube(Function):
    """y = x**3 written the PyTorch way: save_for_backward / saved_tensors."""

    def forward(self, x):
        self.save_for_backward(x)
        return x**3

    def backward(self, gy):
        (x,) = self.saved_tensors
        return 3 * x * x * gy


class Scale(Function):
    def __init__(self, factor=2.0):
        self.factor = factor

    def forward(self, x):
        return x * self.factor

    def backward(self, gy):
        return gy * self.factor


def test_apply_is_calling_a_fresh_function(device):
    x = mdl.tensor([1.0, 2.0], requires_grad=True, device=device)
    y = Cube.apply(x)
    assert isinstance(y.creator, Cube) and y.tolist() == [1.0, 8.0]
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 12.0]
    assert Square.apply(x).tolist() == Square()(x).tolist()
    assert Scale.apply(x, factor=3.0).tolist() == [3.0, 6.0] and Scale.apply(x).tolist() == [2.0, 4.0]


def test_save_for_backward_and_saved_tensors_gradcheck(device, rng):
    x = mdl.tensor(rng.standard_normal((3, 2)), requires_grad=True, device=device)
    assert mdl.gradcheck(lambda v: Cube.apply(v), (x,))


def test_saved_tensors_after_free_or_without_save_is_a_clear_error():
    x = mdl.tensor([2.0], requires_grad=True)
    fn = Cube()
    fn(x).sum().backward()  # frees what forward saved
    with pytest.raises(RuntimeError, match="Cube: saved_tensors read .*after backward freed it"):
        fn.saved_tensors
    with pytest.raises(RuntimeError, match="Square: saved_tensors read before save_for_backward"):
        Square().saved_tensors


def test_backward_that_returns_nothing_names_the_function_and_input(device):
    class Forgot(Function):
        def forward(self, x):
            return x * 2

        def backward(self, gy):
            gy * 2  # no return

    x = mdl.tensor([1.0], requires_grad=True, device=device)
    with pytest.raises(RuntimeError, match=r"Forgot.backward returned None for input 0 \(shape \(1,\)\), "
                                           r"which requires a gradient; did backward forget a return"):
        Forgot.apply(x).sum().backward()  # before: x.grad silently stayed None

    class OneNone(Function):
        def forward(self, a, b):
            return a * b

        def backward(self, gy):
            return gy, None

    b = mdl.tensor([2.0], requires_grad=True, device=device)
    with pytest.raises(RuntimeError, match=r"OneNone.backward returned None for input 1"):
        OneNone.apply(x, b).sum().backward()
    OneNone.apply(x, mdl.tensor([2.0], device=device)).sum().backward()  # None is fine for a constant
    assert x.grad.tolist() == [1.0]


def test_backward_returning_a_list_counts_as_the_gradients():
    class ListBack(Function):
        def forward(self, a, b):
            return a + b

        def backward(self, gy):
            return [gy, gy]

    a, b = mdl.tensor([1.0], requires_grad=True), mdl.tensor([1.0], requires_grad=True)
    ListBack.apply(a, b).sum().backward()
    assert a.grad.tolist() == [1.0] and b.grad.tolist() == [1.0]


# ---- indexing follows NumPy's rule (see Tensor.__getitem__)
def test_indexing_mixing_int_slice_and_array_follows_numpy(device, rng):
    a = rng.standard_normal((2, 3, 4))
    x = mdl.tensor(a, requires_grad=True, device=device)
    y = x[0, :, [0, 1]]
    assert y.shape == (2, 3) == a[0, :, [0, 1]].shape  # PyTorch would give (3, 2)
    assert np.array_equal(y.numpy(), a[0, :, [0, 1]])
    assert x[0][:, [0, 1]].shape == (3, 2) and x[:, 0, [0, 1]].shape == (2, 2)
    y.sum().backward()
    expect = np.zeros((2, 3, 4))
    expect[0, :, :2] = 1
    assert np.array_equal(backend.to_numpy(x.grad), expect)
    assert mdl.gradcheck(lambda v: v[0, :, [0, 1]] * 3, (mdl.tensor(a, requires_grad=True, device=device),))


class TorchStyleExp(Function):
    """As a student coming from PyTorch writes it: static methods with a ctx."""

    @staticmethod
    def forward(ctx, x):
        y = backend.get_array_module(x).exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * y


def test_pytorch_style_static_methods_with_ctx(device, rng):
    x = mdl.tensor(rng.standard_normal(4), requires_grad=True, device=device)
    y = TorchStyleExp.apply(x)
    assert np.allclose(y.numpy(), np.exp(x.numpy()))
    y.sum().backward()
    assert np.allclose(backend.to_numpy(x.grad), np.exp(x.numpy()))
    assert mdl.gradcheck(TorchStyleExp.apply, (mdl.tensor(rng.standard_normal(3), requires_grad=True, device=device),))
