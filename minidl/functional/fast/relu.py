"""The fast path of ReLU: the same numbers as the reference, on every core and without ``where``.

The reference (:class:`minidl.functional.activation.ReLU`) is two lines, and
its backward is ``where(x > 0, gy, 0)``. Two things make it slow in a
training step, where it runs on the largest activations there are:

* NumPy's ``where`` is about ten times slower than a multiplication by the
  mask (0 or 1). A float product would not always be the same number
  (inf * 0 is NaN, where the answer is 0), so the fast path multiplies the
  gradient's *bits*: viewed as integers of its size, times the mask, they are
  gy's bits where the unit is on and zero bits (+0.0) where it is off. That
  is ``where(mask, gy, 0)`` exactly, inf and NaN included, in one pass.
* Both loops run on one core; here each thread takes a slice of the batch
  (:mod:`.threads`).

Taken by ``relu`` when fast paths are on and the input is a NumPy batch
(:func:`applies`); ``tests/functional/test_fast_paths.py`` checks it.
"""
from __future__ import annotations

from typing import Any

import numpy

from ...autograd import Function
from ...grad_mode import is_grad_enabled
from .layout import in_order, memory_order
from .threads import over_batch


def applies(x: Any) -> bool:
    """The rule: a NumPy array with a batch axis (CuPy has its own kernels)."""
    return isinstance(x, numpy.ndarray) and x.ndim >= 2 and x.dtype.kind == "f"


class ReLU(Function):
    """y = max(x, 0);  gx = gy where x > 0, else 0 (see the module docstring)."""

    def forward(self, x):
        y = numpy.empty_like(x)  # in x's memory order, as the mask
        track = is_grad_enabled() and self.needs_input_grad[0]  # no backward to come: no mask
        self.mask = numpy.empty_like(x, dtype=bool) if track else None

        def part(rows):
            if track:
                numpy.greater(x[rows], 0, out=self.mask[rows])
            numpy.maximum(x[rows], 0, out=y[rows])

        over_batch(part, len(x), numpy)
        return y

    def backward(self, gy):
        if gy.ndim == 4:
            gy = in_order(gy, memory_order(self.mask))  # one copy beats a loop over mismatched layouts
        gx = numpy.empty_like(gy)
        bits = numpy.dtype(f"i{gy.dtype.itemsize}")  # an integer as wide as the float

        def part(rows):  # gy's bits where the unit is on, zero bits elsewhere: where(mask, gy, 0)
            numpy.multiply(gy[rows].view(bits), self.mask[rows], out=gx[rows].view(bits))

        over_batch(part, len(gy), numpy)
        return gx

    def differentiable_backward(self, gy):  # create_graph=True: as the reference's
        return gy.where(self.mask, 0)
