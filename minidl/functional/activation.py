"""Activation functions, each a Function, and softmax / log-softmax.

Elementwise activations keep what backward needs, often the output itself:
sigmoid' = y (1 - y), tanh' = 1 - y^2, so no exp is recomputed.

Two of them need care with large inputs, because exp overflows (float32: for
x > 88; float64: for x > 709):

* sigmoid never evaluates exp of a positive number (see :class:`Sigmoid`);
* softmax and log-softmax subtract the row's maximum first. The result is the
  same, since softmax(x) = softmax(x - c) for any constant c, and the largest
  exponent is then exp(0) = 1.
"""
from __future__ import annotations

from typing import Any

from ..autograd import Function, Tensor
from ..backend import get_array_module
from ..validate import normalize_axis
from ._dtypes import to_float


class ReLU(Function):
    """y = max(x, 0);  gx = gy where x > 0, else 0 (0 at the kink, as PyTorch).

    "Else 0" is a ``where``, not ``gy * mask``: an infinite gy (the slope of
    h**0.5 at h = 0, say) must give 0 where the unit is off, not inf * 0 = NaN.
    """

    def forward(self, x):
        xp = get_array_module(x)
        self.mask = x > 0  # (x.shape) bool
        return xp.maximum(x, 0)

    def backward(self, gy):
        return get_array_module(gy).where(self.mask, gy, 0)


class LeakyReLU(Function):
    """y = x if x > 0 else slope * x;  gx = gy * (1 if x > 0 else slope)."""

    def __init__(self, negative_slope: float = 0.01):
        self.slope = negative_slope

    def forward(self, x):
        xp = get_array_module(x)
        self.mask = x > 0
        return xp.where(self.mask, x, x * self.slope)

    def backward(self, gy):
        xp = get_array_module(gy)
        return xp.where(self.mask, gy, gy * self.slope)


def sigmoid_array(x):
    """1 / (1 + exp(-x)) on a raw array, without overflow for any x.

    Written as it stands, exp(-x) overflows for x < -88 (float32). With
    z = exp(-|x|), which lies in (0, 1] and so never overflows:

        x >= 0:  y = 1 / (1 + z)
        x <  0:  y = z / (1 + z)     (top and bottom of 1 / (1 + exp(-x)) times exp(x))

    Both are exact, and a tiny y (x = -30 gives 9.4e-14) keeps its full
    relative precision, which 1 - 1 / (1 + exp(x)) would lose.
    Shared by :class:`Sigmoid` and the binary cross-entropy loss.
    """
    xp = get_array_module(x)
    z = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1, z) / (1 + z)


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x)) (stable: see :func:`sigmoid_array`);  gx = gy * y * (1 - y)."""

    def forward(self, x):
        self.y = sigmoid_array(x)
        return self.y

    def backward(self, gy):
        return gy * self.y * (1 - self.y)


class Tanh(Function):
    """y = tanh(x);  gx = gy * (1 - y^2)."""

    def forward(self, x):
        self.y = get_array_module(x).tanh(x)
        return self.y

    def backward(self, gy):
        return gy * (1 - self.y * self.y)


def log_softmax_array(x, axis: int = -1):
    """log softmax(x) along ``axis`` on a raw array, stably (the log-sum-exp trick).

        log softmax(x)_i = x_i - log sum_j exp(x_j)
                         = s_i - log sum_j exp(s_j),   s = x - max(x)

    Every exp(s_j) is at most 1, and the one for the maximum is exactly 1, so
    the sum lies in [1, C]: no overflow, and its log is never log(0).
    Shared by :class:`LogSoftmax` and the cross-entropy loss.
    """
    xp = get_array_module(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


class Softmax(Function):
    """y_i = exp(x_i) / sum_j exp(x_j) along ``axis``.

    Stable: exp(x - max x) gives the same y without overflow for logits of 1000.
    Backward (the Jacobian dy_i/dx_j = y_i (delta_ij - y_j) applied to gy):
        gx = y * (gy - sum_j(gy_j * y_j))
    """

    def __init__(self, axis: int | tuple = -1):
        self.axis = axis  # an int, or a tuple of axes (() for a 0-d x)

    def forward(self, x):
        xp = get_array_module(x)
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        self.y = e / e.sum(axis=self.axis, keepdims=True)
        return self.y

    def backward(self, gy):
        y = self.y
        return y * (gy - (gy * y).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """y_i = x_i - log sum_j exp(x_j) along ``axis`` (see :func:`log_softmax_array`).

    Backward: dy_i/dx_j = delta_ij - softmax_j, and softmax = exp(y), so
        gx = gy - exp(y) * sum_j gy_j
    """

    def __init__(self, axis: int | tuple = -1):
        self.axis = axis  # an int, or a tuple of axes (() for a 0-d x)

    def forward(self, x):
        self.y = log_softmax_array(x, self.axis)
        return self.y

    def backward(self, gy):
        xp = get_array_module(gy)
        return gy - xp.exp(self.y) * gy.sum(axis=self.axis, keepdims=True)


# ---- functional forms
def _pick_axis(name: str, x: Any, axis: int, dim: int | None) -> tuple:
    """``dim`` is PyTorch's word for ``axis``; check the axis exists in x.

    Returned as a tuple of axes, ``()`` for a 0-d tensor (softmax of a scalar is 1).
    """
    if dim is not None:
        axis = dim
    a = normalize_axis(axis, len(x.shape), name, x.shape)
    return (a,) if len(x.shape) else ()


def relu(x: Any) -> Tensor:
    """y = max(x, 0), elementwise."""
    return ReLU()(x)


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """y = x where x > 0, else negative_slope * x."""
    return LeakyReLU(negative_slope)(x)


def sigmoid(x: Any) -> Tensor:
    """y = 1 / (1 + exp(-x)), computed without overflow for any x."""
    return Sigmoid()(to_float(x))


def tanh(x: Any) -> Tensor:
    """y = tanh(x), elementwise."""
    return Tanh()(to_float(x))


def softmax(x: Any, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """Softmax along ``axis`` (``dim`` accepted as PyTorch's name): values in (0, 1) summing to 1."""
    return Softmax(_pick_axis("softmax", x, axis, dim))(to_float(x))


def log_softmax(x: Any, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """log(softmax(x)) along ``axis``, computed stably (finite for logits of +-1000)."""
    return LogSoftmax(_pick_axis("log_softmax", x, axis, dim))(to_float(x))


class ReLU6(Function):
    """y = min(max(x, 0), 6);  gx = gy where 0 < x < 6, else 0 (as PyTorch's hardtanh).

    The ReLU of MobileNetV2 and EfficientNet-Lite: capped so that activations
    stay in a range that 8-bit quantisation represents well.
    """

    def forward(self, x):
        self.x = x
        return get_array_module(x).clip(x, 0, 6)

    def backward(self, gy):
        return gy * ((self.x > 0) & (self.x < 6))


def relu6(x: Any) -> Tensor:
    """y = min(max(x, 0), 6), elementwise."""
    return ReLU6()(to_float(x))
