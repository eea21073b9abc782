"""Pooling layers: thin Modules around :mod:`minidl.functional.pool` and :mod:`~minidl.functional.unpool`.

Arguments and reprs are PyTorch's (its layers order them differently from
its functions: ``nn.MaxPool2d(k, s, p, dilation, return_indices, ceil_mode)``
but ``F.max_pool2d(x, k, s, p, dilation, ceil_mode, return_indices)``).
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple, Union

from ..autograd import Tensor
from ..functional import pool as P
from ..functional import unpool as U
from ..validate import pair
from .module import Module

IntOrPair = Union[int, Sequence[int]]


class MaxPool2d(Module):
    """The maximum over (kh, kw) windows; stride defaults to the kernel size.

    (N, C, H, W) -> (N, C, OH, OW), OH = (H + 2*padding - dilation*(kh - 1) - 1) // stride + 1,
    rounded up with ``ceil_mode``. ``return_indices=True``: (values, indices),
    the indices for :class:`MaxUnpool2d`.
    """

    def __init__(self, kernel_size: IntOrPair, stride: Optional[IntOrPair] = None, padding: IntOrPair = 0,
                 dilation: IntOrPair = 1, return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode

    def forward(self, x: Tensor) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        return P.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """The mean over (kh, kw) windows (non-square kernels and strides welcome).

    ``count_include_pad`` counts the zero padding in the mean (PyTorch's
    default), ``ceil_mode`` rounds the output size up, ``divisor_override``
    divides every window's sum by itself instead.
    """

    def __init__(
        self,
        kernel_size: IntOrPair,
        stride: Optional[IntOrPair] = None,
        padding: IntOrPair = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: Optional[int] = None,
    ):
        super().__init__()
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride
        self.ceil_mode, self.count_include_pad, self.divisor_override = ceil_mode, count_include_pad, divisor_override

    def forward(self, x: Tensor) -> Tensor:
        return P.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool2d(Module):
    """The partial inverse of :class:`MaxPool2d`: each maximum back at its index, zeros elsewhere.

    ``forward(x, indices, output_size=None)``: x and indices (N, C, H, W), as
    ``MaxPool2d(..., return_indices=True)`` gives them, -> (N, C, OH, OW),
    OH = (H - 1)*stride - 2*padding + kh unless ``output_size`` picks another.
    """

    def __init__(self, kernel_size: IntOrPair, stride: Optional[IntOrPair] = None, padding: IntOrPair = 0):
        super().__init__()
        self.kernel_size = pair(kernel_size, "kernel_size", "MaxUnpool2d", 1)
        self.stride = self.kernel_size if stride is None else pair(stride, "stride", "MaxUnpool2d", 1)
        self.padding = pair(padding, "padding", "MaxUnpool2d", 0)

    def forward(self, x: Tensor, indices: Tensor, output_size: Optional[Sequence[int]] = None) -> Tensor:
        return U.max_unpool2d(x, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size; ``AdaptiveAvgPool2d(1)`` is global average pooling."""

    def __init__(self, output_size: IntOrPair):
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        return P.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
