"""Geometric ops: each image gets its own affine matrix, applied by inverse mapping.

Coordinates are pixel coordinates: x is the column, y the row (pointing
down), pixel centres sit on integers, and every op acts about the image centre
c = ((W - 1) / 2, (H - 1) / 2). An op is a forward matrix per image, a 3x3
``M`` (N, 3, 3) that sends an input point p to the output point M p.

Sampling runs the other way round (inverse mapping): for every output pixel q
we ask where it came from, p = M^-1 q, and read the input there by bilinear
interpolation of the four pixels around p. Reading (instead of writing)
leaves no holes, and because matrices compose (M = M2 @ M1 is op 1, then op 2),
:class:`~minidl.augment.Compose` multiplies the matrices of consecutive
geometric ops and samples once: one interpolation (one blur) and one fill,
however many ops.

Where p falls outside the image the ``fill_mode`` decides what is read, as in
Keras (the input ``a b c d`` extended to the left and right):

==========  ===========================  =====================================
fill_mode   extension                    note
==========  ===========================  =====================================
"reflect"   d c b a | a b c d | d c b a  mirror about the edge (Keras' default)
"nearest"   a a a a | a b c d | d d d d  repeat the edge pixel
"wrap"      a b c d | a b c d | a b c d  tile the image
"constant"  k k k k | a b c d | k k k k  k = ``fill_value``
==========  ===========================  =====================================

The sampler pads the batch by this extension first, as far as the samples
reach, and interpolates in the padded image: a sample half a pixel outside
the image blends the edge pixel with its extension (with "constant", with k).
"""
from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional, Sequence

import numpy

from .. import backend, strict
from ..validate import pair
from .base import Range, Transform, as_range, check_probability, uniform

FILL_MODES = ("reflect", "nearest", "wrap", "constant")
INTERPOLATIONS = ("bilinear", "nearest")


# ----------------------------------------------------------------- matrices
def about_center(linear: numpy.ndarray, shift: numpy.ndarray, shape: tuple) -> numpy.ndarray:
    """Forward matrices (N, 3, 3) for ``p -> L (p - c) + c + t`` (L: (N, 2, 2), t: (N, 2))."""
    h, w = shape[-2:]
    c = numpy.array([(w - 1) / 2.0, (h - 1) / 2.0])
    m = numpy.zeros((len(linear), 3, 3))
    m[:, :2, :2] = linear
    m[:, :2, 2] = c + shift - linear @ c  # (N, 2)
    m[:, 2, 2] = 1.0
    return m


def rotation_matrix(degrees: numpy.ndarray) -> numpy.ndarray:
    """(N, 2, 2): counter-clockwise on screen (y points down) by ``degrees``."""
    t = numpy.deg2rad(degrees)
    cos, sin = numpy.cos(t), numpy.sin(t)
    return numpy.stack([numpy.stack([cos, sin], -1), numpy.stack([-sin, cos], -1)], -2)


def shear_matrix(degrees: numpy.ndarray) -> numpy.ndarray:
    """(N, 2, 2): x' = x + tan(a) y, so vertical lines lean counter-clockwise by ``degrees``."""
    m = numpy.zeros((len(degrees), 2, 2))
    m[:, 0, 0] = m[:, 1, 1] = 1.0
    m[:, 0, 1] = numpy.tan(numpy.deg2rad(degrees))
    return m


def scale_matrix(factor: numpy.ndarray) -> numpy.ndarray:
    """(N, 2, 2): factor > 1 enlarges the content (zooms in)."""
    return factor[:, None, None] * numpy.eye(2)


def identity_matrices(n: int) -> numpy.ndarray:
    return numpy.broadcast_to(numpy.eye(3), (n, 3, 3)).copy()


# ------------------------------------------------------------------ sampling
_PAD_MODE = {"constant": "constant", "nearest": "edge", "reflect": "symmetric", "wrap": "wrap"}


