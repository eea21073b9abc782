"""Colour ops: brightness, contrast, saturation, hue, and per-channel colour casts.

Images are floats in [0, 1]; results are clipped back into [0, 1] (once, at
the end of the op: torchvision clips after each step, which makes the steps
impossible to combine).

Every ColorJitter step is linear in the pixel values, so the four of them
fold into one affine map per image, applied in a single pass::

    brightness b:  x -> b x
    contrast c:    x -> m + c (x - m)           m: the image's mean grey value
    saturation s:  x -> g + s (x - g)           g = L x, the pixel's grey (L: luma weights)
    hue h:         x -> H x                     a turn by 2 pi h about the grey axis (YIQ space)

    together:      x -> (b c) H S x + (1 - c) b m0        m0: mean grey of the input

where S = s I + (1 - s) 1 L. (Two facts make it this short: the mean grey of
b x is b m0, and S and H leave a grey pixel, a multiple of (1, 1, 1), alone.)
For one channel (or no saturation / hue) H S is the identity and the whole op
is ``a x + o`` with two numbers per image.
"""
from __future__ import annotations

import math
from typing import Any, Optional

import numpy

from ..backend import get_array_module
from .base import Range, Transform, as_range, per_image, uniform

LUMA = numpy.array([0.299, 0.587, 0.114])  # ITU-R 601 weights of R, G, B in the grey value
RGB_TO_YIQ = numpy.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])


def mean_grey(x: Any, xp: Any) -> Any:
    """(N,) mean grey value of each image: luma-weighted for RGB, the channel mean otherwise."""
    per_channel = x.mean(axis=(2, 3))  # (N, C)
    if x.shape[1] == 3:
        return per_channel @ xp.asarray(LUMA.astype(x.dtype))
    return per_channel.mean(axis=1)


def colour_matrices(saturation: numpy.ndarray, hue: numpy.ndarray) -> numpy.ndarray:
    """(N, 3, 3) host matrices H S: saturation s and a hue turn of h (fraction of the circle)."""
    n = len(saturation)
    s = saturation[:, None, None]
    sat = s * numpy.eye(3) + (1 - s) * numpy.outer(numpy.ones(3), LUMA)  # (N, 3, 3)
    theta = 2 * math.pi * hue
    turn = numpy.zeros((n, 3, 3))
    turn[:, 0, 0] = 1.0  # Y (the grey) stays; (I, Q), the colour, turns
    turn[:, 1, 1], turn[:, 1, 2] = numpy.cos(theta), -numpy.sin(theta)
    turn[:, 2, 1], turn[:, 2, 2] = numpy.sin(theta), numpy.cos(theta)
    hue_m = numpy.linalg.inv(RGB_TO_YIQ) @ turn @ RGB_TO_YIQ
    hue_m[hue == 0] = numpy.eye(3)  # exactly the identity, not identity + rounding
    return hue_m @ sat


class ColorJitter(Transform):
    """Random brightness, contrast, saturation and hue, each drawn per image, applied in that order.

    Strengths: ``brightness`` b gives a factor from U(max(0, 1 - b), 1 + b)
    (likewise ``contrast`` and ``saturation``; or give a (lo, hi) range of
    factors); ``hue`` h <= 0.5 a turn from U(-h, h) of the colour circle.
    0 leaves the image unchanged. Saturation and hue need RGB (3 channels);
    on grey images (1 channel) they do nothing. See the module docstring.
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

    def sample(self, n: int, shape: tuple) -> dict:
        return {"brightness": uniform(self.rng, self.brightness, n), "contrast": uniform(self.rng, self.contrast, n),
                "saturation": uniform(self.rng, self.saturation, n), "hue": uniform(self.rng, self.hue, n)}

    def apply(self, x: Any, params: dict) -> Any:
        return self._jitter(x, params, inplace=False)

    def apply_inplace(self, x: Any, params: dict) -> Any:
        return self._jitter(x, params, inplace=True)

    def _jitter(self, x: Any, params: dict, inplace: bool) -> Any:
        xp = get_array_module(x)
        n, c, h, w = x.shape
        b, k = params["brightness"], params["contrast"]
        colour = bool((params["saturation"] != 1).any() or (params["hue"] != 0).any())
        if colour and c not in (1, 3):
            raise ValueError(f"saturation and hue need RGB images (3 channels), got {c} channels")
        scale = b * k  # (N,) host
        if (k != 1).any():
            offset = xp.asarray(((1 - k) * b).astype(x.dtype)) * mean_grey(x, xp)  # (N,) on the device
        else:
            offset = None
        if colour and c == 3:
            m = colour_matrices(params["saturation"], params["hue"]) * scale[:, None, None]
            out = (xp.asarray(m.astype(x.dtype)) @ x.reshape(n, 3, h * w)).reshape(n, c, h, w)
        elif inplace:
            out = x
            out *= per_image(scale, xp, x.dtype)
        else:
            out = x * per_image(scale, xp, x.dtype)
        if offset is not None:
            out += offset.reshape(n, 1, 1, 1)
        return xp.clip(out, 0.0, 1.0, out=out)


class ChannelShift(Transform):
    """A colour cast: add an offset from U(-intensity, intensity) to each channel of each image.

    ``intensity`` is in pixel units (images in [0, 1]), or a (lo, hi) range.
    Unlike Keras' channel_shift_range, each channel gets its own offset.
    """

    def __init__(self, intensity: Range, seed: Optional[int] = None):
        super().__init__(seed)
        self.intensity = as_range(intensity, "intensity")

    def sample(self, n: int, shape: tuple) -> dict:
        lo, hi = self.intensity
        c = shape[1]
        shift = self.rng.uniform(lo, hi, (n, c)) if hi > lo else numpy.full((n, c), lo)
        return {"shift": shift}

    def apply(self, x: Any, params: dict) -> Any:
        return self.apply_inplace(x.copy(), params)

    def apply_inplace(self, x: Any, params: dict) -> Any:
        xp = get_array_module(x)
        x += xp.asarray(params["shift"].astype(x.dtype)[:, :, None, None])  # (N, C, 1, 1)
        return xp.clip(x, 0.0, 1.0, out=x)
