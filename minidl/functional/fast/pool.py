"""The fast path of max pooling: non-overlapping windows read as long runs of memory.

The reference (:class:`minidl.functional.pool.MaxPool2d`) takes the maximum
over kh*kw strided slices. When the windows tile the input (stride = kernel,
no padding: ``MaxPool2d(2)``, the common case), the same maxima can be read
from contiguous memory instead: the image is laid out as rows of kw values
(one window row each), the maximum is taken along those rows, then over the
kh row maxima of each window. Two reductions over long runs of memory are
several times faster than kh*kw strided slices of short rows.

On ties the first maximum in reading order wins (row by row, then column),
as in the reference and in PyTorch, so both paths send the gradient to the
same pixel; ``tests/functional/test_fast_paths.py`` checks it.
"""
from __future__ import annotations

from typing import Any

from ...autograd import Function
from ...backend import get_array_module
from ...grad_mode import is_grad_enabled
from .._windows import crop, offset_slices
from .layout import batch_inner, channels_outer, in_order, memory_order, new_image, outer_axis, pad_like, rows_of
from .threads import over_rows

# The windowed pooling of a large input goes in pieces, each padded and reduced while it is in cache.
# Measured (2 cores): the stem's 3x3 pooling in ResNet-18's forward at 224x224 (a 49 MB input)
# 26.4 ms whole, 9.7 ms in pieces of 1 MB (9.9 with 512 KB, 11.3 with 4 MB); inputs of 4-11 MB
# (training steps of the seed convnet, of ResNet-18 at CIFAR size) were 1-4% slower in pieces:
# more calls, and their passes stayed in the larger caches anyway.
BLOCK_BYTES = 2**20  # a piece of the input
PIECES_FROM = 2**25  # inputs of at least 32 MB go in pieces


def applies(kernel: tuple, stride: tuple, padding: tuple, dilation: tuple = (1, 1), x: Any = None) -> bool:
    """The rule: windows that tile the input (stride = kernel, no padding, no dilation), an input
    whose image rows are rows of memory (not one with the batch innermost, ``batch_inner``: the
    windowed path's slices run along the batch there, which is faster).

    ``padding`` includes the overhang of ``ceil_mode``'s last window, so
    ceil_mode takes this path only where it changes nothing.
    """
    tiles = kernel == stride and padding == ((0, 0), (0, 0)) and dilation == (1, 1)
    return tiles and (x is None or not batch_inner(x))


def applies_windowed(kernel: tuple) -> bool:
    """The rule for every other window (overlapping, padded, dilated): few enough offsets for uint8."""
    return kernel[0] * kernel[1] <= 255


def _running_max(xp, candidates, track: bool, best, where):
    """The elementwise maximum of equally shaped arrays, written into ``best``, and
    (when ``track``) the index of the first array that holds it, into ``where`` (uint8)."""
    if len(candidates) == 1:
        best[...] = candidates[0]
        if track:
            where[...] = 0
        return
    first, second = candidates[:2]
    if track:
        xp.greater(second, first, out=where)  # 1 where the second is bigger (strictly: on ties the first stays)
    xp.maximum(first, second, out=best)  # in place: no new array per candidate
    for k, c in enumerate(candidates[2:], start=2):
        if track:
            bigger = c > best
            # where = k wherever bigger. k only grows, so where < k holds and a
            # maximum does it: several times faster than xp.where on uint8.
            xp.maximum(where, bigger * xp.uint8(k), out=where)
        xp.maximum(best, c, out=best)


