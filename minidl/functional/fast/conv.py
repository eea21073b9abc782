"""The fast path of conv2d: one matrix product for the whole batch, in chunks when memory runs short.

The reference (:mod:`minidl.functional.conv`) multiplies sample by sample in
PyTorch's ``unfold`` layout. This path computes the same sums with three
changes that matter for speed:

* **The whole batch side by side.** The column matrix is laid out as
  (C, kh, kw, N, OH, OW), rows (C*kh*kw) by columns (N*OH*OW), so each
  convolution is *one* large matrix product (the BLAS is fastest on large
  ones) instead of N small ones. The product comes out as (O, N, OH, OW), and
  ``y`` is returned as the transposed *view* (N, O, OH, OW) of it: no copy.
* **Memory order carried along.** That output lies in memory as
  (O, N, OH, OW); NumPy's elementwise ops keep the order, so the next
  convolution's im2col (and pooling's slices) read it in order, and the
  gradient that comes back has the same order, which makes ``gy`` -> G a
  free reshape. :mod:`.layout` tells the orders apart and allocates in them.
* **The batch innermost for small images.** NumPy runs a loop over an
  array's innermost run of memory, and pays a fixed cost for every run. With
  (O, N, OH, OW) the runs are image rows: 26 values in the seed convnet, so
  ReLU, pooling, im2col and col2im spend more time starting runs than
  computing. When the batch is longer than an image row (and goes whole,
  not in chunks) the columns are laid out (C, kh, kw, OH, OW, N) instead and
  the output lies as (O, OH, OW, N) (:data:`BATCH_INNER`): every run is
  then at least N values long, and a stride-1 window's run is OW*N.
  Measured on the seed convnet (batch 128, CPU time of one core): conv2's
  im2col 2.3 -> 0.8 ms, its col2im 5.7 -> 2.7 ms, max pooling of conv1's
  output, forward and backward, 10.5 -> 5.6 ms; the whole training step
  68 -> 52 ms.
* **A memory budget.** The column matrix is kh*kw times the input (9 times
  for 3x3 kernels). Above :func:`get_memory_budget` (256 MB unless
  :func:`set_memory_budget` says otherwise) the batch is processed in chunks
  of samples, with the same result, and the columns are recomputed in
  backward rather than kept.
* **Columns in cache when nothing keeps them.** When the weights want no
  gradient (inference, ``no_grad``, a frozen base), backward never needs the
  columns, so each chunk of them is only written and read once: chunks of at
  most :data:`CACHE_BYTES` are built and multiplied while they are still in
  the CPU's cache, instead of one large matrix written out to memory and read
  back. Measured on ResNet-18's forward at 224x224 (batch 16, 2 cores):
  0.75 s with whole column matrices, 0.58 s with 8 MB chunks. In training,
  where the columns would be kept, :mod:`.conv_blocks` takes the inputs
  with many channels instead: it builds them a block of output rows at a
  time, in cache, and builds them again in backward.

* **The bias inside the product.** With one group and a bias, the columns
  get one more row, all ones, and W one more column, the bias
  (CS231n's bias trick)::

      [W | b] @ [cols; 1] = W @ cols + b        (O, K+1) @ (K+1, N*L)

  so the bias costs no pass of its own over the output, and in backward
  the same product that gives dL/dW gives dL/db as its last column
  (G @ [cols; 1]^T = [G @ cols^T | G summed over its columns]), instead of
  another pass over gy. Measured on the seed convnet's first layer
  (1 -> 32 channels, K = 9, batch 128), the product alone against product
  and pass: forward 0.45-0.50 -> 0.33 ms, backward (dL/dW, dL/db)
  1.7 -> 1.5 ms; a whole training step, the two alternating step by step in
  one process, 0.7-1.2 ms less (23.8 -> 23.1 ms, medians of 200).

* **Every core.** im2col's copy and col2im's adds take a block of channels
  per thread, the products are split by :func:`.threads.matmul`, and where
  chunks are not kept each thread builds and multiplies chunks of its own
  (:mod:`.threads`, the BLAS on one thread meanwhile).

im2col here is one ``as_strided`` view of the six axes and one copy; col2im
adds one strided slice per kernel offset, as in the reference.
``tests/functional/test_fast_paths.py`` checks this path against the
reference on every option.
"""
from __future__ import annotations

