"""Mixing images: MixUp and CutMix. Both take and return the labels, as soft targets.

Each image i is mixed with a partner j = partner[i] from the same batch (a
random permutation), with its own weight lam ~ Beta(alpha, alpha):

    MixUp:   x = lam x_i + (1 - lam) x_j,        y = lam y_i + (1 - lam) y_j
    CutMix:  a box of x_j is pasted into x_i at the same place. Its sides are
             sqrt(1 - lam) times the image's, its centre uniform over the
             image, and it is clipped at the border; the area a that was
             really pasted (a fraction of the image) weights the labels:
             y = (1 - a) y_i + a y_j

Labels may be class indices (N,) (one-hot encoded with ``num_classes``) or
soft targets (N, num_classes); the result is soft targets (rows summing to 1)
on the images' device. ``minidl.nn.functional.cross_entropy`` takes them as
they are. Called as ``x, y = op(x, y)``; alone ``op(x)`` is an error.
"""
from __future__ import annotations

import numbers
from typing import Any, Optional

import numpy

from ..backend import get_array_module
from .base import Transform, check_positive, per_image, soft_labels


class _Mixing(Transform):
    mixes_labels = True

    def __init__(self, alpha: float, num_classes: int, seed: Optional[int] = None):
        super().__init__(seed)
        self.alpha = check_positive(alpha, "alpha")
        if not isinstance(num_classes, numbers.Integral) or isinstance(num_classes, bool) or num_classes < 1:
            raise ValueError(f"num_classes must be an int >= 1, got {num_classes!r}")
        self.num_classes = int(num_classes)

    def apply(self, x: Any, params: dict) -> Any:
        raise ValueError(f"{type(self).__name__} mixes labels too: call it as op(x, y)")

    def apply_xy(self, x: Any, y: Any, params: dict) -> tuple:
        xp = get_array_module(x)
        if y is None:
            raise ValueError(f"{type(self).__name__} mixes images and their labels: call it with the labels y")
        soft = soft_labels(y, self.num_classes, xp, x.dtype, type(self).__name__)
        if soft.shape[0] != x.shape[0]:
            raise ValueError(f"{type(self).__name__}: {soft.shape[0]} labels for {x.shape[0]} images")
        return self.mix(x, soft, params, xp)


class MixUp(_Mixing):
    """Blend each image and its label with a partner's (see the module docstring)."""

    def sample(self, n: int, shape: tuple) -> dict:
        return {"lam": self.rng.beta(self.alpha, self.alpha, n), "partner": self.rng.permutation(n)}

    def mix(self, x: Any, soft: Any, params: dict, xp: Any) -> tuple:
        j = xp.asarray(params["partner"])
        lam = per_image(params["lam"], xp, x.dtype)  # (N, 1, 1, 1)
        lam_y = lam.reshape(-1, 1)
        return lam * x + (1 - lam) * x[j], lam_y * soft + (1 - lam_y) * soft[j]


class CutMix(_Mixing):
    """Paste a box of a partner image; the labels are weighted by the pasted area."""

    def sample(self, n: int, shape: tuple) -> dict:
        h, w = shape[2], shape[3]
        lam = self.rng.beta(self.alpha, self.alpha, n)
        cut_h = numpy.round(h * numpy.sqrt(1 - lam)).astype(numpy.int64)
        cut_w = numpy.round(w * numpy.sqrt(1 - lam)).astype(numpy.int64)
        cy, cx = self.rng.integers(0, h, n), self.rng.integers(0, w, n)
        top, bottom = numpy.clip(cy - cut_h // 2, 0, h), numpy.clip(cy - cut_h // 2 + cut_h, 0, h)
        left, right = numpy.clip(cx - cut_w // 2, 0, w), numpy.clip(cx - cut_w // 2 + cut_w, 0, w)
        area = (bottom - top) * (right - left) / (h * w)  # what is really pasted, after clipping
        return {"lam": lam, "partner": self.rng.permutation(n), "top": top, "bottom": bottom,
                "left": left, "right": right, "area": area}

    def mix(self, x: Any, soft: Any, params: dict, xp: Any) -> tuple:
        h, w = x.shape[2:]
        rows = xp.arange(h).reshape(1, 1, h, 1)
        cols = xp.arange(w).reshape(1, 1, 1, w)
        edge = {k: per_image(params[k], xp, numpy.int64) for k in ("top", "bottom", "left", "right")}
        box = ((rows >= edge["top"]) & (rows < edge["bottom"])
               & (cols >= edge["left"]) & (cols < edge["right"]))  # (N, 1, H, W)
        j = xp.asarray(params["partner"])
        a = xp.asarray(params["area"].astype(x.dtype)).reshape(-1, 1)
        return xp.where(box, x[j], x), (1 - a) * soft + a * soft[j]
