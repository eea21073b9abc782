"""2-D convolution as one matrix product: im2col, matmul, col2im.

A convolution slides a (C, kh, kw) kernel over the input and takes a dot
product at every position::

    y[n, o, oh, ow] = b[o] + sum_{c, i, j} W[o, c, i, j] * xpad[n, c, oh*sh + i*dh, ow*sw + j*dw]

Written as loops that is six nested loops; written as a matrix product it is
one call to the BLAS, which is what makes it fast:

1. **im2col** copies every (C, kh, kw) patch of the input into one column of a
   matrix, the *column matrix* (a patch per output pixel)::

       x (N, C, H, W)  ->  cols (N, C*kh*kw, OH*OW)

   Fixing a kernel offset (i, j) and letting the window run over the output
   gives one strided slice of the input, so im2col is kh*kw slice copies.

2. **one matrix product** with the weight flattened to rows::

       W (O, C*kh*kw) @ cols[n] (C*kh*kw, OH*OW)  ->  y[n] (O, OH*OW)  -> (O, OH, OW)

3. **backward**, also matrix products (G = gy[n] as (O, OH*OW))::

       gW   = sum over n of  G @ cols[n]^T    (O, C*kh*kw)       the weight gradient
       gcol = W^T @ G                         (C*kh*kw, OH*OW)   the gradient of every patch
       gx   = col2im(gcol)                    (N, C, H, W)

   **col2im** is the adjoint of im2col: an input pixel was copied into every
   patch that covers it (up to kh*kw of them), so its gradient is the *sum*
   of the gradients of those copies. That is why col2im adds where im2col
   copied; the test ``<im2col(x), y> == <x, col2im(y)>`` checks it.

Sizes (per spatial axis, with padding p on both sides, dilation d, stride s)::

    OH = (H + 2p - d*(kh - 1) - 1) // s + 1

(with padding p_top above and p_bottom below, 2p is p_top + p_bottom).

This file is the *reference*: the version to read, and the one the cnn
assignment cuts out. Training runs take the fast path in
:mod:`minidl.functional.fast.conv` (the same sums with the whole batch in one
matrix product, chunked when memory runs short); ``conv2d`` below says when,
and ``tests/functional/test_fast_paths.py`` checks that both agree.
"""
from __future__ import annotations

from typing import Any, Sequence, Union

from ..autograd import Function, Tensor
from .arith import swap_last_axes
from ..backend import get_array_module
from ..validate import pair, positive_int
from . import fast
from ._dtypes import check_same_dtype
from ._windows import check_4d, conv_arguments, geometry, offset_slices, pad_array
from .fast import conv as fast_conv
from .fast import conv_blocks as fast_blocks
from .fast import depthwise as fast_depthwise
from .fast import pointwise as fast_pointwise

IntOrPair = Union[int, Sequence[int]]


