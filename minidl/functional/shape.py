"""Ops that move values around without changing them: reshape, transpose,
indexing, concatenation, stacking, moving between devices.

Each is linear, and its backward is its adjoint (the "transpose" of the
linear map): reshape back, transpose with the inverse permutation, scatter the
gradient into the indexed places, split the concatenated gradient.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy

from .. import backend
from ..autograd import Function, Tensor
from ..backend import get_array_module
from ..validate import normalize_axes, normalize_axis


class Reshape(Function):
    """y = x viewed with a new shape (same values, same order);  gx = gy reshaped back."""

    def __init__(self, shape: tuple):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ValueError(
                f"cannot reshape a tensor of shape {tuple(x.shape)} ({x.size} values) "
                f"into shape {tuple(self.shape)}"
            ) from None

    def backward(self, gy):
        return gy.reshape(self.in_shape)


class Transpose(Function):
    """y = x with its axes permuted (NumPy's ``transpose``; no axes = reverse them).

    gx = gy permuted by the inverse permutation (``argsort`` of the axes).
    """

    def __init__(self, axes: tuple | None = None):
        self.axes = axes

    def forward(self, x):
        if self.axes is None:
            self.perm = tuple(range(x.ndim))[::-1]
        else:
            self.perm = tuple(normalize_axis(a, x.ndim, "transpose", x.shape) for a in self.axes)
        if x.ndim == 0 and self.perm in ((), (0,)):  # a scalar: nothing to permute
            self.perm = ()
        if sorted(self.perm) != list(range(x.ndim)):
            raise ValueError(
                f"transpose axes {self.axes} are not a permutation of the {x.ndim} axes "
                f"of a tensor of shape {tuple(x.shape)}"
            )
        return x.transpose(self.perm)

    def backward(self, gy):
        inverse = tuple(numpy.argsort(self.perm))  # (the inverse permutation)
        return gy.transpose(inverse)


def _is_basic(index: Any) -> bool:
    """Basic indexing (ints, slices, None, ...) never repeats an element."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts)


class GetItem(Function):
    """y = x[index], basic (slices) or integer-array (fancy) indexing.

    gx = zeros like x, with gy added at the indexed places. Fancy indexing may
    pick the same element twice (``x[[0, 0]]``); its gradient must then be the
    sum of both, which a plain ``gx[index] = gy`` would lose: so repeated
    indices go through ``scatter_add`` (NumPy's ``add.at``).
    """

    def __init__(self, index: Any):
        self.index = index

    def forward(self, x):
        self.shape, self.dtype = x.shape, x.dtype
        return x[self.index]

    def backward(self, gy):
        xp = get_array_module(gy)
        gx = xp.zeros(self.shape, dtype=gy.dtype)
        if _is_basic(self.index):
            gx[self.index] = gy
        else:
            backend.scatter_add(gx, self.index, gy)
        return gx


class Concat(Function):
    """y = the inputs joined along ``axis``;  each gx = its slice of gy."""

    def __init__(self, axis: int = 0):
        self.axis = axis

    def forward(self, *xs):
        xp = get_array_module(*xs)
        if xs[0].ndim == 0:
            raise ValueError("cat: a 0-d tensor (a scalar) has no axis to join along; use stack")
        self.axis = normalize_axis(self.axis, xs[0].ndim, "cat", xs[0].shape)
        self.sizes = [x.shape[self.axis] for x in xs]
        return xp.concatenate(xs, axis=self.axis)

    def backward(self, gy):
        xp = get_array_module(gy)
        cuts = numpy.cumsum(self.sizes)[:-1].tolist()
        return tuple(xp.split(gy, cuts, axis=self.axis))


class Stack(Function):
    """y = the inputs stacked along a new ``axis``;  each gx = gy taken along it."""

    def __init__(self, axis: int = 0):
        self.axis = axis

    def forward(self, *xs):
        xp = get_array_module(*xs)
        self.axis = normalize_axis(self.axis, xs[0].ndim, "stack", xs[0].shape, new_axis=True)
        return xp.stack(xs, axis=self.axis)

    def backward(self, gy):
        xp = get_array_module(gy)
        return tuple(xp.moveaxis(gy, self.axis, 0))


class ToDevice(Function):
    """y = x copied to another device and/or dtype;  gx = gy copied back."""

    def __init__(self, device: Any = None, dtype: Any = None):
        self.device, self.dtype = device, dtype

    def forward(self, x):
        self.src_device, self.src_dtype = backend.device_of(x), x.dtype
        y = x if self.device is None else backend.to_device(x, self.device)
        if self.dtype is not None:
            y = y.astype(self.dtype)
        return y if y is not x else x.copy()

    def backward(self, gy):
        return backend.to_device(gy, self.src_device).astype(self.src_dtype, copy=False)


# ---- functional forms
def reshape(x, *shape) -> Tensor:
    """The same values in a new shape (ints or a tuple; one may be -1)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return Reshape(tuple(shape))(x)


def transpose(x, *axes) -> Tensor:
    """Permute the axes as NumPy does (no axes: reverse them)."""
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    return Transpose(tuple(axes) if axes else None)(x)


def squeeze(x, axis=None) -> Tensor:
    """Remove axes of length 1 (all, or the given ones; a 0-d tensor comes back as it is)."""
    shape = tuple(x.shape)
    if axis is None:
        new = tuple(n for n in shape if n != 1)
    else:
        axes = normalize_axes(axis, len(shape), "squeeze", shape)
        for a in axes:
            if shape[a] != 1:
                raise ValueError(f"cannot squeeze axis {a} of size {shape[a]} (shape {shape})")
        new = tuple(n for i, n in enumerate(shape) if i not in axes)
    return Reshape(new)(x)


def unsqueeze(x, axis: int) -> Tensor:
    """Insert an axis of length 1 at ``axis`` (in [-ndim-1, ndim]: -1 appends one)."""
    shape = list(x.shape)
    shape.insert(normalize_axis(axis, len(shape), "unsqueeze", x.shape, new_axis=True), 1)
    return Reshape(tuple(shape))(x)


def flatten(x, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Join the axes start_dim..end_dim (inclusive) into one (PyTorch's ``flatten``).

    (N, C, H, W) with start_dim=1 -> (N, C*H*W). A 0-d tensor becomes shape (1,).
    """
    shape = tuple(x.shape)
    start = normalize_axis(start_dim, len(shape), "flatten", shape, name="start_dim")
    end = normalize_axis(end_dim, len(shape), "flatten", shape, name="end_dim")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {shape}")
    if not shape:
        return Reshape((1,))(x)
    joined = 1
    for n in shape[start : end + 1]:
        joined *= n
    return Reshape(shape[:start] + (joined,) + shape[end + 1 :])(x)


def _plain_index(index: Any) -> Any:
    """Tensors and lists inside an index -> arrays (of the data's backend)."""
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    return index


def getitem(x, index) -> Tensor:
    """``x[index]``: NumPy's indexing rules, differentiable (:class:`GetItem`); what ``tensor[...]`` calls.

    Basic indexing (ints, slices, None, ...) and integer-array or boolean
    indexing work as on a NumPy array, and so does the one rule where NumPy
    and PyTorch differ: integers and index arrays that are *separated* by a
    slice are all "advanced" indices in NumPy, broadcast together, and
    their axis goes first. For ``t`` of shape (2, 3, 4)::

        t[0, :, [0, 1]].shape      # minidl and NumPy: (2, 3); PyTorch: (3, 2)
        t[0][:, [0, 1]].shape      # (3, 2) everywhere: index in two steps

    PyTorch applies the integer first (as ``t[0]``), so its array axis
    stays in place. Next to each other (``t[:, 0, [0, 1]]``) both agree.
    """
    index = _plain_index(index)
    if isinstance(index, list):
        index = get_array_module(x).asarray(index)
    return GetItem(index)(x)


def concat(tensors: Sequence, axis: int = 0) -> Tensor:
    """Join tensors along an existing axis (``torch.cat``, ``numpy.concatenate``)."""
    if len(tensors) == 0:
        raise ValueError("concat needs at least one tensor")
    return Concat(axis)(*tensors)


cat = concat


def stack(tensors: Sequence, axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis."""
    if len(tensors) == 0:
        raise ValueError("stack needs at least one tensor")
    return Stack(axis)(*tensors)
