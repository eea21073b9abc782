"""Argument checks: the one place where ints, pairs, probabilities and axes are checked.

Every op, layer, optimizer and loader checks its arguments with these few
functions, so a bad value gets the same clear error everywhere: the function
or class, the argument's name, what was expected and what came::

    ValueError: conv2d: stride must be >= 1, got 0
    ValueError: StepLR: step_size must be a positive integer, got 1.5
    ValueError: dropout: p must be a probability in [0, 1], got 1.2
    ValueError: sum: axis 3 is out of range for a tensor of 2 dimension(s) (shape (4, 5));
    expected an axis in [-2, 1]

Each returns the value in its plain form (``int``, a pair of ints, ``float``,
a non-negative axis), so a caller writes ``stride = pair(stride, "stride",
"conv2d", minimum=1)`` and goes on.

**Axes.** Every op that takes an axis (reductions, softmax, squeeze, unsqueeze, cat,
stack, transpose, flatten, argmax) calls one of these two helpers, so an
out-of-range axis gets the same clear error everywhere, never a silent wrap
(``axis % ndim``), a clamp, or NumPy's raw ``AxisError``::

    ValueError: sum: axis 3 is out of range for a tensor of 2 dimension(s) (shape (4, 5));
    expected an axis in [-2, 1]

The rules are PyTorch's:

* a tensor of ``ndim`` axes takes axes in ``[-ndim, ndim - 1]``; negative ones
  count from the end (-1 is the last axis);
* an op that *inserts* an axis (unsqueeze, stack) takes ``[-ndim - 1, ndim]``:
  ``unsqueeze(-1)`` appends a new last axis;
* a 0-d tensor (a scalar) takes 0 and -1, as if it had one axis; reducing or
  squeezing it over that axis gives the scalar back (``t.sum(0)``,
  ``t.squeeze(-1)``), which is why :func:`normalize_axes` returns ``()`` for it.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Optional, Sequence


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def positive_int(value: Any, name: str, who: str, minimum: int = 1) -> int:
    """An int of at least ``minimum`` (1: a positive integer)."""
    if not _is_int(value) or value < minimum:
        wanted = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{who}: {name} must be {wanted}, got {value!r}")
    return int(value)


def pair(value: Any, name: str, who: str, minimum: int = 0) -> tuple:
    """An int or a pair of ints -> (h, w), each at least ``minimum``."""
    both = (value, value) if _is_int(value) else value
    try:
        both = tuple(both)
    except TypeError:
        both = None
    if both is None or len(both) != 2 or not all(_is_int(v) for v in both):
        raise TypeError(f"{who}: {name} must be an int or a pair of ints, got {value!r}")
    if min(both) < minimum:
        raise ValueError(f"{who}: {name} must be >= {minimum}, got {value!r}")
    return int(both[0]), int(both[1])


def probability(value: Any, name: str, who: str) -> float:
    """A real number in [0, 1]."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{who}: {name} must be a probability in [0, 1], got {value!r}")
    return float(value)


def real(value: Any, name: str, who: str) -> float:
    """A finite real number (not a bool)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{who}: {name} must be a finite real number, got {value!r}")
    return float(value)


def non_negative(value: Any, name: str, who: str) -> float:
    """A finite real number >= 0."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{who}: {name} must be >= 0, got {value!r}")
    return float(value)


# ------------------------------------------------------------------ axes
def _bounds(ndim: int, new_axis: bool) -> tuple:
    """(lowest, highest) axis accepted for a tensor of ``ndim`` axes."""
    top = ndim + 1 if new_axis else max(ndim, 1)  # a 0-d tensor counts as one axis
    return -top, top - 1


def normalize_axis(axis: Any, ndim: int, op: str, shape: Optional[Sequence[int]] = None,
                   new_axis: bool = False, name: str = "axis") -> int:
    """Check one axis and return it as a non-negative int (0 for a 0-d tensor).

    Args:
        axis: the axis given (an int; negative counts from the end).
        ndim: the number of axes of the tensor.
        op: the op's name, for the error message.
        shape: the tensor's shape, named in the error when given.
        new_axis: the op inserts an axis (unsqueeze, stack): one more place is valid.
        name: the argument's name in the error ("axis", "start_dim", ...).

    Raises:
        TypeError: ``axis`` is not an int.
        ValueError: ``axis`` is out of range, naming it, ``ndim`` and the valid range.
    """
    if not isinstance(axis, numbers.Integral) or isinstance(axis, bool):
        raise TypeError(f"{op}: {name} must be an int, got {axis!r} ({type(axis).__name__})")
    lo, hi = _bounds(ndim, new_axis)
    if not lo <= axis <= hi:
        where = f" (shape {tuple(shape)})" if shape is not None else ""
        raise ValueError(
            f"{op}: {name} {axis} is out of range for a tensor of {ndim} dimension(s){where}; "
            f"expected {'an' if name == 'axis' else 'a'} {name} in [{lo}, {hi}]"
        )
    size = ndim + 1 if new_axis else ndim
    return int(axis) % size if size else 0


def normalize_axes(axis: Any, ndim: int, op: str, shape: Optional[Sequence[int]] = None) -> tuple:
    """``axis`` as None (every axis), an int or a sequence -> a sorted tuple of
    distinct non-negative axes. A 0-d tensor has no axes to name: ``()``.

    Raises:
        ValueError: an axis out of range (see :func:`normalize_axis`) or given twice.
    """
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    out = [normalize_axis(a, ndim, op, shape) for a in axes]
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: axis {axis!r} names an axis twice (tensor of {ndim} dimension(s))")
    return tuple(sorted(set(out))) if ndim else ()