import contextlib
import numbers
from typing import Iterator

from ...autograd import Function
from ...backend import get_array_module
from ...grad_mode import is_grad_enabled
from .._windows import geometry
from .layout import BATCH_INNER, CHANNELS_OUTER, new_image, pad_like
from .threads import matmul, over_rows

# ------------------------------------------------------------ memory budget
_memory_budget = 256 * 2**20  # bytes a column matrix may take before we chunk
CACHE_BYTES = 8 * 2**20  # a chunk of columns that is not kept for backward: about the CPU's cache


def get_memory_budget() -> int:
    """Bytes one column matrix may take before the batch is processed in chunks."""
    return _memory_budget


def set_memory_budget(nbytes: int) -> None:
    """Set the column-matrix budget in bytes (default 256 MB). Results do not change."""
    global _memory_budget
    if not isinstance(nbytes, numbers.Integral) or isinstance(nbytes, bool) or nbytes < 1:
        raise ValueError(f"memory budget must be a positive number of bytes, got {nbytes!r}")
    _memory_budget = int(nbytes)


@contextlib.contextmanager
def memory_budget(nbytes: int) -> Iterator[None]:
    """``with memory_budget(2**20): ...`` runs a block under another budget."""
    previous = get_memory_budget()
    set_memory_budget(nbytes)
    try:
        yield
    finally:
        set_memory_budget(previous)


# ------------------------------------------------------------ kernel taps that read only padding
def live_taps(x_shape, kernel, stride, padding, dilation):
    """(rows, columns, padding) of the kernel taps that read at least one real pixel, or None when
    every tap does.

    On a small image with padding, some taps of the kernel only ever land on
    the zeros around it: a 3x3 kernel with padding 1 on a 1x1 image (the last
    stage of ResNet-18 at CIFAR size) reads real pixels with its centre tap
    alone. Their products are all 0, so the convolution with the kernel cut
    to the live taps (and the padding cut with it) gives the same output and
    the same gradients (0 for the cut taps), with 9 times fewer
    multiply-adds there. Output row ``oh`` reads input row
    ``oh*s + i*d - pad_top`` with tap ``i``; a tap is live when some output
    row reads a row in [0, H).
    """
    cuts, pads = [], []
    for axis in range(2):
        size, k, s, d = x_shape[2 + axis], kernel[axis], stride[axis], dilation[axis]
        before, after = padding[axis]
        out = (size + before + after - d * (k - 1) - 1) // s + 1
        live = [i for i in range(k) if any(0 <= o * s + i * d - before < size for o in range(out))]
        if not live:
            return None
        first, last = live[0], live[-1] + 1
        new_before = before - first * d
        new_after = max(0, (out - 1) * s + d * (last - first - 1) + 1 - size - new_before)
        if new_before < 0 or (size + new_before + new_after - d * (last - first - 1) - 1) // s + 1 != out:
            return None  # (a dilated kernel whose cut would need a crop: not worth the case)
        cuts.append(slice(first, last))
        pads.append((new_before, new_after))
    if (cuts[0].stop - cuts[0].start, cuts[1].stop - cuts[1].start) == tuple(kernel):
        return None
    return cuts[0], cuts[1], tuple(pads)


