"""Sliding windows: the sizes and argument checks that convolution and pooling share.

A window of ``k`` pixels with dilation ``d`` spans ``d*(k - 1) + 1`` pixels;
sliding it with stride ``s`` over ``H`` pixels padded by ``p`` in total
gives::

    OH = (H + p - d*(k - 1) - 1) // s + 1

Padding is kept as ((top, bottom), (left, right)), so that "same" padding
with an even kernel (one more pixel after than before) and a padding given
as (left, right, top, bottom) fit the same code.
"""
from __future__ import annotations

import numbers
from typing import Any, Optional, Sequence, Union

from ..backend import get_array_module
from ..validate import pair

IntOrPair = Union[int, Sequence[int]]
Padding = tuple  # ((top, bottom), (left, right))


def output_size(size: int, kernel: int, stride: int, pad: int, dilation: int) -> int:
    """OH = (H + pad - d*(k-1) - 1) // s + 1, with ``pad`` the total of both sides."""
    return (size + pad - dilation * (kernel - 1) - 1) // stride + 1


def geometry(x_shape: Sequence[int], kernel: tuple, stride: tuple, padding: Padding, dilation: tuple,
             op: str) -> tuple:
    """(OH, OW) of windows over x (N, C, H, W), after checking that a window fits at all."""
    sizes = []
    for axis, name in enumerate(("height", "width")):
        size, k, s, d = x_shape[2 + axis], kernel[axis], stride[axis], dilation[axis]
        pad = sum(padding[axis])
        out = output_size(size, k, s, pad, d)
        span = d * (k - 1) + 1
        if span > size + pad:
            raise ValueError(
                f"{op}: the kernel ({kernel[0]}x{kernel[1]}, dilation {dilation}) spans {span} "
                f"pixels of {name}, more than the padded input's {size + pad} "
                f"(input {size} + padding {pad}); the output {name} would be {out}"
            )
        sizes.append(out)
    return sizes[0], sizes[1]


def check_4d(x: Any, op: str, name: str = "input") -> None:
    if len(x.shape) != 4:
        raise ValueError(f"{op}: {name} must be 4-D (N, C, H, W), got shape {tuple(x.shape)} ({len(x.shape)}-D)")


def conv_arguments(kernel_size: IntOrPair, stride: IntOrPair, padding: Any, dilation: IntOrPair, op: str) -> tuple:
    """(kernel, stride, ((top, bottom), (left, right)), dilation), all checked.

    ``padding`` is an int, an (h, w) pair, a 4-tuple (left, right, top, bottom)
    (see :func:`numeric_padding`), "same" or "valid" (see :func:`string_padding`).
    """
    kernel = pair(kernel_size, "kernel_size", op, 1)
    stride = pair(stride, "stride", op, 1)
    dilation = pair(dilation, "dilation", op, 1)
    if isinstance(padding, str):
        padding = string_padding(padding, kernel, stride, dilation, op)
    else:
        padding = numeric_padding(padding, op)
    return kernel, stride, padding, dilation


def numeric_padding(padding: Any, op: str) -> Padding:
    """An int, (h, w) or (left, right, top, bottom) -> ((top, bottom), (left, right)).

    The 4-tuple is in the order of ``F.pad`` and ``nn.ZeroPad2d``: the last
    axis (width) first. PyTorch's conv2d takes no 4-tuple; ours with
    ``padding=p`` equals PyTorch's ``conv2d(F.pad(x, p), w)``.
    """
    expected = "an int, a pair (h, w), a 4-tuple (left, right, top, bottom), 'same' or 'valid'"
    if isinstance(padding, Sequence) and len(padding) == 4:
        if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in padding):
            raise TypeError(f"{op}: padding must be {expected}, got {padding!r}")
        if min(padding) < 0:
            raise ValueError(f"{op}: padding must be >= 0, got {tuple(padding)}")
        left, right, top, bottom = (int(v) for v in padding)
        return ((top, bottom), (left, right))
    if isinstance(padding, Sequence) and len(padding) != 2:
        raise TypeError(f"{op}: padding must be {expected}, got {padding!r} (length {len(padding)})")
    ph, pw = pair(padding, "padding", op, 0)
    return ((ph, ph), (pw, pw))


