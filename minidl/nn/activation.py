"""Activation layers: thin Modules around :mod:`minidl.functional.activation`.

Each holds only its options; the math (and the backward) is in the function
it calls.
"""
from __future__ import annotations

from typing import Optional

from ..autograd import Tensor
from ..functional import activation as A
from .module import Module


def _pick_axis(dim: Optional[int], axis: Optional[int], default: int = -1) -> int:
    """PyTorch says ``dim``, NumPy ``axis``: accept either, not both."""
    if dim is not None and axis is not None and dim != axis:
        raise TypeError(f"give dim= or axis=, not both (got dim={dim}, axis={axis})")
    chosen = dim if dim is not None else axis
    return default if chosen is None else chosen


class ReLU(Module):
    """y = max(x, 0)."""

    def forward(self, x: Tensor) -> Tensor:
        return A.relu(x)


class ReLU6(Module):
    """y = min(max(x, 0), 6)."""

    def forward(self, x: Tensor) -> Tensor:
        return A.relu6(x)


class LeakyReLU(Module):
    """y = x if x > 0 else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return A.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """y = 1 / (1 + exp(-x))."""

    def forward(self, x: Tensor) -> Tensor:
        return A.sigmoid(x)


class Tanh(Module):
    """y = tanh(x)."""

    def forward(self, x: Tensor) -> Tensor:
        return A.tanh(x)


class Softmax(Module):
    """y = exp(x) / sum(exp(x)) along ``dim`` (``axis`` accepted too; default the last)."""

    def __init__(self, dim: Optional[int] = None, *, axis: Optional[int] = None):
        super().__init__()
        self.dim = _pick_axis(dim, axis)

    def forward(self, x: Tensor) -> Tensor:
        return A.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """y = log(softmax(x)) along ``dim``, computed stably (x - logsumexp(x))."""

    def __init__(self, dim: Optional[int] = None, *, axis: Optional[int] = None):
        super().__init__()
        self.dim = _pick_axis(dim, axis)

    def forward(self, x: Tensor) -> Tensor:
        return A.log_softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
