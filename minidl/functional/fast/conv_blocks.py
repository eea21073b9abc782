"""The fast path of conv2d in training: the column matrix a block of output rows at a time, in cache.

:mod:`.conv` builds the whole column matrix (C*kh*kw, OH*OW*N), multiplies
it, and keeps it for backward; backward builds the gradient of the columns,
as large again, and col2im adds it back. For conv2 of the seed convnet those
are 18 MB each, six times the input: written to memory, read back, kept, and
read again. Nothing of that stays in the CPU's cache, and the matrix products
wait for memory.

This path computes the same sums a block of output rows at a time::

    for each block of output rows r (about BLOCK_BYTES of columns):
        cols_r = im2col(x, rows r)                 (K, |r|*OW*N)    K = C*kh*kw
        Y[:, r] = W @ cols_r (+ b)                 (O, |r|*OW*N)

    backward, for each block r again (the columns built again, not kept):
        gW += G[:, r] @ cols_r^T                   (O, K)
        gx += col2im(W^T @ G[:, r], rows r)        input rows r*sh .. r*sh + (kh-1)*dh

so each block's columns are written, multiplied and dropped while they are
still in cache, and no column matrix is kept between forward and backward,
only the input (which the graph holds anyway; a padded copy of it when
there is padding). Building the columns twice costs less than sending them
through memory twice.

Threads (:mod:`.threads`): in forward each thread takes whole blocks (their
outputs do not overlap). In backward the blocks' input rows overlap (kh - 1
rows between neighbours), so the threads split the *input channels*
instead: a thread builds the columns of its channels only (its K/threads
rows), computes their part of gW and of gx, and no two threads ever add to
the same pixel.

Layout: the batch innermost, as :mod:`.conv` lays small images out (its
module docstring says why): columns (C, kh, kw, OH, OW, N), output
(O, OH, OW, N) returned as the (N, O, OH, OW) view, a block of output rows
one contiguous run of columns.

Measured on the 2-core machines here (forward and backward of one layer,
caches flushed in between, medians of 55): the seed convnet's conv2
(32 -> 64 channels, 13x13, batch 128) 10.5-11.6 ms with the whole column
matrix, 9.9-10.1 ms in blocks; ResNet-18's first stage at CIFAR size
(64 -> 64, 8x8, batch 64) 5.5-6.2 -> 4.9-5.4 ms. A whole training step,
the two paths alternating step by step in one process: the seed convnet
21.1 -> 20.1 ms, ResNet-18 at CIFAR size 104.5 -> 101.7 ms. Blocks of
256 KB to 2 MB of columns did alike; 512 KB was best on ResNet-18.

Taken by ``conv2d`` (:func:`applies`) when fast paths are on, in training
(the weights want a gradient), for a NumPy batch longer than an output row
with one group, at least :data:`MIN_CHANNELS` input channels to share out,
and more than two blocks of columns. ``tests/functional/test_fast_paths.py``
checks it against the reference on every option.
"""
from __future__ import annotations

from typing import Any, List

import numpy

from ...autograd import Function
from ...grad_mode import is_grad_enabled
from .._windows import geometry
from .conv import add_windows, window_view
from .layout import BATCH_INNER, from_memory, new_image, pad_like
from .threads import over_rows

BLOCK_BYTES = 2**19  # columns per block: half a core's L2 cache (the block's outputs share it)
MIN_CHANNELS = 8  # input channels, at least: backward shares them out over the threads


def applies(x: Any, w_shape: tuple, groups: int, out_hw: tuple, weight_wants_grad: bool) -> bool:
    """The rule (see the module docstring): training, a NumPy batch longer than an output row,
    one group, at least MIN_CHANNELS input channels, columns of more than two blocks."""
    n, c = x.shape[:2]
    o, cg, kh, kw = w_shape
    cols_bytes = c * kh * kw * out_hw[0] * out_hw[1] * n * x.dtype.itemsize
    return (isinstance(x, numpy.ndarray) and weight_wants_grad and is_grad_enabled() and groups == 1
            and c >= MIN_CHANNELS and n > out_hw[1] and cols_bytes > 2 * BLOCK_BYTES)


