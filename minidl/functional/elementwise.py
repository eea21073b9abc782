"""Elementwise ops beyond the four operations: picks, trigonometry, rounding,
more exponentials and logarithms, tests for NaN and infinity, and integer
division.

* ``maximum minimum``   the larger / smaller of two tensors; a tie shares the gradient
* ``where masked_fill`` choose each value from one tensor or another by a boolean mask
* ``sin cos tan``
* ``floor ceil round trunc sign``  step functions: gradient 0 (almost everywhere)
* ``log2 log10 exp2 rsqrt erf logaddexp lerp``
* ``isnan isinf isfinite``  boolean tensors, outside the graph
* ``floor_divide remainder``  ``//`` and ``%``

Each backward is the derivative of its forward times ``gy`` (the chain rule
for one input); the two-input ops broadcast, and the engine sums each
gradient back to its input's shape.
"""
from __future__ import annotations

import math
import numbers

from ..autograd import Function, Tensor, _as_tensors
from ..backend import get_array_module
from ._dtypes import is_float, promote_pair, to_float
from .arith import _elementwise, div, mul, sub


# ------------------------------------------------------------------ picks
class Maximum(Function):
    """y = max(a, b), elementwise (``Minimum``: min).

    ga = gy where a wins, gb = gy where b wins. At a tie (a == b) the slope
    is undefined; as PyTorch, each side gets half: ga = gb = gy / 2, so the
    two still add up to gy.
    """

    pick = "maximum"

    def forward(self, a, b):
        self.a, self.b = a, b
        return getattr(get_array_module(a, b), self.pick)(a, b)

    def backward(self, gy):
        xp = get_array_module(gy)
        a_wins = self.a > self.b if self.pick == "maximum" else self.a < self.b
        share = xp.where(self.a == self.b, 0.5, a_wins).astype(gy.dtype)  # a's share of gy: 1, 1/2 or 0
        ga = gy * share if self.needs_input_grad[0] else None
        gb = gy * (1 - share) if self.needs_input_grad[1] else None
        return ga, gb

    differentiable_backward = backward  # (share is a constant: only operators touch gy)


class Minimum(Maximum):
    __doc__ = Maximum.__doc__
    pick = "minimum"


class Where(Function):
    """y = a where condition, else b (condition, a and b broadcast).

    ga = gy where condition, else 0;  gb = gy where not condition, else 0.
    The condition is a boolean array, a constant: it has no gradient.
    """

    def __init__(self, condition):
        self.condition = condition

    def forward(self, a, b):
        return get_array_module(a, b).where(self.condition, a, b)

    def backward(self, gy):
        xp = get_array_module(gy)
        ga = xp.where(self.condition, gy, 0) if self.needs_input_grad[0] else None
        gb = xp.where(self.condition, 0, gy) if self.needs_input_grad[1] else None
        return ga, gb

    def differentiable_backward(self, gy):  # gy.where(c, 0): gy where c holds, else 0
        ga = gy.where(self.condition, 0) if self.needs_input_grad[0] else None
        gb = gy.where(~self.condition, 0) if self.needs_input_grad[1] else None
        return ga, gb


# ------------------------------------------------------------------ trigonometry
class Sin(Function):
    """y = sin(x);  gx = gy * cos(x)."""

    def forward(self, x):
        self.x = x
        return get_array_module(x).sin(x)

    def backward(self, gy):
        return gy * get_array_module(gy).cos(self.x)

    def differentiable_backward(self, gy):
        return gy * self.inputs[0].cos()


class Cos(Function):
    """y = cos(x);  gx = -gy * sin(x)."""

    def forward(self, x):
        self.x = x
        return get_array_module(x).cos(x)

    def backward(self, gy):
        return -gy * get_array_module(gy).sin(self.x)

    def differentiable_backward(self, gy):
        return -gy * self.inputs[0].sin()


class Tan(Function):
    """y = tan(x);  gx = gy / cos(x)^2 = gy * (1 + y^2)."""

    def forward(self, x):
        self.y = get_array_module(x).tan(x)
        return self.y

    def backward(self, gy):
        return gy * (1 + self.y * self.y)

    def differentiable_backward(self, gy):
        y = self.inputs[0].tan()
        return gy * (1 + y * y)


