"""Padding: ``F.pad(x, pad, mode="constant", value=0)``, as PyTorch's.

``pad`` lists (before, after) pairs starting from the *last* axis, as in
PyTorch: ``(left, right)`` pads the width, ``(left, right, top, bottom)``
the width and the height, and so on. Modes, on the row ``a b c d`` padded
by 2 on each side::

    constant   0 0 | a b c d | 0 0      (``value`` fills)
    reflect    c b | a b c d | c b      (mirror, not repeating the edge)
    replicate  a a | a b c d | d d      (repeat the edge)
    circular   c d | a b c d | a b      (wrap around)

Every mode but "constant" is a *gather*: output position i copies input
position ``src[i]``, where ``src`` is the padded row of indices
``0 1 ... n-1`` (NumPy's own ``pad`` computes it). So the gradient is the
adjoint of a gather, a scatter-add: each input position receives the sum of
the gradients of every output position that copied it. Here that adjoint is
written as a product with a 0/1 matrix, ``gx = gy @ G`` along the axis, with
``G[i, src[i]] = 1``: the matrix of the gather, transposed. For "constant"
the gradient is the middle of ``gy``.
"""
from __future__ import annotations

import copy
from typing import Any, Sequence

import numpy  # host-side index arithmetic only

from ..autograd import Function, Tensor, _as_tensors
from ..backend import get_array_module
from .adjoint import Transposed

MODES = ("constant", "reflect", "replicate", "circular")
_NUMPY_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _pairs(pad: Sequence[int], ndim: int) -> list:
    """PyTorch's flat list (last axis first) -> [(before, after)] for every axis, first axis first."""
    pairs = [(0, 0)] * ndim
    for k in range(len(pad) // 2):
        pairs[ndim - 1 - k] = (int(pad[2 * k]), int(pad[2 * k + 1]))
    return pairs


def _gather_matrix(n: int, before: int, after: int, mode: str) -> numpy.ndarray:
    """G (n + before + after, n) with G[i, src[i]] = 1: padding one axis as a matrix."""
    src = numpy.pad(numpy.arange(n), (before, after), mode=_NUMPY_MODE[mode])
    matrix = numpy.zeros((len(src), n))
    matrix[numpy.arange(len(src)), src] = 1.0
    return matrix


def _along(a: Any, matrix: Any, axis: int) -> Any:
    """Multiply axis ``axis`` of ``a`` by ``matrix`` (out, in): out[..., i, ...] = sum_j m[i, j] a[..., j, ...]."""
    xp = get_array_module(a)
    moved = xp.moveaxis(a, axis, -1)                  # (..., in)
    return xp.moveaxis(moved @ matrix.T, -1, axis)    # (..., out) -> back in place


class Pad(Function):
    """y = x with ``pairs[axis] = (before, after)`` elements added along each axis."""

    def __init__(self, pairs: list, mode: str, value: float):
        self.pairs, self.mode, self.value = pairs, mode, value

    def forward(self, x):
        xp = get_array_module(x)
        self.x_shape = x.shape
        if self.mode == "constant":
            shape = tuple(n + b + a for n, (b, a) in zip(x.shape, self.pairs))
            # zeros for 0: the system hands out zeroed pages without writing them
            y = xp.zeros(shape, dtype=x.dtype) if self.value == 0 else xp.full(shape, self.value, dtype=x.dtype)
            y[self._middle()] = x
            return y
        self.matrices = {}  # axis -> the gather matrix, kept for backward
        y = x
        for axis, (before, after) in enumerate(self.pairs):
            if before or after:
                matrix = xp.asarray(_gather_matrix(x.shape[axis], before, after, self.mode), dtype=x.dtype)
                self.matrices[axis] = matrix
                y = _along(y, matrix, axis)
        return y

    def backward(self, gy):
        if self.mode == "constant":
            return gy[self._middle()]
        gx = gy
        for axis, matrix in self.matrices.items():
            gx = _along(gx, matrix.T, axis)  # the transpose of the gather: a scatter-add
        return gx

    def differentiable_backward(self, gy):  # linear once the fill value is 0 (functional/adjoint.py)
        linear = copy.copy(self)
        linear.value = 0.0
        return Transposed(linear)(gy)


    def _middle(self) -> tuple:
        return tuple(slice(b, b + n) for n, (b, _) in zip(self.x_shape, self.pairs))


def pad(input: Any, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad ``input`` by ``pad`` = (before, after) pairs from the last axis backwards (PyTorch's order).

    Examples: ``pad(x, (1, 1))`` adds a column on each side of an (N, C, H, W)
    batch; ``pad(x, (0, 1, 0, 1))`` one column on the right and one row at the
    bottom (TensorFlow's "same" padding for a stride-2 3x3 kernel on an even
    size). ``mode`` is "constant" (filled with ``value``), "reflect",
    "replicate" or "circular" (see the module's docstring).

    Raises:
        ValueError: an odd-length or too long ``pad``, a negative amount, an
            unknown mode, a reflect pad not smaller than the axis, or a
            circular pad larger than it.
    """
    (x,) = _as_tensors([input])
    if mode not in MODES:
        raise ValueError(f"pad: mode must be one of {', '.join(MODES)}; got {mode!r}")
    pad = tuple(pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim or not all(isinstance(p, (int, numpy.integer)) for p in pad):
        raise ValueError(f"pad: pad must be (before, after) integer pairs for at most {x.ndim} axes "
                         f"(last axis first); got {pad}")
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative padding (cropping) is not supported; got {pad}")
    pairs = _pairs(pad, x.ndim)
    for axis, (before, after) in enumerate(pairs):
        n = x.shape[axis]
        if mode == "reflect" and max(before, after) >= n and (before or after):
            raise ValueError(f"pad: reflect padding must be smaller than the axis; axis {axis} has {n}, "
                             f"padding {(before, after)}")
        if mode == "circular" and max(before, after) > n:
            raise ValueError(f"pad: circular padding must be at most the axis' size; axis {axis} has {n}, "
                             f"padding {(before, after)}")
        if mode == "replicate" and n == 0 and (before or after):
            raise ValueError(f"pad: cannot replicate the edge of an empty axis {axis}")
    return Pad(pairs, mode, float(value))(x)
