"""Max unpooling: each pooled maximum goes back to the place it came from, zeros elsewhere.

``max_pool2d(x, ..., return_indices=True)`` returns with every maximum its
place in its (H, W) input plane, ``index = row*W + column``. Unpooling writes
the values back to those places of an (OH, OW) plane of zeros, plane by
plane (each (n, c) has its own)::

    y[n, c].flat[indices[n, c, h, w]] = x[n, c, h, w]          (N, C, OH, OW)

That is a scatter, so the gradient is the matching gather: each input value
reads the gradient of the place it was written to::

    gx[n, c, h, w] = gy[n, c].flat[indices[n, c, h, w]]        (N, C, H, W)

(Two values sent to one place, as overlapping pooling windows that share a
maximum do: the last written stays, as in PyTorch on the CPU, and both read
its gradient, as in PyTorch, although the overwritten one changed nothing.)
The output size is by default the size a
pooling with this kernel, stride and padding maps onto the input's::

    OH = (H - 1)*sh - 2*ph + kh

A pooling maps other sizes onto H too (it drops leftover rows, or rounds up
with ceil_mode): ``output_size`` names one of them, strictly between
OH - sh and OH + sh, as PyTorch allows.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence, Union

from .. import backend
from ..autograd import Function, Tensor
from ..backend import get_array_module
from ..validate import pair
from ._windows import check_4d
from .adjoint import Transposed

IntOrPair = Union[int, Sequence[int]]


class MaxUnpool2d(Function):
    """y: zeros (N, C, OH, OW) with x written at ``indices``;  gx = gy read at ``indices``.

    ``indices`` (N, C, H, W), integers in [0, OH*OW), is a constant given to
    ``__init__``; the one input is x (N, C, H, W).
    """

    def __init__(self, indices: Any, out_hw: tuple):
        self.indices, self.out_hw = indices, out_hw

    def _places(self, xp):
        """(plane, channel, index) arrays that name, for every input value, its place in y viewed as (N, C, OH*OW)."""
        n, c = self.indices.shape[:2]
        planes = xp.arange(n).reshape(n, 1, 1)        # (N, 1, 1)
        channels = xp.arange(c).reshape(1, c, 1)      # (1, C, 1)
        return planes, channels, self.indices.reshape(n, c, -1)  # ... and (N, C, H*W)

    def forward(self, x):
        xp = get_array_module(x)
        n, c, h, w = self.x_shape = x.shape
        oh, ow = self.out_hw
        y = xp.zeros((n, c, oh * ow), dtype=x.dtype)  # each plane flat, as the indices count
        y[self._places(xp)] = x.reshape(n, c, h * w)
        return y.reshape(n, c, oh, ow)

    def backward(self, gy):
        xp = get_array_module(gy)
        n, c = gy.shape[:2]
        return gy.reshape(n, c, -1)[self._places(xp)].reshape(self.x_shape)

    def differentiable_backward(self, gy):  # linear in x: the adjoint is an op (functional/adjoint.py)
        return Transposed(self)(gy)


def unpool_output_size(x_shape: Sequence[int], kernel: tuple, stride: tuple, padding: tuple,
                       output_size: Optional[Sequence[int]], op: str) -> tuple:
    """(OH, OW): the default (H - 1)*s - 2*p + k, or ``output_size`` ((OH, OW) or (N, C, OH, OW)) checked against it."""
    default = tuple((x_shape[2 + a] - 1) * stride[a] - 2 * padding[a] + kernel[a] for a in (0, 1))
    if output_size is None:
        size = default
    else:
        size = tuple(output_size)
        if len(size) == 4:
            size = size[2:]
        if len(size) != 2 or not all(isinstance(s, int) and not isinstance(s, bool) for s in size):
            raise ValueError(f"{op}: output_size must be (OH, OW) or (N, C, OH, OW), got {output_size!r}")
        for a, name in enumerate(("height", "width")):
            low, high = default[a] - stride[a], default[a] + stride[a]
            if not low < size[a] < high:
                raise ValueError(f"{op}: output_size {tuple(output_size)} has {name} {size[a]}; with kernel "
                                 f"{kernel}, stride {stride} and padding {padding} an input of {name} "
                                 f"{x_shape[2 + a]} unpools to a {name} strictly between {low} and {high}")
    if min(size) < 1:
        raise ValueError(f"{op}: the output size {size} is empty (input {tuple(x_shape)}, kernel {kernel}, "
                         f"stride {stride}, padding {padding})")
    return size


def _check_indices(indices: Any, x: Tensor, out_hw: tuple, op: str) -> Any:
    """``indices`` as an integer array on x's device, of x's shape, each in [0, OH*OW)."""
    indices = indices.data if isinstance(indices, Tensor) else indices
    if not backend.is_array(indices):
        raise TypeError(f"{op}: indices must be a Tensor or array of integers, got {type(indices).__name__}")
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must hold integers (max_pool2d's return_indices), got dtype {indices.dtype}")
    if tuple(indices.shape) != tuple(x.shape):
        raise ValueError(f"{op}: indices must have the input's shape {tuple(x.shape)}, got {tuple(indices.shape)}")
    indices = backend.to_device(indices, backend.device_of(x.data))
    pixels = out_hw[0] * out_hw[1]
    if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= pixels):
        bad = int(indices.min()) if int(indices.min()) < 0 else int(indices.max())
        raise IndexError(f"{op}: index {bad} is out of range for an output plane of {out_hw[0]}x{out_hw[1]} "
                         f"= {pixels} pixels; expected indices in [0, {pixels - 1}]")
    return indices


def max_unpool2d(
    x: Any,
    indices: Any,
    kernel_size: IntOrPair,
    stride: Optional[IntOrPair] = None,
    padding: IntOrPair = 0,
    output_size: Optional[Sequence[int]] = None,
) -> Tensor:
    """The partial inverse of :func:`max_pool2d`, PyTorch's ``F.max_unpool2d``: maxima back in place, zeros elsewhere.

    Shapes: x and indices (N, C, H, W) -> (N, C, OH, OW), OH = (H - 1)*sh - 2*ph + kh
    unless ``output_size`` says otherwise; ``stride`` defaults to the kernel
    size. ``indices`` are max_pool2d's (``return_indices=True``), flat over
    each output plane; they get no gradient.
    """
    op = "max_unpool2d"
    x = x if isinstance(x, Tensor) else Tensor(x)
    check_4d(x, op)
    kernel = pair(kernel_size, "kernel_size", op, 1)
    stride = kernel if stride is None else pair(stride, "stride", op, 1)
    padding = pair(padding, "padding", op, 0)
    out_hw = unpool_output_size(x.shape, kernel, stride, padding, output_size, op)
    return MaxUnpool2d(_check_indices(indices, x, out_hw, op), out_hw)(x)