def string_padding(padding: str, kernel: tuple, stride: tuple, dilation: tuple, op: str) -> Padding:
    """"valid" = no padding; "same" = the output as large as the input (stride 1).

    "same" pads d*(k-1) in total; when that is odd the extra pixel goes to the
    bottom/right, as PyTorch and TensorFlow do.
    """
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding == "same":
        if stride != (1, 1):
            raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
        pads = []
        for k, d in zip(kernel, dilation):
            total = d * (k - 1)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)
    raise ValueError(
        f"{op}: padding must be an int, a pair, a 4-tuple (left, right, top, bottom), 'same' or 'valid', "
        f"got {padding!r}"
    )


def pool_output_size(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size along one axis, with ``pad`` pixels on each side::

        OH = (H + 2*p - d*(k - 1) - 1) / s + 1      rounded down, or up with ceil_mode

    Rounding up adds a last window that hangs over the end of the (padded)
    input; PyTorch keeps it only if it starts inside the input or its left
    padding, ``(OH - 1)*s < H + p``, so no window reads nothing but padding.
    """
    reach = size + 2 * pad - dilation * (kernel - 1) - 1  # where the last window may start
    out = (reach + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def pool_arguments(op: str, x: Any, kernel_size: IntOrPair, stride: Optional[IntOrPair], padding: IntOrPair,
                   dilation: IntOrPair = 1, ceil_mode: bool = False) -> tuple:
    """(kernel, stride, ((pt, pb), (pl, pr)), dilation, (OH, OW)) of a pooling, all checked.

    ``stride`` defaults to the kernel. The padding is PyTorch's: the same on
    both sides, at most half the kernel (``p <= k // 2``, whatever the
    dilation). With ``ceil_mode`` the last window may hang over the end; the
    pixels it hangs over are added to the bottom/right padding (pb, pr), so
    the windows are the same strided slices as without it. The top/left
    padding (pt, pl) is always the ``padding`` given.
    """
    check_4d(x, op)
    kernel = pair(kernel_size, "kernel_size", op, 1)
    stride = kernel if stride is None else pair(stride, "stride", op, 1)
    dilation = pair(dilation, "dilation", op, 1)
    pad = pair(padding, "padding", op, 0)
    if pad[0] > kernel[0] // 2 or pad[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {pad} must be at most half the kernel size {kernel} "
                         f"(padding <= kernel_size // 2, as in PyTorch, whatever the dilation)")
    sizes = x.shape[2:]
    out_hw = tuple(pool_output_size(sizes[a], kernel[a], stride[a], pad[a], dilation[a], bool(ceil_mode))
                   for a in (0, 1))
    if min(out_hw) < 1:  # no window fits: geometry raises, saying by how much
        geometry(x.shape, kernel, stride, ((pad[0],) * 2, (pad[1],) * 2), dilation, op)
    pads = []
    for a in (0, 1):
        span = dilation[a] * (kernel[a] - 1) + 1
        overhang = max(0, (out_hw[a] - 1) * stride[a] + span - (sizes[a] + 2 * pad[a]))  # ceil_mode's last window
        pads.append((pad[a], pad[a] + overhang))
    return kernel, stride, tuple(pads), dilation, out_hw


def offset_slices(kernel: tuple, stride: tuple, out_hw: tuple, dilation: tuple = (1, 1)):
    """For every kernel offset (i, j): (i, j) and the strided slice of the padded input it reads.

    Fixing the offset and letting the window run over the output gives one
    strided slice, ``xpad[:, :, i*dh : ... : sh, j*dw : ... : sw]`` of shape
    (N, C, OH, OW): the pattern of im2col, col2im and every pooling.
    """
    (kh, kw), (sh, sw), (oh, ow), (dh, dw) = kernel, stride, out_hw, dilation
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            columns = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
            yield (i, j), (slice(None), slice(None), rows, columns)


def pad_array(x: Any, padding: Padding, value: float = 0.0) -> Any:
    """x (N, C, H, W) with ``value`` added around (padding ((top, bottom), (left, right)))."""
    (pt, pb), (pl, pr) = padding
    if pt == pb == pl == pr == 0:
        return x
    xp = get_array_module(x)
    n, c, h, w = x.shape
    out = xp.full((n, c, h + pt + pb, w + pl + pr), value, dtype=x.dtype)
    out[:, :, pt:pt + h, pl:pl + w] = x
    return out


def crop(xpad: Any, padding: Padding, h: int, w: int) -> Any:
    """The inverse of :func:`pad_array`'s placement: the (H, W) middle of a padded array."""
    (pt, _), (pl, _) = padding
    return xpad[:, :, pt:pt + h, pl:pl + w]
