"""The fast path of 1x1 convolution: one matrix product over the channels, no im2col, no col2im.

A 1x1 kernel sees one pixel: ``y[n, :, h, w] = W @ x[n, :, h*sh, w*sw] + b``
with W the (O, C) matrix. The column matrix of im2col would be the input
itself (copied), and col2im a copy back, so this path skips both and
multiplies the pixels directly (the stride first takes the strided view
``x[:, :, ::sh, ::sw]``). MobileNet's and EfficientNet's expansions and
projections and ResNet's shortcuts are such convolutions.

The whole batch is *one* product, with the channels as the rows of x::

    Y (O, N*L) = W (O, C) @ X (C, N*L)        gW = G @ X^T        gX = W^T @ G

The pixels' order follows x's memory (:mod:`.layout`): (H, W, N) when x
lies as (C, H, W, N), as the small images of :mod:`.conv`'s training path
do, and (N, H, W) otherwise, the x of (C, N, H, W) memory. When x lies so
(the fast convolutions' outputs do, and so do this path's) X is x as it
lies, no copy; a plain batch is transposed into (C, N, H, W) once. The
result is returned as the (N, O, H, W) view of memory in the same order, so
the next convolution (and a residual sum with a 3x3 branch) reads it without
a copy, and the gradient that comes back in that order is G as it lies.

Why not ``matmul`` sample by sample on a plain batch, (O, C) @ (C, L) for
each n, which needs no transposed copy? Measured on the 2-core machines here
(batch 32, 144 -> 24 channels, 56x56, forward + backward, the products
alone): sample by sample took 53 ms against this path's 62 on a quiet
machine with one thread, but 330-460 ms against 180-280 with two threads
while other processes ran: each of its 3*N small products hands work to the
BLAS's threads and waits for them, and on a busy machine that wait is long.

With groups the matrices get a group axis: W (g, O/g, C/g). The gradient of x
is the product W^T @ G, put back at the strided pixels when there is a stride.

Taken by ``conv2d`` when fast paths are on, the kernel is 1x1 and there is no
padding (and it is not depthwise). ``tests/functional/test_fast_paths.py``
checks it against the reference.
"""
from __future__ import annotations

from ...autograd import Function
from ...backend import get_array_module
from .layout import BATCH_INNER, CHANNELS_OUTER, batch_inner, from_memory
from .threads import matmul


def applies(w_shape: tuple, padding) -> bool:
    """The rule: a 1x1 kernel without padding (any stride, groups; dilation does nothing)."""
    return tuple(w_shape[2:]) == (1, 1) and all(p == 0 for side in padding for p in side)


class PointwiseConv2d(Function):
    """1x1 conv2d: x (N, C, H, W), W (O, C/g, 1, 1), b (O,) -> y (N, O, OH, OW), OH = ceil(H / sh).

    Forward:   Y = W @ X (+ b)      X: the (strided) pixels of x as (g, C/g, N*L); Y (g, O/g, N*L)
    Backward:  G  = gy as (g, O/g, N*L)
               gW = G @ X^T         (g, O/g, C/g)
               gb = G summed over the pixels
               gX = W^T @ G         (g, C/g, N*L), put back at the strided pixels of x
    """

    def __init__(self, stride, padding, dilation, groups):
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups

    def forward(self, x, w, b=None):
        xp = get_array_module(x)
        n, c, h, width = x.shape
        o, g = w.shape[0], self.groups
        sh, sw = self.stride
        xs = x if (sh, sw) == (1, 1) else x[:, :, ::sh, ::sw]  # (N, C, OH, OW), a view
        oh, ow = xs.shape[2:]
        self.x_shape, self.w, self.out_hw = x.shape, w, (oh, ow)
        self.order = BATCH_INNER if batch_inner(x) else CHANNELS_OUTER  # the input's, when it is a conv's
        w_mat = w.reshape(g, o // g, c // g)  # (g, O/g, C/g)
        # (N, C, OH, OW) -> memory order (C first) -> (g, C/g, pixels): free when x lies so (and no stride)
        self.X = xp.ascontiguousarray(xs.transpose(self.order)).reshape(g, c // g, n * oh * ow)
        y = matmul(w_mat, self.X).reshape(self._memory_shape(n, o, oh, ow))  # (O, N, OH, OW) or (O, OH, OW, N)
        if b is not None:
            y += b.reshape(o, 1, 1, 1)  # in place: no new array
        return y.transpose(from_memory(self.order))  # (N, O, OH, OW), a view

    def _memory_shape(self, n, c, h, w) -> tuple:
        return tuple((n, c, h, w)[axis] for axis in self.order)

    def differentiable_backward(self, gy):  # create_graph=True: the reference's products, as Tensor ops
        from ..conv import conv2d_differentiable_backward  # (here, not on top: conv.py imports this file)
        return conv2d_differentiable_backward(self, gy)

    def backward(self, gy):
        xp = get_array_module(gy)
        n, c, h, width = self.x_shape
        o, g = gy.shape[1], self.groups
        oh, ow = self.out_hw
        want_x, want_w = self.needs_input_grad[0], self.needs_input_grad[1]
        want_b = len(self.needs_input_grad) == 3 and self.needs_input_grad[2]
        # gy (N, O, OH, OW) -> (g, O/g, pixels): free when gy lies in the output's order
        G = xp.ascontiguousarray(gy.transpose(self.order)).reshape(g, o // g, n * oh * ow)
        gw = matmul(G, self.X.transpose(0, 2, 1)).reshape(self.w.shape) if want_w else None  # (g, O/g, C/g)
        gb = G.sum(axis=2).reshape(o) if want_b else None
        gx = None
        if want_x:
            w_mat = self.w.reshape(g, o // g, c // g)
            gxs = matmul(w_mat.transpose(0, 2, 1), G).reshape(self._memory_shape(n, c, oh, ow))
            gx = self._place(xp, gxs, self._memory_shape(n, c, h, width), gy.dtype).transpose(from_memory(self.order))
        return (gx, gw) if len(self.needs_input_grad) == 2 else (gx, gw, gb)

    def _place(self, xp, gxs, shape, dtype):
        """The gradient (in memory order) at the strided pixels, zeros elsewhere (no copy without a stride)."""
        sh, sw = self.stride
        if (sh, sw) == (1, 1):
            return gxs
        full = xp.zeros(shape, dtype=dtype)
        h_axis, w_axis = self.order.index(2), self.order.index(3)  # where H and W lie in memory
        pixels = [slice(None)] * 4
        pixels[h_axis], pixels[w_axis] = slice(None, None, sh), slice(None, None, sw)
        full[tuple(pixels)] = gxs
        return full
