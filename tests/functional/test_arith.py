"""Elementwise arithmetic and matmul: gradchecks (with broadcasting), hand values, adjoints, errors."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minidl as mdl
import minidl.nn.functional as F
from minidl import backend

# The `device` fixture only names a backend; it is safe to share across hypothesis examples.
DRAWN = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def t(rng, shape, device, positive=False):
    """A float64 leaf on ``device``; ``positive`` keeps it in [0.5, ...) (for log, sqrt, /, **)."""
    a = rng.standard_normal(shape)
    if positive:
        a = np.abs(a) + 0.5
    return mdl.tensor(a, requires_grad=True, device=device)


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "F.add": F.add, "F.sub": F.sub, "F.mul": F.mul, "F.div": F.div, "F.pow": F.pow,
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 1), (4,)), ((2, 3, 4), (1, 4)), ((), (2, 3)), ((2, 1, 3), (4, 1))])
def test_binary_ops_gradcheck_with_broadcasting(name, shapes, device, rng):
    positive = "div" in name or "pow" in name
    a = t(rng, shapes[0], device, positive=positive)
    b = t(rng, shapes[1], device, positive=positive)
    assert mdl.gradcheck(BINARY[name], (a, b))
    y = BINARY[name](a, b)
    y.sum().backward()
    assert a.grad.shape == a.shape and b.grad.shape == b.shape  # summed back to each input's shape


@DRAWN
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       op=st.sampled_from(["add", "sub", "mul", "div", "pow"]))
def test_binary_ops_gradcheck_on_drawn_broadcast_shapes(shapes, op, device):
    rng = np.random.default_rng(0)
    a = mdl.tensor(np.abs(rng.standard_normal(shapes.input_shapes[0])) + 0.5, requires_grad=True, device=device)
    b = mdl.tensor(np.abs(rng.standard_normal(shapes.input_shapes[1])) + 0.5, requires_grad=True, device=device)
    assert mdl.gradcheck(BINARY[op], (a, b))
    assert BINARY[op](a, b).shape == shapes.result_shape


@DRAWN
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=3))
def test_broadcast_and_sum_to_shape_are_adjoint(shapes, device):
    # A x = x broadcast to the result shape;  A^T y = sum_to_shape(y, x's shape).
    xp = backend.namespace(device)
    rng = np.random.default_rng(1)
    x_shape, out = shapes.input_shapes[0], shapes.result_shape
    x, y = rng.standard_normal(x_shape), rng.standard_normal(out)
    ax = xp.broadcast_to(xp.asarray(x), out)
    aty = backend.to_numpy(backend.sum_to_shape(xp.asarray(y), x_shape))
    assert aty.shape == x_shape
    assert np.isclose(float((ax * xp.asarray(y)).sum()), float((x * aty).sum()))


def test_broadcast_gradient_by_hand(device):
    # y = a + b with a (2, 1), b (3,): each a_i is used 3 times, each b_j twice.
    a = mdl.tensor([[1.0], [2.0]], requires_grad=True, device=device)
    b = mdl.tensor([10.0, 20.0, 30.0], requires_grad=True, device=device)
    gy = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    (a * b).backward(backend.to_device(gy, device))
    assert np.allclose(a.grad.tolist(), [[10 + 40 + 90], [40 + 100 + 180]])
    assert np.allclose(b.grad.tolist(), [1 + 8, 2 + 10, 3 + 12])


UNARY = [
    (lambda x: -x, False), (lambda x: x.exp(), False), (lambda x: x.log(), True),
    (lambda x: x.sqrt(), True), (lambda x: abs(x), False), (lambda x: x.abs(), False), (lambda x: x**3, False),
    (lambda x: x**0.5, True), (lambda x: x**-1.5, True), (lambda x: 2.0**x, False), (lambda x: 3 - x, False),
    (lambda x: 2 / x, True), (lambda x: x / 4, False), (lambda x: x * 2 + 1, False), (lambda x: x.pow(2), False),
    (F.neg, False), (F.exp, False), (F.log, True), (F.sqrt, True), (F.abs, False),
]


@pytest.mark.parametrize("k", range(len(UNARY)))
def test_unary_ops_gradcheck(k, device, rng):
    fn, positive = UNARY[k]
    x = t(rng, (3, 4), device, positive=positive)
    if not positive:  # away from abs's kink at 0
        x.data[abs(x.data) < 0.05] = 0.3
    assert mdl.gradcheck(fn, (x,))


def test_unary_values_and_gradients_by_hand(device):
    x = mdl.tensor([1.0, 4.0], requires_grad=True, device=device)
    y = x.sqrt() + x.log() + x.exp() + x**2
    assert np.allclose(y.tolist(), [1 + 0 + np.e + 1, 2 + np.log(4) + np.exp(4) + 16])
    y.sum().backward()
    # d/dx: 1/(2 sqrt x) + 1/x + exp(x) + 2x
    assert np.allclose(x.grad.tolist(), [0.5 + 1 + np.e + 2, 0.25 + 0.25 + np.exp(4) + 8])


def test_pow_with_a_tensor_exponent_by_hand(device):
    x = mdl.tensor([2.0], requires_grad=True, device=device)
    p = mdl.tensor([3.0], requires_grad=True, device=device)
    (x**p).backward(backend.namespace(device).ones(1))
    assert np.allclose(x.grad.tolist(), [3 * 2.0**2]) and np.allclose(p.grad.tolist(), [8 * np.log(2)])


@pytest.mark.parametrize("lo, hi", [(-0.5, 0.5), (None, 0.3), (-0.3, None)])
def test_clip_gradcheck_and_values(lo, hi, device, rng):
    a = rng.standard_normal(20)
    a = a[np.abs(a - (lo or 0)) > 0.05]  # away from the kinks
    a = a[np.abs(a - (hi or 0)) > 0.05]
    x = mdl.tensor(a, requires_grad=True, device=device)
    assert mdl.gradcheck(lambda v: v.clip(lo, hi), (x,))
    assert mdl.gradcheck(lambda v: F.clip(v, lo, hi), (x,))
    assert np.allclose(x.clip(lo, hi).numpy(), np.clip(a, lo, hi))


def test_clip_gradient_by_hand_passes_at_the_bounds():
    x = mdl.tensor([-2.0, -1.0, 0.0, 1.0, 2.0], requires_grad=True)
    x.clamp(-1.0, 1.0).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]


def test_clip_rejects_min_above_max():
    with pytest.raises(ValueError, match="min <= max, got min=1.0, max=0.0"):
        mdl.tensor([1.0]).clip(1.0, 0.0)


def test_abs_gradient_is_zero_at_zero():
    x = mdl.tensor([0.0, -2.0, 3.0], requires_grad=True)
    abs(x).sum().backward()
    assert x.grad.tolist() == [0.0, -1.0, 1.0]


def test_a_tensor_used_twice_accumulates(device):
    x = mdl.tensor([3.0], requires_grad=True, device=device)
    (x * x + x).backward(backend.namespace(device).ones(1))
    assert x.grad.tolist() == [7.0]  # 2x + 1


def test_python_scalars_keep_dtype_and_device(device):
    x = mdl.tensor(np.ones(3, dtype=np.float32), requires_grad=True, device=device)
    for y in (x + 1, 2 * x, x / 3.0, 1 - x, 2.0**x, x**2):
        assert y.dtype == np.float32 and backend.device_of(y.data) == backend.parse_device(device)
    (x * 2.5).sum().backward()
    assert x.grad.dtype == np.float32 and np.allclose(x.grad.tolist(), 2.5)


def test_only_inputs_that_require_grad_get_one(device, rng):
    a = t(rng, (2, 3), device)
    b = mdl.tensor(rng.standard_normal((2, 3)), device=device)
    (a * b / (b * b + 1)).sum().backward()
    assert b.grad is None and a.grad.shape == (2, 3)


MATMUL_SHAPES = [
    ((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4, 5)),
    ((2, 3, 4), (2, 4, 5)), ((1, 3, 4), (2, 4, 1)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,)), ((5, 1, 2, 3), (4, 3, 2)),
]


@pytest.mark.parametrize("sa, sb", MATMUL_SHAPES)
def test_matmul_gradcheck_all_shapes(sa, sb, device, rng):
    a, b = t(rng, sa, device), t(rng, sb, device)
    assert mdl.gradcheck(lambda x, y: x @ y, (a, b))
    assert np.allclose((a @ b).numpy(), a.numpy() @ b.numpy())
    assert F.matmul(a, b).shape == np.matmul(a.numpy(), b.numpy()).shape


def test_matmul_gradients_by_hand(device):
    # y = A B;  dL/dA = G B^T,  dL/dB = A^T G.
    A = mdl.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, device=device)
    B = mdl.tensor([[5.0, 6.0], [7.0, 8.0]], requires_grad=True, device=device)
    G = np.array([[1.0, 0.0], [0.0, 2.0]])
    y = A @ B
    assert y.tolist() == [[19.0, 22.0], [43.0, 50.0]]
    y.backward(backend.to_device(G, device))
    assert A.grad.tolist() == [[5.0, 7.0], [12.0, 16.0]]
    assert B.grad.tolist() == [[1.0, 6.0], [2.0, 8.0]]


def test_matmul_vector_dot_by_hand(device):
    a = mdl.tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    b = mdl.tensor([4.0, 5.0, 6.0], requires_grad=True, device=device)
    y = a @ b
    assert y.shape == () and y.item() == 32.0
    y.backward()
    assert a.grad.tolist() == [4.0, 5.0, 6.0] and b.grad.tolist() == [1.0, 2.0, 3.0]


def test_matmul_frozen_operand_gets_no_gradient(device, rng):
    a = t(rng, (2, 3), device)
    w = mdl.tensor(rng.standard_normal((3, 4)), device=device)
    (a @ w).sum().backward()
    assert w.grad is None and a.grad.shape == (2, 3)


@pytest.mark.parametrize("sa, sb", [((3, 4), (5, 2)), ((4,), (3,)), ((2, 3, 4), (3, 4)), ((3, 4), (5,))])
def test_matmul_shape_mismatch_names_both_shapes(sa, sb, device):
    a, b = mdl.tensor(np.ones(sa), device=device), mdl.tensor(np.ones(sb), device=device)
    with pytest.raises(ValueError, match=r"matmul shape mismatch: " + r"\(" + r", ?".join(map(str, sa)) + r",?\) @ "):
        a @ b
    with pytest.raises(ValueError, match=str(sb).replace("(", r"\(").replace(")", r"\)")):
        F.matmul(a, b)


def test_matmul_rejects_scalars():
    with pytest.raises(ValueError, match="at least 1 dimension"):
        mdl.tensor(2.0) @ mdl.tensor(np.ones(3))


@pytest.mark.parametrize("op, name", [(lambda a, b: a + b, "add"), (lambda a, b: a - b, "sub"),
                                      (lambda a, b: a * b, "mul"), (lambda a, b: a / b, "div"),
                                      (lambda a, b: a**b, "pow"), (F.add, "add")])
def test_add_shape_mismatch_names_both_shapes(op, name, device):
    a = mdl.tensor(np.ones((2, 3)), requires_grad=True, device=device)
    b = mdl.tensor(np.ones(2), device=device)
    with pytest.raises(ValueError, match=rf"{name}: shapes \(2, 3\) and \(2,\) do not broadcast"):
        op(a, b)
    with pytest.raises(ValueError, match=r"shapes \(3,\) and \(4,\) do not broadcast"):
        op(mdl.tensor(np.ones(3), device=device), mdl.tensor(np.ones(4), device=device))


def test_hand_computed_gradients():
    a = mdl.tensor([2.0, 3.0], requires_grad=True)
    b = mdl.tensor([4.0, 5.0], requires_grad=True)
    ((a * b) + a / b - b).sum().backward()
    assert np.allclose(a.grad, [4 + 1 / 4, 5 + 1 / 5])
    assert np.allclose(b.grad, [2 - 2 / 16 - 1, 3 - 3 / 25 - 1])


def test_ndarray_on_the_left_uses_tensor_ops(rng):
    x = mdl.tensor(rng.standard_normal(3), requires_grad=True)
    y = np.ones(3) * x
    assert isinstance(y, mdl.Tensor) and y.requires_grad
    z = np.ones((2, 3)) @ x
    assert isinstance(z, mdl.Tensor) and z.shape == (2,)


def test_functional_names_match(device, rng):
    a, b = t(rng, (2, 2), device), t(rng, (2, 2), device, positive=True)
    assert np.allclose(F.add(a, b).numpy(), (a + b).numpy())
    assert np.allclose(F.sub(a, b).numpy(), (a - b).numpy())
    assert np.allclose(F.div(a, b).numpy(), (a / b).numpy())
    assert np.allclose(F.pow(b, a).numpy(), (b**a).numpy())
    assert backend.device_of(F.matmul(a, b).data) == backend.parse_device(device)


# ---- pow at a zero base (PyTorch masks where the base is 0: no NaN)
def _pow_grads(base, exponent, device):
    x = mdl.tensor(base, requires_grad=True, dtype=np.float64, device=device)
    p = mdl.tensor(exponent, requires_grad=True, dtype=np.float64, device=device)
    (x**p).sum().backward()
    return x.grad.tolist(), p.grad.tolist()


def test_pow_gradient_of_x_to_the_zero_at_zero_is_zero(device):
    gx, gp = _pow_grads([0.0, 2.0], [0.0, 0.0], device)  # d/dx x**0 = 0 (was nan at x = 0)
    assert gx == [0.0, 0.0] and gp == [0.0, np.log(2.0)]  # d/dp 0**p at p = 0 is 0 (was -inf)
    x = mdl.tensor([0.0, 3.0], requires_grad=True, device=device)
    (x**0).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_pow_gradient_of_zero_base_for_the_exponent_is_zero(device):
    with np.errstate(divide="ignore"):  # 0.3 * 0 ** -0.7 is a true inf
        gx, gp = _pow_grads([0.0, 0.0, 2.0], [0.3, 2.0, 0.3], device)  # 0 ** p for p > 0 (was nan)
    assert gp == pytest.approx([0.0, 0.0, 2.0**0.3 * np.log(2.0)])
    assert gx[1] == 0.0 and gx[0] == np.inf  # the true slope of x**0.3 at 0, as PyTorch


def test_learned_exponent_on_relu_outputs_gets_no_nan(device, rng):
    # a learned exponent applied to ReLU outputs (many exact zeros): its gradient stays finite
    h = F.relu(mdl.tensor(rng.standard_normal(50), device=device))
    p = mdl.tensor([1.5], requires_grad=True, device=device)
    (h**p).sum().backward()
    assert np.isfinite(p.grad).all()
    z = mdl.tensor(rng.standard_normal(20), device=device)
    q = mdl.tensor(0.5, requires_grad=True, device=device)
    (0.0 ** (q * z * z)).sum().backward()  # 0 ** exponent, the exponent learned
    assert q.grad.item() == 0.0


def test_pow_gradcheck_away_from_zero_unchanged(device, rng):
    x = mdl.tensor(rng.uniform(0.5, 2.0, (3, 4)), requires_grad=True, device=device)
    p = mdl.tensor(rng.uniform(-1.0, 2.0, (4,)), requires_grad=True, device=device)
    assert mdl.gradcheck(lambda a, b: a**b, (x, p))


def test_clip_needs_a_bound(device):
    x = mdl.tensor([1.0, 2.0], device=device)
    for call in (lambda: x.clip(), lambda: x.clamp(None, None), lambda: F.clip(x)):
        with pytest.raises(ValueError, match="clip needs min or max"):
            call()  # before: the input came back silently
