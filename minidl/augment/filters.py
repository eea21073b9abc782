"""Kernel filters on the batch: Gaussian blur and sharpening.

Both are small convolutions of each channel with itself (depthwise), done as
a weighted sum of shifted copies of the image: a (k x k) kernel is k*k
shifted slices, or 2k for a separable kernel such as the Gaussian. The border
is extended by reflection, so the image keeps its size.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy

from ..backend import get_array_module
from .base import Range, Transform, as_range, per_image, uniform


def _shifted_sum(x: Any, weights: Any, axis: int, xp: Any) -> Any:
    """Convolve along one axis with per-image 1-D kernels weights (N, k), reflect padding."""
    k = weights.shape[1]
    r = k // 2
    pad = [(0, 0)] * 4
    pad[axis] = (r, r)
    xpad = xp.pad(x, pad, mode="reflect")
    out = xp.zeros_like(x)
    size = x.shape[axis]
    for i in range(k):
        window = [slice(None)] * 4
        window[axis] = slice(i, i + size)
        out += weights[:, i].reshape(-1, 1, 1, 1) * xpad[tuple(window)]
    return out


def gaussian_kernels(sigmas: numpy.ndarray, k: int) -> numpy.ndarray:
    """(N, k) normalised 1-D Gaussians exp(-t^2 / (2 sigma^2)), t = -(k//2) .. k//2."""
    t = numpy.arange(k) - k // 2
    g = numpy.exp(-(t[None, :] ** 2) / (2 * numpy.asarray(sigmas)[:, None] ** 2))
    return g / g.sum(axis=1, keepdims=True)


class GaussianBlur(Transform):
    """Blur each image with a k x k Gaussian, done as two 1-D passes (rows, then columns).

    ``kernel_size`` k: a positive odd number of pixels (1 leaves the image as it is).
    ``sigma``: the Gaussian's standard deviation in pixels, fixed, or a (lo, hi)
    range drawn per image; None gives OpenCV's choice for k,
    0.3 ((k - 1) / 2 - 1) + 0.8. The kernel is normalised to sum 1, and the
    border is extended by reflection (d c b | a b c d), as torchvision does.
    """

    def __init__(self, kernel_size: int, sigma: Optional[Range] = None, seed: Optional[int] = None):
        super().__init__(seed)
        if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be a positive odd int, got {kernel_size!r}")
        self.kernel_size = kernel_size
        if sigma is None:
            sigma = 0.3 * ((kernel_size - 1) / 2 - 1) + 0.8
        self.sigma = (float(sigma), float(sigma)) if isinstance(sigma, (int, float)) else as_range(sigma, "sigma")
        if self.sigma[0] <= 0:
            raise ValueError(f"sigma must be > 0, got {sigma}")

    def sample(self, n: int, shape: tuple) -> dict:
        return {"sigma": uniform(self.rng, self.sigma, n)}

    def apply(self, x: Any, params: dict) -> Any:
        xp = get_array_module(x)
        if self.kernel_size == 1:
            return x.copy()
        g = xp.asarray(gaussian_kernels(params["sigma"], self.kernel_size).astype(x.dtype))
        return _shifted_sum(_shifted_sum(x, g, 3, xp), g, 2, xp)


class Sharpen(Transform):
    """Unsharp masking: x + alpha (x - box3x3(x)), clipped to [0, 1].

    x - box3x3(x) is what a 3x3 average takes away (edges and fine detail);
    adding it back, ``alpha`` times, makes them stronger. ``alpha``: a strength
    a gives alpha from U(0, a) per image, or a (lo, hi) range (lo = hi: fixed).
    """

    def __init__(self, alpha: Range = 1.0, seed: Optional[int] = None):
        super().__init__(seed)
        if isinstance(alpha, (int, float)):
            if alpha < 0:
                raise ValueError(f"alpha must be >= 0, got {alpha}")
            self.alpha = (0.0, float(alpha))
        else:
            self.alpha = as_range(alpha, "alpha", minimum=0.0)

    def sample(self, n: int, shape: tuple) -> dict:
        return {"alpha": uniform(self.rng, self.alpha, n)}

    def apply(self, x: Any, params: dict) -> Any:
        xp = get_array_module(x)
        box = xp.asarray(numpy.full((x.shape[0], 3), 1 / 3, dtype=x.dtype))
        blurred = _shifted_sum(_shifted_sum(x, box, 3, xp), box, 2, xp)
        return xp.clip(x + per_image(params["alpha"], xp, x.dtype) * (x - blurred), 0.0, 1.0)