class BlockedConv2d(Function):
    """conv2d with the columns built a block of output rows at a time (the module docstring).

    Shapes: x (N, C, H, W), W (O, C, kh, kw), b (O,) -> y (N, O, OH, OW); K = C*kh*kw.
    Forward, per block r:   Y[:, r] = W (O, K) @ cols_r (K, |r|*OW*N)  (+ b)
    Backward, per block r:  gW += G[:, r] @ cols_r^T;  gcols_r = W^T @ G[:, r];  gx += col2im(gcols_r)
    """

    def __init__(self, stride, padding, dilation, groups):
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups

    def forward(self, x, w, b=None):
        n, c = x.shape[:2]
        o, _, kh, kw = w.shape
        self.kernel, self.x_shape, self.w = (kh, kw), x.shape, w
        self.out_hw = oh, ow = geometry(x.shape, self.kernel, self.stride, self.padding, self.dilation, "conv2d")
        # The windows of x padded (x itself when unpadded), (C, kh, kw, OH, OW, N): a view, kept for
        # backward's columns
        xpad = pad_like(x, self.padding, order=BATCH_INNER)
        self.padded_shape = xpad.shape
        self.patches = window_view(xpad, self.kernel, self.stride, self.dilation, self.out_hw, batch_last=True)
        self.blocks = _blocks(oh, c * kh * kw * ow * n * x.dtype.itemsize)
        w_mat = w.reshape(o, -1)  # (O, K)
        y = numpy.empty((o, oh, ow, n), dtype=x.dtype)
        y_cols = y.reshape(o, -1)  # (O, OH*OW*N): block r is the columns r.start*OW*N .. r.stop*OW*N
        bias = None if b is None else b.reshape(o, 1)

        def part(blocks):  # whole blocks on each thread: their outputs do not overlap
            for r in self.blocks[blocks]:
                out = y_cols[:, self._columns(r)]  # (O, |r|*OW*N), a view: the product writes into y
                numpy.matmul(w_mat, self._cols(slice(None), r), out=out)
                if bias is not None:
                    out += bias  # while the block is in cache

        over_rows(part, len(self.blocks), numpy, min_rows=1)
        return y.transpose(from_memory(BATCH_INNER))  # (N, O, OH, OW), a view

    def backward(self, gy):
        c = self.x_shape[1]
        o = gy.shape[1]
        taps = self.kernel[0] * self.kernel[1]
        want_x, want_w = self.needs_input_grad[:2]
        want_b = len(self.needs_input_grad) == 3 and self.needs_input_grad[2]
        G = numpy.ascontiguousarray(gy.transpose(BATCH_INNER)).reshape(o, -1)  # (O, OH*OW*N): free as gy lies
        w_mat = self.w.reshape(o, -1)  # (O, K)
        gw = numpy.empty((o, c * taps), dtype=gy.dtype) if want_w else None
        gxpad = new_image(numpy, self.padded_shape, gy.dtype, BATCH_INNER) if want_x else None  # zeros

        def part(channels):  # a block of input channels on each thread: its own pixels, its own rows of K
            k_rows = slice(channels.start * taps, channels.stop * taps)
            acc = numpy.zeros((o, k_rows.stop - k_rows.start), dtype=gy.dtype) if want_w else None
            for r in self.blocks:
                g = G[:, self._columns(r)]  # (O, |r|*OW*N)
                if want_w:
                    acc += g @ self._cols(channels, r).T
                if want_x:  # col2im of this block's rows: its columns' gradient added at their windows
                    gcols = (w_mat[:, k_rows].T @ g).reshape(self.patches[channels, :, :, r].shape)
                    add_windows(gxpad[:, channels], gcols, self.stride, self.dilation, True, first_row=r.start)
            if want_w:
                gw[:, k_rows] = acc

        over_rows(part, c, numpy, min_rows=1)
        gx = None
        if want_x:
            (pt, _), (pl, _) = self.padding
            h, w = self.x_shape[2:]
            gx = gxpad[:, :, pt : pt + h, pl : pl + w]  # (N, C, H, W), a view
        gw = None if gw is None else gw.reshape(self.w.shape)
        if len(self.needs_input_grad) == 2:
            return gx, gw
        return gx, gw, (G.sum(axis=1) if want_b else None)

    def differentiable_backward(self, gy):  # create_graph=True: the reference's products, as Tensor ops
        from ..conv import conv2d_differentiable_backward  # (here, not on top: conv.py imports this file)
        return conv2d_differentiable_backward(self, gy)

    # ------------------------------------------------------------ one block
    def _columns(self, r: slice) -> slice:
        """Block r's columns of the (., OH*OW*N) matrices."""
        run = self.out_hw[1] * self.x_shape[0]  # OW*N: one output row
        return slice(r.start * run, r.stop * run)

    def _cols(self, channels: slice, r: slice):
        """im2col of the channels, output rows r: (|channels|*kh*kw, |r|*OW*N), a contiguous copy."""
        cols = numpy.ascontiguousarray(self.patches[channels, :, :, r])  # (c, kh, kw, |r|, OW, N)
        return cols.reshape(-1, cols.shape[3] * cols.shape[4] * cols.shape[5])


def _blocks(out_rows: int, bytes_per_row: int) -> List[slice]:
    """Output rows in blocks of about BLOCK_BYTES of columns (at least one row each)."""
    step = max(1, BLOCK_BYTES // max(1, bytes_per_row))
    return [slice(a, min(out_rows, a + step)) for a in range(0, out_rows, step)]
