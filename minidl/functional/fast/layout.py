"""Memory layouts of images: which order an (N, C, H, W) array's axes run through memory.

NumPy's elementwise loops are fastest when every operand runs through memory
in the same order, and they run one loop per innermost run of memory: long
runs are fast, short ones pay a start-up cost each. The convolution's fast
path (:mod:`.conv`) therefore returns its outputs in a layout of its own,
and the ops that meet them (ReLU, pooling, the next convolution) allocate
their results and gradients in the same layout, with :func:`new_image`.
An operand that comes in another layout is copied into it first
(:func:`in_order`): one copy is many times cheaper than an elementwise loop
over mismatched layouts (7 ms against 0.4 ms on a (128, 32, 13, 13) array).
"""
from __future__ import annotations

from typing import Any, Optional

from ...backend import get_array_module

# The order in which an (N, C, H, W) array's axes run through memory, as a permutation:
PLAIN = (0, 1, 2, 3)           # (N, C, H, W): what users and most ops make
CHANNELS_OUTER = (1, 0, 2, 3)  # (C, N, H, W): conv outputs, large images
BATCH_INNER = (1, 2, 3, 0)     # (C, H, W, N): conv outputs in training, small images


def lies_as(x: Any, order: tuple) -> bool:
    """True when ``x.transpose(order)`` is contiguous: x's memory runs in that order of axes."""
    expected = x.dtype.itemsize  # bytes to step along the innermost axis
    for axis in reversed(order):
        if x.shape[axis] != 1 and x.strides[axis] != expected:
            return False
        expected *= x.shape[axis]
    return True


def channels_outer(x: Any) -> bool:
    """True when x (N, C, H, W) lies in memory as (C, N, H, W) (conv outputs of large images do)."""
    return x.ndim == 4 and x.shape[0] > 1 and x.shape[1] > 1 and lies_as(x, CHANNELS_OUTER)


def batch_inner(x: Any) -> bool:
    """True when x (N, C, H, W) lies in memory as (C, H, W, N) (conv outputs of small images in training)."""
    return x.ndim == 4 and x.shape[0] > 1 and lies_as(x, BATCH_INNER)


def memory_order(x: Any) -> tuple:
    """BATCH_INNER, CHANNELS_OUTER or PLAIN: the order to allocate x's companions in."""
    return BATCH_INNER if batch_inner(x) else CHANNELS_OUTER if channels_outer(x) else PLAIN


def outer_axis(x: Any) -> int:
    """The axis of x that runs outermost in memory: 1 (the channels) for conv outputs
    (CHANNELS_OUTER, BATCH_INNER), else 0. Threads split arrays along it (:mod:`.threads`),
    so that each thread's share is one block of memory."""
    return 1 if x.ndim == 4 and memory_order(x) != PLAIN else 0


def rows_of(x: Any, axis: int, rows: slice) -> Any:
    """``x[rows]`` along ``axis`` (0 or 1): a thread's share (:func:`outer_axis`)."""
    return x[rows] if axis == 0 else x[:, rows]


def new_image(xp, shape: tuple, dtype, order: Any = PLAIN, value: Optional[float] = 0.0) -> Any:
    """A new (N, C, H, W) array filled with ``value`` (``None``: left unfilled), its memory in
    ``order`` (a permutation above; ``True`` means CHANNELS_OUTER): allocated so, returned as the
    (N, C, H, W) view.

    Elementwise ops are fastest when all their operands share one memory
    order, so padded inputs and gradients are built in the order of the
    activations they meet.
    """
    order = CHANNELS_OUTER if order is True else PLAIN if order is False else tuple(order)
    memory_shape = tuple(shape[axis] for axis in order)
    # zeros, not full(0): the system hands out zeroed pages without writing them
    if value is None:
        out = xp.empty(memory_shape, dtype=dtype)
    else:
        out = xp.zeros(memory_shape, dtype=dtype) if value == 0 else xp.full(memory_shape, value, dtype=dtype)
    return out.transpose(from_memory(order))


def from_memory(order: tuple) -> tuple:
    """The axes that turn an array laid out in ``order``'s memory shape back into (N, C, H, W):
    ``m.transpose(from_memory(order))`` undoes ``a.transpose(order)``."""
    return tuple(order.index(axis) for axis in range(4))


def pad_like(x: Any, padding, value: float = 0.0, order: Any = None) -> Any:
    """Pad the last two axes of x (N, C, H, W) with ``value``; padding ((top, bottom), (left, right)).
    The result lies in memory in ``order`` (by default x's own)."""
    (pt, pb), (pl, pr) = padding
    if pt == pb == pl == pr == 0 and order in (None, memory_order(x)):
        return x
    n, c, h, w = x.shape
    order = memory_order(x) if order is None else order
    out = new_image(get_array_module(x), (n, c, h + pt + pb, w + pl + pr), x.dtype, order, value)
    out[:, :, pt : pt + h, pl : pl + w] = x
    return out


def in_order(a: Any, order: tuple) -> Any:
    """a (N, C, H, W) itself when its memory runs in ``order``, else a copy laid out so."""
    if lies_as(a, order):
        return a
    out = new_image(get_array_module(a), a.shape, a.dtype, order, value=None)
    out[...] = a
    return out
