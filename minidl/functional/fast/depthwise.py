"""The fast path of depthwise convolution (groups = channels, one filter each): shifted views, no im2col.

MobileNet and EfficientNet are made of depthwise convolutions: every channel
has its own kh x kw filter. As a grouped matrix product that is C products
of a (1, kh*kw) row with a (kh*kw, N*OH*OW) matrix, each far too small for
the BLAS, after a column matrix kh*kw times the input was built. Written
directly it is kh*kw multiply-adds of whole arrays::

    y = sum over (i, j) of  w[:, 0, i, j] * xpad[:, :, i*dh : ... : sh, j*dw : ... : sw]      (N, C, OH, OW)

and backward is the same loop run the other way (the kernel offsets' slices
as in col2im)::

    gw[:, 0, i, j]  = sum over n, oh, ow of  gy * xpad[slice (i, j)]
    gxpad[slice (i, j)] += gy * w[:, 0, i, j]

Three things make those passes fast on a CPU:

* **Cache-sized blocks.** The passes run over blocks of one sample and a few
  channels (:data:`TILE_BYTES` of padded input, :meth:`DepthwiseConv2d._tiles`),
  so the kh*kw passes read the block from the cache, not from memory. The
  block is padded into a small scratch buffer (zeroed once: the border is
  never written), so no padded copy of the whole input is made or kept.
* **Shifted views of a flat image.** Stored with a row pitch of Wq pixels, an
  image shifted by (q, p) pixels is the *flat* slice ``[q*Wq + p : ... + L]``:
  one long contiguous run per channel instead of OH short rows, which is what
  NumPy's loops are fast on. The output is computed on the same pitch (the
  Wq - OW extra columns of each row are thrown away when the block is copied
  out) with L = (OH - 1)*Wq + OW.
* **Strides as phases.** With stride s the window of offset (i, j) reads every
  s-th pixel. Splitting the padded image into its s*s *phases*
  ``xpad[a::sh, b::sw]`` (one copy, done with the padding) turns every
  offset into a stride-1 shift of one phase: offset i reads phase
  ``a = i*dh % sh`` shifted by ``q = i*dh // sh`` rows. Without stride there
  is one phase, the padded image itself.

The weight gradient is one dot product per channel and offset
(``vecdot``: a single pass, where product-then-sum is two). The input
gradient adds the shifted products into the phases of a zeroed block, which
are then copied back into place. Samples can be split over threads
(:func:`.threads.over_rows`). The output lies in
memory as (C, N, OH, OW), as :mod:`.conv`'s does (:func:`.layout.channels_outer`),
so the 1x1 convolution that follows reads it without a copy.

Taken by ``conv2d`` when fast paths are on and ``groups == in_channels ==
out_channels``; ``tests/functional/test_fast_paths.py`` checks it against the
reference. Measured on the 2-core machines here (batch 32, 144 channels
56x56, 3x3, padding 1, float32, forward + backward, one thread): stride 1
from 335 ms (whole padded input kept, OH short rows per pass, product then
sum for gw) to 150-180 ms, stride 2 from 170 to 135-155 ms. PyTorch took
109 and 70 ms on two threads of a quiet machine, 185-195 and 76-122 on one
(``benchmarks/conv_bench.py --only depthwise``, RESULTS.md). At stride 2 a
third of the time goes to the strided copies into and out of the phases
(NumPy copies every other element one by one). Blocks of 512 KB were best
of 2**15-2**21 bytes: smaller ones pay NumPy's per-call cost more often,
larger ones fall out of the cache. Two threads beside the BLAS's own were
slower (203 against 159 ms at stride 1); with the BLAS kept to one thread
while minidl's pool works (:mod:`.threads`) they pay.
"""
from __future__ import annotations

import numpy

from ...autograd import Function
from ...backend import get_array_module
from .._windows import geometry
from .layout import channels_outer
from .threads import over_rows