# ------------------------------------------------------------ im2col and col2im, six axes
def window_view(xpad, kernel, stride, dilation, out_hw, batch_last: bool = False):
    """xpad (N, C, Hp, Wp), padded -> the view (C, kh, kw, N, OH, OW) of its windows, no copy;
    with ``batch_last`` (C, kh, kw, OH, OW, N).

    ``view[c, i, j, n, oh, ow] = xpad[n, c, oh*sh + i*dh, ow*sw + j*dw]``: ``as_strided`` only says
    how many bytes to step along each of the six axes.
    """
    n, c = xpad.shape[:2]
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_hw
    s_n, s_c, s_h, s_w = xpad.strides  # bytes to step along each axis
    shape, strides = (c, kh, kw, n, oh, ow), (s_c, s_h * dh, s_w * dw, s_n, s_h * sh, s_w * sw)
    if batch_last:  # the batch axis after the output pixels
        shape, strides = shape[:3] + shape[4:] + shape[3:4], strides[:3] + strides[4:] + strides[3:4]
    return get_array_module(xpad).lib.stride_tricks.as_strided(xpad, shape=shape, strides=strides)


def im2col_6d(x, kernel, stride, padding, dilation, out_hw, batch_last: bool = False, out=None):
    """x (N, C, H, W) -> cols (C, kh, kw, N, OH, OW), a contiguous copy; with ``batch_last``
    (C, kh, kw, OH, OW, N).

    ``cols[c, i, j, n, oh, ow] = xpad[n, c, oh*sh + i*dh, ow*sw + j*dw]``.

    First a *view* with those six axes is made (:func:`window_view`, no
    copy), then one copy makes it contiguous, so that it can be reshaped to the matrix (C*kh*kw, N*OH*OW).
    With ``batch_last`` the input is first laid out as (C, H, W, N) (free when
    it lies so already): then every row of the copy is a run of OW*N values
    in memory (stride 1) where it is OW values otherwise, and NumPy's copy is
    fastest on long runs. ``out``: a contiguous array of that shape to write into.
    """
    xp = get_array_module(x)
    xpad = pad_like(x, padding, order=BATCH_INNER if batch_last else None)
    patches = window_view(xpad, kernel, stride, dilation, out_hw, batch_last)
    shape, c = patches.shape, patches.shape[0]
    cols = xp.empty(shape, dtype=x.dtype) if out is None else out  # (C, kh, kw, N, OH, OW) or (C, kh, kw, OH, OW, N)

    lead = 0 if c > 1 else 1  # each thread a block of channels (fast/threads.py), or of kernel rows

    def part(rows):  # the one copy
        block = (rows,) if lead == 0 else (slice(None), rows)
        cols[block] = patches[block]

    over_rows(part, shape[lead], xp, min_rows=1, size=cols.size)
    return cols


def col2im_6d(cols, x_shape, kernel, stride, padding, dilation, batch_last: bool = False):
    """cols (C, kh, kw, N, OH, OW) -> gx (N, C, H, W): the adjoint of im2col (with ``batch_last``,
    cols (C, kh, kw, OH, OW, N)).

    Every kernel offset (i, j) is one strided slice of the (padded) input::

        gxpad[:, :, i*dh + sh*oh, j*dw + sw*ow] += cols[:, i, j, :, oh, ow]

    so we loop over the kh*kw offsets and add whole slices (:func:`add_windows`): kh*kw
    vectorised adds. Within one offset no input pixel is hit twice, so a plain ``+=`` is
    exact; across offsets the pixels overlap and the adds sum them up.

    Why not ``np.add.at(gxpad, index_arrays, cols)``, which handles repeated
    indices by itself? It needs index arrays as large as ``cols`` built first,
    and then adds one element at a time, unbuffered: many times slower than
    kh*kw slice additions, on the path of every backward pass.

    The result lies in memory as cols does, (C, N, H, W) or (C, H, W, N), and
    is returned as the (N, C, H, W) view.
    """
    xp = get_array_module(cols)
    n, c, h, w = x_shape
    (pt, pb), (pl, pr) = padding
    gxpad = new_image(xp, (n, c, h + pt + pb, w + pl + pr), cols.dtype, BATCH_INNER if batch_last else CHANNELS_OUTER)

    def part(channels):  # a block of channels on each thread (fast/threads.py)
        add_windows(gxpad[:, channels], cols[channels], stride, dilation, batch_last)

    over_rows(part, c, xp, min_rows=1, size=cols.size)
    return gxpad[:, :, pt : pt + h, pl : pl + w]


