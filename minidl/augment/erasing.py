"""Random erasing (cutout): blank out a random rectangle of each image."""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence, Tuple, Union

import numpy

from ..backend import get_array_module
from .base import Transform, check_probability, per_image


class RandomErasing(Transform):
    """With probability ``p``, fill a random rectangle of each image with ``value``.

    The rectangle's area is a fraction of the image from U(``scale``), its
    aspect ratio (h / w) log-uniform in ``ratio``, its sides rounded to whole
    pixels. As torchvision does, up to 10 draws are tried per image and the
    first whose rectangle *fits* (1 <= h < H and 1 <= w < W) is used; its
    rounded area may then lie a rounding step outside ``scale``, which is
    fine. When none of the 10 fits (a scale or ratio too large for the image),
    that image is left as it is, again as torchvision. So with ``p=1`` and a
    rectangle that fits, every image is erased. (torchvision also takes a
    draw that rounds to 0 pixels, erasing nothing; minidl tries the next.)

    ``value``: a number, one number per channel, or "random" (fresh N(0, 1)
    values per pixel, drawn on the CPU like every random number here).
    """

    TRIES = 10

    def __init__(self, p: float = 0.5, scale: Tuple[float, float] = (0.02, 0.33),
                 ratio: Tuple[float, float] = (0.3, 3.3), value: Union[float, Sequence[float], str] = 0.0,
                 seed: Optional[int] = None):
        super().__init__(seed)
        self.p = check_probability(p)
        if len(scale) != 2 or not 0 < scale[0] <= scale[1] <= 1:
            raise ValueError(f"scale must be (lo, hi) with 0 < lo <= hi <= 1 (fractions of the area), got {scale!r}")
        if len(ratio) != 2 or not 0 < ratio[0] <= ratio[1]:
            raise ValueError(f"ratio must be (lo, hi) with 0 < lo <= hi, got {ratio!r}")
        if isinstance(value, str) and value != "random":
            raise ValueError(f"value must be a number, one per channel, or 'random', got {value!r}")
        self.scale, self.ratio = (float(scale[0]), float(scale[1])), (float(ratio[0]), float(ratio[1]))
        self.value = value if isinstance(value, str) else numpy.asarray(value, dtype=float)

    def sample(self, n: int, shape: tuple) -> dict:
        c, h, w = shape[1:]
        area = self.rng.uniform(*self.scale, (n, self.TRIES)) * h * w
        aspect = numpy.exp(self.rng.uniform(math.log(self.ratio[0]), math.log(self.ratio[1]), (n, self.TRIES)))
        eh = numpy.round(numpy.sqrt(area * aspect)).astype(numpy.int64)
        ew = numpy.round(numpy.sqrt(area / aspect)).astype(numpy.int64)
        fits = (eh >= 1) & (ew >= 1) & (eh < h) & (ew < w)  # torchvision's test: the rectangle fits
        first = fits.argmax(axis=1)  # the first draw that fits (0 when none does; masked below)
        rows = numpy.arange(n)
        eh, ew = eh[rows, first], ew[rows, first]
        erase = (self.rng.random(n) < self.p) & fits.any(axis=1)
        eh, ew = numpy.where(erase, eh, 0), numpy.where(erase, ew, 0)
        params = {"top": (self.rng.random(n) * (h - eh + 1)).astype(numpy.int64),
                  "left": (self.rng.random(n) * (w - ew + 1)).astype(numpy.int64),
                  "height": eh, "width": ew}
        if isinstance(self.value, str):
            params["noise"] = self.rng.standard_normal((n, c, h, w), dtype=numpy.float32)
        return params

    def apply(self, x: Any, params: dict) -> Any:
        return self.apply_inplace(x.copy(), params)

    def apply_inplace(self, x: Any, params: dict) -> Any:
        # BEGIN SOLUTION random_erasing
        xp = get_array_module(x)
        n, c, h, w = x.shape
        rows = xp.arange(h).reshape(1, 1, h, 1)
        cols = xp.arange(w).reshape(1, 1, 1, w)
        top, left = per_image(params["top"], xp, numpy.int64), per_image(params["left"], xp, numpy.int64)
        bottom = top + per_image(params["height"], xp, numpy.int64)
        right = left + per_image(params["width"], xp, numpy.int64)
        # the rows inside (N, 1, H, 1) and the columns inside (N, 1, 1, W): one full-size & of the two
        inside = ((rows >= top) & (rows < bottom)) & ((cols >= left) & (cols < right))  # (N, 1, H, W)
        if isinstance(self.value, str):
            fill = xp.asarray(params["noise"].astype(x.dtype))
        elif self.value.ndim == 0:
            fill = xp.asarray(self.value.astype(x.dtype))
        else:
            if self.value.shape != (c,):
                raise ValueError(f"value has {self.value.size} entries, the images have {c} channels")
            fill = xp.asarray(self.value.astype(x.dtype).reshape(1, c, 1, 1))
        xp.copyto(x, fill, where=inside)
        return x
        # END SOLUTION
