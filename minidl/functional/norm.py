"""Batch normalisation: normalise each channel by its batch statistics.

For every channel, over the m values of the batch that belong to it (N*H*W of
them for images (N, C, H, W); N for features (N, C); N*L for (N, C, L))::

    mu    = mean(x)                 sigma2 = mean((x - mu)^2)   (biased)
    xhat  = (x - mu) / sqrt(sigma2 + eps)
    y     = gamma * xhat + beta

Training uses the batch's mu and sigma2 and updates the running estimates::

    running_mean = (1 - momentum) * running_mean + momentum * mu
    running_var  = (1 - momentum) * running_var  + momentum * sigma2 * m / (m - 1)

(the variance kept is the unbiased one, as PyTorch keeps it; normalising
uses the biased one). Evaluation uses the running estimates instead, so a
sample's output no longer depends on the rest of its batch.

Backward, in training (the compact closed form). Write s = 1/sqrt(sigma2 + eps)
and g = dL/dxhat = gamma * gy. Through xhat = (x - mu) s, each x_i moves
xhat_i directly and every xhat_j through mu and sigma2::

    dmu/dx_i     = 1/m
    dsigma2/dx_i = 2 (x_i - mu) / m
    ds/dsigma2   = -s^3 / 2

    dL/dx_i = s g_i  +  sum_j g_j (x_j - mu) * ds/dx_i  -  s sum_j g_j * dmu/dx_i
            = s g_i  -  s^3 (x_i - mu)/m sum_j g_j (x_j - mu)  -  s/m sum_j g_j
            = s * (g_i - mean(g) - xhat_i * mean(g * xhat))

so one pass for two channel means and one elementwise expression. The
parameters' gradients: dL/dgamma = sum(gy * xhat), dL/dbeta = sum(gy).

In evaluation mu and s are constants, so y is affine in x: dL/dx = gamma * s * gy.
"""
from __future__ import annotations

import numbers
from typing import Any, Optional

from ..autograd import Function, Tensor
from ..backend import get_array_module
from . import fast
from ._dtypes import check_same_dtype
from .fast import norm as fast_norm


def _axes_and_shape(x_shape) -> tuple:
    """The reduced axes (all but the channel axis 1) and the broadcast shape of a statistic."""
    axes = (0,) + tuple(range(2, len(x_shape)))
    shape = (1, x_shape[1]) + (1,) * (len(x_shape) - 2)
    return axes, shape


class BatchNorm(Function):
    """y = gamma * (x - mu) / sqrt(var + eps) + beta, per channel (axis 1).

    Inputs: x (N, C, ...) and, when affine, gamma (C,) and beta (C,).
    With ``use_batch_stats`` mu and var are the batch's (kept as
    ``batch_mean`` and ``batch_var`` for :func:`update_running_stats`);
    otherwise they are the given running estimates, constants here. The
    Function itself changes nothing outside it.
    """

    def __init__(self, use_batch_stats: bool, running_mean, running_var, eps: float, affine: bool):
        self.use_batch_stats, self.eps, self.affine = use_batch_stats, eps, affine
        self.running_mean, self.running_var = running_mean, running_var

    def forward(self, x, gamma=None, beta=None):
        xp = get_array_module(x)
        axes, shape = _axes_and_shape(x.shape)
        self.axes = axes
        if self.use_batch_stats:
            mu = x.mean(axis=axes, keepdims=True)  # (1, C, 1, 1)
            centred = x - mu
            var = (centred * centred).mean(axis=axes, keepdims=True)  # biased
            self.batch_mean, self.batch_var = mu.reshape(-1), var.reshape(-1)
        else:
            centred = x - self.running_mean.reshape(shape).astype(x.dtype)
            var = self.running_var.reshape(shape).astype(x.dtype)
        self.inv_std = 1.0 / xp.sqrt(var + self.eps)  # (1, C, 1, 1)
        self.xhat = centred
        self.xhat *= self.inv_std  # in place: centred is ours
        if not self.affine:
            return self.xhat.copy()
        self.gamma = gamma
        return self.xhat * gamma.reshape(shape) + beta.reshape(shape)

    def backward(self, gy):
        # BEGIN SOLUTION batch_norm_backward
        axes, shape = self.axes, _axes_and_shape(gy.shape)[1]
        g = gy * self.gamma.reshape(shape) if self.affine else gy  # dL/dxhat
        gx = None
        if self.needs_input_grad[0]:
            if self.use_batch_stats:
                gx = g - g.mean(axis=axes, keepdims=True)
                gx -= self.xhat * (g * self.xhat).mean(axis=axes, keepdims=True)
                gx *= self.inv_std
            else:
                gx = g * self.inv_std
        if not self.affine:
            return gx
        ggamma = (gy * self.xhat).sum(axis=axes) if self.needs_input_grad[1] else None
        gbeta = gy.sum(axis=axes) if self.needs_input_grad[2] else None
        return gx, ggamma, gbeta
        # END SOLUTION

    def differentiable_backward(self, gy):
        if self.use_batch_stats:
            raise RuntimeError("batch norm with batch statistics (training mode) does not support "
                               "create_graph=True; in eval mode (running statistics) it does")
        shape = _axes_and_shape(gy.shape)[1]
        return eval_differentiable_backward(self, gy, self.running_mean.reshape(shape), self.inv_std)