def _margins(s: Any, size: int, fill_mode: str) -> tuple:
    """How far to pad one axis, and where to clamp the left neighbour's index.

    With the image padded by the fill mode, the four neighbours of every
    sample lie inside the padded image, so no index ever needs mapping:
    "constant" pads two rings of the fill value and clamps indices into them
    (a sample far outside reads fill on both sides); "nearest" pads one ring
    of edge pixels and clamps likewise; "reflect" and "wrap" pad as far as the
    samples reach (numpy's "symmetric" and "wrap" pads are those extensions).
    Returns (pad_before, pad_after, lowest, highest) for floor(s).
    """
    if fill_mode == "constant":
        return 2, 2, -2, size
    if fill_mode == "nearest":
        return 1, 1, -1, size - 1
    lo, hi = math.floor(float(s.min())), math.floor(float(s.max()))
    before, after = max(0, -lo), max(0, hi + 2 - size)
    return before, after, -before, size - 2 + after


_scratch = threading.local()  # per thread: the DataLoader may augment in a background thread


def scratch(name: str, shape: tuple, dtype: Any, like: Any) -> Any:
    """A reusable work array (uninitialised) of ``shape`` on ``like``'s device.

    Why: the sampler needs a dozen temporaries the size of the batch. Freshly
    allocated each call, every one of them is new memory the operating system
    hands over page by page, and that cost more than the arithmetic (4 ms of
    5 for 256 images of 28x28). So each name keeps one flat buffer per thread,
    grown when a bigger one is asked for, and a view of its start is returned
    (shapes vary: the last batch is smaller, reflect padding follows the draws).
    """
    store = _scratch.__dict__.setdefault("arrays", {})
    dtype = numpy.dtype(dtype)
    size = math.prod(shape)
    key = (name, dtype.str, backend.device_of(like))
    buffer = store.get(key)
    if buffer is None or buffer.size < size:
        buffer = store[key] = backend.get_array_module(like).empty(max(size, int(size * 1.25)), dtype=dtype)
    return buffer[:size].reshape(shape)


def pad_into(x: Any, out: Any, before: tuple, fill_mode: str, fill_value: float = 0.0) -> Any:
    """Pad ``x`` (N, C, H, W) into ``out`` by the fill mode (Keras' extensions, see the module docstring).

    ``before`` = (rows above, columns left); the rest of ``out`` is the after-padding.
    Rows are padded after columns, so the corners come out right.
    """
    xp = backend.get_array_module(x)
    h, w = x.shape[2:]
    yb, xb = before
    ya, xa = out.shape[2] - h - yb, out.shape[3] - w - xb
    if fill_mode != "constant" and (max(yb, ya) > h or max(xb, xa) > w):  # pads wider than the image
        out[...] = xp.pad(x, ((0, 0), (0, 0), (yb, ya), (xb, xa)), mode=_PAD_MODE[fill_mode])
        return out
    out[:, :, yb:yb + h, xb:xb + w] = x
    if fill_mode == "constant":
        out[:, :, :yb] = fill_value
        out[:, :, yb + h:] = fill_value
        out[:, :, yb:yb + h, :xb] = fill_value
        out[:, :, yb:yb + h, xb + w:] = fill_value
        return out
    core = out[:, :, yb:yb + h]  # the image's rows, padded along the columns first

    def source(axis_len: int, before_n: int, after_n: int, arr: Any, axis: int) -> tuple:
        take = lambda a, b: arr[:, :, :, a:b] if axis == 3 else arr[:, :, a:b]  # noqa: E731
        flip = (lambda a: a[:, :, :, ::-1]) if axis == 3 else (lambda a: a[:, :, ::-1])  # noqa: E731
        if fill_mode == "nearest":
            return take(0, 1), take(axis_len - 1, axis_len)
        if fill_mode == "reflect":
            return flip(take(0, before_n)), flip(take(axis_len - after_n, axis_len))
        return take(axis_len - before_n, axis_len), take(0, after_n)  # wrap

    left, right = source(w, xb, xa, x, 3)
    if xb:
        core[:, :, :, :xb] = left
    if xa:
        core[:, :, :, xb + w:] = right
    inner = out[:, :, yb:yb + h]
    top, bottom = source(h, yb, ya, inner, 2)
    if yb:
        out[:, :, :yb] = top
    if ya:
        out[:, :, yb + h:] = bottom
    return out


