"""The fast path of batch norm in evaluation: one multiply-add per value, on every core.

With the running statistics (eval mode, or a frozen base in transfer
learning) batch norm is a fixed affine map per channel::

    y = gamma * (x - mu) / sqrt(var + eps) + beta  =  a * x + c,
    a = gamma / sqrt(var + eps),   c = beta - a * mu            (C,)

The reference (:class:`minidl.functional.norm.BatchNorm`) computes the left
side, four passes over x, keeping x-hat for the gradient of gamma; here it
is one multiply and one add in place, each thread a slice of the batch
(:mod:`.threads`). Backward: gx = a * gy; x-hat, needed only when gamma
learns, is recomputed from x then.

Taken by ``batch_norm`` when fast paths are on, the running statistics are
used and x is a NumPy array; ``tests/functional/test_fast_paths.py`` checks it.
"""
from __future__ import annotations

from typing import Any

import numpy

from ...autograd import Function
from .threads import over_batch


def applies(x: Any, use_batch_stats: bool) -> bool:
    """The rule: running statistics (not the batch's), on a NumPy batch."""
    return not use_batch_stats and isinstance(x, numpy.ndarray) and x.ndim >= 2


class BatchNormEval(Function):
    """y = a * x + c per channel, from the running statistics (see the module docstring)."""

    def __init__(self, running_mean, running_var, eps: float, affine: bool):
        self.running_mean, self.running_var, self.eps, self.affine = running_mean, running_var, eps, affine

    def forward(self, x, gamma=None, beta=None):
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)  # a statistic broadcast over x
        self.x, self.axes = x, (0,) + tuple(range(2, x.ndim))
        mu, var = self.running_mean.astype(x.dtype), self.running_var.astype(x.dtype)
        self.inv_std = (1.0 / numpy.sqrt(var + self.eps)).reshape(shape)
        a = self.inv_std * gamma.reshape(shape) if self.affine else self.inv_std
        c = (beta.reshape(shape) if self.affine else 0) - a * mu.reshape(shape)
        self.a, self.mu = a, mu.reshape(shape)
        y = numpy.empty_like(x)

        def part(rows):
            numpy.multiply(x[rows], a, out=y[rows])
            y[rows] += c

        over_batch(part, len(x), numpy)
        return y

    def backward(self, gy):
        gx = gy * self.a if self.needs_input_grad[0] else None
        if not self.affine:
            return gx
        ggamma = None
        if self.needs_input_grad[1]:
            xhat = (self.x - self.mu) * self.inv_std  # recomputed: only a learning gamma needs it
            ggamma = (gy * xhat).sum(axis=self.axes)
        gbeta = gy.sum(axis=self.axes) if self.needs_input_grad[2] else None
        return gx, ggamma, gbeta

    def differentiable_backward(self, gy):  # create_graph=True: the reference's eval formulas
        from ..norm import eval_differentiable_backward  # (here, not on top: norm.py imports this file)
        return eval_differentiable_backward(self, gy, self.mu, self.inv_std)
