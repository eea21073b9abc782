"""Reductions: sum, mean, max, min, prod, var, std, logsumexp, any, all over
``axis`` (None = all, int or tuple); along one axis: cumsum, argmax, argmin,
sort, argsort, topk.

Axes are checked by ``normalize_axes`` of ``minidl/validate.py`` (a clear error for an axis
out of range; a 0-d tensor takes axis 0 or -1 and comes back unchanged).

A reduction's gradient has to be spread back over the axes it removed. With
``keepdims=False`` those axes are gone from ``gy``, so backward first puts
them back as axes of length 1 (``_restore_axes``); broadcasting then copies
``gy`` along them.
"""
from __future__ import annotations

from typing import NamedTuple

from ..autograd import Function, Tensor
from ..backend import get_array_module
from ..validate import non_negative, normalize_axes, normalize_axis, positive_int
from ._dtypes import to_float


def _restore_axes(gy, axes: tuple, keepdims: bool):
    """Reinsert the reduced axes as length-1 axes: (N,) -> (N, 1) for axis=1."""
    if keepdims:
        return gy
    xp = get_array_module(gy)
    for a in sorted(axes):
        gy = xp.expand_dims(gy, a)
    return gy


def _restore_axes_tensor(gy: Tensor, shape: tuple, axes: tuple, keepdims: bool) -> Tensor:
    """:func:`_restore_axes` as a Tensor op: gy with length-1 axes where the reduced ones were."""
    return gy if keepdims else gy.reshape(tuple(1 if a in axes else n for a, n in enumerate(shape)))


def _pick(who: str, axis, dim, keepdims=False, keepdim=None) -> tuple:
    """(axis, keepdims) from NumPy's or PyTorch's spelling of each (one of the two)."""
    if dim is not None and axis is not None:
        raise TypeError(f"{who}: give axis= or dim=, not both")
    if keepdim is not None and keepdims:
        raise TypeError(f"{who}: give keepdims= or keepdim=, not both")
    return (axis if dim is None else dim), bool(keepdims if keepdim is None else keepdim)


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

    def differentiable_backward(self, gy):
        return _restore_axes_tensor(gy, self.shape, self.axes, self.keepdims).expand(*self.shape)


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

    def differentiable_backward(self, gy):
        return (_restore_axes_tensor(gy, self.shape, self.axes, self.keepdims) / self.n).expand(*self.shape)


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

    def differentiable_backward(self, gy):  # hit and count are constants
        hit = self.x == self.y
        count = hit.sum(axis=self.axes, keepdims=True).astype(gy.dtype)
        return (_restore_axes_tensor(gy, self.x.shape, self.axes, self.keepdims) / count) * hit


class Min(Max):
    __doc__ = Max.__doc__
    pick = "min"


