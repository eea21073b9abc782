"""Transposed convolution: the adjoint of conv2d, written with conv2d's own im2col and col2im.

A convolution with stride 2 maps a (H_out, W_out) image to a smaller
(H, W) one. Its *adjoint* (its transpose, as a matrix) maps back: every
input pixel spreads its value, weighted by the kernel, over the window that
conv2d read it from, and where windows overlap the spreads add up. That is
what an auto-encoder's decoder or a U-Net's up-sampling path needs, with a
kernel it learns. Written with a weight W of shape (C_in, C_out/g, kh, kw)
(conv2d's layout, seen from the other side, as PyTorch keeps it)::

    <conv2d(x, W), y> = <x, conv_transpose2d(y, W)>       for all x, y

with the same stride, padding, dilation and groups (the test checks this
identity). So each step is conv2d's, the other way round:

* **forward** (conv2d's input gradient), per group, L = H*W::

      cols = W^T @ y        (C_out/g*kh*kw, C_in/g) @ (C_in/g, L) -> (C_out/g*kh*kw, L)
      out  = col2im(cols)   (N, C_out, H_out, W_out)   every column added into its window

* **backward**, G = the upstream gradient (N, C_out, H_out, W_out)::

      gy = W @ im2col(G)                 (N, C_in, H, W)          conv2d's forward, no bias
      gW = y @ im2col(G)^T, summed over N  (C_in, C_out/g, kh, kw)  conv2d's weight gradient, transposed
      gb = G summed over N, H_out, W_out   (C_out,)

Sizes, per axis (p_top + p_bottom is 2p when the padding is symmetric)::

    H_out = (H - 1)*s - p_top - p_bottom + d*(k - 1) + output_padding + 1

With stride s, conv2d maps s different input sizes to the same output size
(the last s - 1 rows fall between windows); ``output_padding`` (smaller than
the stride, or than the dilation) says which of them the adjoint returns.
Those extra rows get no kernel weight: only the bias.
"""
from __future__ import annotations

from typing import Any, Sequence, Union

from ..autograd import Function, Tensor
from ..backend import get_array_module
from ..validate import pair, positive_int
from ._dtypes import check_same_dtype
from ._windows import check_4d, conv_arguments, geometry
from .arith import swap_last_axes
from .conv import Im2col, col2im_array, im2col_array

IntOrPair = Union[int, Sequence[int]]


