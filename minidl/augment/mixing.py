"""Mixing images: MixUp and CutMix. Both take and return the labels, as soft targets.

Each image is mixed with a partner from the same batch (a random permutation),
with its own mixing weight lambda ~ Beta(alpha, alpha).

MixUp:   x = lam x_i + (1 - lam) x_j,   y = lam y_i + (1 - lam) y_j
CutMix:  a rectangle of x_j is pasted into x_i; its area a (after clipping to
         the image) is the weight of y_j:  y = (1 - a) y_i + a y_j

Labels may be class indices (N,) (then ``num_classes`` one-hot encodes them)
or soft targets (N, C). ``cross_entropy`` accepts the soft targets directly.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy

from .. import backend
from ..backend import get_array_module
from .base import Transform, check_batch, per_image


def _soft(y: Any, num_classes: int, x: Any) -> Any:
    """Labels (N,) or soft targets (N, C) -> soft targets on x's device, in x's dtype."""
    xp = get_array_module(x)
    y = y.data if hasattr(y, "creator") else y
    y = backend.to_device(y if backend.is_array(y) else numpy.asarray(y), backend.device_of(x))
    if y.ndim == 2:
        return y.astype(x.dtype)
    return xp.eye(num_classes, dtype=x.dtype)[y.astype(numpy.int64)]


class _Mixing(Transform):
    def __init__(self, alpha: float, num_classes: int, seed: Optional[int] = None):
        super().__init__(seed)
        if not alpha > 0:
            raise ValueError(f"alpha must be > 0 (the Beta distribution's parameter), got {alpha}")
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an int >= 2, got {num_classes!r}")
        self.alpha, self.num_classes = float(alpha), num_classes

    def __call__(self, x: Any, y: Any = None, return_params: bool = False, params: Optional[dict] = None):
        if y is None:
            raise TypeError(f"{type(self).__name__} needs the labels too: x, y = op(x, y)")
        x = check_batch(x, type(self).__name__)
        if params is None:
            params = self.sample(x.shape[0], tuple(x.shape))
        xp = get_array_module(x)
        soft = _soft(y, self.num_classes, x)
        result = self.mix(x, soft, params, xp)
        return (result, params) if return_params else result


class MixUp(_Mixing):
    """Blend each image and its label with a partner's: see the module docstring."""

    def sample(self, n, shape):
        return {"lam": self.rng.beta(self.alpha, self.alpha, n), "partner": self.rng.permutation(n)}

    def mix(self, x, soft, params, xp):
        j = xp.asarray(params["partner"])
        lam = per_image(params["lam"], xp, x.dtype)
        lam_y = lam.reshape(-1, 1)
        return lam * x + (1 - lam) * x[j], lam_y * soft + (1 - lam_y) * soft[j]


class CutMix(_Mixing):
    """Paste a rectangle of a partner image; labels weighted by the pasted area."""

    def sample(self, n, shape):
        h, w = shape[2], shape[3]
        lam = self.rng.beta(self.alpha, self.alpha, n)
        cut_h, cut_w = (h * numpy.sqrt(1 - lam)).astype(int), (w * numpy.sqrt(1 - lam)).astype(int)
        cy, cx = self.rng.integers(0, h, n), self.rng.integers(0, w, n)
        top, bottom = numpy.clip(cy - cut_h // 2, 0, h), numpy.clip(cy + cut_h // 2, 0, h)
        left, right = numpy.clip(cx - cut_w // 2, 0, w), numpy.clip(cx + cut_w // 2, 0, w)
        area = (bottom - top) * (right - left) / (h * w)  # what was actually pasted, after clipping
        return {"partner": self.rng.permutation(n), "top": top, "bottom": bottom, "left": left, "right": right,
                "area": area}

    def mix(self, x, soft, params, xp):
        h, w = x.shape[2:]
        rows = xp.asarray(numpy.arange(h).reshape(1, 1, h, 1))
        cols = xp.asarray(numpy.arange(w).reshape(1, 1, 1, w))
        box = ((rows >= per_image(params["top"], xp, numpy.int64)) & (rows < per_image(params["bottom"], xp, numpy.int64))
               & (cols >= per_image(params["left"], xp, numpy.int64)) & (cols < per_image(params["right"], xp, numpy.int64)))
        j = xp.asarray(params["partner"])
        a = xp.asarray(params["area"].astype(x.dtype)).reshape(-1, 1)
        return xp.where(box, x[j], x), (1 - a) * soft + a * soft[j]