# ------------------------------------------------------------ im2col and col2im
def im2col_array(x, kernel, stride, padding, dilation, out_hw):
    """x (N, C, H, W) -> cols (N, C*kh*kw, OH*OW)::

        cols[n, (c, i, j), (oh, ow)] = xpad[n, c, oh*sh + i*dh, ow*sw + j*dw]

    For each kernel offset (i, j), the pixels it touches over all windows are
    one strided slice of the padded input (N, C, OH, OW): copy it to row
    (c, i, j) of every window's column.
    """
    # BEGIN SOLUTION im2col
    xp = get_array_module(x)
    n, c = x.shape[:2]
    (kh, kw), (oh, ow) = kernel, out_hw
    xpad = pad_array(x, padding)
    cols = xp.empty((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for (i, j), window in offset_slices(kernel, stride, out_hw, dilation):
        cols[:, :, i, j] = xpad[window]
    return cols.reshape(n, c * kh * kw, oh * ow)
    # END SOLUTION


def col2im_array(cols, x_shape, kernel, stride, padding, dilation, out_hw):
    """cols (N, C*kh*kw, OH*OW) -> gx (N, C, H, W): the adjoint of im2col::

        gxpad[n, c, oh*sh + i*dh, ow*sw + j*dw] += cols[n, (c, i, j), (oh, ow)]

    The same kh*kw strided slices as im2col, now *added* into: within one
    offset no input pixel is hit twice, so a plain ``+=`` is exact; across
    offsets windows overlap and the adds sum the copies up. Then the padding
    is cropped.
    """
    # BEGIN SOLUTION col2im
    xp = get_array_module(cols)
    n, c, h, w = x_shape
    (kh, kw), (oh, ow) = kernel, out_hw
    (pt, pb), (pl, pr) = padding
    cols = cols.reshape(n, c, kh, kw, oh, ow)
    gxpad = xp.zeros((n, c, h + pt + pb, w + pl + pr), dtype=cols.dtype)
    for (i, j), window in offset_slices(kernel, stride, out_hw, dilation):
        gxpad[window] += cols[:, :, i, j]
    return gxpad[:, :, pt:pt + h, pl:pl + w]
    # END SOLUTION


class Im2col(Function):
    """x (N, C, H, W) -> cols (N, C*kh*kw, OH*OW), PyTorch's ``unfold``. Backward: col2im."""

    def __init__(self, kernel, stride, padding, dilation):
        self.args = (kernel, stride, padding, dilation)

    def forward(self, x):
        self.x_shape = x.shape
        self.out_hw = geometry(x.shape, *self.args, "im2col")
        return im2col_array(x, *self.args, self.out_hw)

    def backward(self, gy):
        return col2im_array(gy, self.x_shape, *self.args, self.out_hw)

    def differentiable_backward(self, gy):
        return Col2im(self.x_shape, *self.args, self.out_hw)(gy)


class Col2im(Function):
    """cols (N, C*kh*kw, OH*OW) -> x (N, C, H, W), PyTorch's ``fold``: adds overlapping patches.

    The adjoint of :class:`Im2col`; its backward is im2col.
    """

    def __init__(self, x_shape, kernel, stride, padding, dilation, out_hw):
        self.x_shape, self.out_hw = x_shape, out_hw
        self.args = (kernel, stride, padding, dilation)

    def forward(self, cols):
        return col2im_array(cols, self.x_shape, *self.args, self.out_hw)

    def backward(self, gy):
        return im2col_array(gy, *self.args, self.out_hw)

    def differentiable_backward(self, gy):
        return Im2col(*self.args)(gy)


def im2col(
    x: Any, kernel_size: IntOrPair, stride: IntOrPair = 1, padding: Any = 0, dilation: IntOrPair = 1
) -> Tensor:
    """Unfold every sliding (C, kh, kw) patch of x into a column.

    Shapes: x (N, C, H, W) -> (N, C*kh*kw, OH*OW), with
    OH = (H + 2*ph - dh*(kh-1) - 1) // sh + 1 (and OW alike)::

        out[n, c*kh*kw + i*kw + j, oh*OW + ow] = xpad[n, c, oh*sh + i*dh, ow*sw + j*dw]

    Differentiable; its backward is :func:`col2im`. ``padding`` is an int,
    an (h, w) pair, a 4-tuple (left, right, top, bottom) as in :func:`conv2d`,
    "same" (stride 1) or "valid".
    """
    check_4d(x, "im2col")
    args = conv_arguments(kernel_size, stride, padding, dilation, "im2col")
    geometry(x.shape, *args, "im2col")
    return Im2col(*args)(x)


def col2im(
    cols: Any,
    output_size: Sequence[int],
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: Any = 0,
    dilation: IntOrPair = 1,
) -> Tensor:
    """Fold columns back into an image, *adding* where patches overlap.

    Shapes: cols (N, C*kh*kw, OH*OW) -> (N, C, H, W) with (H, W) = ``output_size``.
    The adjoint of :func:`im2col`: ``<im2col(x), y> == <x, col2im(y)>`` for all
    x, y. (Not its inverse: a pixel covered by k patches comes back k times.)
    """
    if len(cols.shape) != 3:
        raise ValueError(f"col2im: cols must be 3-D (N, C*kh*kw, L), got shape {tuple(cols.shape)}")
    h, w = pair(tuple(output_size), "output_size", "col2im", 1)
    n, rows, length = cols.shape
    kernel, stride, padding, dilation = conv_arguments(kernel_size, stride, padding, dilation, "col2im")
    out_hw = geometry((n, 1, h, w), kernel, stride, padding, dilation, "col2im")
    if rows % (kernel[0] * kernel[1]) or length != out_hw[0] * out_hw[1]:
        raise ValueError(
            f"col2im: cols of shape {tuple(cols.shape)} do not fit kernel {kernel} and output_size {(h, w)}: "
            f"expected (N, C*{kernel[0] * kernel[1]}, {out_hw[0] * out_hw[1]})"
        )
    x_shape = (n, rows // (kernel[0] * kernel[1]), h, w)
    return Col2im(x_shape, kernel, stride, padding, dilation, out_hw)(cols)


# ------------------------------------------------------------------- conv2d
def check_channels(op: str, x: Any, weight: Any, bias: Any, groups: int) -> None:
    """Input, weight (O, C/groups, *kernel) and bias (O,) fit together: channels, groups, dtype."""
    positive_int(groups, "groups", op)
    o, cg = weight.shape[:2]
    c = x.shape[1]
    if c % groups:
        raise ValueError(f"{op}: input channels ({c}) must be divisible by groups ({groups})")
    if o % groups:
        raise ValueError(f"{op}: out_channels ({o}) must be divisible by groups ({groups})")
    if cg * groups != c:
        raise ValueError(
            f"{op}: expected input with {cg * groups} channels (weight {tuple(weight.shape)}, groups={groups}), "
            f"got {c} channels (input shape {tuple(x.shape)})"
        )
    if bias is not None and tuple(bias.shape) != (o,):
        raise ValueError(f"{op}: bias must have shape ({o},), got {tuple(bias.shape)}")
    check_same_dtype(op, x, weight=weight, bias=bias)


class Conv2d(Function):
    """y = conv2d(x, W) + b: im2col, then one matrix product per sample and group.

    Shapes: x (N, C, H, W), W (O, C/g, kh, kw), b (O,) -> y (N, O, OH, OW), L = OH*OW.

    With g groups the channels split into g independent convolutions (C/g
    inputs -> O/g outputs each): the matrices get a group axis, and ``matmul``
    broadcasts over the samples and does the g products in one call::

        cols (N, g, C/g*kh*kw, L)   W (g, O/g, C/g*kh*kw)   y = W @ cols  (N, g, O/g, L)

    Backward (G = gy as (N, g, O/g, L))::

        gb    = G summed over N and L                  (O,)
        gW    = G @ cols^T, summed over N              (g, O/g, C/g*kh*kw)
        gcols = W^T @ G                                (N, g, C/g*kh*kw, L)
        gx    = col2im(gcols)                          (N, C, H, W)
    """

    def __init__(self, stride, padding, dilation, groups):
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups

    def forward(self, x, w, b=None):
        xp = get_array_module(x)
        n, c = x.shape[:2]
        o, cg, kh, kw = w.shape
        g = self.groups
        self.kernel, self.x_shape, self.w = (kh, kw), x.shape, w
        self.out_hw = oh, ow = geometry(x.shape, self.kernel, self.stride, self.padding, self.dilation, "conv2d")
        cols = im2col_array(x, self.kernel, self.stride, self.padding, self.dilation, self.out_hw)
        self.cols = cols.reshape(n, g, cg * kh * kw, oh * ow)         # (N, g, C/g*kh*kw, L)
        y = xp.matmul(w.reshape(g, o // g, cg * kh * kw), self.cols)  # (N, g, O/g, L)
        y = y.reshape(n, o, oh, ow)
        return y if b is None else y + b.reshape(1, o, 1, 1)

    def backward(self, gy):
        # BEGIN SOLUTION conv2d_backward
        xp = get_array_module(gy)
        n, o = gy.shape[:2]
        g = self.groups
        G = gy.reshape(n, g, o // g, gy.shape[2] * gy.shape[3])             # (N, g, O/g, L)
        w_mat = self.w.reshape(g, o // g, -1)                              # (g, O/g, C/g*kh*kw)
        gb = G.sum(axis=(0, 3)).reshape(o)                                  # (O,)
        gw = xp.matmul(G, self.cols.transpose(0, 1, 3, 2)).sum(axis=0)    # (g, O/g, C/g*kh*kw)
        gcols = xp.matmul(w_mat.transpose(0, 2, 1), G)                      # (N, g, C/g*kh*kw, L)
        rows = self.x_shape[1] * self.kernel[0] * self.kernel[1]           # C*kh*kw (not -1: N may be 0)
        gx = col2im_array(gcols.reshape(n, rows, G.shape[3]), self.x_shape, self.kernel, self.stride,
                          self.padding, self.dilation, self.out_hw)         # (N, C, H, W)
        gw = gw.reshape(self.w.shape)
        return (gx, gw) if len(self.needs_input_grad) == 2 else (gx, gw, gb)
        # END SOLUTION

    def differentiable_backward(self, gy):
        return conv2d_differentiable_backward(self, gy)


def conv2d_differentiable_backward(fn: Function, gy: Tensor) -> tuple:
    """:meth:`Conv2d.backward`'s three products as Tensor ops, for ``create_graph=True``.

    im2col and col2im are the Functions :class:`Im2col` and :class:`Col2im`
    (each the other's adjoint), so the gradients can be differentiated again:
    a gradient penalty through a convnet. The fast paths use it too.
    """
    x, w = fn.inputs[:2]
    (n, c), (o, cg, kh, kw), (oh, ow) = x.shape[:2], w.shape, gy.shape[2:]
    g, rows = c // cg, cg * kh * kw  # groups; rows of one group's columns
    args = ((kh, kw), fn.stride, fn.padding, fn.dilation)
    G = gy.reshape(n, g, o // g, oh * ow)                                         # (N, g, O/g, L)
    cols = Im2col(*args)(x).reshape(n, g, rows, oh * ow)                          # (N, g, C/g*kh*kw, L)
    gw = (G @ swap_last_axes(cols)).sum(axis=0).reshape(w.shape)                  # (O, C/g, kh, kw)
    gcols = swap_last_axes(w.reshape(g, o // g, rows)) @ G                        # (N, g, C/g*kh*kw, L)
    gx = Col2im(x.shape, *args, (oh, ow))(gcols.reshape(n, c * kh * kw, oh * ow))  # (N, C, H, W)
    return (gx, gw) if len(fn.inputs) == 2 else (gx, gw, G.sum(axis=(0, 3)).reshape(o))


def conv2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: IntOrPair = 1,
    padding: Union[IntOrPair, str] = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (cross-correlation, as in every framework), in matrix form.

    Shapes: x (N, C, H, W), weight (O, C/groups, kh, kw), bias (O,) -> (N, O, OH, OW)
    with OH = (H + 2*ph - dh*(kh-1) - 1) // sh + 1 and OW alike::

        y[n, o, oh, ow] = b[o] + sum_{c, i, j} W[o, c, i, j] * xpad[n, c', oh*sh + i*dh, ow*sw + j*dw]

    where c' runs over the input channels of o's group. ``stride``,
    ``padding`` and ``dilation`` are ints or (h, w) pairs; ``padding`` may
    also be "valid" (0), "same" (output as large as the input; stride 1) or
    a 4-tuple (left, right, top, bottom) for different padding on each side,
    in the order of ``F.pad`` and ``nn.ZeroPad2d`` (the width first).
    PyTorch's conv2d takes no 4-tuple: ``conv2d(x, w, padding=p)`` here equals
    ``conv2d(F.pad(x, p), w)`` there.
    How it is computed: the module docstring. Which code runs: a fast
    path (:mod:`minidl.functional.fast.conv`, the same sums for the whole
    batch at once; :mod:`~minidl.functional.fast.depthwise` for one filter
    per channel; :mod:`~minidl.functional.fast.pointwise` for 1x1 kernels;
    :mod:`~minidl.functional.fast.conv_blocks` in training on small images)
    unless fast paths are off, then the reference below.
    """
    op = "conv2d"
    check_4d(x, op)
    if len(weight.shape) != 4:
        raise ValueError(
            f"{op}: weight must be 4-D (out_channels, in_channels/groups, kh, kw), got shape {tuple(weight.shape)}"
        )
    check_channels(op, x, weight, bias, groups)
    kh, kw = weight.shape[2:]
    kernel, stride, padding, dilation = conv_arguments((kh, kw), stride, padding, dilation, op)
    out_hw = geometry(x.shape, kernel, stride, padding, dilation, op)
    # The rule: the reference when fast paths are off; else the kernel is cut to the taps that
    # read real pixels (fast_conv.live_taps: small images), then one filter per channel goes to
    # the depthwise path, a 1x1 kernel without padding to the pointwise one (a matrix product,
    # no im2col), training on small images with many channels to the blocked one (columns built
    # in cache, a block of output rows at a time), everything else to the batched one.
    live = fast_conv.live_taps(x.shape, kernel, stride, padding, dilation) if fast.enabled() else None
    if live is not None:
        rows, columns, padding = live
        weight = weight[:, :, rows, columns]  # a view; its gradient is 0 at the taps cut
    if not fast.enabled():
        op_class = Conv2d
    elif fast_depthwise.applies(x.shape, weight.shape, groups):
        op_class = fast_depthwise.DepthwiseConv2d
    elif fast_pointwise.applies(weight.shape, padding):
        op_class = fast_pointwise.PointwiseConv2d
    elif fast_blocks.applies(x.data if isinstance(x, Tensor) else x, weight.shape, groups, out_hw,
                             isinstance(weight, Tensor) and weight.requires_grad):
        op_class = fast_blocks.BlockedConv2d
    else:
        op_class = fast_conv.Conv2d
    fn = op_class(stride, padding, dilation, groups)
    return fn(x, weight) if bias is None else fn(x, weight, bias)