# ------------------------------------------------------------------ rounding: zero gradient
class _Step(Function):
    """y = a step function of x (floor, ceil, round, trunc, sign);  gx = 0.

    Each is constant between its jumps, so its derivative is 0 wherever it
    exists (at a jump it does not; PyTorch returns 0 there too). An integer
    tensor is already whole: floor, ceil, round and trunc return a copy
    (NumPy would turn it into float64).
    """

    name = ""

    def forward(self, x):
        xp = get_array_module(x)
        if x.dtype.kind in "iub" and self.name != "sign":
            return x.copy()
        return getattr(xp, self.name)(x)

    def backward(self, gy):
        return get_array_module(gy).zeros_like(gy)

    def differentiable_backward(self, gy):
        return gy * 0


class Floor(_Step):
    """y = the largest whole number <= x;  gx = 0."""
    name = "floor"


class Ceil(_Step):
    """y = the smallest whole number >= x;  gx = 0."""
    name = "ceil"


class Trunc(_Step):
    """y = x with its fraction cut off (towards 0);  gx = 0."""
    name = "trunc"


class Sign(_Step):
    """y = -1, 0 or 1 as x < 0, x == 0, x > 0;  gx = 0."""
    name = "sign"


class Round(_Step):
    """y = x rounded to ``decimals`` places, halves to even (0.5 -> 0, 1.5 -> 2, as PyTorch);  gx = 0."""

    name = "round"

    def __init__(self, decimals: int = 0):
        self.decimals = decimals

    def forward(self, x):
        if x.dtype.kind in "iub" and self.decimals >= 0:
            return x.copy()
        return get_array_module(x).round(x, self.decimals)


# ------------------------------------------------------------------ exponentials and logarithms
class Log2(Function):
    """y = log2(x) = ln(x) / ln 2;  gx = gy / (x ln 2)."""

    def forward(self, x):
        self.x = x
        return get_array_module(x).log2(x)

    def backward(self, gy):
        return gy / (self.x * math.log(2))


class Log10(Function):
    """y = log10(x) = ln(x) / ln 10;  gx = gy / (x ln 10)."""

    def forward(self, x):
        self.x = x
        return get_array_module(x).log10(x)

    def backward(self, gy):
        return gy / (self.x * math.log(10))


class Exp2(Function):
    """y = 2 ** x = exp(x ln 2);  gx = gy * y * ln 2."""

    def forward(self, x):
        self.y = get_array_module(x).exp2(x)
        return self.y

    def backward(self, gy):
        return gy * self.y * math.log(2)


class Rsqrt(Function):
    """y = 1 / sqrt(x) = x ** -1/2;  gx = gy * (-1/2) x ** -3/2 = -gy * y^3 / 2."""

    def forward(self, x):
        self.y = 1 / get_array_module(x).sqrt(x)
        return self.y

    def backward(self, gy):
        return -0.5 * gy * self.y * self.y * self.y


def erf_array(x):
    """The error function erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt, on a raw array.

    NumPy has no erf, so it is summed from the series

        erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n  2^n x^(2n+1) / (1 * 3 * 5 * ... * (2n+1))

    whose terms are all positive (nothing cancels, so every digit is kept);
    each term is the previous one times 2 x^2 / (2n+1). For |x| >= 6 erf is
    +-1 to float64's precision (1 - erf(6) = 2e-17), so |x| is capped there,
    which bounds the number of terms (about 150). The sum runs in float64
    whatever x's dtype (float32 would lose the tails: erf(-4) + 1 = 1.5e-8),
    and the result is clipped to [-1, 1] and returned in x's float dtype.
    """
    xp = get_array_module(x)
    a = xp.minimum(xp.abs(x.astype(xp.float64)), 6.0)
    term = a.copy()  # n = 0: x
    total = a.copy()
    for n in range(1, 400):
        term = term * (2 * a * a / (2 * n + 1))
        total = total + term
        if bool((term <= total * 1e-17).all()):
            break
    y = xp.clip(xp.sign(x) * (2 / math.sqrt(math.pi)) * xp.exp(-a * a) * total, -1.0, 1.0)
    return y.astype(x.dtype) if x.dtype.kind == "f" else y


class Erf(Function):
    """y = erf(x) (see :func:`erf_array`);  gx = gy * 2/sqrt(pi) * exp(-x^2)."""

    def forward(self, x):
        self.x = x
        return erf_array(x).astype(x.dtype)

    def backward(self, gy):
        return gy * (2 / math.sqrt(math.pi)) * get_array_module(gy).exp(-self.x * self.x)