class MaxPool2d(Function):
    """Max pooling over non-overlapping windows (see the module docstring); same results as the reference."""

    def __init__(self, kernel, stride, padding, out_hw):
        self.kernel, self.stride, self.padding, self.out_hw = kernel, stride, padding, out_hw

    def forward(self, x):
        self.track = is_grad_enabled() and self.needs_input_grad[0]
        self.x_shape, self.outer = x.shape, channels_outer(x)
        return self._forward_tiled(get_array_module(x), x)

    def backward(self, gy):
        return self._backward_tiled(gy)

    def differentiable_backward(self, gy):  # create_graph=True: the reference finds the same maxima
        from ..pool import MaxPool2d as Reference  # (here, not on top: pool.py imports this file)
        reference = Reference(self.kernel, self.stride, self.padding, (1, 1), self.out_hw)
        reference.forward(self.inputs[0].data)
        return reference.differentiable_backward(gy)

    def _memory_order(self, a):
        """View a (N, C, ...) in the order its memory runs: (C, N, ...) for conv outputs."""
        return a.transpose(1, 0, 2, 3) if self.outer else a

    def _forward_tiled(self, xp, x):
        (kh, kw), (oh, ow) = self.kernel, self.out_hw
        # Drop the rows/columns no window reaches; in memory order (A, B, OH*kh, OW*kw).
        xm = self._memory_order(x)[:, :, : oh * kh, : ow * kw]
        a, b = xm.shape[:2]
        y = xp.empty((a, b, oh, ow), dtype=x.dtype)
        self.col = xp.empty((a, b * oh * kh * ow), dtype=xp.uint8) if self.track else None
        self.row = xp.empty((a, b * oh * ow), dtype=xp.uint8) if self.track else None

        def part(rows):  # a slice of the leading axis on each thread (fast/threads.py)
            # Lay the windows out: rows of kw values (one window row per line), (M, kw).
            cells = xp.ascontiguousarray(xm[rows]).reshape(-1, kw)
            col = self.col[rows].reshape(-1) if self.track else None  # views: written in place
            row = self.row[rows].reshape(-1, ow) if self.track else None
            r = xp.empty(cells.shape[0], dtype=x.dtype)
            _running_max(xp, [cells[:, j] for j in range(kw)], self.track, r, col)
            rows_max = r.reshape(-1, kh, ow)  # (., kh, OW): the kh row maxima of each window
            _running_max(xp, [rows_max[:, i] for i in range(kh)], self.track, y[rows].reshape(-1, ow), row)

        over_rows(part, a, xp, size=xm.size)
        return self._memory_order(y)

    def _backward_tiled(self, gy):
        xp = get_array_module(gy)
        (kh, kw), (oh, ow) = self.kernel, self.out_hw
        gm = self._memory_order(gy)  # (A, B, OH, OW)
        a, b = gm.shape[:2]
        h, w = self.x_shape[2:]
        # Where the windows tile the whole image, part() writes every pixel and no zeros are needed;
        # else the rows and columns no window reaches must read 0.
        if (oh * kh, ow * kw) == (h, w):
            gx = xp.empty((a, b, h, w), dtype=gy.dtype)
        else:
            gx = xp.zeros((a, b, h, w), dtype=gy.dtype)

        def part(rows):
            g = xp.ascontiguousarray(gm[rows]).reshape(-1, ow)  # (.*B*OH, OW)
            grows = xp.empty((g.shape[0], kh, ow), dtype=gy.dtype)  # gradient of the row maxima
            row = self.row[rows].reshape(-1, ow)
            for i in range(kh):
                xp.multiply(g, row == i, out=grows[:, i])
            gr = grows.reshape(-1)  # (.*B*OH*kh*OW,)
            gcells = xp.empty((gr.shape[0], kw), dtype=gy.dtype)
            col = self.col[rows].reshape(-1)
            for j in range(kw):
                xp.multiply(gr, col == j, out=gcells[:, j])
            gx[rows, :, : oh * kh, : ow * kw] = gcells.reshape(-1, b, oh * kh, ow * kw)  # rows no window reached: 0

        over_rows(part, a, xp, size=gx.size)
        return self._memory_order(gx)


