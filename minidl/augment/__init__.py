"""Batched image augmentation: every op acts on a whole batch (N, C, H, W), per image.

    import minidl.augment as A
    pipeline = A.Compose([A.RandomFlip(), A.RandomAffine(10, (0.1, 0.1), (0.9, 1.1), 5),
                          A.ColorJitter(brightness=0.2, contrast=0.2), A.RandomErasing()], seed=0)
    x_aug = pipeline(x)                      # x: NumPy or CuPy array (N, C, H, W), float in [0, 1]
    x_mix, y_soft = A.MixUp(0.2, num_classes=10)(x, y)
    A.show(pipeline, x[:8], "augment.png")   # see what it does

Each image gets its own random parameters, drawn on the CPU from the op's own
seeded generator; the pixel work runs on the batch's array namespace (NumPy
or CuPy), vectorised over the batch. Geometric ops compose into one affine
matrix per image and one bilinear sampling (``Compose`` fuses them). Every op
can return what it drew and replay it: ``op(x, return_params=True)``,
``op(x, params=params)`` (see :mod:`minidl.augment.base`).

Conventions (the libraries disagree; these are ours):

=====================  =============================================================
parameter              meaning
=====================  =============================================================
images                 float (N, C, H, W) in [0, 1]; ops that can leave the range
                       (colour, sharpen, noise) clip back to it
a strength ``a``       a number a means uniform in [-a, a] (or [1 - a, 1 + a] for a
                       factor); a pair (lo, hi) is the range itself
degrees (rotation)     degrees, counter-clockwise on screen, about the image centre;
                       (90, 90) is np.rot90
degrees (shear)        horizontal shear x' = x + tan(angle) y: vertical lines lean
                       counter-clockwise by the angle; |angle| < 90
width, height (shift)  fractions of the image width / height (Keras'
                       width_shift_range); positive moves the content right / down
amount (zoom)          zoom factor from U(1 - a, 1 + a); > 1 zooms in (content bigger)
translate (affine)     (fx, fy): largest shifts, as fractions of W and H
scale (affine)         (lo, hi): zoom factors, as for zoom
fill_mode              "reflect" (default, as Keras' layers), "nearest", "wrap",
                       "constant" (with fill_value), as in Keras
size, padding (crop)   pixels; pad on every side, then a random size window
brightness             multiplicative factor from U(max(0, 1 - b), 1 + b)
contrast, saturation   factor pulling towards the image's mean grey / the pixel's
                       grey, same draw as brightness; 0 means unchanged
hue                    fraction of the colour circle, from U(-h, h), h <= 0.5
intensity (channel     additive offset per channel from U(-i, i), in pixel units
shift)
kernel_size, sigma     odd kernel size in pixels; sigma in pixels, fixed or (lo, hi)
(blur)                 drawn per image (None: OpenCV's 0.3 ((k - 1) / 2 - 1) + 0.8)
alpha (sharpen)        unsharp-mask strength from U(0, a) (or (lo, hi)):
                       x + alpha (x - box3x3(x))
std (noise)            standard deviation of added Gaussian noise, in pixel units
p                      probability per image
scale, ratio (erasing) fraction of the area, and aspect ratio h / w (log-uniform)
alpha (mixing)         lambda ~ Beta(alpha, alpha) per image; labels become soft
                       targets (rows summing to 1)
seed                   every random op takes seed=None (then split off the default
                       generator, so minidl.manual_seed governs it)
=====================  =============================================================
"""
from .base import Transform, select
from .color import ChannelShift, ColorJitter
from .compose import Compose, OneOf, RandomApply
from .erasing import RandomErasing
from .filters import GaussianBlur, Sharpen
from .geometric import (
    GeometricTransform,
    RandomAffine,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomShear,
    RandomShift,
    RandomZoom,
    sample,
    warp,
)
from .fast import set_num_threads
from .mixing import CutMix, MixUp
from .noise import GaussianNoise
from .show import show
from .tta import tta_predict

__all__ = [
    "Transform", "GeometricTransform", "select", "warp", "sample", "set_num_threads",
    "Compose", "RandomApply", "OneOf",
    "RandomFlip", "RandomCrop", "RandomRotation", "RandomShift", "RandomZoom", "RandomShear", "RandomAffine",
    "ColorJitter", "ChannelShift", "GaussianBlur", "Sharpen", "RandomErasing", "GaussianNoise",
    "MixUp", "CutMix", "tta_predict", "show",
]
