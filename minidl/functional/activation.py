"""Activation functions, each a Function, and softmax / log-softmax.

Elementwise activations keep what backward needs, often the output itself:
sigmoid' = y (1 - y), tanh' = 1 - y^2, so no exp is recomputed.
"""
from __future__ import annotations

from ..autograd import Function, Tensor
from ..backend import get_array_module


class ReLU(Function):
    """y = max(x, 0);  gx = gy where x > 0, else 0 (0 at the kink, as PyTorch)."""

    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, gy):
        return gy * self.mask


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


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x));  gx = gy * y * (1 - y).

    Computed as 0.5 * (1 + tanh(x / 2)), the same function, which never
    overflows (exp(-x) overflows for x < -88 in float32).
    """

    def forward(self, x):
        xp = get_array_module(x)
        self.y = 0.5 * (1 + xp.tanh(0.5 * x))
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


class Softmax(Function):
    """y_i = exp(x_i) / sum_j exp(x_j) along ``axis``.

    Stable: exp(x - max x) gives the same y without overflow for logits of 1000.
    Backward (the Jacobian dy_i/dx_j = y_i (delta_ij - y_j) applied to gy):
        gx = y * (gy - sum_j(gy_j * y_j))
    """

    def __init__(self, axis: int = -1):
        self.axis = axis

    def forward(self, x):
        xp = get_array_module(x)
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        self.y = e / e.sum(axis=self.axis, keepdims=True)
        return self.y

    def backward(self, gy):
        y = self.y
        return y * (gy - (gy * y).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """y_i = x_i - log sum_j exp(x_j) along ``axis`` (the log-sum-exp trick: shift by max x).

    Backward: dy_i/dx_j = delta_ij - softmax_j, so
        gx = gy - softmax(x) * sum_j gy_j
    """

    def __init__(self, axis: int = -1):
        self.axis = axis

    def forward(self, x):
        xp = get_array_module(x)
        shifted = x - x.max(axis=self.axis, keepdims=True)
        self.y = shifted - xp.log(xp.exp(shifted).sum(axis=self.axis, keepdims=True))
        return self.y

    def backward(self, gy):
        xp = get_array_module(gy)
        return gy - xp.exp(self.y) * gy.sum(axis=self.axis, keepdims=True)


# ---- functional forms
def relu(x) -> Tensor:
    return ReLU()(x)


def leaky_relu(x, negative_slope: float = 0.01) -> Tensor:
    return LeakyReLU(negative_slope)(x)


def sigmoid(x) -> Tensor:
    return Sigmoid()(x)


def tanh(x) -> Tensor:
    return Tanh()(x)


def softmax(x, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """Softmax along ``axis`` (``dim`` accepted as PyTorch's name)."""
    return Softmax(axis if dim is None else dim)(x)


def log_softmax(x, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """log(softmax(x)) computed stably along ``axis``."""
    return LogSoftmax(axis if dim is None else dim)(x)