class LogAddExp(Function):
    """y = log(exp(a) + exp(b)), computed stably as max(a, b) + log(1 + exp(-|a - b|)).

    ga = gy * exp(a) / (exp(a) + exp(b)) = gy * exp(a - y);  gb = gy * exp(b - y)
    (a softmax of the pair: the two shares add up to gy).
    """

    def forward(self, a, b):
        self.a, self.b = a, b
        self.y = get_array_module(a, b).logaddexp(a, b)
        return self.y

    def backward(self, gy):
        xp = get_array_module(gy)
        ga = gy * xp.exp(self.a - self.y) if self.needs_input_grad[0] else None
        gb = gy * xp.exp(self.b - self.y) if self.needs_input_grad[1] else None
        return ga, gb


class Lerp(Function):
    """y = start + weight * (end - start): the straight line from start (weight 0) to end (weight 1).

    g_start = gy * (1 - weight),  g_end = gy * weight,  g_weight = gy * (end - start).
    """

    def forward(self, start, end, weight):
        self.start, self.end, self.weight = start, end, weight
        return start + weight * (end - start)

    def backward(self, gy):
        g_start = gy * (1 - self.weight) if self.needs_input_grad[0] else None
        g_end = gy * self.weight if self.needs_input_grad[1] else None
        g_weight = gy * (self.end - self.start) if self.needs_input_grad[2] else None
        return g_start, g_end, g_weight


# ------------------------------------------------------------------ functional forms
def _pair(a, b) -> tuple:
    """Two operands as tensors, an integer one promoted to the float one's dtype."""
    a, b = _as_tensors((a, b))
    return promote_pair(a, b)


def maximum(input, other) -> Tensor:  # noqa: A002 - PyTorch's argument names
    """The elementwise larger of ``input`` and ``other`` (broadcasting); a tie shares the gradient."""
    return _elementwise(Maximum, "maximum", input, other)  # promotes, and names both shapes if they do not broadcast


def minimum(input, other) -> Tensor:  # noqa: A002
    """The elementwise smaller of ``input`` and ``other`` (broadcasting); a tie shares the gradient."""
    return _elementwise(Minimum, "minimum", input, other)


def _bool_mask(value, name: str, who: str):
    """A boolean Tensor or array -> its array; anything else is a TypeError naming the argument."""
    data = value.data if isinstance(value, Tensor) else value
    if getattr(data, "dtype", None) is None or data.dtype.kind != "b":
        got = getattr(data, "dtype", type(value).__name__)
        raise TypeError(f"{who}: {name} must be a boolean tensor (e.g. x > 0), got {got}")
    return data


def where(condition, input, other) -> Tensor:  # noqa: A002
    """``input`` where ``condition`` is True, else ``other`` (all three broadcast).

    ``condition`` is a boolean tensor; ``input`` and ``other`` tensors or numbers.
    """
    condition = _bool_mask(condition, "condition", "where")
    return Where(condition)(*_pair(input, other))


def masked_fill(input, mask, value) -> Tensor:  # noqa: A002
    """``input`` with ``value`` put where ``mask`` is True (PyTorch's ``masked_fill``).

    A composition: ``where(mask, value, input)``. ``mask`` is a boolean tensor
    that broadcasts to input's shape; ``value`` a number (cast to input's
    dtype) or a 0-d tensor. The gradient reaches input where mask is False.
    """
    x = input if isinstance(input, Tensor) else Tensor(input)
    data = _bool_mask(mask, "mask", "masked_fill")
    if any(m not in (1, n) for m, n in zip(reversed(data.shape), reversed(x.shape))) or data.ndim > x.ndim:
        raise ValueError(f"masked_fill: mask of shape {tuple(data.shape)} does not broadcast to the "
                         f"input's shape {tuple(x.shape)}")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got shape {value.shape}")
    elif isinstance(value, numbers.Number):
        value = Tensor(get_array_module(x).asarray(value, dtype=x.dtype))
    else:
        raise TypeError(f"masked_fill: value must be a number or a 0-d tensor, got {type(value).__name__}")
    return where(Tensor(data), value, x)


def sin(input) -> Tensor:  # noqa: A002
    """sin(x), elementwise (radians)."""
    return Sin()(to_float(input))


def cos(input) -> Tensor:  # noqa: A002
    """cos(x), elementwise (radians)."""
    return Cos()(to_float(input))


def tan(input) -> Tensor:  # noqa: A002
    """tan(x), elementwise (radians)."""
    return Tan()(to_float(input))


def floor(input) -> Tensor:  # noqa: A002
    """The largest whole number <= x; gradient 0."""
    return Floor()(input)


def ceil(input) -> Tensor:  # noqa: A002
    """The smallest whole number >= x; gradient 0."""
    return Ceil()(input)


