"""The fast path of ReLU: the same numbers as the reference, on every core and without ``where``.

The reference (:class:`minidl.functional.activation.ReLU`) is two lines, and
its backward is ``where(x > 0, gy, 0)``. Two things make it slow in a
training step, where it runs on the largest activations there are:

* NumPy's ``where`` is about ten times slower than a multiplication by the
  mask (``gy * mask``, 0 or 1). The product is the same number, except where
  gy is infinite and the unit is off (inf * 0 = NaN, where the answer is 0);
  so the fast path multiplies, and only when gy holds a non-finite value does
  it take ``where`` as the reference does.
* Both loops run on one core; here each thread takes a slice of the batch
  (:mod:`.threads`).

Taken by ``relu`` when fast paths are on and the input is a NumPy batch
(:func:`applies`); ``tests/functional/test_fast_paths.py`` checks it.
"""
from __future__ import annotations

from typing import Any

import numpy

from ...autograd import Function
from .threads import over_batch


def applies(x: Any) -> bool:
    """The rule: a NumPy array with a batch axis (CuPy has its own kernels)."""
    return isinstance(x, numpy.ndarray) and x.ndim >= 2 and x.dtype.kind == "f"


class ReLU(Function):
    """y = max(x, 0);  gx = gy where x > 0, else 0 (see the module docstring)."""

    def forward(self, x):
        y, self.mask = numpy.empty_like(x), numpy.empty(x.shape, dtype=bool)

        def part(rows):
            numpy.greater(x[rows], 0, out=self.mask[rows])
            numpy.maximum(x[rows], 0, out=y[rows])

        over_batch(part, len(x), numpy)
        return y

    def backward(self, gy):
        if not numpy.isfinite(gy).all():  # inf * 0 would be NaN: the reference's where instead
            return numpy.where(self.mask, gy, 0)
        gx = numpy.empty_like(gy)

        def part(rows):
            numpy.multiply(gy[rows], self.mask[rows], out=gx[rows])

        over_batch(part, len(gy), numpy)
        return gx

    def differentiable_backward(self, gy):  # create_graph=True: as the reference's
        return gy.where(self.mask, 0)
