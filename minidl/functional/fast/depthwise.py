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

The passes run over blocks of one sample and a few channels at a time
(:meth:`DepthwiseConv2d._tiles`), small enough to stay in the CPU's cache.

Taken by ``conv2d`` when fast paths are on and ``groups == in_channels ==
out_channels``; ``tests/functional/test_fast_paths.py`` checks it against the
reference.
"""
from __future__ import annotations

import numpy

from ...autograd import Function
from ...backend import get_array_module
from .._windows import crop, geometry, offset_slices, pad_array


TILE_BYTES = 2**18  # a block of padded input the kh*kw passes read from the cache


def applies(x_shape: tuple, w_shape: tuple, groups: int) -> bool:
    """The rule: one filter per channel (groups = in_channels = out_channels)."""
    return groups > 1 and groups == x_shape[1] == w_shape[0] and w_shape[1] == 1


class DepthwiseConv2d(Function):
    """Depthwise conv2d: x (N, C, H, W), w (C, 1, kh, kw), b (C,) -> y (N, C, OH, OW)."""

    def __init__(self, stride, padding, dilation, groups):
        self.stride, self.padding, self.dilation = stride, padding, dilation

    def forward(self, x, w, b=None):
        xp = get_array_module(x)
        n, c, h, width = x.shape
        self.kernel = w.shape[2:]
        self.out_hw = geometry(x.shape, self.kernel, self.stride, self.padding, self.dilation, "conv2d")
        self.x_shape, self.w = x.shape, w
        self.xpad = pad_array(x, self.padding)
        y = xp.empty((n, c) + tuple(self.out_hw), dtype=x.dtype)
        for tile in self._tiles(xp):  # (samples, channels): a block of y and of xpad
            out, xpad = y[tile], self.xpad[tile]
            scratch = xp.empty_like(out)
            for k, ((i, j), window) in enumerate(self._windows()):
                # the first offset's product is written into y itself: no zeros to add to
                xp.multiply(xpad[window], w[tile[1], 0, i, j].reshape(1, -1, 1, 1), out=scratch if k else out)
                if k:
                    out += scratch
        if b is not None:
            y += b.reshape(1, c, 1, 1)
        return y

    def differentiable_backward(self, gy):  # create_graph=True: the reference's products, as Tensor ops
        from ..conv import conv2d_differentiable_backward  # (here, not on top: conv.py imports this file)
        return conv2d_differentiable_backward(self, gy)

    def backward(self, gy):
        xp = get_array_module(gy)
        n, c, h, width = self.x_shape
        gw = xp.zeros(self.w.shape, dtype=gy.dtype)
        gxpad = xp.zeros(self.xpad.shape, dtype=gy.dtype) if self.needs_input_grad[0] else None
        for tile in self._tiles(xp):
            g, xpad, channels = gy[tile], self.xpad[tile], tile[1]
            for (i, j), window in self._windows():
                gw[channels, 0, i, j] += (g * xpad[window]).sum(axis=(0, 2, 3))
                if gxpad is not None:
                    gxpad[tile][window] += g * self.w[channels, 0, i, j].reshape(1, -1, 1, 1)
        gx = crop(gxpad, self.padding, h, width) if gxpad is not None else None
        gb = gy.sum(axis=(0, 2, 3))
        return (gx, gw) if len(self.needs_input_grad) == 2 else (gx, gw, gb)

    def _tiles(self, xp):
        """(samples, channels) index pairs covering the batch in blocks that fit in the CPU's cache.

        The kh*kw passes over a block then read it from the cache, not from memory:
        one sample and as many channels as make about 256 KB of padded input (twice
        as fast as whole-batch passes for MobileNet's 56x56x144). CuPy gets one
        block, the whole batch: the GPU wants few, large operations.
        """
        n, c = self.x_shape[:2]
        if xp is not numpy:
            return [(slice(None), slice(None))]
        plane = self.xpad.shape[2] * self.xpad.shape[3] * self.xpad.itemsize
        block = max(1, TILE_BYTES // max(plane, 1))
        return [(slice(s, s + 1), slice(c0, c0 + block)) for s in range(n) for c0 in range(0, c, block)]

    def _windows(self):
        return offset_slices(self.kernel, self.stride, self.out_hw, self.dilation)
