"""Elementwise ops (minidl/functional/elementwise.py): float64 gradchecks on every device, hand values,
the tie rule of maximum/minimum, zero gradients of the step functions, // and % on integers, clear errors."""
import math

import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F
from minidl import backend


def leaf(a, device, grad=True):
    return mdl.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad, device=device)


def away_from_zero(rng, shape):
    return rng.uniform(0.3, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


# ------------------------------------------------------------------ gradchecks
UNARY = {
    "sin": lambda rng, s: rng.standard_normal(s),
    "cos": lambda rng, s: rng.standard_normal(s),
    "tan": lambda rng, s: rng.uniform(-1.3, 1.3, s),
    "log2": lambda rng, s: rng.uniform(0.5, 2.0, s),
    "log10": lambda rng, s: rng.uniform(0.5, 2.0, s),
    "exp2": lambda rng, s: rng.standard_normal(s),
    "rsqrt": lambda rng, s: rng.uniform(0.5, 2.0, s),
    "erf": lambda rng, s: rng.uniform(-3, 3, s),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_gradcheck(name, device, rng):
    x = leaf(UNARY[name](rng, (3, 4)), device)
    assert mdl.gradcheck(getattr(F, name), (x,))
    assert mdl.gradcheck(lambda v: getattr(v, name)(), (x,))  # the Tensor method
    assert mdl.gradcheck(getattr(mdl, name), (x,))  # the torch.* style name


@pytest.mark.parametrize("name", ["maximum", "minimum", "logaddexp"])
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1))])
def test_binary_ops_gradcheck(name, shapes, device, rng):
    a, b = (leaf(rng.standard_normal(s), device) for s in shapes)  # continuous draws: no ties
    assert mdl.gradcheck(getattr(F, name), (a, b))
    assert mdl.gradcheck(lambda u: getattr(F, name)(u, 0.25), (a,))  # a number as other


def test_where_and_masked_fill_gradcheck(device, rng):
    xp = backend.namespace(device)
    a, b = leaf(rng.standard_normal((3, 4)), device), leaf(rng.standard_normal((4,)), device)
    cond = mdl.tensor(xp.asarray(rng.random((3, 4)) > 0.5))
    assert mdl.gradcheck(lambda u, v: F.where(cond, u, v), (a, b))
    assert mdl.gradcheck(lambda u: F.where(cond, u, 0.0), (a,))
    assert mdl.gradcheck(lambda u, v: u.where(cond, v), (a, b))  # Tensor.where: self where condition
    mask = mdl.tensor(xp.asarray(np.array([True, False, False, True])))
    assert mdl.gradcheck(lambda u: F.masked_fill(u, mask, -3.0), (a,))
    value = leaf(0.5, device)
    assert mdl.gradcheck(lambda u, w: u.masked_fill(mask, w), (a, value))  # a 0-d tensor value gets a gradient


@pytest.mark.parametrize("weight", ["number", "tensor", "broadcast"])
def test_lerp_gradcheck(weight, device, rng):
    start, end = leaf(rng.standard_normal((3, 4)), device), leaf(rng.standard_normal((3, 4)), device)
    if weight == "number":
        assert mdl.gradcheck(lambda s, e: F.lerp(s, e, 0.3), (start, end))
    else:
        w = leaf(rng.uniform(0, 1, (3, 4) if weight == "tensor" else (4,)), device)
        assert mdl.gradcheck(F.lerp, (start, end, w))
        assert mdl.gradcheck(lambda s, e, v: s.lerp(e, v), (start, end, w))


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "trunc", "sign"])
def test_step_functions_have_zero_gradient(name, device, rng):
    x = leaf(rng.uniform(-3, 3, (3, 4)) + 0.01, device)  # away from the jumps
    assert mdl.gradcheck(getattr(F, name), (x,))
    getattr(x, name)().sum().backward()
    assert backend.to_numpy(x.grad).tolist() == [[0.0] * 4] * 3


def test_round_decimals_gradcheck_and_values(device):
    x = leaf([1.234, -5.678, 2.5], device)
    assert F.round(x, decimals=1).tolist() == pytest.approx([1.2, -5.7, 2.5])
    assert F.round(x, decimals=-1).tolist() == [0.0, -10.0, 0.0]
    assert mdl.gradcheck(lambda v: F.round(v, decimals=2), (leaf([1.2341, -5.6789], device),))


