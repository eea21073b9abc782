"""Dropout: zero random activations in training, so units cannot co-adapt.

Inverted dropout keeps each value with probability q = 1 - p and scales the
kept ones by 1/q, so the expected output equals the input::

    y = x * mask,   mask = keep / q,   keep ~ Bernoulli(q)        E[y] = x
    gx = gy * mask

Because of the 1/q in training, evaluation needs nothing: there dropout is
the identity. ``dropout2d`` draws one keep per (sample, channel) and drops
whole feature maps (neighbouring pixels are correlated, so dropping single
pixels of a conv output regularises little).

The masks are drawn from a NumPy Generator on the CPU and moved to the
array's device (``xp.asarray``): the same seed gives the same mask on every
backend. Pass ``generator=`` (a Generator or an int seed) for fixed masks.
"""
from __future__ import annotations

from typing import Any, Optional, Union

import numpy

from .. import backend
from ..autograd import Function, Tensor
from ..backend import get_array_module
from ..validate import probability

GeneratorLike = Optional[Union[numpy.random.Generator, int]]


class Dropout(Function):
    """y = x * mask;  gx = gy * mask. ``mask`` (0 or 1/q) may be broadcast, e.g. (N, C, 1, 1)."""

    def __init__(self, mask):
        self.mask = mask

    def forward(self, x):
        return x * self.mask

    def backward(self, gy):
        return gy * self.mask

    differentiable_backward = backward  # (the mask is a constant)


def _mask(x: Any, shape: tuple, p: float, generator: GeneratorLike) -> Any:
    """keep / (1 - p) of ``shape``, drawn on the CPU, in x's dtype and device."""
    # BEGIN SOLUTION dropout
    if generator is None:
        generator = backend.default_generator()
    elif not isinstance(generator, numpy.random.Generator):
        generator = numpy.random.default_rng(generator)
    xp = get_array_module(x)
    dtype = x.dtype if x.dtype.kind == "f" else backend.get_default_dtype()
    if p == 1.0:
        return xp.zeros(shape, dtype=dtype)
    keep = generator.random(shape, dtype=numpy.float32) >= p  # True with probability 1 - p
    mask = keep.astype(dtype)
    mask *= 1.0 / (1.0 - p)
    return xp.asarray(mask)
    # END SOLUTION


def dropout(x: Any, p: float = 0.5, training: bool = True, generator: GeneratorLike = None) -> Tensor:
    """Zero each value with probability p and scale the rest by 1/(1-p); identity when not training.

    Shapes: any -> the same.
    """
    p = probability(p, "p", "dropout")
    if not training or p == 0.0:
        return x if isinstance(x, Tensor) else Tensor(x)
    return Dropout(_mask(x, tuple(x.shape), p, generator))(x)


def dropout2d(x: Any, p: float = 0.5, training: bool = True, generator: GeneratorLike = None) -> Tensor:
    """Zero whole channels with probability p (scale the rest by 1/(1-p)); identity when not training.

    Shapes: (N, C, H, W) -> the same; one draw per (n, c).
    """
    p = probability(p, "p", "dropout2d")
    if len(x.shape) != 4:
        raise ValueError(f"dropout2d: input must be 4-D (N, C, H, W), got shape {tuple(x.shape)}")
    if not training or p == 0.0:
        return x if isinstance(x, Tensor) else Tensor(x)
    return Dropout(_mask(x, tuple(x.shape[:2]) + (1, 1), p, generator))(x)
