"""The adjoint of a linear op, as an op: how linear ops support ``create_graph=True``.

A linear op y = L x (average pooling, upsampling, unpooling, zero padding)
has the backward gx = L^T gy, which is linear in gy too, and whose own
gradient is L again. So such an op needs no second formula: its
``differentiable_backward`` is ``Transposed(self)(gy)``, a Function whose
forward is the op's backward and whose backward is the op's forward::

    class AvgPool2d(Function):
        ...
        def differentiable_backward(self, gy):
            return Transposed(self)(gy)

Both keep a shallow copy of the op (its options and the shapes its forward
saved), so the original graph may be freed first and nothing overwrites it.
"""
from __future__ import annotations

import copy

from ..autograd import Function


class Transposed(Function):
    """g -> L^T g, for the linear op L that ``op`` (a Function that has run forward) applies."""

    def __init__(self, op: Function):
        self.op = copy.copy(op)

    def forward(self, g):
        return self.op.backward(g)

    def backward(self, h):
        return copy.copy(self.op).forward(h)

    def differentiable_backward(self, h):
        return Applied(self.op)(h)


class Applied(Function):
    """x -> L x again, as the gradient of :class:`Transposed` (so that third derivatives work too)."""

    def __init__(self, op: Function):
        self.op = copy.copy(op)

    def forward(self, x):
        return copy.copy(self.op).forward(x)

    def backward(self, g):
        return self.op.backward(g)

    def differentiable_backward(self, g):
        return Transposed(self.op)(g)