class WindowedMaxPool2d(Function):
    """Max pooling over any windows (ResNet's overlapping 3x3, stride 2, padding 1): the reference's
    running maximum over the kh*kw strided slices of the padded input, made fast.

    The same slices and the same ties rule as :class:`minidl.functional.pool.MaxPool2d`; three things
    differ: the maximum and the arg-max are updated in place with ``maximum`` (no ``where``, about ten
    times slower in NumPy, and no new array per offset), each thread takes a block of channels (the
    outermost axis of a conv output in memory), and a large input goes in pieces (:data:`BLOCK_BYTES`).
    """

    def __init__(self, kernel, stride, padding, dilation, out_hw):
        self.kernel, self.stride, self.padding, self.dilation, self.out_hw = kernel, stride, padding, dilation, out_hw

    def _windows(self):
        return [window for _, window in offset_slices(self.kernel, self.stride, self.out_hw, self.dilation)]

    def forward(self, x):
        xp = get_array_module(x)
        self.track = is_grad_enabled() and self.needs_input_grad[0]
        self.x_shape = x.shape
        (pt, pb), (pl, pr) = self.padding
        self.padded_shape = x.shape[:2] + (x.shape[2] + pt + pb, x.shape[3] + pl + pr)
        # Every array in x's memory order, so that each slice's loop runs along the same axes
        # (along the batch, for conv outputs that lie batch-innermost).
        self.order = memory_order(x)
        y = new_image(xp, x.shape[:2] + tuple(self.out_hw), x.dtype, self.order)
        self.arg = new_image(xp, y.shape, xp.uint8, self.order) if self.track else None

        axis = self.axis = outer_axis(x)  # each thread a block of memory (fast/threads.py)
        rows_in_all = x.shape[axis]
        # ... a large input in pieces of about BLOCK_BYTES (see BLOCK_BYTES), a smaller one whole
        whole = x.nbytes < PIECES_FROM
        step = max(1, rows_in_all if whole else BLOCK_BYTES * rows_in_all // max(1, x.nbytes))

        def part(rows):
            for start in range(rows.start, rows.stop, step):
                piece = slice(start, min(rows.stop, start + step))
                xpad = pad_like(rows_of(x, axis, piece), self.padding, value=-float("inf"))
                candidates = [xpad[window] for window in self._windows()]
                _running_max(xp, candidates, self.track, rows_of(y, axis, piece),
                             rows_of(self.arg, axis, piece) if self.track else None)

        over_rows(part, rows_in_all, xp, size=x.size)
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        gy = in_order(gy, self.order)  # as arg lies (a flattened head's gradient comes back plain)
        (kh, kw), (sh, sw), (oh, ow) = self.kernel, self.stride, self.out_hw
        # Windows side by side (stride >= kernel, no dilation) never share a pixel: each offset's
        # gradient is written, not added, and where they cover the whole input nothing needs zeros.
        disjoint = self.dilation == (1, 1) and sh >= kh and sw >= kw
        covered = disjoint and (sh, sw) == (kh, kw) and self.padded_shape[2:] == (oh * kh, ow * kw)
        gxpad = new_image(xp, self.padded_shape, gy.dtype, self.order, value=None if covered else 0)
        scratch = None if disjoint else new_image(xp, gy.shape, gy.dtype, self.order, value=None)

        axis = self.axis

        def part(rows):  # each window's gradient to its arg-max, in place, a block of rows a thread
            g, arg, gpad = rows_of(gy, axis, rows), rows_of(self.arg, axis, rows), rows_of(gxpad, axis, rows)
            for k, window in enumerate(self._windows()):
                if disjoint:
                    xp.multiply(g, arg == k, out=gpad[window])
                else:
                    xp.multiply(g, arg == k, out=rows_of(scratch, axis, rows))
                    gpad[window] += rows_of(scratch, axis, rows)

        over_rows(part, gy.shape[axis], xp, size=gxpad.size)
        return crop(gxpad, self.padding, *self.x_shape[2:])

    def differentiable_backward(self, gy):  # create_graph=True: the reference finds the same maxima
        from ..pool import MaxPool2d as Reference  # (here, not on top: pool.py imports this file)
        reference = Reference(self.kernel, self.stride, self.padding, self.dilation, self.out_hw)
        reference.forward(self.inputs[0].data)
        return reference.differentiable_backward(gy)
