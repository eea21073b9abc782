"""Resizing images: ``F.interpolate`` with PyTorch's "nearest" and "bilinear" sampling.

Each output pixel reads the input at a *source coordinate*, found along H
and along W apart. Along one axis of n input pixels resized to m output
pixels, with ``scale = n / m`` (or ``1 / scale_factor`` when a scale factor
is given: PyTorch samples with the factor itself, not with n / m)::

    nearest                          src = min(floor(dst * scale), n - 1)
    bilinear, align_corners=False    src = max((dst + 0.5) * scale - 0.5, 0)
    bilinear, align_corners=True     src = dst * (n - 1) / (m - 1)      (0 when m = 1)

align_corners=False lines up the pixels' *edges* (pixel i covers [i, i + 1));
align_corners=True lines up the centres of the corner pixels, whatever the
scale factor (which then only sets m). The output size from a scale factor
is ``m = floor(n * scale_factor)``. Two shortcuts of PyTorch's (on the CPU)
change the scale: an axis that keeps its size (m = n) is copied, whatever
the factor, and nearest doubling (m = 2n) samples with scale 1/2.

**Nearest** copies: output pixel (i, j) is input pixel (rows[i], cols[j]),
a gather, so its gradient is the scatter-add of gy to those pixels (a pixel
copied to several outputs, as when enlarging, adds up all their gradients)::

    y = x[:, :, rows[:, None], cols[None, :]]          (N, C, OH, OW)
    gx[:, :, rows[:, None], cols[None, :]] += gy        (N, C, H, W)

**Bilinear** mixes the two neighbours i0 = floor(src) and i1 = min(i0 + 1,
n - 1) with the weights 1 - t and t, t = src - i0. Along one axis that is a
matrix A (m, n) with (at most) two non-zeros a row, and the rows and the
columns are interpolated independently, so the 4-neighbour weighted sum of
every output pixel is two matrix products, and the backward their transposes
(the same pattern as adaptive average pooling in ``pool.py``)::

    y  = A_h @ x @ A_w^T          (OH, H) @ (N, C, H, W) @ (W, OW) -> (N, C, OH, OW)
    gx = A_h^T @ gy @ A_w         (H, OH) @ (N, C, OH, OW) @ (OW, W) -> (N, C, H, W)

(A is dense, m*n numbers an axis: small for the images of a course.)
Source coordinates are computed as PyTorch computes them (nearest in
float32, bilinear in the input's float type), so ``floor`` picks the same
pixel as PyTorch's.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Optional, Sequence, Union

import numpy  # host-side coordinates and matrices only

from .. import backend
from ..autograd import Function, Tensor
from ..backend import get_array_module
from ._windows import check_4d
from .adjoint import Transposed

MODES = ("nearest", "bilinear")


def sampling_scale(n: int, m: int, scale_factor: Optional[float], mode: str, align_corners: bool) -> float:
    """The step between the source coordinates of neighbouring output pixels, PyTorch's rule (on the CPU).

    The table's scale, with PyTorch's two shortcuts: an axis that keeps its
    size (m = n) is copied, whatever the scale factor; nearest doubling
    (m = 2n) takes every pixel twice.
    """
    if mode == "bilinear" and align_corners:
        return (n - 1) / (m - 1) if m > 1 else 0.0
    if m == n:
        return 1.0
    if mode == "nearest" and m == 2 * n:
        return 0.5
    return 1.0 / scale_factor if scale_factor else n / m


def nearest_indices(n: int, m: int, scale_factor: Optional[float]) -> numpy.ndarray:
    """The input pixel (m,) each output pixel copies: min(floor(dst * scale), n - 1).

    In float32, as PyTorch computes it, so that floor lands on the same pixel.
    """
    scale = numpy.float32(sampling_scale(n, m, scale_factor, "nearest", False))
    src = numpy.arange(m, dtype=numpy.float32) * scale
    return numpy.minimum(numpy.floor(src).astype(numpy.int64), n - 1)


def linear_matrix(n: int, m: int, scale_factor: Optional[float], align_corners: bool, dtype: Any) -> numpy.ndarray:
    """A (m, n): row o holds 1 - t at i0 and t at i1, the two input pixels output pixel o mixes.

    The coordinates are computed in the input's float type, as PyTorch does.
    """
    dtype = numpy.dtype(dtype)
    scale = dtype.type(sampling_scale(n, m, scale_factor, "bilinear", align_corners))
    dst = numpy.arange(m, dtype=dtype)
    if align_corners:
        src = dst * scale
    else:
        src = numpy.maximum((dst + dtype.type(0.5)) * scale - dtype.type(0.5), 0)  # pixel edges line up
    i0 = numpy.minimum(numpy.floor(src.astype(numpy.float32)).astype(numpy.int64), n - 1)  # floorf, as PyTorch
    i1 = numpy.minimum(i0 + 1, n - 1)                       # the last pixel has no right neighbour
    t = numpy.clip(src - i0, 0, 1)
    a = numpy.zeros((m, n), dtype=dtype)
    rows = numpy.arange(m)
    numpy.add.at(a, (rows, i0), 1 - t)  # add, not set: i0 == i1 at the last pixel
    numpy.add.at(a, (rows, i1), t)
    return a


class UpsampleNearest2d(Function):
    """y = x at the pixels (rows[i], cols[j]);  gx = the scatter-add of gy to them (module docstring)."""

    def __init__(self, out_hw: tuple, scale_factors: tuple):
        self.out_hw, self.scale_factors = out_hw, scale_factors

    def forward(self, x):
        xp = get_array_module(x)
        self.x_shape = x.shape
        rows, cols = (xp.asarray(nearest_indices(n, m, s))
                      for n, m, s in zip(x.shape[2:], self.out_hw, self.scale_factors))
        self.places = (slice(None), slice(None), rows.reshape(-1, 1), cols.reshape(1, -1))
        return x[self.places]  # (N, C, OH, OW)

    def backward(self, gy):
        gx = get_array_module(gy).zeros(self.x_shape, dtype=gy.dtype)  # (N, C, H, W)
        backend.scatter_add(gx, self.places, gy)  # a pixel copied k times adds k gradients
        return gx

    def differentiable_backward(self, gy):  # linear in x: the adjoint is an op (functional/adjoint.py)
        return Transposed(self)(gy)


class UpsampleBilinear2d(Function):
    """y = A_h @ x @ A_w^T;  gx = A_h^T @ gy @ A_w (module docstring)."""

    def __init__(self, out_hw: tuple, scale_factors: tuple, align_corners: bool):
        self.out_hw, self.scale_factors, self.align_corners = out_hw, scale_factors, align_corners

    def forward(self, x):
        xp = get_array_module(x)
        self.a_h, self.a_w = (xp.asarray(linear_matrix(n, m, s, self.align_corners, x.dtype))
                              for n, m, s in zip(x.shape[2:], self.out_hw, self.scale_factors))  # (OH, H), (OW, W)
        return xp.matmul(xp.matmul(self.a_h, x), self.a_w.T)

    def backward(self, gy):
        xp = get_array_module(gy)
        return xp.matmul(xp.matmul(self.a_h.T, gy), self.a_w)

    def differentiable_backward(self, gy):  # linear in x: the adjoint is an op (functional/adjoint.py)
        return Transposed(self)(gy)


def _two(value: Any, name: str, op: str, kind: type) -> tuple:
    """A number or a pair of them (``kind``: int for sizes, float for factors), each > 0."""
    both = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(both) != 2:
        raise ValueError(f"{op}: {name} must be one number or one per spatial axis (H, W) of a 4-D input, "
                         f"got {value!r}")
    wanted = numbers.Integral if kind is int else numbers.Real
    if not all(isinstance(v, wanted) and not isinstance(v, bool) for v in both):
        raise TypeError(f"{op}: {name} must be {'an int' if kind is int else 'a number'} or a pair, got {value!r}")
    if not all(v > 0 and math.isfinite(v) for v in both):
        raise ValueError(f"{op}: {name} must be > 0, got {value!r}")
    return tuple(kind(v) for v in both)


def output_hw(x_shape: Sequence[int], size: Any, scale_factor: Any, op: str) -> tuple:
    """(OH, OW) and the scale factors to sample with ((None, None) when ``size`` is given)."""
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give exactly one of size or scale_factor, got "
                         f"{'both' if size is not None else 'neither'}")
    if size is not None:
        return _two(size, "size", op, int), (None, None)
    factors = _two(scale_factor, "scale_factor", op, float)
    out = tuple(math.floor(n * f) for n, f in zip(x_shape[2:], factors))
    if min(out) < 1:
        raise ValueError(f"{op}: scale_factor {scale_factor!r} makes the input's (H, W) {tuple(x_shape[2:])} "
                         f"an empty output {out}")
    return out, factors


def interpolate(
    x: Any,
    size: Optional[Union[int, Sequence[int]]] = None,
    scale_factor: Optional[Union[float, Sequence[float]]] = None,
    mode: str = "nearest",
    align_corners: Optional[bool] = None,
) -> Tensor:
    """Resize (N, C, H, W) images to ``size`` or by ``scale_factor``, PyTorch's ``F.interpolate`` (4-D).

    ``mode`` "nearest" (copy the nearest pixel) or "bilinear" (mix the four
    around); ``align_corners`` (bilinear only; None means False) as the
    module docstring says. With ``scale_factor`` the output is
    floor(H * scale_factor) by floor(W * scale_factor), sampled with the
    factor itself (PyTorch's ``recompute_scale_factor=None``).
    """
    op = "interpolate"
    x = x if isinstance(x, Tensor) else Tensor(x)
    if mode not in MODES:
        raise ValueError(f"{op}: mode must be one of {MODES}, got {mode!r}")
    check_4d(x, op)
    if mode == "nearest" and align_corners is not None:
        raise ValueError(f"{op}: align_corners is for the interpolating modes (bilinear); mode='nearest' "
                         f"takes align_corners=None, got {align_corners!r}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {x.dtype}")
    out, factors = output_hw(x.shape, size, scale_factor, op)
    if mode == "nearest":
        return UpsampleNearest2d(out, factors)(x)
    return UpsampleBilinear2d(out, factors, bool(align_corners))(x)
