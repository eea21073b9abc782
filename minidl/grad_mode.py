"""Grad mode: whether operations record the graph (``no_grad``, ``enable_grad``).

One switch for the whole program, like PyTorch's: one training loop, one
thread. :class:`minidl.autograd.Function` reads it each time it is called.
"""
from __future__ import annotations

import functools

_enabled = True


def is_grad_enabled() -> bool:
    """False inside ``no_grad()``: then operations record no graph."""
    return _enabled


class no_grad:
    """Context manager (or decorator) in which operations build no graph::

        with mdl.no_grad():
            y = model(x)          # no creator links, no saved activations
    """

    _mode = False

    def __enter__(self) -> None:
        global _enabled
        self._previous = _enabled
        _enabled = self._mode

    def __exit__(self, *exc) -> None:
        global _enabled
        _enabled = self._previous

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class enable_grad(no_grad):
    """The opposite of :class:`no_grad`: record the graph inside this block."""

    _mode = True
