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
* Both loops run on one core; here each thread takes a block of rows of
  memory, the channels of a conv output (:mod:`.threads`).

Taken by ``relu`` when fast paths are on and the input is a NumPy batch
(:func:`applies`); ``tests/functional/test_fast_paths.py`` checks it.
"""
from __future__ import annotations

from typing import Any

import numpy

from ...autograd import Function
from ...grad_mode import is_grad_enabled
from .layout import in_order, memory_order, outer_axis, rows_of
from .threads import over_rows


def applies(x: Any) -> bool:
    """The rule: a NumPy array with a batch axis (CuPy has its own kernels)."""
    return isinstance(x, numpy.ndarray) and x.ndim >= 2 and x.dtype.kind == "f"


class ReLU(Function):
    """y = max(x, 0);  gx = gy where x > 0, else 0 (see the module docstring)."""

    def forward(self, x):
        y = numpy.empty_like(x)  # in x's memory order, as the mask
        track = is_grad_enabled() and self.needs_input_grad[0]  # no backward to come: no mask
        self.mask = numpy.empty_like(x, dtype=bool) if track else None

        axis = outer_axis(x)  # each thread a block of memory (fast/threads.py)

        def part(rows):
            xs = rows_of(x, axis, rows)
            if track:
                numpy.greater(xs, 0, out=rows_of(self.mask, axis, rows))
            numpy.maximum(xs, 0, out=rows_of(y, axis, rows))

        over_rows(part, x.shape[axis], numpy, size=x.size)
        return y

    def backward(self, gy):
        if gy.ndim == 4:
            gy = in_order(gy, memory_order(self.mask))  # one copy beats a loop over mismatched layouts
        gx = numpy.empty_like(gy)
        bits = numpy.dtype(f"i{gy.dtype.itemsize}")  # an integer as wide as the float

        axis = outer_axis(gy)

        def part(rows):  # gy's bits where the unit is on, zero bits elsewhere: where(mask, gy, 0)
            numpy.multiply(rows_of(gy, axis, rows).view(bits), rows_of(self.mask, axis, rows),
                           out=rows_of(gx, axis, rows).view(bits))

        over_rows(part, gy.shape[axis], numpy, size=gy.size)
        return gx

    def differentiable_backward(self, gy):  # create_graph=True: as the reference's
        return gy.where(self.mask, 0)
