"""PyTorch's ways of writing a Function, which minidl's :class:`~minidl.autograd.Function` accepts too.

minidl's own way is ``Square()(t)`` with ``self.x = x`` in forward. A student
arriving from PyTorch may write instead:

* ``Square.apply(t)`` for ``Square()(t)``; keyword options go to ``__init__``:
  ``Scale.apply(t, factor=2)`` is ``Scale(factor=2)(t)``;
* ``self.save_for_backward(x)`` in forward and ``x, = self.saved_tensors`` in
  backward (they are arrays here, not Tensors);
* ``@staticmethod`` ``forward(ctx, x)`` / ``backward(ctx, gy)``: ``ctx`` is the
  Function object itself.
"""
from __future__ import annotations

import functools
from typing import Any


class TorchHabits:
    """``apply``, ``save_for_backward`` and ``saved_tensors``, mixed into Function."""

    @classmethod
    def apply(cls, *inputs: Any, **options: Any):
        """PyTorch's spelling: ``MyFunction.apply(x, y, **options)`` = ``MyFunction(**options)(x, y)``."""
        return cls(**options)(*inputs)

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays for backward (PyTorch's ``ctx.save_for_backward``)."""
        self._saved = arrays

    @property
    def saved_tensors(self) -> tuple:
        """What :meth:`save_for_backward` kept, as a tuple of arrays."""
        if "_saved" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}: saved_tensors read before save_for_backward() was called "
                f"in forward, or after backward freed it (use backward(retain_graph=True) to keep it)"
            )
        return self._saved


def method(fn: Any, name: str):
    """``fn.forward`` or ``fn.backward``; a PyTorch-style ``@staticmethod`` gets ``fn`` as its ctx."""
    for klass in type(fn).__mro__:
        if name in klass.__dict__:
            if isinstance(klass.__dict__[name], staticmethod):
                return functools.partial(klass.__dict__[name].__func__, fn)
            break
    return getattr(fn, name)
