"""The fast path of batch norm in evaluation: one multiply-add per value, on every core.

With the running statistics (eval mode, or a frozen base in transfer
learning) batch norm is a fixed affine map per channel::

    y = gamma * (x - mu) / sqrt(var + eps) + beta  =  a * x + c,
    a = gamma / sqrt(var + eps),   c = beta - a * mu            (C,)

The reference (:class:`minidl.functional.norm.BatchNorm`) computes the left
side, four passes over x, keeping x-hat for the gradient of gamma; here it
is one multiply and one add in place, each thread a block of channels
(:mod:`.threads`). Backward: gx = a * gy; x-hat, needed only when gamma
learns, is recomputed from x then.

Taken by ``batch_norm`` when fast paths are on, the running statistics are
used and x is a NumPy array; ``tests/functional/test_fast_paths.py`` checks it.

**In training** (:class:`BatchNormTrain`) the statistics are the batch's. A
conv output lies with its channels outermost in memory (:mod:`.layout`), so
each channel's m values are one contiguous row of a (C, m) view, and the
reference's formulas (:mod:`minidl.functional.norm`) take fewer passes:

* the variance as a sum of products, ``einsum("ij,ij->i", centred, centred)``,
  one pass and no (C, m) temporary for the squares;
* backward from two per-channel sums that are also the parameters' gradients,
  sum(gy) = dL/dbeta and sum(gy * xhat) = dL/dgamma, with a = gamma * s::

      gx = a * gy  -  a * sum(gy) / m  -  xhat * (a * sum(gy * xhat) / m)

  (the reference's s * (g - mean(g) - xhat * mean(g * xhat)) with g = gamma * gy,
  gamma taken out of the means): six passes over x against eleven.

Measured on a (64, 64, 32, 32) batch (ResNet at CIFAR size), forward and
backward, CPU time of one core: 42 ms for the reference, 25 ms here.
"""
from __future__ import annotations

from typing import Any

import numpy

from ...autograd import Function
from .layout import BATCH_INNER, CHANNELS_OUTER, in_order, memory_order, outer_axis, rows_of
from .threads import over_rows


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
        axis = outer_axis(x)  # each thread a block of memory (fast/threads.py)
        if axis == 0:  # a and c are (1, C, ...): as wide as the batch, so that rows_of can slice them too
            a, c = numpy.broadcast_to(a, (len(x),) + a.shape[1:]), numpy.broadcast_to(c, (len(x),) + c.shape[1:])

        def part(rows):
            out = rows_of(y, axis, rows)
            numpy.multiply(rows_of(x, axis, rows), rows_of(a, axis, rows), out=out)
            out += rows_of(c, axis, rows)

        over_rows(part, x.shape[axis], numpy, size=x.size)
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


def applies_train(x: Any, use_batch_stats: bool) -> bool:
    """The rule in training: the batch's statistics, a NumPy image batch that lies with its channels
    outermost in memory (conv outputs do), so that every channel is one contiguous row."""
    return (use_batch_stats and isinstance(x, numpy.ndarray) and x.ndim == 4
            and memory_order(x) in (CHANNELS_OUTER, BATCH_INNER))


class BatchNormTrain(Function):
    """Batch norm with the batch's statistics, each channel one row of memory (see the module docstring).

    Keeps ``batch_mean`` and ``batch_var`` (biased) for :func:`minidl.functional.norm.update_running_stats`,
    as the reference does.
    """

    def __init__(self, eps: float, affine: bool):
        self.eps, self.affine = eps, affine

    def forward(self, x, gamma=None, beta=None):
        self.order = memory_order(x)
        self.x_shape = x.shape
        rows = self._rows(x)  # (C, m), a view
        c, m = rows.shape
        mu, var = numpy.empty(c, dtype=x.dtype), numpy.empty(c, dtype=x.dtype)
        self.xhat = numpy.empty((c, m), dtype=x.dtype)
        self.inv_std = numpy.empty(c, dtype=x.dtype)
        self.gamma = gamma
        y = numpy.empty((c, m), dtype=x.dtype)

        def part(r):  # channels r on each thread (fast/threads.py)
            mu[r] = rows[r].mean(axis=1)
            centred = numpy.subtract(rows[r], mu[r, None], out=self.xhat[r])  # (c, m)
            var[r] = numpy.einsum("ij,ij->i", centred, centred) / m  # biased: one pass, no squares kept
            self.inv_std[r] = 1.0 / numpy.sqrt(var[r] + self.eps)
            centred *= self.inv_std[r, None]  # xhat, in place
            if self.affine:
                numpy.multiply(centred, gamma[r, None], out=y[r])
                y[r] += beta[r, None]
            else:
                y[r] = centred

        over_rows(part, c, numpy, size=y.size)
        self.batch_mean, self.batch_var = mu, var
        return self._image(y)

    def backward(self, gy):
        g = self._rows(in_order(gy, self.order))  # (C, m), as xhat
        c, m = g.shape
        sum_gy = numpy.empty(c, dtype=g.dtype)  # dL/dbeta
        sum_gy_xhat = numpy.empty(c, dtype=g.dtype)  # dL/dgamma
        a = self.gamma * self.inv_std if self.affine else self.inv_std  # (C,)
        gx = numpy.empty((c, m), dtype=g.dtype) if self.needs_input_grad[0] else None

        def part(r):  # channels r on each thread
            sum_gy[r] = g[r].sum(axis=1)
            sum_gy_xhat[r] = numpy.einsum("ij,ij->i", g[r], self.xhat[r])
            if gx is not None:
                out = numpy.multiply(g[r], a[r, None], out=gx[r])
                out -= (a[r] * sum_gy[r] / m)[:, None]
                out -= self.xhat[r] * (a[r] * sum_gy_xhat[r] / m)[:, None]

        over_rows(part, c, numpy, size=g.size)
        gx = None if gx is None else self._image(gx)
        if not self.affine:
            return gx
        return (gx, sum_gy_xhat if self.needs_input_grad[1] else None, sum_gy if self.needs_input_grad[2] else None)

    def _rows(self, a):
        """a (N, C, H, W), lying in self.order -> its (C, m) view, one channel a row."""
        return a.transpose(self.order).reshape(a.shape[1], -1)

    def _image(self, rows):
        """The inverse of :meth:`_rows`: (C, m) -> the (N, C, H, W) view, its memory in self.order."""
        memory_shape = tuple(self.x_shape[axis] for axis in self.order)
        return rows.reshape(memory_shape).transpose(tuple(self.order.index(axis) for axis in range(4)))

