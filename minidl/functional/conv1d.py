"""1-D convolution: a 2-D convolution of height 1.

A signal of length L with C channels (audio, a time series, a sentence of
word vectors) is an image of one row, (N, C, 1, L), and a kernel
(O, C/g, k) is a kernel of one row, (O, C/g, 1, k)::

    y[n, o, t] = b[o] + sum_{c, j} W[o, c, j] * xpad[n, c', t*s + j*d]

is conv2d's formula with the row index fixed at 0. So :func:`conv1d` adds the
row axis, calls :func:`~minidl.functional.conv.conv2d` with stride (1, s),
dilation (1, d) and padding (left, right, 0, 0), and takes the axis away:
three differentiable steps, so there is no new ``Function`` and no new
gradient to derive. The im2col, the matrix product, the backward and the
fast path are conv2d's.

Sizes: ``L_out = (L + p_left + p_right - d*(k - 1) - 1) // s + 1``.
"""
from __future__ import annotations

from typing import Any, Sequence, Union

from ..autograd import Tensor
from ..validate import positive_int
from .conv import check_channels, conv2d
from .shape import squeeze, unsqueeze

IntOrOne = Union[int, Sequence[int]]  # an int, or a 1-tuple as nn.Conv1d keeps it: (3,)


def single(value: Any, name: str, op: str, minimum: int) -> int:
    """An int, or a 1-tuple of one (PyTorch's nn.Conv1d keeps ``stride=(2,)``), of at least ``minimum``."""
    if isinstance(value, Sequence) and len(value) == 1:
        value = value[0]
    return positive_int(value, name, op, minimum)


def padding_1d(padding: Any, stride: int, op: str) -> Union[str, tuple]:
    """int, (p,), (left, right), "same" or "valid" -> "same" or (left, right)."""
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"{op}: padding must be an int, (left, right), 'same' or 'valid', got {padding!r}")
        if padding == "same" and stride != 1:
            raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
        return "same" if padding == "same" else (0, 0)
    if isinstance(padding, Sequence) and len(padding) == 2:
        return single(padding[0], "padding", op, 0), single(padding[1], "padding", op, 0)
    if isinstance(padding, Sequence) and len(padding) != 1:
        raise TypeError(f"{op}: padding must be an int, (left, right), 'same' or 'valid', got {padding!r}")
    p = single(padding, "padding", op, 0)
    return p, p


def conv1d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: IntOrOne = 1,
    padding: Union[IntOrOne, str] = 0,
    dilation: IntOrOne = 1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution, as a 2-D convolution of height 1 (see the module docstring).

    Shapes: x (N, C, L), weight (O, C/groups, k), bias (O,) -> (N, O, L_out) with
    L_out = (L + p_left + p_right - d*(k-1) - 1) // s + 1::

        y[n, o, t] = b[o] + sum_{c, j} W[o, c, j] * xpad[n, c', t*s + j*d]

    where c' runs over the input channels of o's group. ``stride`` and
    ``dilation`` are ints; ``padding`` an int (both ends), a (left, right)
    pair, "valid" (0) or "same" (L_out = L; stride 1). PyTorch's conv1d takes
    no pair: ``conv1d(x, w, padding=(l, r))`` here is ``conv1d(F.pad(x, (l, r)), w)`` there.
    """
    op = "conv1d"
    if len(x.shape) != 3:
        raise ValueError(f"{op}: input must be 3-D (N, C, L), got shape {tuple(x.shape)} ({len(x.shape)}-D)")
    if len(weight.shape) != 3:
        raise ValueError(
            f"{op}: weight must be 3-D (out_channels, in_channels/groups, k), got shape {tuple(weight.shape)}"
        )
    check_channels(op, x, weight, bias, groups)
    stride = single(stride, "stride", op, 1)
    dilation = single(dilation, "dilation", op, 1)
    padding = padding_1d(padding, stride, op)
    if padding != "same":
        left, right = padding
        span = dilation * (weight.shape[2] - 1) + 1
        if span > x.shape[2] + left + right:
            raise ValueError(
                f"{op}: the kernel ({weight.shape[2]}, dilation {dilation}) spans {span} positions, more than "
                f"the padded input's {x.shape[2] + left + right} (input shape {tuple(x.shape)}, padding {padding})"
            )
        padding = (left, right, 0, 0)  # as (left, right, top, bottom): nothing above or below the one row
    image = unsqueeze(x, 2)            # (N, C, 1, L)
    kernel = unsqueeze(weight, 2)      # (O, C/g, 1, k)
    y = conv2d(image, kernel, bias, (1, stride), padding, (1, dilation), groups)  # (N, O, 1, L_out)
    return squeeze(y, 2)               # (N, O, L_out)
