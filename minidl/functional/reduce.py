"""Reductions: sum, mean, max, min over ``axis`` (None = all, int or tuple).

Axes are checked by :func:`._axes.normalize_axes` (a clear error for an axis
out of range; a 0-d tensor takes axis 0 or -1 and comes back unchanged).

A reduction's gradient has to be spread back over the axes it removed. With
``keepdims=False`` those axes are gone from ``gy``, so backward first puts
them back as axes of length 1 (``_restore_axes``); broadcasting then copies
``gy`` along them.
"""
from __future__ import annotations

from ..autograd import Function, Tensor
from ..backend import get_array_module
from ..validate import normalize_axes, normalize_axis
from ._dtypes import to_float


def _restore_axes(gy, axes: tuple, keepdims: bool):
    """Reinsert the reduced axes as length-1 axes: (N,) -> (N, 1) for axis=1."""
    if keepdims:
        return gy
    xp = get_array_module(gy)
    for a in sorted(axes):
        gy = xp.expand_dims(gy, a)
    return gy


class Sum(Function):
    """y = sum of x over ``axis``;  gx = gy copied (broadcast) over those axes."""

    def __init__(self, axis=None, keepdims: bool = False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.shape = x.shape
        self.axes = normalize_axes(self.axis, x.ndim, "sum", x.shape)
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        xp = get_array_module(gy)
        return xp.broadcast_to(_restore_axes(gy, self.axes, self.keepdims), self.shape)


class Mean(Function):
    """y = mean of x over ``axis`` (n values);  gx = gy / n over those axes."""

    def __init__(self, axis=None, keepdims: bool = False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.shape = x.shape
        self.axes = normalize_axes(self.axis, x.ndim, "mean", x.shape)
        self.n = 1
        for a in self.axes:
            self.n *= x.shape[a]
        return x.mean(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        xp = get_array_module(gy)
        g = _restore_axes(gy, self.axes, self.keepdims) / self.n
        return xp.broadcast_to(g, self.shape)


class Max(Function):
    """y = max of x over ``axis`` (``Min`` for the minimum).

    gx = gy at the positions that hold the extreme value, 0 elsewhere. When
    several positions tie, the gradient is shared equally among them (a
    subgradient, as NumPy-style ``amax`` in PyTorch does), so the sum of the
    gradient over a reduced slice always equals gy.
    """

    pick = "max"

    def __init__(self, axis=None, keepdims: bool = False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        if x.size == 0:
            raise ValueError(f"{self.pick}() of an empty tensor (shape {x.shape})")
        self.x = x
        self.axes = normalize_axes(self.axis, x.ndim, self.pick, x.shape)
        self.y = getattr(x, self.pick)(axis=self.axes, keepdims=True)
        return self.y if self.keepdims else self.y.reshape(
            tuple(n for i, n in enumerate(x.shape) if i not in self.axes)
        )

    def backward(self, gy):
        hit = self.x == self.y  # (x.shape) True at the extreme values
        count = hit.sum(axis=self.axes, keepdims=True).astype(gy.dtype)  # (in gy's dtype: no float64 temporaries)
        return hit * (_restore_axes(gy, self.axes, self.keepdims) / count)


class Min(Max):
    __doc__ = Max.__doc__
    pick = "min"


def sum(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """The sum over ``axis`` (None: all; an int or a tuple)."""
    return Sum(axis, keepdims)(x)


def mean(x, axis=None, keepdims: bool = False) -> Tensor:
    """The mean over ``axis``; an integer tensor's mean is of the default float dtype."""
    return Mean(axis, keepdims)(to_float(x))


def max(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """The maximum over ``axis``; ties share the gradient."""
    return Max(axis, keepdims)(x)


def min(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """The minimum over ``axis``; ties share the gradient."""
    return Min(axis, keepdims)(x)


def argmax(x, axis=None, pick: str = "argmax") -> Tensor:
    """The index of the maximum over ``axis`` (None: of the flattened tensor); no gradient.

    ``pick="argmin"`` gives the minimum's index (what ``Tensor.argmin`` calls).
    A 0-d tensor's only index is 0, along axis 0 / -1 too.
    """
    data = x.data if isinstance(x, Tensor) else x
    if axis is not None:
        axis = normalize_axis(axis, data.ndim, pick, data.shape)
        if data.ndim == 0:
            axis = None
    return Tensor(getattr(data, pick)(axis=axis))
