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

Each thread takes a slice of the batch (:mod:`.threads`): NumPy's
multiply-adds run on one core each, and the samples are independent.

Taken by ``conv2d`` when fast paths are on and ``groups == in_channels ==
out_channels``; ``tests/functional/test_fast_paths.py`` checks it against the
reference.
"""
from __future__ import annotations

from ...autograd import Function
from ...backend import get_array_module
from .._windows import crop, geometry, offset_slices, pad_array
from .threads import over_batch


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
        y = xp.zeros((n, c) + tuple(self.out_hw), dtype=x.dtype)

        def part(rows):  # the samples ``rows``: each thread a slice of the batch (fast/threads.py)
            out, xpad = y[rows], self.xpad[rows]
            scratch = xp.empty_like(out)
            for (i, j), window in self._windows():
                xp.multiply(xpad[window], w[:, 0, i, j].reshape(1, c, 1, 1), out=scratch)
                out += scratch

        over_batch(part, n, xp)
        if b is not None:
            y += b.reshape(1, c, 1, 1)
        return y

    def differentiable_backward(self, gy):  # create_graph=True: the reference's products, as Tensor ops
        from ..conv import conv2d_differentiable_backward  # (here, not on top: conv.py imports this file)
        return conv2d_differentiable_backward(self, gy)

    def backward(self, gy):
        xp = get_array_module(gy)
        n, c, h, width = self.x_shape
        gxpad = xp.zeros(self.xpad.shape, dtype=gy.dtype) if self.needs_input_grad[0] else None

        def part(rows):  # this slice of the batch's share of gw, and its rows of gx
            g, xpad = gy[rows], self.xpad[rows]
            gw = xp.zeros(self.w.shape, dtype=gy.dtype)
            for (i, j), window in self._windows():
                gw[:, 0, i, j] = (g * xpad[window]).sum(axis=(0, 2, 3))
                if gxpad is not None:
                    gxpad[rows][window] += g * self.w[:, 0, i, j].reshape(1, c, 1, 1)
            return gw

        gw = sum(over_batch(part, n, xp))
        gx = crop(gxpad, self.padding, h, width) if gxpad is not None else None
        gb = gy.sum(axis=(0, 2, 3))
        return (gx, gw) if len(self.needs_input_grad) == 2 else (gx, gw, gb)

    def _windows(self):
        return offset_slices(self.kernel, self.stride, self.out_hw, self.dilation)
