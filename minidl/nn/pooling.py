"""Pooling layers: thin Modules around :mod:`minidl.functional.pool`."""
from __future__ import annotations

from typing import Optional, Sequence, Union

from ..autograd import Tensor
from ..functional import pool as P
from .module import Module

IntOrPair = Union[int, Sequence[int]]


class MaxPool2d(Module):
    """The maximum over (kh, kw) windows; stride defaults to the kernel size.

    (N, C, H, W) -> (N, C, OH, OW), OH = (H + 2*padding - kh) // stride + 1.
    """

    def __init__(self, kernel_size: IntOrPair, stride: Optional[IntOrPair] = None, padding: IntOrPair = 0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x: Tensor) -> Tensor:
        return P.max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, padding={self.padding}"


class AvgPool2d(Module):
    """The mean over (kh, kw) windows (non-square kernels and strides welcome)."""

    def __init__(
        self,
        kernel_size: IntOrPair,
        stride: Optional[IntOrPair] = None,
        padding: IntOrPair = 0,
        count_include_pad: bool = True,
    ):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.count_include_pad = count_include_pad

    def forward(self, x: Tensor) -> Tensor:
        return P.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size; ``AdaptiveAvgPool2d(1)`` is global average pooling."""

    def __init__(self, output_size: IntOrPair):
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        return P.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