def sum(x, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:  # noqa: A001
    """The sum over ``axis`` (None: all; an int or a tuple)."""
    return Sum(*_pick("sum", axis, dim, keepdims, keepdim))(x)


def mean(x, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """The mean over ``axis``; an integer tensor's mean is of the default float dtype."""
    return Mean(*_pick("mean", axis, dim, keepdims, keepdim))(to_float(x))


def max(x, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:  # noqa: A001
    """The maximum over ``axis``; ties share the gradient."""
    return Max(*_pick("max", axis, dim, keepdims, keepdim))(x)


def min(x, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:  # noqa: A001
    """The minimum over ``axis``; ties share the gradient."""
    return Min(*_pick("min", axis, dim, keepdims, keepdim))(x)


# ==================================================================== more reductions
# prod, var, std, logsumexp, any, all, cumsum, argmax, argmin, sort, argsort, topk.
# Like sum and mean, they take PyTorch's spellings too: dim= for axis=, keepdim= for keepdims= (_pick).


def _one_axis(who: str, x, axis) -> int:
    """One axis of x, checked (0 for a 0-d x)."""
    return normalize_axis(axis, x.ndim, who, x.shape)


class Prod(Function):
    """y = product of x over ``axis``.

    gx_i = gy * (product of every x_j but x_i). Not gy * y / x_i: that is 0 / 0
    where x_i = 0, and the product of the others is not 0 there. So backward
    writes the product of the others as

        (x_0 * ... * x_(i-1)) * (x_(i+1) * ... * x_(n-1))

    two running products (cumprod from the left and from the right, each
    shifted by one), exact with any number of zeros, and with no division.
    """

    def __init__(self, axis=None, keepdims: bool = False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.x = x
        self.axes = normalize_axes(self.axis, x.ndim, "prod", x.shape)
        return x.prod(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        xp = get_array_module(gy)
        x, axes = self.x, self.axes
        kept = [a for a in range(x.ndim) if a not in axes]
        order = kept + list(axes)  # the reduced axes last ...
        moved = xp.transpose(x, order)
        rows = moved.reshape(moved.shape[:len(kept)] + (-1,))  # ... flattened into one: (..., n)
        ones = xp.ones(rows.shape[:-1] + (1,), dtype=x.dtype)
        before = xp.cumprod(xp.concatenate([ones, rows[..., :-1]], axis=-1), axis=-1)  # x_0 ... x_(i-1)
        flipped = xp.flip(rows, axis=-1)
        after = xp.flip(xp.cumprod(xp.concatenate([ones, flipped[..., :-1]], axis=-1), axis=-1), axis=-1)
        others = (before * after)[..., :rows.shape[-1]]  # (..., n)  (the slice matters only when n = 0)
        others = others.reshape(moved.shape)
        inverse = [order.index(a) for a in range(x.ndim)]  # the permutation that undoes `order`
        return _restore_axes(gy, axes, self.keepdims) * xp.transpose(others, inverse)


class Var(Function):
    """y = sum (x - mean)^2 / (n - correction) over ``axis`` (n values per slice).

    correction=1 is the unbiased sample variance (Bessel's correction), 0 the
    population variance. With d = n - correction:

        gx = gy * 2 (x - mean) / d

    (the mean's own dependence on x drops out, because sum (x - mean) = 0).
    When d <= 0, as PyTorch: a value of inf (nan where every x is equal).
    """

    def __init__(self, axis=None, correction: float = 1, keepdims: bool = False):
        self.axis, self.correction, self.keepdims = axis, correction, keepdims

    def forward(self, x):
        xp = get_array_module(x)
        self.axes = normalize_axes(self.axis, x.ndim, "var", x.shape)
        n = 1
        for a in self.axes:
            n *= x.shape[a]
        self.d = n - self.correction
        self.centered = x - x.mean(axis=self.axes, keepdims=True)
        ss = (self.centered * self.centered).sum(axis=self.axes, keepdims=self.keepdims)
        if self.d <= 0:
            return xp.where(ss > 0, xp.inf, xp.nan).astype(x.dtype)
        return ss / self.d

    def backward(self, gy):
        scale = 2 / self.d if self.d > 0 else float("nan")
        return _restore_axes(gy, self.axes, self.keepdims) * (scale * self.centered)


class LogSumExp(Function):
    """y = log sum exp(x) over ``axis``, stably:  y = m + log sum exp(x - m), m = max x.

    Every exp(x - m) is at most 1 and one of them is 1, so nothing overflows
    (logits of 1000) and the log never sees 0. (m is taken as 0 in a slice
    whose maximum is not finite: all -inf gives y = -inf.)
    gx = gy * exp(x - y): the softmax of x over the axis.
    """

    def __init__(self, axis=None, keepdims: bool = False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        xp = get_array_module(x)
        self.x = x
        self.axes = normalize_axes(self.axis, x.ndim, "logsumexp", x.shape)
        m = x.max(axis=self.axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        self.y = m + xp.log(xp.exp(x - m).sum(axis=self.axes, keepdims=True))  # (keepdims shape)
        return self.y if self.keepdims else xp.squeeze(self.y, axis=self.axes)

    def backward(self, gy):
        xp = get_array_module(gy)
        return _restore_axes(gy, self.axes, self.keepdims) * xp.exp(self.x - self.y)


class CumSum(Function):
    """y_i = x_0 + ... + x_i along ``axis``.

    x_j reaches every y_i with i >= j, so gx_j = gy_j + ... + gy_(n-1): the
    running sum of gy from the other end (flip, cumsum, flip back).
    """

    def __init__(self, axis: int):
        self.axis = axis

    def forward(self, x):
        return get_array_module(x).cumsum(x, axis=self.axis)

    def backward(self, gy):
        xp = get_array_module(gy)
        return xp.flip(xp.cumsum(xp.flip(gy, axis=self.axis), axis=self.axis), axis=self.axis)


class TakeAlong(Function):
    """y = x picked at ``index`` along ``axis`` (sort's and topk's values).

    Forward reads x at the places ``index`` names; backward writes gy to the
    same places of a zero gradient (each place is named at most once per
    slice, so writing is enough; gather's backward would have to add).
    """

    def __init__(self, index, axis: int):
        self.index, self.axis = index, axis

    def _places(self, xp):
        # Open grids of positions, one per axis, with the axis of the pick replaced by index.
        grid = list(xp.ix_(*[xp.arange(n) for n in self.index.shape]))
        grid[self.axis] = self.index
        return tuple(grid)

    def forward(self, x):
        self.shape = x.shape
        return x[self._places(get_array_module(x))]

    def backward(self, gy):
        xp = get_array_module(gy)
        gx = xp.zeros(self.shape, dtype=gy.dtype)
        gx[self._places(xp)] = gy
        return gx


def _argsort_array(x, axis: int, descending: bool):
    """Stable argsort of a raw array along ``axis``: equal values keep their order.

    Descending: argsort the reversed array ascending (stable), turn its
    positions back into x's (i -> n - 1 - i) and reverse the result. Equal
    values then still come in their original order, and NaN (sorted as the
    largest) comes first, as in PyTorch; negating x would do neither for
    every dtype.
    """
    xp = get_array_module(x)
    if x.ndim == 0:
        return xp.zeros((), dtype="int64")
    if not descending:
        return xp.argsort(x, axis=axis, kind="stable")
    n = x.shape[axis]
    return n - 1 - xp.flip(xp.argsort(xp.flip(x, axis=axis), axis=axis, kind="stable"), axis=axis)


class ValuesIndices(NamedTuple):
    """What sort and topk return, as PyTorch's ``(values, indices)``: unpack it or use the names."""

    values: Tensor
    indices: Tensor


# ---- functional forms
def prod(x, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """The product over ``axis`` (None: all); the gradient is right where an element is 0."""
    axis, keepdims = _pick("prod", axis, dim, keepdims, keepdim)
    return Prod(axis, keepdims)(x)


def _correction(who: str, unbiased, correction) -> float:
    if unbiased is not None and correction is not None:
        raise TypeError(f"{who}: give correction= or unbiased=, not both")
    if unbiased is not None:
        if not isinstance(unbiased, bool):
            raise TypeError(f"{who}: unbiased must be True or False, got {unbiased!r}")
        return 1 if unbiased else 0
    return 1 if correction is None else non_negative(correction, "correction", who)


def _variance(who: str, x, axis, unbiased, keepdims, correction, dim, keepdim) -> Tensor:
    axis, keepdims = _pick(who, axis, dim, keepdims, keepdim)
    return Var(axis, _correction(who, unbiased, correction), keepdims)(to_float(x))


def var(x, axis=None, unbiased=None, keepdims: bool = False, *, correction=None, dim=None, keepdim=None) -> Tensor:
    """The variance over ``axis``: sum (x - mean)^2 / (n - correction); correction=1 by default,
    as PyTorch (``unbiased=True/False`` is the older spelling of correction=1/0)."""
    return _variance("var", x, axis, unbiased, keepdims, correction, dim, keepdim)


def std(x, axis=None, unbiased=None, keepdims: bool = False, *, correction=None, dim=None, keepdim=None) -> Tensor:
    """The standard deviation over ``axis``: sqrt(var(x, ...)), written as that composition
    (the gradient is the chain rule through sqrt and :class:`Var`; nan where std is 0, as PyTorch)."""
    from .arith import sqrt  # (arith is a sibling file; imported here to keep this file's imports few)

    return sqrt(_variance("std", x, axis, unbiased, keepdims, correction, dim, keepdim))


def logsumexp(x, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """log(sum(exp(x))) over ``axis`` (None: all), without overflow."""
    axis, keepdims = _pick("logsumexp", axis, dim, keepdims, keepdim)
    return LogSumExp(axis, keepdims)(to_float(x))


def _logical(fn: str, x, axis, keepdims) -> Tensor:
    data = x.data if isinstance(x, Tensor) else x
    axes = normalize_axes(axis, data.ndim, fn, data.shape)
    return Tensor(getattr(data.astype(bool), fn)(axis=axes, keepdims=keepdims))


def any(x, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:  # noqa: A001
    """True where some value over ``axis`` is nonzero (a boolean tensor, no gradient)."""
    return _logical("any", x, *_pick("any", axis, dim, keepdims, keepdim))


def all(x, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:  # noqa: A001
    """True where every value over ``axis`` is nonzero (a boolean tensor, no gradient)."""
    return _logical("all", x, *_pick("all", axis, dim, keepdims, keepdim))


def cumsum(x, axis=None, *, dim=None) -> Tensor:
    """The running sum along ``axis`` (required, as PyTorch's dim)."""
    axis, _ = _pick("cumsum", axis, dim)
    if axis is None:
        raise TypeError("cumsum: give the axis to sum along (axis= or dim=)")
    x = x if isinstance(x, Tensor) else Tensor(x)
    if x.ndim == 0:
        _one_axis("cumsum", x, axis)
        return Sum(None)(x)
    return CumSum(_one_axis("cumsum", x, axis))(x)


def _arg_extreme(pick: str, x, axis, keepdims) -> Tensor:
    """argmax / argmin (``pick``) of x over one axis or, for None, of the flattened tensor.

    ``keepdims`` keeps the reduced axis as length 1 (with axis None: every
    axis, shape (1, ..., 1), as PyTorch). A 0-d tensor's only index is 0,
    along axis 0 / -1 too.
    """
    data = x.data if isinstance(x, Tensor) else x
    if axis is not None:
        axis = normalize_axis(axis, data.ndim, pick, data.shape)
        if data.ndim == 0:
            axis = None
    index = getattr(data, pick)(axis=axis)
    if keepdims:
        index = index.reshape((1,) * data.ndim) if axis is None else get_array_module(data).expand_dims(index, axis)
    return Tensor(index)


def argmax(x, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """The index of the maximum over ``axis`` (None: of the flattened tensor); ties: the first; no gradient."""
    return _arg_extreme("argmax", x, *_pick("argmax", axis, dim, keepdims, keepdim))


def argmin(x, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """The index of the minimum over ``axis`` (None: of the flattened tensor); ties: the first; no gradient."""
    return _arg_extreme("argmin", x, *_pick("argmin", axis, dim, keepdims, keepdim))


def sort(x, axis=None, descending: bool = False, stable: bool = False, *, dim=None) -> ValuesIndices:
    """(values, indices): x sorted along ``axis`` (the last by default); the values are differentiable.

    The sort is always stable (equal values keep their order), whatever
    ``stable`` says: PyTorch allows that, and it makes ties reproducible.
    """
    axis, _ = _pick("sort", axis, dim)
    axis = -1 if axis is None else axis  # the last axis by default
    x = x if isinstance(x, Tensor) else Tensor(x)
    axis = _one_axis("sort", x, axis)
    if x.ndim == 0:
        return ValuesIndices(Sum(None)(x), Tensor(get_array_module(x.data).zeros((), dtype="int64")))
    index = _argsort_array(x.data, axis, descending)
    return ValuesIndices(TakeAlong(index, axis)(x), Tensor(index))


def argsort(x, axis=None, descending: bool = False, stable: bool = False, *, dim=None) -> Tensor:
    """The indices that sort x along ``axis`` (the last by default; stable; no gradient)."""
    axis, _ = _pick("argsort", axis, dim)
    axis = -1 if axis is None else axis  # the last axis by default
    x = x if isinstance(x, Tensor) else Tensor(x)
    return Tensor(_argsort_array(x.data, _one_axis("argsort", x, axis), descending))


def topk(x, k, axis=None, largest: bool = True, sorted: bool = True, *, dim=None) -> ValuesIndices:  # noqa: A002
    """(values, indices) of the ``k`` largest (``largest=False``: smallest) along ``axis`` (the last by default).

    The values are differentiable: the gradient goes to the k places picked
    (:class:`TakeAlong`). They come sorted (largest first), whatever
    ``sorted`` says, and equal values keep their order.
    """
    axis, _ = _pick("topk", axis, dim)
    axis = -1 if axis is None else axis  # the last axis by default
    x = x if isinstance(x, Tensor) else Tensor(x)
    axis = _one_axis("topk", x, axis)
    size = x.shape[axis] if x.ndim else 1
    k = positive_int(k, "k", "topk", minimum=0)
    if k > size:
        raise ValueError(f"topk: k must be at most the size of axis {axis} ({size}), got {k} "
                         f"(shape {tuple(x.shape)})")
    if x.ndim == 0:
        return sort(x)
    index = _argsort_array(x.data, axis, descending=largest)
    index = index[(slice(None),) * axis + (slice(0, k),)]  # the first k along axis
    return ValuesIndices(TakeAlong(index, axis)(x), Tensor(index))
