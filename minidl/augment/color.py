"""Colour ops: brightness, contrast, saturation, hue, and per-channel colour casts.

Images are floats in [0, 1]; results are clipped back into [0, 1].
"""
from __future__ import annotations

import math
from typing import Any, Optional

import numpy

from ..backend import get_array_module
from .base import Range, Transform, as_range, per_image, uniform

_LUMA = (0.299, 0.587, 0.114)  # ITU-R 601 weights of R, G, B in the grey value


def _grey(x: Any, xp: Any) -> Any:
    """(N, 1, H, W) luminance of RGB images (or the single channel)."""
    if x.shape[1] != 3:
        return x.mean(axis=1, keepdims=True)
    w = xp.asarray(numpy.array(_LUMA, dtype=x.dtype).reshape(1, 3, 1, 1))
    return (x * w).sum(axis=1, keepdims=True)


class ColorJitter(Transform):
    """Random brightness, contrast, saturation and hue, each drawn per image, applied in that order.

    brightness b: multiply by a factor in [1 - b, 1 + b]        x * f
    contrast c:   pull towards the image's mean grey by f        m + (x - m) * f
    saturation s: pull each pixel towards its own grey by f      g + (x - g) * f   (RGB only)
    hue h <= 0.5: rotate the hue by a fraction of the colour circle in [-h, h] (RGB only,
                  as a rotation about the grey axis in YIQ space)
    Each strength may also be a (lo, hi) range of factors. 0 leaves the image unchanged.
    """

    def __init__(self, brightness: Range = 0.0, contrast: Range = 0.0, saturation: Range = 0.0, hue: Range = 0.0,
                 seed: Optional[int] = None):
        super().__init__(seed)
        self.brightness = as_range(brightness, "brightness", 1.0, minimum=0.0)
        self.contrast = as_range(contrast, "contrast", 1.0, minimum=0.0)
        self.saturation = as_range(saturation, "saturation", 1.0, minimum=0.0)
        self.hue = as_range(hue, "hue")
        if max(abs(v) for v in self.hue) > 0.5:
            raise ValueError(f"hue must be within [-0.5, 0.5] (a fraction of the colour circle), got {self.hue}")

    def sample(self, n, shape):
        return {"brightness": uniform(self.rng, self.brightness, n), "contrast": uniform(self.rng, self.contrast, n),
                "saturation": uniform(self.rng, self.saturation, n), "hue": uniform(self.rng, self.hue, n)}

    def apply(self, x, params):
        xp = get_array_module(x)
        f = lambda key: per_image(params[key], xp, x.dtype)  # noqa: E731 - a local shorthand
        # In place after the first product: fewer big temporaries, less time.
        out = x * f("brightness")
        m = _grey(out, xp).mean(axis=(2, 3), keepdims=True)  # (N, 1, 1, 1) mean grey
        out -= m
        out *= f("contrast")
        out += m
        if x.shape[1] == 3:
            g = _grey(out, xp)
            out -= g
            out *= f("saturation")
            out += g
            if numpy.any(params["hue"] != 0):
                out = _rotate_hue(out, params["hue"], xp)
        return xp.clip(out, 0.0, 1.0, out=out)


def _rotate_hue(x: Any, hue: numpy.ndarray, xp: Any) -> Any:
    """Rotate colours about the grey axis: RGB -> YIQ, turn (I, Q) by 2 pi hue, back."""
    to_yiq = numpy.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
    theta = 2 * math.pi * numpy.asarray(hue)
    rot = numpy.zeros((len(theta), 3, 3))
    rot[:, 0, 0] = 1
    rot[:, 1, 1], rot[:, 1, 2] = numpy.cos(theta), -numpy.sin(theta)
    rot[:, 2, 1], rot[:, 2, 2] = numpy.sin(theta), numpy.cos(theta)
    m = numpy.linalg.inv(to_yiq) @ rot @ to_yiq  # (N, 3, 3) one colour matrix per image
    m = xp.asarray(m.astype(x.dtype))
    n, c, h, w = x.shape
    return (m @ x.reshape(n, c, h * w)).reshape(n, c, h, w)


class ChannelShift(Transform):
    """Add a random offset in [-intensity, intensity] to each channel of each image (a colour cast)."""

    def __init__(self, intensity: Range, seed: Optional[int] = None):
        super().__init__(seed)
        self.intensity = as_range(intensity, "intensity")

    def sample(self, n, shape):
        lo, hi = self.intensity
        shift = self.rng.uniform(lo, hi, (n, shape[1])) if hi > lo else numpy.full((n, shape[1]), lo)
        return {"shift": shift}

    def apply(self, x, params):
        xp = get_array_module(x)
        shift = xp.asarray(params["shift"].astype(x.dtype)[:, :, None, None])
        out = x + shift
        return xp.clip(out, 0.0, 1.0, out=out)
