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

A sample half a pixel outside the image blends the edge pixel with its
extension (with "constant", with k). :func:`sample` is the readable
sampler; :mod:`minidl.augment.fast` computes the same faster (``warp``
chooses).
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy

from .. import backend
from ..functional import fast as functional_fast
from ..validate import pair
from . import fast
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


def affine_inverse(m: numpy.ndarray) -> numpy.ndarray:
    """Inverses (N, 3, 3) of affine matrices M = [[A, t], [0, 1]]: M^-1 = [[A^-1, -A^-1 t], [0, 1]].

    A^-1 = [[d, -b], [-c, a]] / (a d - b c) for A = [[a, b], [c, d]]: a few products
    for the whole batch, where ``numpy.linalg.inv`` makes one LAPACK call per
    matrix. A matrix whose last row is not (0, 0, 1) goes to ``numpy.linalg.inv``.
    """
    if not (m[:, 2, :2] == 0).all() or not (m[:, 2, 2] == 1).all():
        return numpy.linalg.inv(m)
    a, b, c, d = m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1]
    det = a * d - b * c  # (N,)
    if not numpy.all(det != 0):
        raise numpy.linalg.LinAlgError(f"singular matrix: image {int(numpy.argmin(det != 0))} maps onto a line")
    inv = numpy.zeros_like(m)
    inv[:, 0, 0], inv[:, 0, 1], inv[:, 1, 0], inv[:, 1, 1] = d / det, -b / det, -c / det, a / det
    inv[:, :2, 2] = -(inv[:, :2, :2] @ m[:, :2, 2:])[:, :, 0]  # -A^-1 t
    inv[:, 2, 2] = 1.0
    return inv


def identity_matrices(n: int) -> numpy.ndarray:
    return numpy.broadcast_to(numpy.eye(3), (n, 3, 3)).copy()


# ------------------------------------------------------------------ sampling
def sample(x: Any, inv: numpy.ndarray, fill_mode: str = "reflect", fill_value: float = 0.0,
           interpolation: str = "bilinear") -> Any:
    """The reference sampler: every output pixel q reads the input at p = inv[n] @ q.

    With p = (sx, sy), x0 = floor(sx), fx = sx - x0 (and y0, fy alike), the
    bilinear read is::

        out = (1-fx)(1-fy) v(y0, x0) + fx(1-fy) v(y0, x0+1) + (1-fx)fy v(y0+1, x0) + fx fy v(y0+1, x0+1)

    where v(i, j) is pixel (i, j) of the image extended by the fill mode
    (:func:`extend`); "nearest" interpolation reads v(floor(sy + 1/2), floor(sx + 1/2)).
    Shapes: x (N, C, H, W), inv (N, 3, 3) on the host -> (N, C, H, W).
    """
    xp = backend.get_array_module(x)
    n, c, h, w = x.shape
    rows, cols = numpy.meshgrid(numpy.arange(h), numpy.arange(w), indexing="ij")
    q = numpy.stack([cols.ravel(), rows.ravel(), numpy.ones(h * w)])  # (3, H*W): (x, y, 1) of each output pixel
    p = inv @ q  # (N, 3, H*W): where each one comes from
    sx, sy = (xp.asarray(p[:, k].reshape(n, 1, h, w).astype(x.dtype)) for k in (0, 1))  # (N, 1, H, W)
    images, channels = xp.arange(n).reshape(n, 1, 1, 1), xp.arange(c).reshape(1, c, 1, 1)

    def v(i: Any, j: Any) -> Any:  # pixels (i, j) (N, 1, H, W) of the extended image, every channel
        (i, inside_i), (j, inside_j) = extend(i, h, fill_mode), extend(j, w, fill_mode)
        values = x[images, channels, i, j]  # (N, C, H, W)
        if fill_mode == "constant":
            values = xp.where(inside_i & inside_j, values, xp.asarray(fill_value, dtype=x.dtype))
        return values

    if interpolation == "nearest":
        return v(xp.floor(sy + 0.5).astype(numpy.intp), xp.floor(sx + 0.5).astype(numpy.intp))
    x0, y0 = xp.floor(sx), xp.floor(sy)
    fx, fy = sx - x0, sy - y0
    x0, y0 = x0.astype(numpy.intp), y0.astype(numpy.intp)
    return ((1 - fx) * (1 - fy) * v(y0, x0) + fx * (1 - fy) * v(y0, x0 + 1)
            + (1 - fx) * fy * v(y0 + 1, x0) + fx * fy * v(y0 + 1, x0 + 1)).astype(x.dtype)


def extend(i: Any, size: int, fill_mode: str) -> tuple:
    """(index into the image, inside) for indices ``i`` of the image extended by the fill mode.

    "reflect" mirrors with period 2 size (d c b a | a b c d | d c b a), "wrap"
    tiles (mod size), "nearest" clamps to the edge; "constant" clamps too and
    says where the index was outside, to be read as the fill value.
    """
    xp = backend.get_array_module(i)
    inside = (i >= 0) & (i < size)
    if fill_mode == "reflect":
        m = i % (2 * size)
        return xp.where(m < size, m, 2 * size - 1 - m), inside
    if fill_mode == "wrap":
        return i % size, inside
    return xp.clip(i, 0, size - 1), inside  # "nearest", "constant"


def warp(x: Any, matrices: numpy.ndarray, fill_mode: str = "reflect", fill_value: float = 0.0,
         interpolation: str = "bilinear") -> Any:
    """Apply one forward affine matrix per image, by inverse-mapped sampling.

    Args:
        x: images (N, C, H, W), any backend.
        matrices: host array (N, 3, 3), forward maps in pixel coordinates.
        fill_mode, fill_value: what is read outside the image (module docstring).
        interpolation: "bilinear" or "nearest".

    Returns a new array (N, C, H, W) on x's device, sampled by :func:`sample`
    (the reference) or, when fast paths are on, by :mod:`minidl.augment.fast`
    (the same numbers; on the CPU a large batch runs in parallel threads, see
    :func:`~minidl.augment.fast.set_num_threads`).
    """
    if fill_mode not in FILL_MODES:
        raise ValueError(f"fill_mode must be one of {FILL_MODES}, got {fill_mode!r}")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
    matrices = numpy.asarray(matrices, dtype=numpy.float64)
    if matrices.shape != (x.shape[0], 3, 3):
        raise ValueError(f"matrices must have shape ({x.shape[0]}, 3, 3), got {matrices.shape}")
    inv = affine_inverse(matrices)  # output pixel -> input pixel
    # The rule: the fast sampler (augment/fast.py, the same numbers) when fast paths are on.
    if functional_fast.enabled():
        return fast.warp_fast(x, inv, fill_mode, fill_value, interpolation)
    return sample(x, inv, fill_mode, fill_value, interpolation)


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