def add_windows(gxpad, cols, stride, dilation, batch_last: bool = False, first_row: int = 0) -> None:
    """gxpad (N, C, Hp, Wp) += cols (C, kh, kw, N, R, OW) (or (C, kh, kw, R, OW, N)) put back at
    their windows: col2im's adds, for the R output rows from ``first_row`` on.

    Kernel offset (i, j) of output row ``first_row + r`` reads input row
    ``(first_row + r)*sh + i*dh``: one strided slice of gxpad per offset.
    """
    (sh, sw), (dh, dw) = stride, dilation
    kh, kw = cols.shape[1:3]
    rows_out, ow = cols.shape[-3:-1] if batch_last else cols.shape[-2:]
    for i in range(kh):
        for j in range(kw):
            top = first_row * sh + i * dh
            rows = slice(top, top + sh * (rows_out - 1) + 1, sh)
            columns = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
            offset = cols[:, i, j]  # (C, N, R, OW), or (C, R, OW, N)
            gxpad[:, :, rows, columns] += offset.transpose(3, 0, 1, 2) if batch_last else offset.transpose(1, 0, 2, 3)


# ------------------------------------------------------------ the Function
class Conv2d(Function):
    """The fast path of :class:`minidl.functional.conv.Conv2d`: the same products, the batch side by side.

    Shapes: x (N, C, H, W), W (O, C/g, kh, kw), b (O,) -> y (N, O, OH, OW).

    With g groups the channels split into g independent convolutions
    (C/g inputs -> O/g outputs each); the matrices get a leading group axis
    and ``matmul`` does the g products in one call::

        cols (g, C/g*kh*kw, N*L)   W (g, O/g, C/g*kh*kw)   y (g, O/g, N*L)

    Forward:   Y = W @ cols (+ b)                 (L = OH*OW)
    Backward:  G  = gy as (g, O/g, N*L)
               gW = G @ cols^T                    (g, O/g, C/g*kh*kw)
               gb = G summed over N*L             (O,)
               gx = col2im(W^T @ G)               (N, C, H, W)
    """

    def __init__(self, stride, padding, dilation, groups):
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups

    def forward(self, x, w, b=None):
        xp = get_array_module(x)
        n, c = x.shape[:2]
        o, cg, kh, kw = w.shape
        g = self.groups
        self.kernel = (kh, kw)
        self.x_shape = x.shape
        self.out_hw = oh, ow = geometry(x.shape, self.kernel, self.stride, self.padding, self.dilation, "conv2d")
        self.w = w
        w_mat = w.reshape(g, o // g, cg * kh * kw)  # (g, O/g, C/g*kh*kw)
        per_sample = c * kh * kw * oh * ow * x.dtype.itemsize  # bytes of columns per sample
        chunk = max(1, self._budget() // per_sample)
        self.chunk = chunk if chunk < n else None
        # The batch after the pixels when the batch goes whole and is longer than an image row
        # (the module docstring says why).
        self.batch_last = self.chunk is None and n > ow
        # The bias as W's last column, a row of ones under the columns (the module docstring).
        self.fold = b is not None and g == 1 and self.chunk is None
        if self.fold:
            w_mat = xp.concatenate([w_mat, b.reshape(1, o, 1).astype(w_mat.dtype, copy=False)], axis=2)  # (1, O, K+1)
        if self.batch_last:
            self.cols = self._cols(x, self.fold)  # (g, C/g*kh*kw (+1), L*N), kept for backward
            y = matmul(w_mat, self.cols).reshape(o, oh, ow, n)  # (O, OH, OW, N)
            _add_bias(xp, y, None if self.fold else b)
            return y.transpose(3, 0, 1, 2)  # (N, O, OH, OW), a view
        if self.chunk is None:
            self.cols = self._cols(x, self.fold)  # (g, C/g*kh*kw (+1), N*L), kept for backward
            y = matmul(w_mat, self.cols)  # (g, O/g, N*L)
            b = None if self.fold else b
        else:  # over budget: a few samples at a time; keep x, not the columns
            self.x = x
            y = xp.empty((g, o // g, n, oh * ow), dtype=x.dtype)

            def part(chunks):  # chunks of samples
                for start in range(chunks.start * chunk, min(n, chunks.stop * chunk), chunk):
                    samples = slice(start, start + chunk)
                    y[:, :, samples] = matmul(w_mat, self._cols(x[samples])).reshape(g, o // g, -1, oh * ow)

            chunks = -(-n // chunk)
            if self._kept():  # one chunk at a time (each splits its work over the threads): within budget
                part(slice(0, chunks))
            else:  # cache-sized chunks, not kept: each thread takes its own chunks (fast/threads.py)
                over_rows(part, chunks, xp, min_rows=1)
        y = y.reshape(o, n, oh, ow)
        _add_bias(xp, y, b)  # in place: no new (O, N, OH, OW) array
        return y.transpose(1, 0, 2, 3)  # (N, O, OH, OW), a view: see the module docstring

    def _budget(self) -> int:
        """Bytes of columns per chunk: the memory budget, or a cache's worth when backward
        will not need the columns (the weights want no gradient; see the module docstring)."""
        return get_memory_budget() if self._kept() else min(get_memory_budget(), CACHE_BYTES)

    def _kept(self) -> bool:
        """Whether backward will need the columns (the weights want a gradient)."""
        return is_grad_enabled() and self.needs_input_grad[1]

    def _cols(self, x, ones_row: bool = False):
        """The column matrix of x, grouped: (g, C/g*kh*kw, n*L), its columns (n, OH, OW) or (OH, OW, n);
        with ``ones_row`` (one group), (1, C*kh*kw + 1, n*L), the last row all ones."""
        args = (self.kernel, self.stride, self.padding, self.dilation, self.out_hw, self.batch_last)
        rows = x.shape[1] // self.groups * self.kernel[0] * self.kernel[1]  # C/g*kh*kw (not -1: N may be 0)
        columns = x.shape[0] * self.out_hw[0] * self.out_hw[1]
        if not ones_row:
            return im2col_6d(x, *args).reshape(self.groups, rows, columns)
        cols = get_array_module(x).empty((rows + 1, columns), dtype=x.dtype)
        pixels = self.out_hw + (x.shape[0],) if self.batch_last else (x.shape[0],) + self.out_hw
        im2col_6d(x, *args, out=cols[:rows].reshape((x.shape[1],) + self.kernel + pixels))  # a view: written in place
        cols[rows] = 1
        return cols.reshape(1, rows + 1, columns)

    def differentiable_backward(self, gy):  # create_graph=True: the reference's products, as Tensor ops
        from ..conv import conv2d_differentiable_backward  # (here, not on top: conv.py imports this file)
        return conv2d_differentiable_backward(self, gy)

    def backward(self, gy):
        xp = get_array_module(gy)
        n = self.x_shape[0]
        o = gy.shape[1]
        g = self.groups
        want_x, want_w = self.needs_input_grad[0], self.needs_input_grad[1]
        want_b = len(self.needs_input_grad) == 3 and self.needs_input_grad[2]
        if self.batch_last:  # gy (N, O, OH, OW) -> (g, O/g, L*N): free when gy lies as (O, OH, OW, N)
            G = xp.ascontiguousarray(gy.transpose(1, 2, 3, 0)).reshape(g, o // g, -1)
            gw, gb = self._gw_gb(xp, G, want_w, want_b)
            gx = self._gx(matmul(self.w.reshape(g, o // g, -1).transpose(0, 2, 1), G), self.x_shape) if want_x else None
            return (gx, gw) if len(self.needs_input_grad) == 2 else (gx, gw, gb)
        # gy (N, O, OH, OW) -> (g, O/g, N, L): free when gy lies as (O, N, OH, OW)
        grad = xp.ascontiguousarray(gy.transpose(1, 0, 2, 3)).reshape(g, o // g, n, gy.shape[2] * gy.shape[3])
        w_mat = self.w.reshape(g, o // g, -1)  # (g, O/g, C/g*kh*kw)
        if self.chunk is None:
            G = grad.reshape(g, o // g, grad.shape[2] * grad.shape[3])  # (g, O/g, N*L)
            gw, gb = self._gw_gb(xp, G, want_w, want_b)
            gx = self._gx(matmul(w_mat.transpose(0, 2, 1), G), self.x_shape) if want_x else None
        else:
            gb = _channel_sums(xp, grad.reshape(o, n * grad.shape[3])) if want_b else None
            gw = xp.zeros(w_mat.shape, dtype=gy.dtype) if want_w else None
            gx = xp.empty(self.x_shape, dtype=gy.dtype) if want_x else None
            for start in range(0, n, self.chunk):
                part = slice(start, start + self.chunk)
                G = xp.ascontiguousarray(grad[:, :, part]).reshape(g, o // g, -1)  # (g, O/g, n*L), n >= 1
                if want_w:
                    gw += matmul(G, self._cols(self.x[part]).transpose(0, 2, 1))
                if want_x:
                    gx[part] = self._gx(matmul(w_mat.transpose(0, 2, 1), G), self.x[part].shape)
        if gw is not None:
            gw = gw.reshape(self.w.shape)
        return (gx, gw) if len(self.needs_input_grad) == 2 else (gx, gw, gb)

    def _gw_gb(self, xp, G, want_w: bool, want_b: bool):
        """(dL/dW, dL/db) from G (g, O/g, columns) and the kept columns: one product gives both when
        the columns carry the row of ones (the product's column for it is dL/db)."""
        if self.fold and want_w:
            gw_ones = matmul(G, self.cols.transpose(0, 2, 1))  # (1, O, K+1)
            gb = xp.ascontiguousarray(gw_ones[0, :, -1]) if want_b else None
            return gw_ones[:, :, :-1].reshape(self.w.shape), gb
        gw = matmul(G, self.cols.transpose(0, 2, 1)).reshape(self.w.shape) if want_w else None
        return gw, (_channel_sums(xp, G.reshape(G.shape[0] * G.shape[1], G.shape[2])) if want_b else None)

    def _gx(self, gcols, x_shape):
        """gcols (g, C/g*kh*kw, n*L) -> gx (n, C, H, W) by col2im."""
        pixels = self.out_hw + (x_shape[0],) if self.batch_last else (x_shape[0],) + self.out_hw
        cols = gcols.reshape((x_shape[1],) + self.kernel + pixels)
        return col2im_6d(cols, x_shape, self.kernel, self.stride, self.padding, self.dilation, self.batch_last)


def _add_bias(xp, y, b) -> None:
    """y += b per output channel, in place; y (O, ...) in memory order, a block of channels a thread."""
    if b is None:
        return
    bias = b.reshape((len(b),) + (1,) * (y.ndim - 1))

    def part(channels):
        y[channels] += bias[channels]

    over_rows(part, len(y), xp, min_rows=1, size=y.size)


def _channel_sums(xp, g):
    """g (O, m) summed over its rows, (O,): dL/db; a block of channels a thread."""
    sums = xp.empty(len(g), dtype=g.dtype)

    def part(channels):
        g[channels].sum(axis=1, out=sums[channels])

    over_rows(part, len(g), xp, min_rows=1, size=g.size)
    return sums