def eval_differentiable_backward(fn: Function, gy: Tensor, mu: Any, inv_std: Any) -> tuple:
    """Batch norm's gradients with fixed statistics, as Tensor ops (create_graph=True):
    gx = gy * gamma * inv_std,  ggamma = sum of gy * (x - mu) * inv_std,  gbeta = sum of gy."""
    x, axes, shape = fn.inputs[0], fn.axes, _axes_and_shape(gy.shape)[1]
    if not fn.affine:
        return gy * inv_std
    gamma = fn.inputs[1]
    gx = gy * (gamma.reshape(shape) * inv_std)
    return gx, (gy * ((x - mu.astype(x.dtype)) * inv_std)).sum(axis=axes), gy.sum(axis=axes)


def batch_norm(
    x: Any,
    running_mean: Optional[Any],
    running_var: Optional[Any],
    weight: Any = None,
    bias: Any = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation over axis 1 (channels), PyTorch's signature.

    Shapes: x (N, C), (N, C, L) or (N, C, H, W); running_mean, running_var,
    weight (gamma), bias (beta) all (C,). Statistics are taken over every axis
    but 1. ``training=True`` normalises with the batch's statistics and then
    updates ``running_mean``/``running_var`` (arrays, or Tensors whose arrays
    are used) in place, by :func:`update_running_stats`; ``training=False``
    normalises with them. When they are None the batch statistics are used
    either way. The math: the module docstring.

    Raises:
        TypeError: x's dtype differs from that of weight, bias or the running
            statistics (naming both: cast one, as PyTorch requires).
    """
    op = "batch_norm"
    if len(x.shape) < 2:
        raise ValueError(f"{op}: input must be (N, C), (N, C, L) or (N, C, H, W), got shape {tuple(x.shape)}")
    c = x.shape[1]
    running = []
    for name, stat in (("running_mean", running_mean), ("running_var", running_var)):
        stat = stat.data if isinstance(stat, Tensor) else stat
        if stat is not None and tuple(stat.shape) != (c,):
            raise ValueError(f"{op}: {name} must have shape ({c},) for {c} channels, got {tuple(stat.shape)}")
        running.append(stat)
    if (running[0] is None) != (running[1] is None):
        raise ValueError(f"{op}: give both running_mean and running_var, or neither")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != (c,):
            raise ValueError(f"{op}: {name} must have shape ({c},) for {c} channels, got {tuple(p.shape)}")
    if (weight is None) != (bias is None):
        raise ValueError(f"{op}: give both weight and bias, or neither")
    check_same_dtype(op, x, weight=weight, bias=bias, running_mean=running[0], running_var=running[1])
    if not isinstance(momentum, numbers.Real) or not 0 <= momentum <= 1:
        raise ValueError(f"{op}: momentum must be a number in [0, 1], got {momentum!r}")
    if not isinstance(eps, numbers.Real) or eps < 0:
        raise ValueError(f"{op}: eps must be a number >= 0, got {eps!r}")
    per_channel = x.size // c if c else 0  # the m values each channel's statistics are taken over
    if training or running[0] is None:
        if per_channel < 2:
            raise ValueError(
                f"{op}: expected more than 1 value per channel when training, got input of shape "
                f"{tuple(x.shape)} ({per_channel} value per channel): use a batch of at least 2, or eval()"
            )
    affine = weight is not None
    use_batch_stats = bool(training) or running[0] is None
    # The rule: when fast paths are on, the running statistics on a NumPy batch take fast/norm.py's
    # BatchNormEval, the batch's statistics on a conv output (channels outermost in memory) BatchNormTrain.
    data = x.data if isinstance(x, Tensor) else x
    if fast.enabled() and fast_norm.applies(data, use_batch_stats):
        fn = fast_norm.BatchNormEval(running[0], running[1], float(eps), affine)
    elif fast.enabled() and fast_norm.applies_train(data, use_batch_stats):
        fn = fast_norm.BatchNormTrain(float(eps), affine)
    else:
        fn = BatchNorm(use_batch_stats, running[0], running[1], float(eps), affine)
    y = fn(x, weight, bias) if affine else fn(x)
    if training and running[0] is not None:
        update_running_stats(running[0], running[1], fn.batch_mean, fn.batch_var, per_channel, float(momentum))
    return y


def update_running_stats(running_mean: Any, running_var: Any, batch_mean: Any, batch_var: Any, m: int,
                         momentum: float) -> None:
    """The one place the running estimates change, in place (see the module docstring)::

        running_mean = (1 - momentum) * running_mean + momentum * batch_mean
        running_var  = (1 - momentum) * running_var  + momentum * batch_var * m / (m - 1)

    ``batch_var`` is the biased variance of the ``m`` values per channel; the
    estimate kept is the unbiased one, as PyTorch keeps it.
    """
    running_mean *= 1 - momentum
    running_mean += momentum * batch_mean.astype(running_mean.dtype)
    running_var *= 1 - momentum
    running_var += (momentum * m / (m - 1)) * batch_var.astype(running_var.dtype)