def test_remainder_of_floats_gradcheck(device, rng):
    a, b = leaf(away_from_zero(rng, (3, 4)), device), leaf(away_from_zero(rng, (3, 4)), device)
    # away from the jumps of floor(a / b): keep a / b at least 0.05 from a whole number
    q = a.numpy() / b.numpy()
    a = leaf(b.numpy() * (np.floor(q) + 0.5), device)
    assert mdl.gradcheck(F.remainder, (a, b))
    assert mdl.gradcheck(lambda u, v: u % v, (a, b))
    assert mdl.gradcheck(lambda u: u // 0.7, (a,))  # floor(a / b): gradient 0


# ------------------------------------------------------------------ hand values
def test_maximum_minimum_values_and_tie_rule(device):
    xp = backend.namespace(device)
    a, b = leaf([1.0, 2.0, 3.0], device), leaf([1.0, 1.0, 4.0], device)
    assert F.maximum(a, b).tolist() == [1.0, 2.0, 4.0]
    assert F.minimum(a, b).tolist() == [1.0, 1.0, 3.0]
    F.maximum(a, b).backward(xp.asarray([2.0, 2.0, 2.0]))
    assert a.grad.tolist() == [1.0, 2.0, 0.0] and b.grad.tolist() == [1.0, 0.0, 2.0]  # tie: half each (PyTorch)
    a.grad = b.grad = None
    a.minimum(b).backward(xp.asarray([2.0, 2.0, 2.0]))
    assert a.grad.tolist() == [1.0, 0.0, 2.0] and b.grad.tolist() == [1.0, 2.0, 0.0]
    assert mdl.maximum(mdl.tensor([1, 5]), mdl.tensor([3, 2])).tolist() == [3, 5]  # integers stay integers


def test_where_and_masked_fill_values(device):
    xp = backend.namespace(device)
    a, b = leaf([1.0, 2.0, 3.0], device), leaf([10.0, 20.0, 30.0], device)
    cond = mdl.tensor(xp.asarray([True, False, True]))
    y = mdl.where(cond, a, b)
    assert y.tolist() == [1.0, 20.0, 3.0]
    y.backward(xp.asarray([1.0, 1.0, 1.0]))
    assert a.grad.tolist() == [1.0, 0.0, 1.0] and b.grad.tolist() == [0.0, 1.0, 0.0]
    assert a.masked_fill(cond, -1.0).tolist() == [-1.0, 2.0, -1.0]
    ints = mdl.tensor(xp.asarray([1, 2, 3]))
    assert ints.masked_fill(cond, 7.9).tolist() == [7, 2, 7]  # value cast to input's dtype, as PyTorch
    assert mdl.where(cond, ints, 0.5).dtype == np.float32  # an integer meeting a float: the default float


def test_masked_fill_minus_inf_gives_a_finite_softmax(device):
    x = leaf([[1.0, 2.0, 3.0]], device)
    mask = mdl.tensor(backend.namespace(device).asarray([[False, True, False]]))
    p = F.softmax(x.masked_fill(mask, -math.inf), axis=-1)
    e1, e3 = math.exp(1.0), math.exp(3.0)
    assert p.tolist()[0] == pytest.approx([e1 / (e1 + e3), 0.0, e3 / (e1 + e3)])


def test_trigonometry_exponentials_and_logs_by_hand(device):
    x = leaf([0.0, math.pi / 2, math.pi / 4], device)
    assert F.sin(x).tolist() == pytest.approx([0.0, 1.0, math.sqrt(0.5)])
    assert F.cos(x).tolist() == pytest.approx([1.0, 0.0, math.sqrt(0.5)], abs=1e-15)
    assert F.tan(x[2]).item() == pytest.approx(1.0)
    y = leaf([1.0, 8.0, 100.0], device)
    assert F.log2(y).tolist() == pytest.approx([0.0, 3.0, math.log2(100)])
    assert F.log10(y).tolist() == pytest.approx([0.0, math.log10(8), 2.0])
    assert F.exp2(leaf([0.0, 3.0, -1.0], device)).tolist() == pytest.approx([1.0, 8.0, 0.5])
    assert F.rsqrt(leaf([4.0, 0.25], device)).tolist() == pytest.approx([0.5, 2.0])
    assert F.logaddexp(leaf([0.0, 1000.0], device), leaf([0.0, 1000.0], device)).tolist() == \
        pytest.approx([math.log(2), 1000 + math.log(2)])  # no overflow at 1000
    assert F.lerp(leaf([1.0], device), leaf([3.0], device), 0.25).tolist() == [1.5]
    assert mdl.sin(mdl.tensor([0, 1])).dtype == np.float32  # integers promote to the default float


def test_erf_matches_math_erf_to_float64_precision(device):
    values = np.linspace(-7, 7, 141)
    got = F.erf(mdl.tensor(values, device=device)).numpy()
    expected = np.array([math.erf(v) for v in values])
    assert np.abs(got - expected).max() < 1e-14
    x32 = F.erf(mdl.tensor([0.5, -2.0], device=device))
    assert x32.dtype == np.float32 and x32.tolist() == pytest.approx([math.erf(0.5), math.erf(-2.0)], rel=1e-6)


def test_rounding_values(device):
    x = leaf([-2.5, -1.5, -0.5, 0.5, 1.5, 2.7, -2.7], device)
    assert F.round(x).tolist() == [-2.0, -2.0, -0.0, 0.0, 2.0, 3.0, -3.0]  # halves to even
    assert F.floor(x).tolist() == [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, -3.0]
    assert F.ceil(x).tolist() == [-2.0, -1.0, -0.0, 1.0, 2.0, 3.0, -2.0]
    assert F.trunc(x).tolist() == [-2.0, -1.0, -0.0, 0.0, 1.0, 2.0, -2.0]
    assert F.sign(leaf([-3.0, 0.0, 2.0], device)).tolist() == [-1.0, 0.0, 1.0]
    ints = mdl.tensor(backend.namespace(device).asarray([-3, 4]))
    assert F.floor(ints).dtype == ints.dtype and F.floor(ints).tolist() == [-3, 4]  # stays an integer


def test_isnan_isinf_isfinite(device):
    x = mdl.tensor([0.0, math.nan, math.inf, -math.inf, 2.0], device=device)
    assert F.isnan(x).tolist() == [False, True, False, False, False]
    assert x.isinf().tolist() == [False, False, True, True, False]
    assert mdl.isfinite(x).tolist() == [True, False, False, False, True]
    assert F.isnan(x).requires_grad is False and F.isnan(x).dtype == bool


def test_integer_floor_division_and_remainder_follow_pytorch_for_negatives(device):
    xp = backend.namespace(device)
    a = mdl.tensor(xp.asarray([-7, 7, -7, 7, 6]))
    b = mdl.tensor(xp.asarray([2, -2, -2, 2, 3]))
    assert (a // b).tolist() == [-4, -4, 3, 3, 2]  # rounded down, not towards 0
    assert (a % b).tolist() == [1, -1, -1, 1, 0]  # the sign of the divisor
    assert ((a // b) * b + a % b).tolist() == a.tolist()  # a = (a // b) * b + a % b
    assert (a // 3).tolist() == [-3, 2, -3, 2, 2] and (a % 3).tolist() == [2, 1, 2, 1, 0]
    assert (17 // mdl.tensor(xp.asarray([5, -5]))).tolist() == [3, -4]
    assert (17 % mdl.tensor(xp.asarray([5, -5]))).tolist() == [2, -3]
    assert (a // b).dtype == a.dtype and F.remainder(a, b).dtype == a.dtype


def test_float_floor_division_and_remainder(device):
    xp = backend.namespace(device)
    a, b = leaf([-7.5, 7.5], device), leaf([2.0, -2.0], device)
    assert (a // b).tolist() == [-4.0, -4.0] and (a % b).tolist() == [0.5, -0.5]
    (a % b).backward(xp.asarray([1.0, 1.0]))
    assert a.grad.tolist() == [1.0, 1.0] and b.grad.tolist() == [4.0, 4.0]  # -floor(a / b)
    assert (mdl.tensor([7]) // 2.0).tolist() == [3.0]  # an integer meeting a float: float division


# ------------------------------------------------------------------ errors
def test_integer_division_by_zero_raises(device):
    xp = backend.namespace(device)
    a = mdl.tensor(xp.asarray([1, 2]))
    with pytest.raises(ZeroDivisionError, match="floor_divide: integer division by zero"):
        a // mdl.tensor(xp.asarray([1, 0]))
    with pytest.raises(ZeroDivisionError, match="remainder: integer division by zero"):
        a % 0


def test_where_and_masked_fill_refuse_a_non_boolean_mask(device):
    x = leaf([1.0, 2.0], device)
    with pytest.raises(TypeError, match="where: condition must be a boolean tensor .* got float64"):
        F.where(x, x, 0.0)
    with pytest.raises(TypeError, match="masked_fill: mask must be a boolean tensor"):
        x.masked_fill(mdl.tensor([1, 0]), 0.0)
    with pytest.raises(ValueError,
                       match=r"masked_fill: mask of shape \(3,\) does not broadcast to the input's shape \(2,\)"):
        x.masked_fill(mdl.tensor([True, False, True]), 0.0)
    with pytest.raises(ValueError, match="masked_fill: value must be a number or a 0-d tensor, got shape"):
        x.masked_fill(mdl.tensor([True, False]), x)
    with pytest.raises(TypeError, match="masked_fill: value must be a number or a 0-d tensor, got str"):
        x.masked_fill(mdl.tensor([True, False]), "0")


def test_round_refuses_non_integer_decimals():
    with pytest.raises(TypeError, match="round: decimals must be an int, got 1.5"):
        F.round(mdl.tensor([1.0]), decimals=1.5)


def test_binary_ops_refuse_shapes_that_do_not_broadcast():
    with pytest.raises(ValueError, match=r"maximum: shapes \(2, 3\) and \(4,\) do not broadcast"):
        F.maximum(mdl.tensor(np.zeros((2, 3))), mdl.tensor(np.zeros((4,))))


def test_erf_in_float32_is_correctly_rounded():
    """The series runs in float64: float32 results are erf rounded to float32 (within one step), in [-1, 1]."""
    import math

    x = np.array([-4.0, -1.5, -0.2, 0.3, 2.5, 3.9, 6.0, 8.0], dtype=np.float32)
    y = mdl.nn.functional.erf(mdl.tensor(x)).numpy()
    expected = np.array([math.erf(float(v)) for v in x], dtype=np.float32)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, expected, rtol=0, atol=np.spacing(np.float32(1)))
    assert np.abs(y).max() <= 1.0
