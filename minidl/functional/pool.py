"""Pooling: max, average and adaptive average, over windows of (N, C, H, W).

A pooling window at output pixel (oh, ow) covers the input pixels
(oh*sh + i, ow*sw + j) for the kernel offsets 0 <= i < kh, 0 <= j < kw.
Fixing the offset (i, j) and letting (oh, ow) run gives one *strided slice*
of the input::

    xpad[:, :, i : i + sh*OH : sh, j : j + sw*OW : sw]        (N, C, OH, OW)

so a pool is kh*kw elementwise operations on slices (a running maximum or a
running sum), and its backward is kh*kw slice additions, the same pattern as
col2im in conv.py (``_windows.offset_slices`` yields the slices). No window
array kh*kw times the input is ever built.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence, Union

from ..autograd import Function, Tensor
from ..backend import get_array_module
from ..validate import pair
from . import fast
from ._windows import check_4d, offset_slices, pad_array, pool_arguments
from .fast import pool as fast_pool

IntOrPair = Union[int, Sequence[int]]


class MaxPool2d(Function):
    """y = the maximum of each window; the gradient goes to the arg-max.

    Shapes: x (N, C, H, W) -> y (N, C, OH, OW). Padding is with -inf, so a
    padded pixel is never the maximum.

    Kernel offset k = i*kw + j touches the pixels of one strided slice
    (N, C, OH, OW) of the padded input, one per window. The maximum of every
    window is the running maximum over those kh*kw slices, and ``arg``
    remembers which offset held it (the first one on ties, so reading order,
    as in PyTorch)::

        y   = max over k of  xpad[slice k]                       (N, C, OH, OW)
        arg = the first k where the maximum is                   (N, C, OH, OW)

    Backward: each window's gradient goes to its arg-max pixel; where windows
    overlap, a pixel collects the gradients of every window it won::

        gxpad[slice k] += gy * (arg == k)      for k = 0 .. kh*kw - 1

    Non-overlapping windows (``MaxPool2d(2)``) take a fast path,
    :mod:`minidl.functional.fast.pool`, when fast paths are on.
    """

    def __init__(self, kernel, stride, padding, out_hw):
        self.kernel, self.stride, self.padding, self.out_hw = kernel, stride, padding, out_hw

    def forward(self, x):
        xp = get_array_module(x)
        self.x_shape = x.shape
        xpad = pad_array(x, self.padding, value=-float("inf"))
        y = self.arg = None
        for k, (_, window) in enumerate(offset_slices(self.kernel, self.stride, self.out_hw)):
            candidate = xpad[window]
            if y is None:
                y, self.arg = candidate.copy(), xp.zeros(candidate.shape, dtype=xp.int32)
            else:
                bigger = candidate > y  # strictly: on ties the earlier offset stays
                y = xp.where(bigger, candidate, y)
                self.arg = xp.where(bigger, k, self.arg)
        return y

    def backward(self, gy):
        # BEGIN SOLUTION max_pool2d_backward
        xp = get_array_module(gy)
        n, c, h, w = self.x_shape
        (pt, pb), (pl, pr) = self.padding
        gxpad = xp.zeros((n, c, h + pt + pb, w + pl + pr), dtype=gy.dtype)
        for k, (_, window) in enumerate(offset_slices(self.kernel, self.stride, self.out_hw)):
            gxpad[window] += gy * (self.arg == k)
        return gxpad[:, :, pt:pt + h, pl:pl + w]
        # END SOLUTION


class AvgPool2d(Function):
    """y = the mean of each window;  gx[window] += gy / count.

    ``count`` is kh*kw, or, with ``count_include_pad=False``, the number of
    real (not padded) pixels in the window, which is itself an average pool
    of an image of ones padded with zeros (computed once per call).
    """

    def __init__(self, kernel, stride, padding, out_hw, count_include_pad):
        self.kernel, self.stride, self.padding, self.out_hw = kernel, stride, padding, out_hw
        self.count_include_pad = count_include_pad

    def _window_sum(self, xpad):
        """The sum of every window: kh*kw strided slices added up (N, C, OH, OW)."""
        return sum(xpad[window] for _, window in offset_slices(self.kernel, self.stride, self.out_hw))

    def forward(self, x):
        xp = get_array_module(x)
        self.x_shape = x.shape
        total = self._window_sum(pad_array(x, self.padding))  # (N, C, OH, OW)
        if self.count_include_pad or self.padding == ((0, 0), (0, 0)):
            self.count = self.kernel[0] * self.kernel[1]
        else:
            ones = xp.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype)
            self.count = self._window_sum(pad_array(ones, self.padding))  # (1, 1, OH, OW)
        return total / self.count

    def backward(self, gy):
        n, c, h, w = self.x_shape
        (pt, pb), (pl, pr) = self.padding
        gxpad = get_array_module(gy).zeros((n, c, h + pt + pb, w + pl + pr), dtype=gy.dtype)
        share = gy / self.count
        for _, window in offset_slices(self.kernel, self.stride, self.out_hw):
            gxpad[window] += share
        return gxpad[:, :, pt:pt + h, pl:pl + w]


def _adaptive_matrix(xp, size: int, out: int, dtype) -> Any:
    """P (out, size): row i averages the input cells floor(i*size/out) .. ceil((i+1)*size/out) - 1.

    Those are PyTorch's bins: they cover the input, may overlap by one cell,
    and are all equal (size/out wide) when out divides size.
    """
    p = xp.zeros((out, size), dtype=dtype)
    for i in range(out):
        start, end = (i * size) // out, -((-(i + 1) * size) // out)
        p[i, start:end] = 1.0 / (end - start)
    return p


class AdaptiveAvgPool2d(Function):
    """Average pooling to a fixed output size (OH, OW), whatever the input's (H, W).

    Averaging along H into OH bins is a matrix Ph (OH, H), along W one
    Pw (OW, W), and the two are independent, so::

        y  = Ph @ x @ Pw^T          (N, C, OH, OW)
        gx = Ph^T @ gy @ Pw         (N, C, H, W)

    Output 1x1 is global average pooling: Ph and Pw are rows of 1/H and 1/W.
    """

    def __init__(self, out_hw):
        self.out_hw = out_hw

    def forward(self, x):
        xp = get_array_module(x)
        h, w = x.shape[2:]
        self.ph = _adaptive_matrix(xp, h, self.out_hw[0], x.dtype)  # (OH, H)
        self.pw = _adaptive_matrix(xp, w, self.out_hw[1], x.dtype)  # (OW, W)
        if self.out_hw == (1, 1):  # global average pooling: a plain mean
            return x.mean(axis=(2, 3), keepdims=True)
        return xp.matmul(xp.matmul(self.ph, x), self.pw.T)

    def backward(self, gy):
        xp = get_array_module(gy)
        return xp.matmul(xp.matmul(self.ph.T, gy), self.pw)


def max_pool2d(x: Any, kernel_size: IntOrPair, stride: Optional[IntOrPair] = None, padding: IntOrPair = 0) -> Tensor:
    """The maximum over (kh, kw) windows; ``stride`` defaults to the kernel size.

    Shapes: x (N, C, H, W) -> (N, C, OH, OW), OH = (H + 2*ph - kh) // sh + 1.
    Padding (at most half the kernel) is with -inf. The gradient of each
    window goes to its arg-max (the first one on ties).
    """
    kernel, stride, padding, out_hw = pool_arguments("max_pool2d", x, kernel_size, stride, padding)
    tiles = fast.enabled() and fast_pool.applies(kernel, stride, padding)  # the rule for the fast path
    return (fast_pool.MaxPool2d if tiles else MaxPool2d)(kernel, stride, padding, out_hw)(x)


def avg_pool2d(
    x: Any,
    kernel_size: IntOrPair,
    stride: Optional[IntOrPair] = None,
    padding: IntOrPair = 0,
    count_include_pad: bool = True,
) -> Tensor:
    """The mean over (kh, kw) windows; ``stride`` defaults to the kernel size.

    Shapes as :func:`max_pool2d`. Padding is with zeros, counted in the mean
    unless ``count_include_pad=False`` (PyTorch's default: counted).
    """
    args = pool_arguments("avg_pool2d", x, kernel_size, stride, padding)
    return AvgPool2d(*args, bool(count_include_pad))(x)


def adaptive_avg_pool2d(x: Any, output_size: IntOrPair) -> Tensor:
    """Average pooling to ``output_size`` (an int or (OH, OW); None keeps that axis).

    Shapes: x (N, C, H, W) -> (N, C, OH, OW). ``output_size=1`` is global
    average pooling, the head of most modern convnets.
    """
    op = "adaptive_avg_pool2d"
    check_4d(x, op)
    if isinstance(output_size, (tuple, list)):
        output_size = tuple(x.shape[2 + a] if s is None else s for a, s in enumerate(output_size))
    out_hw = pair(output_size, "output_size", op, 1)
    return AdaptiveAvgPool2d(out_hw)(x)
