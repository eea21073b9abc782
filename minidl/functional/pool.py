"""Pooling: max, average and adaptive average, over windows of (N, C, H, W).

A pooling window at output pixel (oh, ow) covers the input pixels
(oh*sh + i, ow*sw + j) for the kernel offsets 0 <= i < kh, 0 <= j < kw.
Fixing the offset (i, j) and letting (oh, ow) run gives one *strided slice*
of the input::

    xpad[:, :, i : i + sh*OH : sh, j : j + sw*OW : sw]        (N, C, OH, OW)

so a pool is kh*kw elementwise operations on slices (a running maximum or a
running sum), and its backward is kh*kw slice additions, the same pattern as
col2im in conv.py. No window array kh*kw times the input is ever built.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence, Union

from ..autograd import Function, Tensor, is_grad_enabled
from ..backend import get_array_module
from ..validate import pair
from .conv import _channels_outer, _check_4d, _geometry, _new_image, _pad

IntOrPair = Union[int, Sequence[int]]


def _window(op, x, kernel_size, stride, padding):
    """Check the arguments: (kernel, stride, ((pt, pb), (pl, pr)), (OH, OW))."""
    _check_4d(x, op)
    kernel = pair(kernel_size, "kernel_size", op, 1)
    stride = kernel if stride is None else pair(stride, "stride", op, 1)
    ph, pw = pair(padding, "padding", op, 0)
    if ph > kernel[0] // 2 or pw > kernel[1] // 2:
        raise ValueError(f"{op}: padding {(ph, pw)} must be at most half the kernel size {kernel}")
    pads = ((ph, ph), (pw, pw))
    out_hw = _geometry(x.shape, kernel, stride, pads, (1, 1), op)
    return kernel, stride, pads, out_hw


def _offset_slices(kernel, stride, out_hw):
    """For every kernel offset (i, j): its index k = i*kw + j and the slices it reads."""
    (kh, kw), (sh, sw), (oh, ow) = kernel, stride, out_hw
    for i in range(kh):
        for j in range(kw):
            yield i * kw + j, (slice(None), slice(None), slice(i, i + sh * (oh - 1) + 1, sh), slice(j, j + sw * (ow - 1) + 1, sw))


class MaxPool2d(Function):
    """y = the maximum of each window; the gradient goes to the arg-max.

    Shapes: x (N, C, H, W) -> y (N, C, OH, OW). Padding is with -inf, so a
    padded pixel is never the maximum.

    The maximum of a window is taken in two steps, first along each row
    (over the kw columns of the window), then over the kh row maxima::

        r[n, c, h, ow]  = max_j  xpad[n, c, h, ow*sw + j]          (N, C, Hp, OW)
        y[n, c, oh, ow] = max_i  r[n, c, oh*sh + i, ow]             (N, C, OH, OW)

    Each step keeps, when a gradient will be needed, *where* its maximum was
    (``col`` and ``row``, uint8), the first one on ties, so the gradient goes
    to the first maximum in reading order, as in PyTorch. Backward undoes the
    two steps: gy goes to row ``row`` of each window, then to column ``col``.
    Two small reductions instead of one over kh*kw values: the row maxima are
    shared by vertically overlapping windows.

    Common case, non-overlapping windows (stride = kernel, no padding, as in
    ``MaxPool2d(2)``): the arrays are viewed so that each step works on long
    runs of memory (``_max_steps_tiled``), which is several times faster than
    strided slices of short rows.
    """

    # The visible rule for the fast path: on, non-overlapping windows take it.
    # The readable path (the assignment's exercise) runs everywhere when it is off.
    fast_path = True

    def __init__(self, kernel, stride, padding, out_hw):
        self.kernel, self.stride, self.padding, self.out_hw = kernel, stride, padding, out_hw

    def forward(self, x):
        xp = get_array_module(x)
        self.track = is_grad_enabled() and self.needs_input_grad[0]
        self.x_shape, self.outer = x.shape, _channels_outer(x)  # not x itself: free it early
        self.tiled = self.fast_path and self.kernel == self.stride and self.padding == ((0, 0), (0, 0))
        if self.tiled:
            return self._forward_tiled(xp, x)
        (kh, kw), (sh, sw), (oh, ow) = self.kernel, self.stride, self.out_hw
        xpad = _pad(x, self.padding, value=-float("inf"))
        # step 1: along the rows, over the kw columns of each window -> (N, C, Hp, OW)
        r, self.col = _running_max(xp, [xpad[:, :, :, j : j + sw * (ow - 1) + 1 : sw] for j in range(kw)], self.track)
        # step 2: over the kh rows of each window -> (N, C, OH, OW)
        y, self.row = _running_max(xp, [r[:, :, i : i + sh * (oh - 1) + 1 : sh] for i in range(kh)], self.track)
        self.r_shape = r.shape
        return y

    def backward(self, gy):
        if self.tiled:  # the fast path (non-overlapping windows), written for you
            return self._backward_tiled(gy)
        # BEGIN SOLUTION max_pool2d_backward
        # TODO: the readable path: gy to row self.row of each window of the row maxima (shape self.r_shape), then to column self.col; add where windows overlap, crop the padding
        xp = get_array_module(gy)
        n, c, h, w = self.x_shape
        (kh, kw), (sh, sw), (oh, ow) = self.kernel, self.stride, self.out_hw
        (pt, pb), (pl, pr) = self.padding
        gr = _new_image(xp, self.r_shape, gy.dtype, self.outer)  # gradient of the row maxima
        for i in range(kh):
            gr[:, :, i : i + sh * (oh - 1) + 1 : sh] += gy * (self.row == i)
        gxpad = _new_image(xp, (n, c, h + pt + pb, w + pl + pr), gy.dtype, self.outer)
        for j in range(kw):
            gxpad[:, :, :, j : j + sw * (ow - 1) + 1 : sw] += gr * (self.col == j)
        return gxpad[:, :, pt : pt + h, pl : pl + w]
        # END SOLUTION

    # -- non-overlapping windows: the same two steps on long runs of memory
    def _memory_order(self, a):
        """View a (N, C, ...) in the order its memory runs: (C, N, ...) for conv outputs."""
        return a.transpose(1, 0, 2, 3) if self.outer else a

    def _forward_tiled(self, xp, x):
        (kh, kw), (oh, ow) = self.kernel, self.out_hw
        # Drop the rows/columns no window reaches, then lay the windows out:
        # (A, B, OH*kh, OW*kw) in memory order -> rows of kw values, (M, kw).
        xm = xp.ascontiguousarray(self._memory_order(x)[:, :, : oh * kh, : ow * kw])
        a, b = xm.shape[:2]
        cells = xm.reshape(-1, kw)  # (A*B*OH*kh*OW, kw): one window row per line
        r, self.col = _running_max(xp, [cells[:, j] for j in range(kw)], self.track)
        rows = r.reshape(-1, kh, ow)  # (A*B*OH, kh, OW): the kh row maxima of each window
        y, self.row = _running_max(xp, [rows[:, i] for i in range(kh)], self.track)
        return self._memory_order(y.reshape(a, b, oh, ow))

    def _backward_tiled(self, gy):
        xp = get_array_module(gy)
        (kh, kw), (oh, ow) = self.kernel, self.out_hw
        g = xp.ascontiguousarray(self._memory_order(gy))  # (A, B, OH, OW), free for our own layout
        a, b = g.shape[:2]
        g = g.reshape(-1, ow)  # (A*B*OH, OW)
        grows = xp.empty((g.shape[0], kh, ow), dtype=gy.dtype)  # gradient of the row maxima
        for i in range(kh):
            xp.multiply(g, self.row == i, out=grows[:, i])
        gr = grows.reshape(-1)  # (A*B*OH*kh*OW,)
        gcells = xp.empty((gr.shape[0], kw), dtype=gy.dtype)
        for j in range(kw):
            xp.multiply(gr, self.col == j, out=gcells[:, j])
        gx = gcells.reshape(a, b, oh * kh, ow * kw)
        h, w = self.x_shape[2:]
        if (oh * kh, ow * kw) != (h, w):  # rows/columns no window reached get 0
            full = xp.zeros((a, b, h, w), dtype=gy.dtype)
            full[:, :, : oh * kh, : ow * kw] = gx
            gx = full
        return self._memory_order(gx)


def _running_max(xp, candidates, track: bool):
    """The elementwise maximum of equally shaped arrays, and (when ``track``)
    the index of the first array that holds it (uint8), else None."""
    best = candidates[0].copy(order="K")
    where = xp.zeros(best.shape, dtype=xp.uint8) if track else None
    for k, c in enumerate(candidates[1:], start=1):
        if track:
            bigger = c > best  # strictly: on ties the earlier one stays
            # where = k wherever bigger. k only grows, so where < k holds and a
            # maximum does it: several times faster than xp.where on uint8.
            xp.maximum(where, bigger * xp.uint8(k), out=where)
        xp.maximum(best, c, out=best)  # in place: no new array per candidate
    return best, where


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
        xp = get_array_module(xpad)
        total = None
        for _, where in _offset_slices(self.kernel, self.stride, self.out_hw):
            total = xpad[where].copy(order="K") if total is None else xp.add(total, xpad[where], out=total)
        return total

    def forward(self, x):
        xp = get_array_module(x)
        self.x_shape, self.outer = x.shape, _channels_outer(x)
        total = self._window_sum(_pad(x, self.padding))  # (N, C, OH, OW)
        if self.count_include_pad or self.padding == ((0, 0), (0, 0)):
            self.count = self.kernel[0] * self.kernel[1]
        else:
            ones = xp.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype)
            self.count = self._window_sum(_pad(ones, self.padding))  # (1, 1, OH, OW)
        total /= self.count
        return total

    def backward(self, gy):
        n, c, h, w = self.x_shape
        (pt, pb), (pl, pr) = self.padding
        gxpad = _new_image(get_array_module(gy), (n, c, h + pt + pb, w + pl + pr), gy.dtype, self.outer)
        share = gy / self.count
        for _, where in _offset_slices(self.kernel, self.stride, self.out_hw):
            gxpad[where] += share
        return gxpad[:, :, pt : pt + h, pl : pl + w]


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
    args = _window("max_pool2d", x, kernel_size, stride, padding)
    return MaxPool2d(*args)(x)


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
    args = _window("avg_pool2d", x, kernel_size, stride, padding)
    return AvgPool2d(*args, bool(count_include_pad))(x)


def adaptive_avg_pool2d(x: Any, output_size: IntOrPair) -> Tensor:
    """Average pooling to ``output_size`` (an int or (OH, OW); None keeps that axis).

    Shapes: x (N, C, H, W) -> (N, C, OH, OW). ``output_size=1`` is global
    average pooling, the head of most modern convnets.
    """
    op = "adaptive_avg_pool2d"
    _check_4d(x, op)
    if isinstance(output_size, (tuple, list)):
        output_size = tuple(x.shape[2 + a] if s is None else s for a, s in enumerate(output_size))
    out_hw = pair(output_size, "output_size", op, 1)
    return AdaptiveAvgPool2d(out_hw)(x)
