"""Elementwise arithmetic and matmul: gradchecks (with broadcasting) and errors."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minidl as mdl
import minidl.nn.functional as F
from minidl import backend


def t(rng, shape, device, positive=False, low=None):
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
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 1), (4,)), ((2, 3, 4), (1, 4)), ((), (2, 3))])
def test_binary_ops_gradcheck_with_broadcasting(name, shapes, device, rng):
    positive = name in ("div", "pow")
    a = t(rng, shapes[0], device, positive=positive)
    b = t(rng, shapes[1], device, positive=positive)
    assert mdl.gradcheck(BINARY[name], (a, b))


@settings(max_examples=25, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3), op=st.sampled_from(sorted(BINARY)))
def test_binary_ops_gradcheck_on_drawn_broadcast_shapes(shapes, op):
    rng = np.random.default_rng(0)
    a = np.abs(rng.standard_normal(shapes.input_shapes[0])) + 0.5
    b = np.abs(rng.standard_normal(shapes.input_shapes[1])) + 0.5
    assert mdl.gradcheck(BINARY[op], (a, b))


@pytest.mark.parametrize("fn, positive", [
    (lambda x: -x, False), (lambda x: x.exp(), False), (lambda x: x.log(), True),
    (lambda x: x.sqrt(), True), (lambda x: abs(x), False), (lambda x: x**3, False),
    (lambda x: x**0.5, True), (lambda x: 2.0**x, False), (lambda x: 3 - x, False), (lambda x: 2 / x, True),
])
def test_unary_ops_gradcheck(fn, positive, device, rng):
    x = t(rng, (3, 4), device, positive=positive)
    assert mdl.gradcheck(fn, (x,))


@pytest.mark.parametrize("lo, hi", [(-0.5, 0.5), (None, 0.3), (-0.3, None)])
def test_clip_gradcheck_and_values(lo, hi, device, rng):
    a = rng.standard_normal(20)
    a = a[np.abs(a - (lo or 0)) > 0.05]  # away from the kinks
    a = a[np.abs(a - (hi or 0)) > 0.05]
    x = mdl.tensor(a, requires_grad=True, device=device)
    assert mdl.gradcheck(lambda v: v.clip(lo, hi), (x,))
    assert np.allclose(x.clip(lo, hi).numpy(), np.clip(a, lo, hi))


def test_clip_rejects_min_above_max():
    with pytest.raises(ValueError, match="min <= max"):
        mdl.tensor([1.0]).clip(1.0, 0.0)


def test_abs_gradient_is_zero_at_zero():
    x = mdl.tensor([0.0, -2.0], requires_grad=True)
    abs(x).sum().backward()
    assert x.grad.tolist() == [0.0, -1.0]


@pytest.mark.parametrize("sa, sb", [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)),
                                    ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((1, 3, 4), (2, 4, 1))])
def test_matmul_gradcheck_all_shapes(sa, sb, device, rng):
    a, b = t(rng, sa, device), t(rng, sb, device)
    assert mdl.gradcheck(lambda x, y: x @ y, (a, b))
    assert np.allclose((a @ b).numpy(), a.numpy() @ b.numpy())


def test_matmul_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul shape mismatch: \(3, 4\) @ \(5, 2\)"):
        mdl.tensor(np.ones((3, 4))) @ mdl.tensor(np.ones((5, 2)))


def test_add_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)|\(4,\).*\(3,\)"):
        mdl.tensor(np.ones(3)) + mdl.tensor(np.ones(4))


def test_hand_computed_gradients():
    a = mdl.tensor([2.0, 3.0], requires_grad=True)
    b = mdl.tensor([4.0, 5.0], requires_grad=True)
    ((a * b) + a / b).sum().backward()
    assert np.allclose(a.grad, [4 + 1 / 4, 5 + 1 / 5])
    assert np.allclose(b.grad, [2 - 2 / 16, 3 - 3 / 25])


def test_ndarray_on_the_left_uses_tensor_ops(rng):
    x = mdl.tensor(rng.standard_normal(3), requires_grad=True)
    y = np.ones(3) * x
    assert isinstance(y, mdl.Tensor) and y.requires_grad


def test_functional_names_match(device, rng):
    a, b = t(rng, (2, 2), device), t(rng, (2, 2), device, positive=True)
    assert np.allclose(F.add(a, b).numpy(), (a + b).numpy())
    assert np.allclose(F.div(a, b).numpy(), (a / b).numpy())
    assert backend.device_of(F.matmul(a, b).data) == backend.parse_device(device)
