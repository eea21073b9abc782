"""Elementwise arithmetic and the matrix product, each a Function.

Notation in the docstrings: ``x``, ``w`` inputs, ``y`` the output, ``gy`` the
upstream gradient dL/dy (same shape as ``y``), ``gx`` the gradient returned
for ``x``. Inputs may broadcast against each other; every backward here
returns gradients of the broadcast (output) shape, and the engine sums them
back to each input's shape (see :func:`minidl.backend.sum_to_shape`).
"""
from __future__ import annotations

import numpy  # host-side shape arithmetic only

from ..autograd import Function, Tensor, _as_tensors
from ..backend import get_array_module
from ._dtypes import promote_pair, to_float


class Add(Function):
    """y = a + b;  ga = gy,  gb = gy."""

    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        return gy, gy

    differentiable_backward = backward  # (only operators on gy: the same code works on Tensors)


class Sub(Function):
    """y = a - b;  ga = gy,  gb = -gy."""

    def forward(self, a, b):
        return a - b

    def backward(self, gy):
        return gy, -gy

    differentiable_backward = backward


class Mul(Function):
    """y = a * b;  ga = gy * b,  gb = gy * a."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, gy):
        ga = gy * self.b if self.needs_input_grad[0] else None
        gb = gy * self.a if self.needs_input_grad[1] else None
        return ga, gb

    def differentiable_backward(self, gy):  # the same formula on the input Tensors
        (a, b), (want_a, want_b) = self.inputs, self.needs_input_grad
        return (gy * b if want_a else None), (gy * a if want_b else None)


class Div(Function):
    """y = a / b;  ga = gy / b,  gb = -gy * a / b**2 = -gy * y / b."""

    def forward(self, a, b):
        self.b = b
        self.y = a / b
        return self.y

    def backward(self, gy):
        ga = gy / self.b if self.needs_input_grad[0] else None
        gb = -gy * self.y / self.b if self.needs_input_grad[1] else None
        return ga, gb

    def differentiable_backward(self, gy):
        (a, b), (want_a, want_b) = self.inputs, self.needs_input_grad
        return (gy / b if want_a else None), (-gy * a / (b * b) if want_b else None)


class Neg(Function):
    """y = -x;  gx = -gy."""

    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy

    differentiable_backward = backward


class Pow(Function):
    """y = x ** p;  gx = gy * p * x**(p-1),  gp = gy * y * log(x).

    At x = 0 both formulas meet 0 * inf: p * 0**(p-1) for p = 0, and
    y * log(0) = 0 * -inf for p >= 0. As PyTorch, the gradient there is 0:
    gx = 0 where p == 0 (x**0 is the constant 1), and gp = 0 where x == 0 and
    p >= 0 (0**p is the constant 0, or 1 at p = 0). The masked places are
    computed with x replaced by 1, so no NaN or warning is ever made. (gx of
    0**0.3 stays inf, the true slope of x**0.3 at 0, as in PyTorch.)
    The exponent's gradient is only computed when the exponent wants one.
    """

    def forward(self, x, p):
        self.x, self.p = x, p
        self.y = x**p
        return self.y

    def backward(self, gy):
        xp = get_array_module(gy)
        x, p = self.x, self.p
        gx = gp = None
        if self.needs_input_grad[0]:
            constant = p == 0  # x ** 0 = 1 whatever x
            gx = gy * xp.where(constant, 0, p * xp.where(constant, 1, x) ** (p - 1))
        if self.needs_input_grad[1]:
            at_zero = (x == 0) & (p >= 0)  # 0 ** p = 0 (or 1) whatever p
            gp = gy * xp.where(at_zero, 0, self.y * xp.log(xp.where(at_zero, 1, x)))
        return gx, gp

    def differentiable_backward(self, gy):  # t.where(c, other): t where c holds, other elsewhere
        x, p = self.inputs
        gx = gp = None
        if self.needs_input_grad[0]:
            constant = p.data == 0
            gx = gy * (p * x.where(~constant, 1) ** (p - 1)).where(~constant, 0)
        if self.needs_input_grad[1]:
            at_zero = (x.data == 0) & (p.data >= 0)
            gp = gy * (x**p * x.where(~at_zero, 1).log()).where(~at_zero, 0)
        return gx, gp


class Exp(Function):
    """y = exp(x);  gx = gy * y."""

    def forward(self, x):
        self.y = get_array_module(x).exp(x)
        return self.y

    def backward(self, gy):
        return gy * self.y

    def differentiable_backward(self, gy):
        return gy * self.inputs[0].exp()


class Log(Function):
    """y = log(x) (natural);  gx = gy / x."""

    def forward(self, x):
        self.x = x
        return get_array_module(x).log(x)

    def backward(self, gy):
        return gy / self.x

    def differentiable_backward(self, gy):
        return gy / self.inputs[0]


class Sqrt(Function):
    """y = sqrt(x);  gx = gy / (2 y)."""

    def forward(self, x):
        self.y = get_array_module(x).sqrt(x)
        return self.y

    def backward(self, gy):
        return gy / (2 * self.y)

    def differentiable_backward(self, gy):
        return gy / (2 * self.inputs[0].sqrt())


class Abs(Function):
    """y = |x|;  gx = gy * sign(x)  (0 at x = 0, as PyTorch)."""

    def forward(self, x):
        self.x = x
        return get_array_module(x).abs(x)

    def backward(self, gy):
        return gy * get_array_module(gy).sign(self.x)

    def differentiable_backward(self, gy):
        return gy * self.inputs[0].sign()


class Clip(Function):
    """y = min(max(x, lo), hi);  gx = gy where lo <= x <= hi, else 0.

    Either bound may be None. At a bound the gradient passes (as PyTorch's
    clamp does).
    """

    def __init__(self, lo=None, hi=None):
        if lo is None and hi is None:
            raise ValueError("clip needs min or max (or both); got min=None and max=None")
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"clip needs min <= max, got min={lo}, max={hi}")
        self.lo, self.hi = lo, hi

    def forward(self, x):
        xp = get_array_module(x)
        self.x = x
        return xp.clip(x, self.lo, self.hi)

    def backward(self, gy):
        keep = True
        if self.lo is not None:
            keep = keep & (self.x >= self.lo)
        if self.hi is not None:
            keep = keep & (self.x <= self.hi)
        return gy * keep

    differentiable_backward = backward  # (keep is a constant mask)


class MatMul(Function):
    """y = a @ b, with NumPy's rules for 1-D and batched (stacked) operands.

    Shapes: a (..., n, k) @ b (..., k, m) -> y (..., n, m);
    ga = gy @ b^T  (..., n, k),   gb = a^T @ gy  (..., k, m).
    A 1-D ``a`` is a row (1, k), a 1-D ``b`` a column (k, 1); the extra axis is
    put in for the backward products and taken out again. Batch axes that
    broadcast are summed back by the engine.
    """

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul needs arrays of at least 1 dimension; use * for scalars")
        k_a = a.shape[-1]
        k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if k_a != k_b:
            raise ValueError(
                f"matmul shape mismatch: {tuple(a.shape)} @ {tuple(b.shape)} "
                f"(a's last dimension {k_a} must equal b's {'first' if b.ndim == 1 else 'second-to-last'} "
                f"dimension {k_b})"
            )
        self.a, self.b = a, b
        return a @ b

    def backward(self, gy):
        # BEGIN SOLUTION matmul_backward
        xp = get_array_module(gy)
        # Put the 1-D operands' missing axes back, so every product is 2-D+.
        a = self.a[None, :] if self.a.ndim == 1 else self.a  # (.., n, k)
        b = self.b[:, None] if self.b.ndim == 1 else self.b  # (.., k, m)
        if self.b.ndim == 1:  # (this one first: for 1-D @ 1-D, gy is 0-d)
            gy = xp.expand_dims(gy, -1)
        if self.a.ndim == 1:
            gy = xp.expand_dims(gy, -2)  # (.., n, m)
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = gy @ xp.swapaxes(b, -1, -2)  # (.., n, k)
            ga = ga[..., 0, :] if self.a.ndim == 1 else ga
        if self.needs_input_grad[1]:
            gb = xp.swapaxes(a, -1, -2) @ gy  # (.., k, m)
            gb = gb[..., 0] if self.b.ndim == 1 else gb
        return ga, gb
        # END SOLUTION

    def differentiable_backward(self, gy):  # backward's steps on the input Tensors
        a, b = self.inputs
        a2 = a.unsqueeze(0) if a.ndim == 1 else a  # (.., n, k)
        b2 = b.unsqueeze(1) if b.ndim == 1 else b  # (.., k, m)
        gy = gy.unsqueeze(-1) if b.ndim == 1 else gy
        gy = gy.unsqueeze(-2) if a.ndim == 1 else gy  # (.., n, m)
        ga, gb = gy @ swap_last_axes(b2), swap_last_axes(a2) @ gy  # (.., n, k), (.., k, m)
        return (ga[..., 0, :] if a.ndim == 1 else ga), (gb[..., 0] if b.ndim == 1 else gb)


def swap_last_axes(t: Tensor) -> Tensor:
    """t with its last two axes swapped (the batched transpose), as a Tensor op."""
    axes = list(range(t.ndim))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return t.transpose(*axes)


# ---- functional forms (what Tensor's operators call)
def _elementwise(op: type, name: str, a, b) -> Tensor:
    """Apply a two-input elementwise op, promoting an integer operand that meets a
    float one (see :mod:`._dtypes`); shapes that do not broadcast get an error
    naming both (the same words on every backend)."""
    a, b = promote_pair(*_as_tensors((a, b)), true_division=op is Div)
    try:
        return op()(a, b)
    except ValueError:
        shape_a, shape_b = tuple(getattr(a, "shape", ())), tuple(getattr(b, "shape", ()))
        try:
            numpy.broadcast_shapes(shape_a, shape_b)
        except ValueError:
            raise ValueError(
                f"{name}: shapes {shape_a} and {shape_b} do not broadcast (each axis, counted "
                f"from the right, must be equal or 1)"
            ) from None
        raise


def add(a, b) -> Tensor:
    """a + b, broadcasting (the :class:`Add` op)."""
    return _elementwise(Add, "add", a, b)


def sub(a, b) -> Tensor:
    """a - b, broadcasting."""
    return _elementwise(Sub, "sub", a, b)


def mul(a, b) -> Tensor:
    """a * b, elementwise, broadcasting."""
    return _elementwise(Mul, "mul", a, b)


def div(a, b) -> Tensor:
    """a / b, broadcasting."""
    return _elementwise(Div, "div", a, b)


def neg(x) -> Tensor:
    """-x."""
    return Neg()(x)


def pow(x, p) -> Tensor:  # noqa: A001 - the name users expect
    """x ** p; p a number or a tensor (broadcasting)."""
    return _elementwise(Pow, "pow", x, p)


def exp(x) -> Tensor:
    """e ** x, elementwise (integers become the default float dtype, as in log and sqrt)."""
    return Exp()(to_float(x))


def log(x) -> Tensor:
    """The natural logarithm, elementwise."""
    return Log()(to_float(x))


def sqrt(x) -> Tensor:
    """The square root, elementwise."""
    return Sqrt()(to_float(x))


def abs(x) -> Tensor:  # noqa: A001
    """|x|, elementwise (gradient 0 at 0)."""
    return Abs()(x)


def clip(x, min=None, max=None) -> Tensor:  # noqa: A002
    """x limited to [min, max] (either may be None, not both); gradient 1 inside, 0 outside."""
    return Clip(min, max)(x)


def matmul(a, b) -> Tensor:
    """a @ b with NumPy's rules (1-D, 2-D and batched operands); an integer
    operand takes the float operand's dtype."""
    return MatMul()(*promote_pair(*_as_tensors((a, b))))
