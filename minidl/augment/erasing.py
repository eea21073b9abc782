"""Random erasing (cutout) and added noise."""
from __future__ import annotations

import math
from typing import Any, Optional, Tuple

import numpy

from ..backend import get_array_module
from .base import Range, Transform, as_range, check_probability, per_image, uniform


class RandomErasing(Transform):
    """With probability p, fill a random rectangle of each image with ``value``.

    The rectangle's area is a fraction of the image drawn from ``scale``, its
    aspect ratio (h / w) log-uniform in ``ratio``; like torchvision, up to 10
    draws are tried until it fits inside the image (else that image is left as is).
    """

    def __init__(self, p: float = 0.5, scale: Tuple[float, float] = (0.02, 0.33),
                 ratio: Tuple[float, float] = (0.3, 3.3), value: float = 0.0, seed: Optional[int] = None):
        super().__init__(seed)
        self.p = check_probability(p)
        if not 0 < scale[0] <= scale[1] <= 1:
            raise ValueError(f"scale must be (lo, hi) with 0 < lo <= hi <= 1, got {scale}")
        if not 0 < ratio[0] <= ratio[1]:
            raise ValueError(f"ratio must be (lo, hi) with 0 < lo <= hi, got {ratio}")
        self.scale, self.ratio, self.value = tuple(scale), tuple(ratio), float(value)

    def sample(self, n, shape):
        h, w = shape[2], shape[3]
        tries = 10
        area = self.rng.uniform(*self.scale, (n, tries)) * h * w
        aspect = numpy.exp(self.rng.uniform(math.log(self.ratio[0]), math.log(self.ratio[1]), (n, tries)))
        eh = numpy.round(numpy.sqrt(area * aspect)).astype(int)
        ew = numpy.round(numpy.sqrt(area / aspect)).astype(int)
        fits = (eh < h) & (ew < w) & (eh > 0) & (ew > 0)
        first = fits.argmax(axis=1)  # the first draw that fits
        rows = numpy.arange(n)
        eh, ew = eh[rows, first], ew[rows, first]
        apply = (self.rng.random(n) < self.p) & fits.any(axis=1)
        top = (self.rng.random(n) * (h - eh + 1)).astype(int)
        left = (self.rng.random(n) * (w - ew + 1)).astype(int)
        return {"apply": apply, "top": top, "left": left, "height": numpy.where(apply, eh, 0),
                "width": numpy.where(apply, ew, 0)}

    def apply(self, x, params):
        xp = get_array_module(x)
        h, w = x.shape[2:]
        rows = xp.asarray(numpy.arange(h).reshape(1, 1, h, 1))
        cols = xp.asarray(numpy.arange(w).reshape(1, 1, 1, w))
        top, left = per_image(params["top"], xp, numpy.int64), per_image(params["left"], xp, numpy.int64)
        inside = ((rows >= top) & (rows < top + per_image(params["height"], xp, numpy.int64))
                  & (cols >= left) & (cols < left + per_image(params["width"], xp, numpy.int64)))  # (N, 1, H, W)
        return xp.where(inside, xp.asarray(numpy.array(self.value, dtype=x.dtype)), x)


class GaussianNoise(Transform):
    """Add N(0, std^2) noise to every pixel; std fixed or drawn per image from (lo, hi). Not clipped."""

    def __init__(self, std: Range, seed: Optional[int] = None):
        super().__init__(seed)
        self.std = (float(std), float(std)) if isinstance(std, (int, float)) else as_range(std, "std")
        if self.std[0] < 0:
            raise ValueError(f"std must be >= 0, got {std}")

    def sample(self, n, shape):
        std = uniform(self.rng, self.std, n)
        noise = self.rng.standard_normal(shape, dtype=numpy.float32) * std.reshape(-1, 1, 1, 1).astype(numpy.float32)
        return {"std": std, "noise": noise}

    def apply(self, x, params):
        xp = get_array_module(x)
        return x + xp.asarray(params["noise"].astype(x.dtype))