def trunc(input) -> Tensor:  # noqa: A002
    """x rounded towards 0; gradient 0."""
    return Trunc()(input)


def sign(input) -> Tensor:  # noqa: A002
    """-1, 0 or 1; gradient 0."""
    return Sign()(input)


def round(input, *, decimals: int = 0) -> Tensor:  # noqa: A001,A002
    """x rounded to ``decimals`` places, halves to even (as PyTorch and NumPy); gradient 0."""
    if not isinstance(decimals, numbers.Integral) or isinstance(decimals, bool):
        raise TypeError(f"round: decimals must be an int, got {decimals!r}")
    return Round(int(decimals))(input)


def log2(input) -> Tensor:  # noqa: A002
    """The base-2 logarithm, elementwise."""
    return Log2()(to_float(input))


def log10(input) -> Tensor:  # noqa: A002
    """The base-10 logarithm, elementwise."""
    return Log10()(to_float(input))


def exp2(input) -> Tensor:  # noqa: A002
    """2 ** x, elementwise."""
    return Exp2()(to_float(input))


def rsqrt(input) -> Tensor:  # noqa: A002
    """1 / sqrt(x), elementwise."""
    return Rsqrt()(to_float(input))


def erf(input) -> Tensor:  # noqa: A002
    """The error function, elementwise (summed from its series: :func:`erf_array`)."""
    return Erf()(to_float(input))


def logaddexp(input, other) -> Tensor:  # noqa: A002
    """log(exp(input) + exp(other)), without overflow (broadcasting)."""
    a, b = _pair(to_float(input), other)
    return LogAddExp()(a, to_float(b))


def lerp(input, end, weight) -> Tensor:  # noqa: A002
    """input + weight * (end - input); ``weight`` a number or a tensor (all broadcast)."""
    start, end = _pair(to_float(input), end)
    start, end, weight = _as_tensors((start, to_float(end), weight))
    return Lerp()(start, end, to_float(weight))


def _test(fn: str, input) -> Tensor:  # noqa: A002
    data = input.data if isinstance(input, Tensor) else input
    return Tensor(getattr(get_array_module(data), fn)(data))


def isnan(input) -> Tensor:  # noqa: A002
    """True where x is NaN (a boolean tensor, no gradient)."""
    return _test("isnan", input)


def isinf(input) -> Tensor:  # noqa: A002
    """True where x is +inf or -inf (a boolean tensor, no gradient)."""
    return _test("isinf", input)


def isfinite(input) -> Tensor:  # noqa: A002
    """True where x is neither NaN nor infinite (a boolean tensor, no gradient)."""
    return _test("isfinite", input)


# ------------------------------------------------------------------ // and %
def _integer_pair(who: str, a, b) -> tuple:
    """Integer operands' arrays, refusing a zero divisor as PyTorch does (NumPy would give 0 and a warning)."""
    if bool((b.data == 0).any()):
        raise ZeroDivisionError(f"{who}: integer division by zero (other holds a 0)")
    return a.data, b.data


def floor_divide(input, other) -> Tensor:  # noqa: A002
    """``input // other``: the quotient rounded down (towards -inf), as Python and PyTorch.

    Integers: -7 // 2 = -4 and 7 // -2 = -4 (not -3: rounding is down, not
    towards 0); an integer division by zero raises ZeroDivisionError. No
    gradient (integer tensors have none).

    Floats: floor(input / other), written as that composition, so the
    gradient is floor's: 0. (PyTorch refuses to differentiate floor_divide
    at all; a step function's slope is 0 wherever it has one.)
    """
    a, b = _pair(input, other)
    if is_float(a):
        return floor(div(a, b))
    x, y = _integer_pair("floor_divide", a, b)
    return Tensor(get_array_module(x, y).floor_divide(x, y))


def remainder(input, other) -> Tensor:  # noqa: A002
    """``input % other`` = input - other * floor(input / other): the sign of ``other``, as Python and PyTorch.

    Integers: -7 % 2 = 1 and 7 % -2 = -1 (C's fmod would give -1 and 1);
    a zero divisor raises ZeroDivisionError. No gradient.

    Floats: the same formula, written as that composition of differentiable
    ops, so the gradients are PyTorch's: d/d input = 1, d/d other = -floor(input / other).
    """
    a, b = _pair(input, other)
    if is_float(a):
        return sub(a, mul(b, floor(div(a, b))))
    x, y = _integer_pair("remainder", a, b)
    return Tensor(get_array_module(x, y).remainder(x, y))