class ConvTranspose2d(Function):
    """out = conv_transpose2d(y, W) + b: W^T @ y per group, then col2im.

    Shapes: y (N, C_in, H, W), W (C_in, C_out/g, kh, kw), b (C_out,) -> out (N, C_out, H_out, W_out).
    With g groups, the matrices get a group axis and ``matmul`` broadcasts over N::

        Y (N, g, C_in/g, L)   W (g, C_in/g, C_out/g*kh*kw)   cols = W^T @ Y  (N, g, C_out/g*kh*kw, L)

    Backward (G the upstream gradient, cols_G = im2col(G) as (N, g, C_out/g*kh*kw, L))::

        gY = W @ cols_G                        (N, g, C_in/g, L)
        gW = Y @ cols_G^T, summed over N       (g, C_in/g, C_out/g*kh*kw)
        gb = G summed over N, H_out, W_out     (C_out,)
    """

    def __init__(self, stride, padding, dilation, groups, out_hw):
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        self.out_hw = out_hw  # (H_out, W_out)

    def forward(self, y, w, b=None):
        xp = get_array_module(y)
        n, c_in, h, wd = y.shape
        og, kh, kw = w.shape[1:]  # og = C_out/g
        g = self.groups
        self.kernel, self.in_hw, self.w = (kh, kw), (h, wd), w
        self.out_shape = (n, og * g) + tuple(self.out_hw)                  # (N, C_out, H_out, W_out)
        self.Y = y.reshape(n, g, c_in // g, h * wd)                        # (N, g, C_in/g, L)
        w_mat = w.reshape(g, c_in // g, og * kh * kw)                      # (g, C_in/g, C_out/g*kh*kw)
        cols = xp.matmul(w_mat.transpose(0, 2, 1), self.Y)                 # (N, g, C_out/g*kh*kw, L)
        out = col2im_array(cols.reshape(n, g * og * kh * kw, h * wd), self.out_shape, self.kernel,
                           self.stride, self.padding, self.dilation, self.in_hw)  # (N, C_out, H_out, W_out)
        return out if b is None else out + b.reshape(1, og * g, 1, 1)

    def backward(self, gout):
        xp = get_array_module(gout)
        n, g = gout.shape[0], self.groups
        c_in, og = self.w.shape[:2]
        kh, kw = self.kernel
        length = self.in_hw[0] * self.in_hw[1]
        cols = im2col_array(gout, self.kernel, self.stride, self.padding, self.dilation, self.in_hw)
        cols = cols.reshape(n, g, og * kh * kw, length)                    # (N, g, C_out/g*kh*kw, L)
        w_mat = self.w.reshape(g, c_in // g, og * kh * kw)                 # (g, C_in/g, C_out/g*kh*kw)
        gy = gw = None
        if self.needs_input_grad[0]:
            gy = xp.matmul(w_mat, cols).reshape((n, c_in) + tuple(self.in_hw))  # (N, C_in, H, W)
        if self.needs_input_grad[1]:
            gw = xp.matmul(self.Y, cols.transpose(0, 1, 3, 2)).sum(axis=0)     # (g, C_in/g, C_out/g*kh*kw)
            gw = gw.reshape(self.w.shape)                                      # (C_in, C_out/g, kh, kw)
        if len(self.needs_input_grad) == 2:
            return gy, gw
        return gy, gw, gout.sum(axis=(0, 2, 3))                                 # gb (C_out,)

    def differentiable_backward(self, gout):  # create_graph=True: the same products as Tensor ops
        y, w = self.inputs[:2]
        (n, c_in, h, wd), (og, kh, kw), g = y.shape, w.shape[1:], self.groups
        cols = Im2col(self.kernel, self.stride, self.padding, self.dilation)(gout)  # (N, C_out*kh*kw, windows)
        oh, ow = geometry(gout.shape, self.kernel, self.stride, self.padding, self.dilation, "conv_transpose2d")
        cols = cols.reshape(n, g * og * kh * kw, oh, ow)[:, :, :h, :wd]         # the windows y's pixels made
        cols = cols.reshape(n, g, og * kh * kw, h * wd)                         # (N, g, C_out/g*kh*kw, L)
        w_mat = w.reshape(g, c_in // g, og * kh * kw)                           # (g, C_in/g, C_out/g*kh*kw)
        gy = (w_mat @ cols).reshape(n, c_in, h, wd)                             # (N, C_in, H, W)
        gw = (y.reshape(n, g, c_in // g, h * wd) @ swap_last_axes(cols)).sum(axis=0).reshape(w.shape)
        return (gy, gw) if len(self.inputs) == 2 else (gy, gw, gout.sum(axis=(0, 2, 3)))


# ------------------------------------------------------------------- sizes
def transposed_size(size: int, kernel: int, stride: int, pad: int, dilation: int, output_padding: int) -> int:
    """H_out = (H - 1)*s - pad + d*(k - 1) + output_padding + 1, with ``pad`` the total of both sides."""
    return (size - 1) * stride - pad + dilation * (kernel - 1) + output_padding + 1


def check_no_string_padding(padding: Any, op: str) -> None:
    """A transposed convolution's padding is numeric: "same" and "valid" describe conv2d's output, not its input."""
    if isinstance(padding, str):
        raise ValueError(
            f"{op}: padding must be an int, a pair or (left, right, top, bottom), got {padding!r} "
            f"(PyTorch's conv_transpose2d takes no 'same' or 'valid' either)"
        )


def check_output_padding(output_padding: IntOrPair, stride: tuple, dilation: tuple, op: str) -> tuple:
    """output_padding as (h, w), each smaller than the stride or the dilation on its axis (PyTorch's rule)."""
    output_padding = pair(output_padding, "output_padding", op, 0)
    if not all(o < s or o < d for o, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(
            f"{op}: output_padding must be smaller than the stride or the dilation (on each axis), "
            f"got output_padding {output_padding}, stride {stride}, dilation {dilation}"
        )
    return output_padding


def output_hw(x_shape: Sequence[int], kernel: tuple, stride: tuple, padding: tuple, dilation: tuple,
              output_padding: tuple, op: str) -> tuple:
    """(H_out, W_out), after checking that the output is not empty."""
    sizes = tuple(transposed_size(x_shape[2 + a], kernel[a], stride[a], sum(padding[a]), dilation[a],
                                  output_padding[a]) for a in (0, 1))
    if min(sizes) < 1:
        raise ValueError(
            f"{op}: the output would be {sizes[0]}x{sizes[1]} (input {tuple(x_shape[2:])}, kernel {kernel}, "
            f"stride {stride}, padding {padding}, dilation {dilation}): the padding is too large"
        )
    return sizes


def output_padding_for(x_shape: Sequence[int], output_size: Sequence[int], kernel_size: IntOrPair,
                       stride: IntOrPair, padding: Any, dilation: IntOrPair, op: str) -> tuple:
    """The output_padding that gives an output of ``output_size`` ((H_out, W_out), or (N, C, H_out, W_out)).

    As PyTorch's ``ConvTranspose2d.forward(x, output_size)``: the sizes reachable
    are the output_padding 0 size up to stride - 1 more.
    """
    output_size = tuple(output_size)
    if len(output_size) == 4:
        output_size = output_size[2:]
    if len(output_size) != 2:
        raise ValueError(f"{op}: output_size must be (H_out, W_out) or (N, C, H_out, W_out), got {output_size}")
    kernel, stride, padding, dilation = conv_arguments(kernel_size, stride, padding, dilation, op)
    smallest = [transposed_size(x_shape[2 + a], kernel[a], stride[a], sum(padding[a]), dilation[a], 0)
                for a in (0, 1)]
    largest = [smallest[a] + stride[a] - 1 for a in (0, 1)]
    if not all(smallest[a] <= output_size[a] <= largest[a] for a in (0, 1)):
        raise ValueError(
            f"{op}: requested an output size of {output_size}, but for an input of {tuple(x_shape[2:])} "
            f"the sizes range from {tuple(smallest)} to {tuple(largest)}"
        )
    return tuple(int(output_size[a] - smallest[a]) for a in (0, 1))


# ------------------------------------------------------------------- conv_transpose2d
def conv_transpose2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    output_padding: IntOrPair = 0,
    groups: int = 1,
    dilation: IntOrPair = 1,
) -> Tensor:
    """Transposed 2-D convolution, the adjoint of :func:`conv2d` (PyTorch's arguments, in its order).

    Shapes: x (N, C_in, H, W), weight (C_in, C_out/groups, kh, kw), bias (C_out,)
    -> (N, C_out, H_out, W_out), with
    H_out = (H - 1)*sh - p_top - p_bottom + dh*(kh - 1) + output_padding_h + 1 and W_out alike.

    It is the adjoint of conv2d with the same weight, stride, padding,
    dilation and groups: for every z of the output's shape (output_padding
    smaller than the stride)::

        <conv2d(z, weight), x> = <z, conv_transpose2d(x, weight)>

    ``stride``, ``dilation`` and ``output_padding`` are ints or (h, w) pairs;
    ``padding`` (what conv2d would pad, so it *crops* the output here) is an
    int, an (h, w) pair or (left, right, top, bottom) as in :func:`conv2d`.
    ``output_padding`` must be smaller than the stride or the dilation: it
    picks which of the input sizes that conv2d maps to H the output has.
    How it is computed: the module docstring.
    """
    op = "conv_transpose2d"
    check_4d(x, op)
    if len(weight.shape) != 4:
        raise ValueError(
            f"{op}: weight must be 4-D (in_channels, out_channels/groups, kh, kw), got shape {tuple(weight.shape)}"
        )
    positive_int(groups, "groups", op)
    c_in, og, kh, kw = weight.shape
    if x.shape[1] != c_in:
        raise ValueError(
            f"{op}: expected input with {c_in} channels (weight {tuple(weight.shape)} is (in_channels, "
            f"out_channels/groups, kh, kw)), got {x.shape[1]} channels (input shape {tuple(x.shape)})"
        )
    if c_in % groups:
        raise ValueError(f"{op}: input channels ({c_in}) must be divisible by groups ({groups})")
    if bias is not None and tuple(bias.shape) != (og * groups,):
        raise ValueError(f"{op}: bias must have shape ({og * groups},) (out_channels), got {tuple(bias.shape)}")
    check_same_dtype(op, x, weight=weight, bias=bias)
    check_no_string_padding(padding, op)
    kernel, stride, padding, dilation = conv_arguments((kh, kw), stride, padding, dilation, op)
    output_padding = check_output_padding(output_padding, stride, dilation, op)
    out_hw = output_hw(x.shape, kernel, stride, padding, dilation, output_padding, op)
    fn = ConvTranspose2d(stride, padding, dilation, groups, out_hw)
    return fn(x, weight) if bias is None else fn(x, weight, bias)

