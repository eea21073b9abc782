"""Pooling: max, average and adaptive average, over windows of (N, C, H, W).

A pooling window at output pixel (oh, ow) covers the padded input's pixels
(oh*sh + i*dh, ow*sw + j*dw) for the kernel offsets 0 <= i < kh, 0 <= j < kw
(dilation (dh, dw) is 1 but for dilated max pooling). Fixing the offset
(i, j) and letting (oh, ow) run gives one *strided slice* of the input::

    xpad[:, :, i*dh : i*dh + sh*OH : sh, j*dw : j*dw + sw*OW : sw]     (N, C, OH, OW)

so a pool is kh*kw elementwise operations on slices (a running maximum or a
running sum), and its backward is kh*kw slice additions, the same pattern as
col2im in conv.py (``_windows.offset_slices`` yields the slices). No window
array kh*kw times the input is ever built.

``ceil_mode=True`` rounds the output size up: the last window may hang over
the end of the input. The pixels it hangs over are simply more padding at
the bottom/right (-inf for max, zeros for the sum of avg), so the slices stay
the same; only avg's divisor has to know which pixels were real
(:func:`window_counts`). :func:`max_unpool2d` (``unpool.py``) undoes a max
pooling with the indices it returns.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple, Union

import numpy  # host-side window counts only

from ..autograd import Function, Tensor
from ..backend import get_array_module
from ..validate import pair, positive_int
from . import fast
from ._windows import check_4d, offset_slices, pad_array, pool_arguments
from .adjoint import Transposed
from .fast import pool as fast_pool
from .shape import ScatterAdd

IntOrPair = Union[int, Sequence[int]]


class MaxPool2d(Function):
    """y = the maximum of each window; the gradient goes to the arg-max.

    Shapes: x (N, C, H, W) -> y (N, C, OH, OW). Padding is with -inf, so a
    padded pixel is never the maximum; so is the overhang of ``ceil_mode``'s
    last window (it is padding too, see ``_windows.pool_arguments``).

    Kernel offset k = i*kw + j touches the pixels of one strided slice
    (N, C, OH, OW) of the padded input, one per window: rows i*dh + oh*sh,
    columns j*dw + ow*sw (dilation (dh, dw) spreads the offsets apart). The
    maximum of every window is the running maximum over those kh*kw slices,
    and ``arg`` remembers which offset held it (the first one on ties, so
    reading order, as in PyTorch)::

        y   = max over k of  xpad[slice k]                       (N, C, OH, OW)
        arg = the first k where the maximum is                   (N, C, OH, OW)

    Backward: each window's gradient goes to its arg-max pixel; where windows
    overlap, a pixel collects the gradients of every window it won::

        gxpad[slice k] += gy * (arg == k)      for k = 0 .. kh*kw - 1

    :meth:`indices` turns ``arg`` into PyTorch's ``return_indices``. (One
    difference from PyTorch: a window whose real pixels are all -inf points
    at its first pixel, padding included; PyTorch's at its first real one.)

    Non-overlapping windows (``MaxPool2d(2)``) take a fast path,
    :mod:`minidl.functional.fast.pool`, when fast paths are on.
    """

    def __init__(self, kernel, stride, padding, dilation, out_hw):
        self.kernel, self.stride, self.padding, self.out_hw = kernel, stride, padding, out_hw
        self.dilation = dilation

    def _slices(self):
        return enumerate(offset_slices(self.kernel, self.stride, self.out_hw, self.dilation))

    def forward(self, x):
        xp = get_array_module(x)
        self.x_shape = x.shape
        xpad = pad_array(x, self.padding, value=-float("inf"))
        y = self.arg = None
        for k, (_, window) in self._slices():
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
        for k, (_, window) in self._slices():
            gxpad[window] += gy * (self.arg == k)
        return gxpad[:, :, pt:pt + h, pl:pl + w]
        # END SOLUTION

    def differentiable_backward(self, gy):
        """create_graph=True: the same routing as a scatter-add op, gx[arg-max position] += gy."""
        n, c, h, w = self.x_shape
        index = self.indices().reshape(n, c, -1)  # (N, C, OH*OW): where each maximum is in its plane
        zeros = Tensor(get_array_module(gy.data).zeros((n, c, h * w), dtype=gy.dtype))
        return ScatterAdd(2, index)(zeros, gy.reshape(n, c, -1)).reshape(n, c, h, w)


    def indices(self):
        """Where each maximum is in its (H, W) plane, ``row*W + column`` (int64), as PyTorch's ``return_indices``.

        The window at (oh, ow) starts at row oh*sh - pt, column ow*sw - pl of
        the input; its offset k = i*kw + j lies i*dh rows and j*dw columns on.
        """
        xp = get_array_module(self.arg)
        (_, kw), (sh, sw), (dh, dw), (oh, ow) = self.kernel, self.stride, self.dilation, self.out_hw
        (pt, _), (pl, _) = self.padding
        i, j = self.arg // kw, self.arg % kw                          # (N, C, OH, OW) offsets of the maxima
        rows = xp.arange(oh, dtype=xp.int64).reshape(-1, 1) * sh - pt + i * dh    # (N, C, OH, OW)
        columns = xp.arange(ow, dtype=xp.int64) * sw - pl + j * dw                # (N, C, OH, OW)
        return rows * self.x_shape[3] + columns


def window_counts(size: int, kernel: int, stride: int, pad: int, out: int, count_include_pad: bool) -> Any:
    """How many pixels each window along one axis has for the mean: PyTorch's rule (host NumPy, (out,)).

    Window o covers the pixels start = o*s - p .. start + k - 1. The pixels
    past the padding (the overhang of ``ceil_mode``'s last window) never
    count; the padding counts with ``count_include_pad``::

        count_include_pad=True:    min(start + k, size + p) - start
        count_include_pad=False:   min(start + k, size) - max(start, 0)
    """
    start = numpy.arange(out) * stride - pad
    end = numpy.minimum(start + kernel, size + pad)
    if not count_include_pad:
        start, end = numpy.maximum(start, 0), numpy.minimum(end, size)
    return end - start


class AvgPool2d(Function):
    """y = the sum of each window / its divisor;  gx[window] += gy / divisor.

    The divisor of window (oh, ow) is ``divisor_override`` when given, else
    its pixel count, counted along each axis apart (:func:`window_counts`,
    the window is a rectangle)::

        divisor[oh, ow] = count_h[oh] * count_w[ow]                  (OH, OW)

    so kh*kw, but for windows that reach into the padding (not counted with
    ``count_include_pad=False``) or past it (``ceil_mode``: never counted).
    Padding and overhang are zeros, so the sum is kh*kw strided slices added.
    """

    def __init__(self, kernel, stride, padding, out_hw, count_include_pad, divisor_override):
        self.kernel, self.stride, self.padding, self.out_hw = kernel, stride, padding, out_hw
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def _window_sum(self, xpad):
        """The sum of every window: kh*kw strided slices added up (N, C, OH, OW)."""
        return sum(xpad[window] for _, window in offset_slices(self.kernel, self.stride, self.out_hw))

    def _divisor(self, xp, h, w, dtype):
        if self.divisor_override is not None:
            return self.divisor_override
        counts = [window_counts(size, k, s, pad, out, self.count_include_pad) for size, k, s, (pad, _), out
                  in zip((h, w), self.kernel, self.stride, self.padding, self.out_hw)]
        return xp.asarray(numpy.outer(*counts), dtype=dtype)  # (OH, OW)

    def forward(self, x):
        xp = get_array_module(x)
        self.x_shape = x.shape
        self.divisor = self._divisor(xp, x.shape[2], x.shape[3], x.dtype)
        return self._window_sum(pad_array(x, self.padding)) / self.divisor  # (N, C, OH, OW)

    def backward(self, gy):
        n, c, h, w = self.x_shape
        (pt, pb), (pl, pr) = self.padding
        gxpad = get_array_module(gy).zeros((n, c, h + pt + pb, w + pl + pr), dtype=gy.dtype)
        share = gy / self.divisor
        for _, window in offset_slices(self.kernel, self.stride, self.out_hw):
            gxpad[window] += share
        return gxpad[:, :, pt:pt + h, pl:pl + w]

    def differentiable_backward(self, gy):  # linear in x: the adjoint is an op (functional/adjoint.py)
        return Transposed(self)(gy)


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

    def differentiable_backward(self, gy):  # linear in x: the adjoint is an op (functional/adjoint.py)
        return Transposed(self)(gy)


def max_pool2d(
    x: Any,
    kernel_size: IntOrPair,
    stride: Optional[IntOrPair] = None,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Union[Tensor, Tuple[Tensor, Tensor]]:
    """The maximum over (kh, kw) windows, PyTorch's ``F.max_pool2d``; ``stride`` defaults to the kernel size.

    Shapes: x (N, C, H, W) -> (N, C, OH, OW),
    OH = (H + 2*ph - dh*(kh - 1) - 1) // sh + 1 (rounded up with ``ceil_mode``,
    as :func:`~minidl.functional._windows.pool_output_size` says). Padding (at
    most half the kernel) is with -inf. The gradient of each window goes to
    its arg-max (the first one on ties). ``return_indices=True`` returns
    ``(values, indices)``: where each maximum is, ``row*W + column`` in its
    input plane (int64, no gradient), what :func:`max_unpool2d` takes.
    """
    kernel, stride, padding, dilation, out_hw = pool_arguments("max_pool2d", x, kernel_size, stride, padding,
                                                               dilation, ceil_mode)
    # The rule for the fast paths: fast paths on and no indices asked for; windows that tile the
    # input read as rows of memory, every other window by in-place slices on threads.
    if fast.enabled() and not return_indices:
        if fast_pool.applies(kernel, stride, padding, dilation, x.data if isinstance(x, Tensor) else x):
            return fast_pool.MaxPool2d(kernel, stride, padding, out_hw)(x)
        if fast_pool.applies_windowed(kernel):
            return fast_pool.WindowedMaxPool2d(kernel, stride, padding, dilation, out_hw)(x)
    op = MaxPool2d(kernel, stride, padding, dilation, out_hw)
    y = op(x)
    return (y, Tensor(op.indices())) if return_indices else y


def avg_pool2d(
    x: Any,
    kernel_size: IntOrPair,
    stride: Optional[IntOrPair] = None,
    padding: IntOrPair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: Optional[int] = None,
) -> Tensor:
    """The mean over (kh, kw) windows, PyTorch's ``F.avg_pool2d``; ``stride`` defaults to the kernel size.

    Shapes as :func:`max_pool2d` (no dilation). Padding is with zeros,
    counted in the mean unless ``count_include_pad=False`` (PyTorch's default:
    counted); the overhang of ``ceil_mode``'s last window is never counted.
    ``divisor_override`` (a positive int) divides every window's sum instead.
    """
    op = "avg_pool2d"
    kernel, stride, padding, _, out_hw = pool_arguments(op, x, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None:
        divisor_override = positive_int(divisor_override, "divisor_override", op)
    return AvgPool2d(kernel, stride, padding, out_hw, bool(count_include_pad), divisor_override)(x)


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
