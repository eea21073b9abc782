"""Batched image augmentation: every op acts on a whole batch (N, C, H, W), per image.

Each image gets its own random parameters, drawn from the op's own seeded
generator; the work runs on the batch's array namespace (NumPy or CuPy).
Geometric ops compose into one affine matrix per image and one bilinear
sampling (``Compose`` fuses them).

Conventions (the libraries disagree; these are ours):

=====================  =============================================================
parameter              meaning
=====================  =============================================================
degrees (rotation,     angles in degrees; a number d means uniform in [-d, d], a pair
shear)                 (lo, hi) that range; positive rotation is counter-clockwise
width, height (shift)  fractions of the image width / height (as Keras'
                       width_shift_range); d means uniform in [-d, d]
amount (zoom)          zoom factor uniform in [1 - a, 1 + a]; > 1 zooms in (content bigger)
translate (affine)     (fx, fy): maximum shift as fractions of W and H
scale (affine)         (lo, hi) zoom factors
brightness, contrast,  multiplicative factors uniform in [1 - b, 1 + b] (or a (lo, hi)
saturation             range); 0 = unchanged
hue                    fraction of the colour circle, uniform in [-h, h], h <= 0.5
intensity (channel     additive offset per channel, uniform in [-i, i], in pixel units
shift)                 (images in [0, 1])
std (noise)            standard deviation of added Gaussian noise, in pixel units
p                      probability per image
scale, ratio (erasing) area fraction range and aspect-ratio (h / w) range of the box
alpha (mixing)         Beta(alpha, alpha) parameter of the mixing weight
sigma (blur)           Gaussian standard deviation in pixels
alpha (sharpen)        unsharp-mask strength, uniform in [0, a]
fill_mode              "constant" (fill_value), "nearest", "reflect", "wrap" (as Keras)
=====================  =============================================================

Colour ops expect floats in [0, 1] and clip their output to it.
"""
from .base import Transform
from .color import ChannelShift, ColorJitter
from .compose import Compose, OneOf, RandomApply
from .erasing import GaussianNoise, RandomErasing
from .filters import GaussianBlur, Sharpen
from .geometric import (RandomAffine, RandomCrop, RandomFlip, RandomRotation, RandomShear, RandomShift, RandomZoom,
                        affine_sample)
from .mixing import CutMix, MixUp
from .show import show
from .tta import tta_predict
