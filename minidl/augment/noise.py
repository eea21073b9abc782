"""Added noise."""
from __future__ import annotations

from typing import Any, Optional

import numpy

from ..backend import get_array_module
from .base import Range, Transform, as_range, uniform


class GaussianNoise(Transform):
    """Add N(0, std^2) noise to every pixel; ``std`` fixed, or drawn per image from a (lo, hi) range.

    ``std`` is in pixel units (images in [0, 1]). The noise is drawn on the
    CPU (the seed gives the same numbers on every backend) and kept in the
    parameters, so a replay adds the very same noise. Clipped to [0, 1]
    unless ``clip=False``.
    """

    def __init__(self, std: Range, clip: bool = True, seed: Optional[int] = None):
        super().__init__(seed)
        if isinstance(std, (int, float)) and not isinstance(std, bool):
            if std < 0:
                raise ValueError(f"std must be >= 0, got {std!r}")
            self.std = (float(std), float(std))
        else:
            self.std = as_range(std, "std", minimum=0.0)
        self.clip = bool(clip)

    def sample(self, n: int, shape: tuple) -> dict:
        std = uniform(self.rng, self.std, n)
        noise = self.rng.standard_normal(shape, dtype=numpy.float32)
        noise *= std.reshape(-1, 1, 1, 1).astype(numpy.float32)
        return {"std": std, "noise": noise}

    def apply(self, x: Any, params: dict) -> Any:
        return self.apply_inplace(x.copy(), params)

    def apply_inplace(self, x: Any, params: dict) -> Any:
        xp = get_array_module(x)
        x += xp.asarray(params["noise"].astype(x.dtype, copy=False))
        return xp.clip(x, 0.0, 1.0, out=x) if self.clip else x