_threads = {"count": min(2, os.cpu_count() or 1), "pool": None}


def set_num_threads(count: int) -> None:
    """How many CPU threads :func:`warp` splits a large NumPy batch over (default: up to 2).

    NumPy's gathers and arithmetic release the GIL, so parts of a batch run
    truly in parallel. Ignored for CuPy (the GPU is parallel already).
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be an int >= 1, got {count!r}")
    _threads["count"] = count


def _pool() -> ThreadPoolExecutor:
    """The worker threads, kept for the life of the process: each keeps its own scratch buffers."""
    pool = _threads["pool"]
    if pool is None or pool._max_workers < _threads["count"]:
        if pool is not None:
            pool.shutdown(wait=False)
        pool = _threads["pool"] = ThreadPoolExecutor(_threads["count"], thread_name_prefix="minidl-warp")
    return pool


def warp(x: Any, matrices: numpy.ndarray, fill_mode: str = "reflect", fill_value: float = 0.0,
         interpolation: str = "bilinear") -> Any:
    """Apply one forward affine matrix per image, by inverse-mapped sampling.

    Args:
        x: images (N, C, H, W), any backend.
        matrices: host array (N, 3, 3), forward maps in pixel coordinates.
        fill_mode, fill_value: what is read outside the image (module docstring).
        interpolation: "bilinear" or "nearest".

    Returns a new array (N, C, H, W) on x's device. On the CPU a large batch
    is cut in parts that run in parallel threads (see :func:`set_num_threads`).
    """
    if fill_mode not in FILL_MODES:
        raise ValueError(f"fill_mode must be one of {FILL_MODES}, got {fill_mode!r}")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
    matrices = numpy.asarray(matrices, dtype=numpy.float64)
    if matrices.shape != (x.shape[0], 3, 3):
        raise ValueError(f"matrices must have shape ({x.shape[0]}, 3, 3), got {matrices.shape}")
    inv = numpy.linalg.inv(matrices)  # output pixel -> input pixel
    xp = backend.get_array_module(x)
    out = xp.empty(x.shape, dtype=x.dtype)
    n = x.shape[0]
    parts = min(_threads["count"], max(1, x.size // 50_000)) if xp is numpy else 1
    if parts == 1:
        _warp_part(x, inv, out, fill_mode, fill_value, interpolation)
        return out
    cuts = numpy.linspace(0, n, parts + 1).astype(int)
    jobs = [_pool().submit(_warp_part, x[a:b], inv[a:b], out[a:b], fill_mode, fill_value, interpolation)
            for a, b in zip(cuts[:-1], cuts[1:]) if b > a]
    for job in jobs:
        job.result()  # re-raises an error from the thread
    return out


def _warp_part(x: Any, inv: numpy.ndarray, out: Any, fill_mode: str, fill_value: float, interpolation: str) -> None:
    """Sample ``x`` at ``inv`` @ (every output pixel) into ``out``; all images at once.

    The steps: the source coordinates of every output pixel (N, H, W); the
    batch padded by the fill mode; one flat index per output pixel (its
    top-left neighbour in the flattened padded batch); then the four
    neighbours are gathered with ``xp.take``, from views of the flat batch
    shifted by 0, 1, Wp and Wp + 1 elements, and added up with their bilinear
    weights. Work arrays are reused between calls (see :func:`scratch`).
    """
    xp = backend.get_array_module(x)
    n, c, h, w = x.shape
    dtype = x.dtype

    # Source coordinates. The grid is separable (columns times rows), so
    # s[n, r, q] = a[n] q + (b[n] r + t[n]) costs one full-size add.
    def coord(row: int, name: str) -> Any:
        a, b, t = (xp.asarray(inv[:, row, k].astype(dtype).reshape(n, 1, 1)) for k in range(3))
        along_x = a * xp.arange(w, dtype=dtype).reshape(1, 1, w)  # (N, 1, W)
        along_y = b * xp.arange(h, dtype=dtype).reshape(1, h, 1) + t  # (N, H, 1)
        return xp.add(along_x, along_y, out=scratch(name, (n, h, w), dtype, x))  # (N, H, W)

    sx, sy = coord(0, "sx"), coord(1, "sy")
    if interpolation == "nearest":  # the nearest pixel is the left neighbour of s + 1/2
        sx += 0.5
        sy += 0.5
    x_before, x_after, x_lo, x_hi = _margins(sx, w, fill_mode)
    y_before, y_after, y_lo, y_hi = _margins(sy, h, fill_mode)
    hp, wp = h + y_before + y_after, w + x_before + x_after
    padded = pad_into(x, scratch("padded", (n, c, hp, wp), dtype, x), (y_before, x_before), fill_mode, fill_value)
    flat = padded.reshape(-1)

    # Left/top neighbour, clamped into the padded image; the weights are the fractional parts.
    x0 = xp.floor(sx, out=scratch("x0", (n, h, w), dtype, x))
    y0 = xp.floor(sy, out=scratch("y0", (n, h, w), dtype, x))
    fx, fy = xp.subtract(sx, x0, out=sx), xp.subtract(sy, y0, out=sy)  # sx, sy become the weights
    xp.clip(x0, x_lo, x_hi, out=x0)
    xp.clip(y0, y_lo, y_hi, out=y0)
    # flat index of (image i, channel 0, row y0, column x0) in the padded batch:
    # i C Hp Wp + (y0 + y_before) Wp + (x0 + x_before). Float32 holds whole
    # numbers exactly up to 2**24; beyond that the index is formed in float64.
    big = numpy.float64 if flat.size >= 2**24 else dtype
    image_start = (xp.arange(n, dtype=big) * (c * hp * wp) + (y_before * wp + x_before)).reshape(n, 1, 1)
    index_f = y0 if big == dtype else y0.astype(big)
    index_f *= wp
    index_f += x0
    index_f += image_start
    index = scratch("index", (n, h, w), numpy.intp, x)
    index[...] = index_f  # the one conversion to integers
    if c > 1:  # every channel: the same pixels, Hp Wp further on
        chan = xp.arange(0, c * hp * wp, hp * wp).reshape(1, c, 1, 1)
        index = xp.add(index.reshape(n, 1, h, w), chan, out=scratch("index_c", (n, c, h, w), numpy.intp, x))
    index = index.reshape(n, c, h, w)

    # NumPy: mode="wrap" never wraps here (every index is inside the padded batch)
    # but skips the bounds check that mode="raise" buffers the output for: 2x faster.
    # CuPy's take has no mode (and checks nothing).
    take_mode = {"mode": "wrap"} if xp is numpy or xp is strict else {}

    def take(view: Any, into: Any) -> Any:
        return xp.take(view, index, out=into, **take_mode)

    if interpolation == "nearest":
        take(flat, out)
        return
    # bilinear weights (N, 1, H, W), one per neighbour, computed once for all channels
    fx, fy = fx.reshape(n, 1, h, w), fy.reshape(n, 1, h, w)
    w11 = xp.multiply(fx, fy, out=scratch("w11", (n, 1, h, w), dtype, x))
    w01 = xp.subtract(fx, w11, out=x0.reshape(n, 1, h, w))  # fx (1 - fy)
    w10 = xp.subtract(fy, w11, out=y0.reshape(n, 1, h, w))  # (1 - fx) fy
    w00 = fx  # (1 - fx)(1 - fy) = 1 - fx - fy + fx fy, written over fx (used no more)
    w00 -= 1.0
    w00 += fy
    w00 -= w11
    w00 *= -1.0
    take(flat, out)
    out *= w00
    v = scratch("v", (n, c, h, w), dtype, x)  # one buffer for the other three neighbours
    for offset, weight in ((1, w01), (wp, w10), (wp + 1, w11)):
        take(flat[offset:], v)
        v *= weight
        out += v


# -------------------------------------------------------------- the ops
class GeometricTransform(Transform):
    """An op given by one forward matrix per image (``matrices``), applied with :func:`warp`.

    ``fill_mode``, ``fill_value`` and ``interpolation`` say how to sample (see
    the module docstring). Compose fuses consecutive ops whose settings agree.
    """

    geometric = True

    def __init__(self, fill_mode: str = "reflect", fill_value: float = 0.0, interpolation: str = "bilinear",
                 seed: Optional[int] = None):
        super().__init__(seed)
        if fill_mode not in FILL_MODES:
            raise ValueError(f"fill_mode must be one of {FILL_MODES}, got {fill_mode!r}")
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
        self.fill_mode, self.fill_value, self.interpolation = fill_mode, float(fill_value), interpolation

    @property
    def sampling(self) -> Optional[tuple]:
        """The sampling settings; None means any (an op that maps pixels onto pixels)."""
        return (self.fill_mode, self.fill_value, self.interpolation)

    def matrices(self, params: dict, shape: tuple) -> numpy.ndarray:
        """Forward matrices (N, 3, 3), host float64."""
        raise NotImplementedError

    def apply(self, x: Any, params: dict) -> Any:
        return warp(x, self.matrices(params, tuple(x.shape)), self.fill_mode, self.fill_value, self.interpolation)


class RandomFlip(GeometricTransform):
    """Mirror each image with probability ``p``.

    ``mode``: "horizontal" (left-right), "vertical" (up-down) or "both" (each
    axis decided on its own, as Keras' "horizontal_and_vertical", also accepted).
    Alone it swaps pixels (exact, no interpolation); inside Compose its matrix
    joins the other geometric ops' for free.
    """

    def __init__(self, mode: str = "horizontal", p: float = 0.5, seed: Optional[int] = None):
        super().__init__(seed=seed)
        mode = {"horizontal_and_vertical": "both"}.get(mode, mode)
        if mode not in ("horizontal", "vertical", "both"):
            raise ValueError(f"mode must be 'horizontal', 'vertical' or 'both', got {mode!r}")
        self.mode, self.p = mode, check_probability(p)

    @property
    def sampling(self) -> Optional[tuple]:
        return None  # a flip maps pixel centres onto pixel centres: it fits any settings

    def sample(self, n: int, shape: tuple) -> dict:
        u = self.rng.random((n, 2))
        return {"horizontal": (u[:, 0] < self.p) & (self.mode != "vertical"),
                "vertical": (u[:, 1] < self.p) & (self.mode != "horizontal")}

    def matrices(self, params: dict, shape: tuple) -> numpy.ndarray:
        sx = numpy.where(params["horizontal"], -1.0, 1.0)
        sy = numpy.where(params["vertical"], -1.0, 1.0)
        linear = numpy.zeros((len(sx), 2, 2))
        linear[:, 0, 0], linear[:, 1, 1] = sx, sy
        return about_center(linear, numpy.zeros((len(sx), 2)), shape)

    def apply(self, x: Any, params: dict) -> Any:
        xp = backend.get_array_module(x)
        n = x.shape[0]
        out = x
        for key, axis in (("horizontal", 3), ("vertical", 2)):
            if params[key].any():
                mask = xp.asarray(params[key].reshape(n, 1, 1, 1))
                out = xp.where(mask, xp.flip(out, axis=axis), out)
        return out.copy() if out is x else out


class RandomRotation(GeometricTransform):
    """Rotate each image by an angle drawn from U(-degrees, degrees) (or U(lo, hi) for a pair).

    Degrees, counter-clockwise on screen, about the centre; (90, 90) is ``np.rot90``.
    """

    def __init__(self, degrees: Range, fill_mode: str = "reflect", fill_value: float = 0.0,
                 interpolation: str = "bilinear", seed: Optional[int] = None):
        super().__init__(fill_mode, fill_value, interpolation, seed)
        self.degrees = as_range(degrees, "degrees")

    def sample(self, n: int, shape: tuple) -> dict:
        return {"angle": uniform(self.rng, self.degrees, n)}

    def matrices(self, params: dict, shape: tuple) -> numpy.ndarray:
        angle = params["angle"]
        return about_center(rotation_matrix(angle), numpy.zeros((len(angle), 2)), shape)


class RandomShift(GeometricTransform):
    """Translate each image by fractions of its size, as Keras' width/height_shift_range.

    ``width``: a fraction f of the width (shift drawn from U(-f, f) W), or a
    pair (lo, hi); the same for ``height``. Positive moves the content right / down.
    """

    def __init__(self, width: Range = 0.0, height: Range = 0.0, fill_mode: str = "reflect",
                 fill_value: float = 0.0, interpolation: str = "bilinear", seed: Optional[int] = None):
        super().__init__(fill_mode, fill_value, interpolation, seed)
        self.width, self.height = as_range(width, "width"), as_range(height, "height")

    def sample(self, n: int, shape: tuple) -> dict:
        return {"dx": uniform(self.rng, self.width, n), "dy": uniform(self.rng, self.height, n)}

    def matrices(self, params: dict, shape: tuple) -> numpy.ndarray:
        h, w = shape[-2:]
        n = len(params["dx"])
        shift = numpy.stack([params["dx"] * w, params["dy"] * h], -1)
        return about_center(numpy.broadcast_to(numpy.eye(2), (n, 2, 2)), shift, shape)


class RandomZoom(GeometricTransform):
    """Scale each image about its centre by a factor from U(1 - amount, 1 + amount) (or a pair).

    A factor above 1 enlarges the content (zooms in), below 1 shrinks it.
    """

    def __init__(self, amount: Range, fill_mode: str = "reflect", fill_value: float = 0.0,
                 interpolation: str = "bilinear", seed: Optional[int] = None):
        super().__init__(fill_mode, fill_value, interpolation, seed)
        lo, hi = as_range(amount, "amount", center=1.0)
        if lo <= 0:
            raise ValueError(f"amount must keep the zoom factor > 0, got the factor range ({lo}, {hi})")
        self.factor = (lo, hi)

    def sample(self, n: int, shape: tuple) -> dict:
        return {"factor": uniform(self.rng, self.factor, n)}

    def matrices(self, params: dict, shape: tuple) -> numpy.ndarray:
        f = params["factor"]
        return about_center(scale_matrix(f), numpy.zeros((len(f), 2)), shape)


class RandomShear(GeometricTransform):
    """Shear each image horizontally by an angle from U(-degrees, degrees) (or a pair).

    x' = x + tan(angle) y about the centre: rows slide sideways, vertical lines
    lean counter-clockwise by the angle. |angle| must stay below 90.
    """

    def __init__(self, degrees: Range, fill_mode: str = "reflect", fill_value: float = 0.0,
                 interpolation: str = "bilinear", seed: Optional[int] = None):
        super().__init__(fill_mode, fill_value, interpolation, seed)
        self.degrees = _shear_range(degrees, "degrees")

    def sample(self, n: int, shape: tuple) -> dict:
        return {"shear": uniform(self.rng, self.degrees, n)}

    def matrices(self, params: dict, shape: tuple) -> numpy.ndarray:
        s = params["shear"]
        return about_center(shear_matrix(s), numpy.zeros((len(s), 2)), shape)


def _shear_range(value: Range, name: str) -> tuple:
    lo, hi = as_range(value, name)
    if max(abs(lo), abs(hi)) >= 90:
        raise ValueError(f"{name} must stay within (-90, 90) degrees, got ({lo}, {hi})")
    return (lo, hi)


class RandomAffine(GeometricTransform):
    """Rotation, translation, scale and shear in one matrix per image (torchvision's order).

    M = T(c + t) R(angle) Sh(shear) S(scale) T(-c): scale first, then shear,
    rotate, and translate last.

    Args:
        degrees: rotation as in RandomRotation (float a -> U(-a, a), or a pair).
        translate: (fx, fy) largest shifts as fractions of width and height, or None.
        scale: (lo, hi) zoom factor range, or None (factor 1).
        shear: horizontal shear angle as in RandomShear, or 0.
    """

    def __init__(self, degrees: Range = 0.0, translate: Optional[Sequence[float]] = None,
                 scale: Optional[Sequence[float]] = None, shear: Range = 0.0, fill_mode: str = "reflect",
                 fill_value: float = 0.0, interpolation: str = "bilinear", seed: Optional[int] = None):
        super().__init__(fill_mode, fill_value, interpolation, seed)
        self.degrees = as_range(degrees, "degrees")
        if translate is None:
            translate = (0.0, 0.0)
        if len(translate) != 2 or any(not 0 <= t <= 1 for t in translate):
            raise ValueError(f"translate must be a pair of fractions in [0, 1], got {translate!r}")
        self.translate = (float(translate[0]), float(translate[1]))
        self.scale = (1.0, 1.0) if scale is None else as_range(scale, "scale")
        if self.scale[0] <= 0:
            raise ValueError(f"scale must be a range of factors > 0, got {scale!r}")
        self.shear = _shear_range(shear, "shear")

    def sample(self, n: int, shape: tuple) -> dict:
        tx, ty = self.translate
        return {"angle": uniform(self.rng, self.degrees, n),
                "dx": uniform(self.rng, (-tx, tx), n), "dy": uniform(self.rng, (-ty, ty), n),
                "scale": uniform(self.rng, self.scale, n), "shear": uniform(self.rng, self.shear, n)}

    def matrices(self, params: dict, shape: tuple) -> numpy.ndarray:
        h, w = shape[-2:]
        linear = rotation_matrix(params["angle"]) @ shear_matrix(params["shear"]) @ scale_matrix(params["scale"])
        shift = numpy.stack([params["dx"] * w, params["dy"] * h], -1)
        return about_center(linear, shift, shape)


class RandomCrop(Transform):
    """Pad each image by ``padding`` (constant ``fill_value``), then cut a random ``size`` window.

    ``size``: int or (h, w); ``padding``: int or (ph, pw) added on every side.
    The output is (N, C, h, w). Pixels are copied exactly (integer offsets,
    one gather for the batch); CIFAR's classic is RandomCrop(32, padding=4).
    """

    def __init__(self, size: Any, padding: Any = 0, fill_value: float = 0.0, seed: Optional[int] = None):
        super().__init__(seed)
        self.size = pair(size, "size", "RandomCrop", minimum=1)
        self.padding = pair(padding, "padding", "RandomCrop", minimum=0)
        self.fill_value = float(fill_value)

    def sample(self, n: int, shape: tuple) -> dict:
        h, w = shape[-2:]
        (ph, pw), (ch, cw) = self.padding, self.size
        if ch > h + 2 * ph or cw > w + 2 * pw:
            raise ValueError(
                f"size {self.size} is larger than the padded image ({h + 2 * ph}, {w + 2 * pw}) "
                f"(image {h}x{w}, padding {self.padding})"
            )
        return {"top": self.rng.integers(0, h + 2 * ph - ch + 1, n),
                "left": self.rng.integers(0, w + 2 * pw - cw + 1, n)}

    def apply(self, x: Any, params: dict) -> Any:
        xp = backend.get_array_module(x)
        n, c = x.shape[:2]
        (ph, pw), (ch, cw) = self.padding, self.size
        if ph or pw:
            x = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), mode="constant", constant_values=self.fill_value)
        hp, wp = x.shape[2:]
        if ch > hp or cw > wp:
            raise ValueError(f"size {self.size} is larger than the padded image ({hp}, {wp})")
        # flat index of the window's top-left pixel, per image and channel, plus the window's offsets
        corner = ((numpy.arange(n) * c)[:, None] + numpy.arange(c)) * (hp * wp)  # (N, C)
        corner = corner + (params["top"] * wp + params["left"])[:, None]
        window = numpy.arange(ch)[:, None] * wp + numpy.arange(cw)  # (ch, cw)
        idx = xp.asarray(corner.reshape(n, c, 1, 1)) + xp.asarray(window)
        return xp.take(x.reshape(-1), idx)

