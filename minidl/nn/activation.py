"""Activation layers: thin Modules around minidl.functional.activation."""
from __future__ import annotations

from typing import Any

from ..autograd import Tensor
from ..functional import activation as A
from .module import Module


class ReLU(Module):
    """max(x, 0)."""

    def forward(self, x: Any) -> Tensor:
        return A.relu(x)


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Any) -> Tensor:
        return A.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, x: Any) -> Tensor:
        return A.sigmoid(x)


class Tanh(Module):
    """tanh(x)."""

    def forward(self, x: Any) -> Tensor:
        return A.tanh(x)


class Softmax(Module):
    """softmax along ``dim`` (PyTorch's argument name; ``axis`` too)."""

    def __init__(self, dim: int = -1, axis: int | None = None):
        super().__init__()
        self.dim = dim if axis is None else axis

    def forward(self, x: Any) -> Tensor:
        return A.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """log(softmax(x)) along ``dim``, computed stably."""

    def forward(self, x: Any) -> Tensor:
        return A.log_softmax(x, self.dim)
