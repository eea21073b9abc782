"""Layer, group and instance normalisation: batch norm's idea over other axes.

All three standardise x over a set of axes, then (optionally) scale and shift::

    mu    = mean(x)                 sigma2 = mean((x - mu)^2)   (biased)
    xhat  = (x - mu) / sqrt(sigma2 + eps)
    y     = weight * xhat + bias

They differ only in *which* values share one mu and sigma2. For images
(N, C, H, W)::

    batch_norm     over N, H, W        one statistic per channel      (norm.py)
    layer_norm     over the last axes  one per sample: C, H, W with normalized_shape=(C, H, W)
    group_norm     over C/G, H, W      one per sample and group of C/G channels
    instance_norm  over H, W           one per sample and channel

None of the last three looks at the other samples of the batch, so a sample's
output never depends on its batch, and training and evaluation compute the
same thing (no running statistics, except instance norm's optional ones).

**Backward.** The standardisation is one Function, :class:`Normalize`, for
any set of axes. Its backward is the closed form derived in norm.py's
docstring, with "the m values of a channel" read as "the m values that share
a statistic" (the means below are over the normalised axes)::

    dL/dx = s * (g - mean(g) - xhat * mean(g * xhat)),    s = 1/sqrt(sigma2 + eps),  g = dL/dxhat

The derivation never used *which* axes were reduced, only that mu and sigma2
are means over the same m values; so the same three lines serve every axis
set. The affine part, ``weight * xhat + bias``, is a composition of the
differentiable ``mul`` and ``add``: the engine sums their broadcast gradients
back to the parameters' shapes (dL/dweight = sum(gy * xhat), dL/dbias =
sum(gy), over every axis the parameter is broadcast along).
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Optional

from ..autograd import Function, Tensor
from ..backend import get_array_module
from ..validate import non_negative, positive_int, probability
from ._dtypes import check_same_dtype, to_float
from .arith import add, mul
from .norm import batch_norm, update_running_stats
from .shape import reshape


class Normalize(Function):
    """xhat = (x - mean(x)) / sqrt(var(x) + eps) over ``axes`` (biased variance).

    Shapes: x (any); the statistics have x's shape with ``axes`` set to 1.
    Keeps ``mean`` and ``var`` (those shapes) for callers that track them.
    Backward: gx = s * (g - mean(g) - xhat * mean(g * xhat)) over ``axes``
    (the module docstring; norm.py derives it).
    """

    def __init__(self, axes: tuple, eps: float):
        self.axes, self.eps = axes, eps

    def forward(self, x):
        xp = get_array_module(x)
        self.mean = x.mean(axis=self.axes, keepdims=True)  # x.shape, 1 on axes
        centred = x - self.mean
        self.var = (centred * centred).mean(axis=self.axes, keepdims=True)  # biased
        self.inv_std = 1.0 / xp.sqrt(self.var + self.eps)  # s
        self.xhat = centred * self.inv_std
        return self.xhat

    def backward(self, gy):
        axes, xhat = self.axes, self.xhat
        gx = gy - gy.mean(axis=axes, keepdims=True)  # g - mean(g)
        gx -= xhat * (gy * xhat).mean(axis=axes, keepdims=True)  # - xhat * mean(g xhat)
        return gx * self.inv_std


def _affine(xhat: Tensor, weight: Any, bias: Any, shape: tuple) -> Tensor:
    """weight * xhat + bias, the parameters reshaped to ``shape`` to broadcast (either may be None)."""
    y = xhat
    if weight is not None:
        y = mul(y, reshape(weight, *shape))
    if bias is not None:
        y = add(y, reshape(bias, *shape))
    return y


def _check_param(op: str, name: str, p: Any, shape: tuple, what: str) -> None:
    if p is not None and tuple(p.shape) != shape:
        raise ValueError(f"{op}: {name} must have shape {shape} ({what}), got {tuple(p.shape)}")


def layer_norm(x: Any, normalized_shape: Any, weight: Any = None, bias: Any = None, eps: float = 1e-5) -> Tensor:
    """Normalise each sample over its last ``len(normalized_shape)`` axes, PyTorch's signature.

    Shapes: x (*, *normalized_shape); weight and bias normalized_shape (one
    value per normalised element), or None. ``normalized_shape`` is an int
    (the last axis) or a tuple. For a transformer's (N, L, D) tokens,
    ``normalized_shape=D`` normalises each token's D features.
    """
    op = "layer_norm"
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(positive_int(n, "normalized_shape", op) for n in normalized_shape)
    if not normalized_shape:
        raise ValueError(f"{op}: normalized_shape must name at least one axis, got ()")
    x = to_float(x)
    k = len(normalized_shape)
    if len(x.shape) < k or tuple(x.shape[-k:]) != normalized_shape:
        raise ValueError(
            f"{op}: normalized_shape {normalized_shape} must match the last {k} dimension(s) of the input, "
            f"got input of shape {tuple(x.shape)}"
        )
    for name, p in (("weight", weight), ("bias", bias)):
        _check_param(op, name, p, normalized_shape, "normalized_shape")
    check_same_dtype(op, x, weight=weight, bias=bias)
    eps = non_negative(eps, "eps", op)
    axes = tuple(range(len(x.shape) - k, len(x.shape)))  # the last k axes
    xhat = Normalize(axes, eps)(x)
    return _affine(xhat, weight, bias, normalized_shape)


def group_norm(x: Any, num_groups: int, weight: Any = None, bias: Any = None, eps: float = 1e-5) -> Tensor:
    """Normalise each sample over groups of ``C / num_groups`` channels (and all spatial axes).

    Shapes: x (N, C, *); weight and bias (C,) or None. The channels are split
    into ``num_groups`` consecutive groups: x is viewed as (N, G, C/G, *), each
    (n, g) slice normalised on its own, and viewed back. ``num_groups=1`` is
    layer norm over (C, *); ``num_groups=C`` is instance norm.
    """
    op = "group_norm"
    x = to_float(x)
    if len(x.shape) < 2:
        raise ValueError(f"{op}: input must be (N, C, *), got shape {tuple(x.shape)}")
    num_groups = positive_int(num_groups, "num_groups", op)
    n, c = x.shape[0], x.shape[1]
    if c % num_groups:
        raise ValueError(f"{op}: the {c} channels of the input must divide into num_groups={num_groups} groups")
    for name, p in (("weight", weight), ("bias", bias)):
        _check_param(op, name, p, (c,), f"one value per channel, {c}")
    check_same_dtype(op, x, weight=weight, bias=bias)
    eps = non_negative(eps, "eps", op)
    spatial = tuple(x.shape[2:])
    grouped = reshape(x, n, num_groups, c // num_groups, *spatial)  # (N, G, C/G, *)
    axes = tuple(range(2, len(grouped.shape)))  # C/G and every spatial axis
    xhat = reshape(Normalize(axes, eps)(grouped), *x.shape)  # (N, C, *)
    return _affine(xhat, weight, bias, (1, c) + (1,) * len(spatial))


def instance_norm(
    x: Any,
    running_mean: Optional[Any] = None,
    running_var: Optional[Any] = None,
    weight: Any = None,
    bias: Any = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each sample's each channel over its spatial axes, PyTorch's signature.

    Shapes: x (N, C, *) with at least one spatial axis; running_mean,
    running_var, weight, bias (C,) or None. With ``use_input_stats`` (the
    default) every (n, c) slice uses its own statistics and, when running
    statistics are given, they are updated in place with the statistics
    averaged over the batch (norm.py's :func:`update_running_stats`, m = the
    number of spatial positions). With ``use_input_stats=False`` the running
    statistics normalise instead: that is batch norm in evaluation, and is
    computed by :func:`batch_norm`.
    """
    op = "instance_norm"
    x = to_float(x)
    if len(x.shape) < 3:
        raise ValueError(f"{op}: input must be (N, C, *) with at least one spatial axis, got shape {tuple(x.shape)}")
    c = x.shape[1]
    running = [s.data if isinstance(s, Tensor) else s for s in (running_mean, running_var)]
    for name, p in (("running_mean", running[0]), ("running_var", running[1]), ("weight", weight), ("bias", bias)):
        _check_param(op, name, p, (c,), f"one value per channel, {c}")
    if (running[0] is None) != (running[1] is None):
        raise ValueError(f"{op}: give both running_mean and running_var, or neither")
    check_same_dtype(op, x, weight=weight, bias=bias, running_mean=running[0], running_var=running[1])
    momentum = probability(momentum, "momentum", op)
    eps = non_negative(eps, "eps", op)
    if not use_input_stats:
        if running[0] is None:
            raise ValueError(f"{op}: use_input_stats=False needs running_mean and running_var")
        return batch_norm(x, running[0], running[1], weight, bias, training=False, eps=eps)
    m = int(math.prod(x.shape[2:]))  # spatial positions per (n, c)
    if m < 2:
        raise ValueError(
            f"{op}: expected more than 1 spatial element per channel, got input of shape {tuple(x.shape)}"
        )
    fn = Normalize(tuple(range(2, len(x.shape))), eps)
    xhat = fn(x)
    if running[0] is not None:  # the batch's average of the per-instance statistics
        update_running_stats(running[0], running[1], fn.mean.mean(axis=0).reshape(-1),
                             fn.var.mean(axis=0).reshape(-1), m, momentum)
    return _affine(xhat, weight, bias, (1, c) + (1,) * (len(x.shape) - 2))