TILE_BYTES = 2**19  # scratch of one block (padded input, output, product), read from the cache by every pass


def applies(x_shape: tuple, w_shape: tuple, groups: int) -> bool:
    """The rule: one filter per channel (groups = in_channels = out_channels)."""
    return groups > 1 and groups == x_shape[1] == w_shape[0] and w_shape[1] == 1


class _Plan:
    """The phase geometry of one call: where each offset reads, where each input pixel lies.

    The padded image (Hp, Wp) is split into S = sh*sw phases, each stored as
    (Hq, Wq) = (ceil(Hp/sh), ceil(Wp/sw)) pixels with row pitch Wq, flat.
    """

    def __init__(self, x_shape, kernel, stride, padding, dilation, out_hw):
        (h, w), (kh, kw), (sh, sw), (dh, dw) = x_shape[2:], kernel, stride, dilation
        (pt, pb), (pl, pr) = padding
        self.oh, self.ow = out_hw
        self.hq, self.wq = -(-(h + pt + pb) // sh), -(-(w + pl + pr) // sw)
        self.phases = sh * sw
        self.length = (self.oh - 1) * self.wq + self.ow  # L: the flat run of one output block
        # offset (i, j) -> (phase, start of its flat run)
        self.offsets = [((i, j), (i * dh % sh) * sw + j * dw % sw, (i * dh // sh) * self.wq + j * dw // sw)
                        for i in range(kh) for j in range(kw)]
        # phase (a, b) -> (its rows and columns inside the phase, the input's rows and columns it holds)
        self.places = []
        for a in range(sh):
            for b in range(sw):
                rows = _phase_range(a, sh, pt, h)
                cols = _phase_range(b, sw, pl, w)
                if rows and cols:
                    self.places.append((a * sw + b, (rows[0], cols[0]), (rows[1], cols[1])))


def _phase_range(a: int, s: int, pad: int, size: int):
    """Padded positions a + s*m that hold input pixel a + s*m - pad: (slice of m, slice of the input), or None."""
    lo = max(0, -(-(pad - a) // s))    # the first m with a + s*m >= pad
    hi = -(-(pad + size - a) // s)     # one past the last m with a + s*m < pad + size
    if hi <= lo:
        return None
    start = a + s * lo - pad
    return slice(lo, hi), slice(start, start + s * (hi - lo - 1) + 1, s)


class DepthwiseConv2d(Function):
    """Depthwise conv2d: x (N, C, H, W), w (C, 1, kh, kw), b (C,) -> y (N, C, OH, OW).

    Per block (n samples, k channels; shapes of the scratch buffers)::

        P  (n, k, S, Hq*Wq)   the padded block, split into S phases, flat
        Y  (n, k, OH*Wq)      Y[..., :L] = sum over (i, j) of  w[c, i, j] * P[:, :, phase, start : start + L]
        y  = Y as (n, k, OH, Wq), its first OW columns (+ b)

    Backward (G: gy on the same pitch, zeros in the extra columns)::

        gw[c, i, j]  = sum over n of  vecdot(G, P[:, :, phase, start : start + L])
        gP[:, :, phase, start : start + L] += G * w[c, i, j]      gx = gP's pixels back in place
    """

    def __init__(self, stride, padding, dilation, groups):
        self.stride, self.padding, self.dilation = stride, padding, dilation

    def forward(self, x, w, b=None):
        xp = get_array_module(x)
        n, c = x.shape[:2]
        self.kernel = tuple(w.shape[2:])
        self.out_hw = geometry(x.shape, self.kernel, self.stride, self.padding, self.dilation, "conv2d")
        self.x, self.w = x, w
        self.plan = plan = _Plan(x.shape, self.kernel, self.stride, self.padding, self.dilation, self.out_hw)
        weights = xp.ascontiguousarray(w.reshape(c, -1).T)[:, :, None]  # (kh*kw, C, 1)
        # y (N, C, OH, OW) lies as (C, N, OH, OW), as the other fast convolutions' outputs: the 1x1
        # convolution after it (MobileNet's projection) then reads it without a copy
        y = xp.empty((c, n) + tuple(self.out_hw), dtype=x.dtype).transpose(1, 0, 2, 3)
        bias = None if b is None else b.reshape(c, 1, 1)

        def part(samples):
            tiles = self._tiles(xp, samples)
            if not tiles:  # an empty batch
                return
            buffers = _Buffers(xp, plan, tiles, x.dtype)
            for rows, channels in tiles:
                ns, k = buffers.size(rows, channels)
                views = buffers.views(ns, k)
                acc, tmp = buffers.run(ns, k), buffers.scratch(ns, k)
                self._fill(buffers, rows, channels, ns, k)
                w_block = weights[:, channels]  # (kh*kw, k, 1)
                for t, view in enumerate(views):
                    # the first offset's product is written into the block itself: no zeros to add to
                    xp.multiply(view, w_block[t], out=tmp if t else acc)
                    if t:
                        acc += tmp
                grid = buffers.grid(ns, k)
                if bias is None:
                    y[rows, channels] = grid
                else:
                    xp.add(grid, bias[channels], out=y[rows, channels])

        over_rows(part, n, xp, size=x.size)
        return y

    def differentiable_backward(self, gy):  # create_graph=True: the reference's products, as Tensor ops
        from ..conv import conv2d_differentiable_backward  # (here, not on top: conv.py imports this file)
        return conv2d_differentiable_backward(self, gy)

    def backward(self, gy):
        xp = get_array_module(gy)
        n, c = self.x.shape[:2]
        plan = self.plan
        want_x, want_w = self.needs_input_grad[0], self.needs_input_grad[1]
        want_b = len(self.needs_input_grad) == 3 and self.needs_input_grad[2]
        weights = xp.ascontiguousarray(self.w.reshape(c, -1).T)[:, :, None]  # (kh*kw, C, 1)
        gx = None
        if want_x:  # in x's memory order (elementwise ops on both then run in order)
            h, width = self.x.shape[2:]
            gx = (xp.empty((c, n, h, width), dtype=gy.dtype).transpose(1, 0, 2, 3) if channels_outer(self.x)
                  else xp.empty(self.x.shape, dtype=gy.dtype))
        taps = len(plan.offsets)

        def part(samples):
            tiles = self._tiles(xp, samples)
            gw = xp.zeros((c, taps), dtype=gy.dtype) if want_w else None
            if not tiles:  # an empty batch
                return gw
            buffers = _Buffers(xp, plan, tiles, gy.dtype, gradient=want_x)
            dots = xp.empty((taps,) + buffers.padded.shape[:2], dtype=gy.dtype) if want_w else None
            for rows, channels in tiles:
                ns, k = buffers.size(rows, channels)
                buffers.grid(ns, k)[...] = gy[rows, channels]  # the extra columns stay 0
                G = buffers.run(ns, k)                          # (n, k, L)
                if want_w:
                    self._fill(buffers, rows, channels, ns, k)
                    for t, view in enumerate(buffers.views(ns, k)):
                        _dot_last(xp, G, view, out=dots[t, :ns, :k])
                    gw[channels] += dots[:, :ns, :k].sum(axis=1).T
                if want_x:
                    tmp = buffers.scratch(ns, k)
                    gblock = buffers.gpadded[:ns, :k]
                    gblock.fill(0)
                    w_block = weights[:, channels]
                    for t, view in enumerate(buffers.views(ns, k, "gpadded")):
                        xp.multiply(G, w_block[t], out=tmp)
                        view += tmp
                    phases = gblock.reshape(ns, k, plan.phases, plan.hq, plan.wq)
                    for phase, inside, image in plan.places:
                        gx[(rows, channels) + image] = phases[(slice(None), slice(None), phase) + inside]
            return gw

        parts = over_rows(part, n, xp, size=gy.size)
        gw = sum(parts[1:], parts[0]).reshape(self.w.shape) if want_w else None
        gb = gy.sum(axis=(0, 2, 3)) if want_b else None
        return (gx, gw) if len(self.needs_input_grad) == 2 else (gx, gw, gb)

    # ---------------------------------------------------------------- blocks
    def _tiles(self, xp, samples: slice):
        """(samples, channels) slice pairs covering ``samples`` in blocks that fit in the CPU's cache.

        One sample and as many channels as keep a block's buffers (padded
        input, output run, product) within about :data:`TILE_BYTES`, in
        blocks of equal size. CuPy gets one block, the whole batch: the GPU
        wants few, large operations.
        """
        n, c = self.x.shape[:2]
        if xp is not numpy:
            return [(samples, slice(0, c))]
        plan = self.plan
        per_channel = (plan.phases * plan.hq * plan.wq + plan.oh * plan.wq + plan.length) * self.x.itemsize
        blocks = -(-c // max(1, TILE_BYTES // per_channel))
        block = -(-c // blocks)
        return [(slice(s, s + 1), slice(c0, min(c, c0 + block)))
                for s in range(*samples.indices(n)) for c0 in range(0, c, block)]

    def _fill(self, buffers, rows, channels, ns, k):
        """Copy the block x[rows, channels] into the phases of the padded buffer."""
        phases = buffers.padded[:ns, :k].reshape(ns, k, self.plan.phases, self.plan.hq, self.plan.wq)
        for phase, inside, image in self.plan.places:
            phases[(slice(None), slice(None), phase) + inside] = self.x[(rows, channels) + image]


class _Buffers:
    """Scratch for the largest block of one call, with its shifted views made once.

    ``padded`` (n, k, S, Hq*Wq) is zeroed once: its border is never written.
    ``out`` (n, k, OH*Wq) is the output (or gradient) on the flat pitch,
    zeroed for gradients so that the extra columns add nothing.
    """

    def __init__(self, xp, plan, tiles, dtype, gradient=None):
        batch = max(r.stop - r.start for r, _ in tiles)
        k = max(ch.stop - ch.start for _, ch in tiles)
        self.plan, self.full = plan, (batch, k)
        self.padded = xp.zeros((batch, k, plan.phases, plan.hq * plan.wq), dtype=dtype)
        self.out = (xp.zeros if gradient is not None else xp.empty)((batch, k, plan.oh * plan.wq), dtype=dtype)
        self.tmp = xp.empty((batch, k, plan.length), dtype=dtype)
        self.gpadded = xp.empty_like(self.padded) if gradient else None
        self._views = {"padded": self._shifted(self.padded),
                       "gpadded": self._shifted(self.gpadded) if gradient else None}

    def size(self, rows, channels):
        return rows.stop - rows.start, channels.stop - channels.start

    def _shifted(self, padded):
        length = self.plan.length
        return [padded[:, :, phase, start : start + length] for _, phase, start in self.plan.offsets]

    def views(self, ns, k, buffer="padded"):
        """Every offset's shifted run of the padded block (or its gradient): (n, k, L) each."""
        views = self._views[buffer]
        return views if (ns, k) == self.full else [v[:ns, :k] for v in views]

    def run(self, ns, k):
        return self.out[:ns, :k, : self.plan.length]

    def scratch(self, ns, k):
        return self.tmp[:ns, :k]

    def grid(self, ns, k):
        """The output run as (n, k, OH, OW): the extra columns left out."""
        return self.out[:ns, :k].reshape(ns, k, self.plan.oh, self.plan.wq)[..., : self.plan.ow]


def _dot_last(xp, a, b, out):
    """out = sum over the last axis of a * b, in one pass where the namespace has ``vecdot``."""
    vecdot = getattr(xp, "vecdot", None)
    if vecdot is not None:
        vecdot(a, b, out=out)
    else:
        (a * b).sum(axis=-1, out=out)
