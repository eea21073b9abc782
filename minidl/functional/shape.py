"""Ops that move values around without changing them: reshape, transpose,
indexing, concatenation, stacking, moving between devices; flip, roll,
expand, repeat, repeat_interleave, split, chunk, unflatten, permute, clone,
gather, scatter_add, tril, triu, diagonal; one_hot (integers, no gradient).

Each is linear, and its backward is its adjoint (the "transpose" of the
linear map): reshape back, transpose with the inverse permutation, scatter the
gradient into the indexed places, split the concatenated gradient. Two
adjoints come back again and again:

* an op that *copies* an input value to several outputs (expand, repeat,
  repeat_interleave, gather) has a backward that *adds* the gradients of
  those copies (a sum, a scatter-add);
* an op that only *moves* values (flip, roll, permute, split) has a backward
  that moves the gradient back (the inverse move).

Axes: the new ops take PyTorch's names (``dim``, ``dims``); the older ones
(cat, stack, squeeze, unsqueeze) take ``axis`` and PyTorch's ``dim=`` too.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy

from .. import backend
from ..autograd import Function, Tensor, _as_tensors
from ..backend import get_array_module
from ..validate import normalize_axes, normalize_axis, positive_int


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

    def differentiable_backward(self, gy):  # each adjoint below is itself an op: its Function applied to gy
        return Reshape(self.in_shape)(gy)


class Transpose(Function):
    """y = x with its axes permuted (NumPy's ``transpose``; no axes = reverse them).

    gx = gy permuted by the inverse permutation (``argsort`` of the axes).
    """

    def __init__(self, axes: tuple | None = None, op: str = "transpose"):
        self.axes, self.op = axes, op  # op: the name in errors ("permute" calls it too)

    def forward(self, x):
        if self.axes is None:
            self.perm = tuple(range(x.ndim))[::-1]
        else:
            self.perm = tuple(normalize_axis(a, x.ndim, self.op, x.shape) for a in self.axes)
        if x.ndim == 0 and self.perm in ((), (0,)):  # a scalar: nothing to permute
            self.perm = ()
        if sorted(self.perm) != list(range(x.ndim)):
            raise ValueError(
                f"{self.op} axes {self.axes} are not a permutation of the {x.ndim} axes "
                f"of a tensor of shape {tuple(x.shape)}"
            )
        return x.transpose(self.perm)

    def backward(self, gy):
        inverse = tuple(numpy.argsort(self.perm))  # (the inverse permutation)
        return gy.transpose(inverse)

    def differentiable_backward(self, gy):
        return Transpose(tuple(int(a) for a in numpy.argsort(self.perm)), self.op)(gy)


def _is_basic(index: Any) -> bool:
    """Basic indexing (ints, slices, None, ...) never repeats an element."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts)


def place_array(shape: tuple, index: Any, values: Any) -> Any:
    """Zeros of ``shape`` with ``values`` added at ``index``, repeated indices summed.

    Fancy indexing may pick the same element twice (``x[[0, 0]]``); a plain
    ``out[index] = values`` would then keep only one of the two, so repeated
    indices go through ``scatter_add`` (NumPy's ``add.at``).
    """
    out = get_array_module(values).zeros(shape, dtype=values.dtype)
    if _is_basic(index):
        out[index] = values
    else:
        backend.scatter_add(out, index, values)
    return out


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
        return place_array(self.shape, self.index, gy)

    def differentiable_backward(self, gy):
        return Place(self.shape, self.index)(gy)


class Place(Function):
    """y = zeros of ``shape`` with x added at ``index``: the adjoint of indexing, as an op.

    ``GetItem``'s backward as a Function of its own, so that a gradient taken
    through indexing can be differentiated again; its adjoint is indexing: gx = gy[index].
    """

    def __init__(self, shape: tuple, index: Any):
        self.shape, self.index = shape, index

    def forward(self, x):
        return place_array(self.shape, self.index, x)

    def backward(self, gy):
        return gy[self.index]

    def differentiable_backward(self, gy):
        return GetItem(self.index)(gy)


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

    def differentiable_backward(self, gy):
        return Split(self.sizes, self.axis)(gy)


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

    def differentiable_backward(self, gy):
        before = (slice(None),) * self.axis
        return tuple(GetItem(before + (i,))(gy) for i in range(gy.shape[self.axis]))


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

    def differentiable_backward(self, gy):
        return ToDevice(self.src_device, self.src_dtype)(gy)


class Flip(Function):
    """y = x with the order of the elements along ``dims`` reversed: y[i] = x[n - 1 - i].

    Reversing twice is the identity, so the adjoint of a flip is the same flip: gx = flip(gy).
    """

    def __init__(self, dims: tuple):
        self.dims = dims

    def forward(self, x):
        return get_array_module(x).flip(x, axis=self.dims)

    def backward(self, gy):
        return get_array_module(gy).flip(gy, axis=self.dims)

    def differentiable_backward(self, gy):
        return Flip(self.dims)(gy)


class Roll(Function):
    """y = x shifted by ``shifts`` along ``dims``, wrapping around: y[(i + s) % n] = x[i].

    ``dims=None`` rolls the flattened tensor (and keeps its shape). Rolling
    back by -s undoes it, and a permutation's adjoint is its inverse: gx = roll(gy, -s).
    """

    def __init__(self, shifts: tuple | int, dims: tuple | None):
        self.shifts, self.dims = shifts, dims

    def forward(self, x):
        return get_array_module(x).roll(x, self.shifts, axis=self.dims)

    def backward(self, gy):
        return get_array_module(gy).roll(gy, self._back(), axis=self.dims)

    def differentiable_backward(self, gy):
        return Roll(self._back(), self.dims)(gy)

    def _back(self):
        """The shifts that undo this roll."""
        return -self.shifts if self.dims is None else tuple(-s for s in self.shifts)


class Expand(Function):
    """y = x broadcast to ``shape`` (axes of length 1 copied, new leading axes added).

    y is NumPy's ``broadcast_to``: a read-only view that copies nothing, as
    PyTorch's ``expand``. Every copy of x[i] receives a gradient, so the
    adjoint of broadcasting adds them back: gx = gy summed to x's shape.
    """

    def __init__(self, shape: tuple):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        return get_array_module(x).broadcast_to(x, self.shape)

    def backward(self, gy):
        return backend.sum_to_shape(gy, self.in_shape)

    def differentiable_backward(self, gy):
        return SumTo(self.in_shape)(gy)


class SumTo(Function):
    """y = x summed down to ``shape`` (the axes broadcasting added or grew): Tensor.sum_to_size.

    The adjoint of :class:`Expand`, and Expand is its adjoint: gx = gy broadcast back to x's shape.
    """

    def __init__(self, shape: tuple):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        return backend.sum_to_shape(x, self.shape)

    def backward(self, gy):
        return get_array_module(gy).broadcast_to(gy, self.in_shape)

    def differentiable_backward(self, gy):
        return Expand(self.in_shape)(gy)


class Repeat(Function):
    """y = x tiled ``sizes[d]`` times along each axis d (PyTorch's ``Tensor.repeat``, NumPy's ``tile``).

    With x of shape (n0, n1) and sizes (r0, r1), y has shape (r0*n0, r1*n1)
    and y[a*n0 + i, b*n1 + j] = x[i, j]. The adjoint adds the r0*r1 copies:
    view gy as (r0, n0, r1, n1) and sum the r axes. More sizes than axes
    put new leading axes in front, as if x had shape (1, ..., 1, n0, n1).
    """

    def __init__(self, sizes: tuple):
        self.sizes = sizes

    def forward(self, x):
        self.in_shape = x.shape
        return get_array_module(x).tile(x, self.sizes)

    def backward(self, gy):
        padded = (1,) * (len(self.sizes) - len(self.in_shape)) + tuple(self.in_shape)
        pairs = []
        for r, n in zip(self.sizes, padded):
            pairs += [r, n]                                   # (r0, n0, r1, n1, ...)
        copies = tuple(range(0, len(pairs), 2))               # the r axes
        return gy.reshape(pairs).sum(axis=copies).reshape(self.in_shape)


class RepeatInterleave(Function):
    """y = each element of x along ``dim`` repeated ``repeats[i]`` times in place: [a, b] -> [a, a, b, b, b].

    y[k] = x[owner[k]] with ``owner = repeat(arange(n), repeats)`` ([0, 0, 1, 1, 1]).
    Its adjoint adds every copy's gradient into its owner: gx = scatter_add of gy
    at ``owner`` (each owner appears repeats[i] times: a plain assignment would keep one).
    """

    def __init__(self, repeats: Any, dim: int):
        self.repeats, self.dim = repeats, dim  # repeats: an int or a list of ints, one per element

    def forward(self, x):
        self.in_shape = x.shape
        return get_array_module(x).repeat(x, self.repeats, axis=self.dim)

    def backward(self, gy):
        xp = get_array_module(gy)
        n = self.in_shape[self.dim]
        owner = xp.repeat(xp.arange(n), self.repeats)                   # (len(y) along dim,)
        gx = xp.zeros((n,) + self.in_shape[: self.dim] + self.in_shape[self.dim + 1:], dtype=gy.dtype)
        backend.scatter_add(gx, owner, xp.moveaxis(gy, self.dim, 0))    # (n, other axes...)
        return xp.moveaxis(gx, 0, self.dim)


class Split(Function):
    """ys = x cut along ``dim`` into consecutive pieces of ``sizes`` (several outputs).

    The pieces together are x, so the adjoint joins their gradients again:
    gx = concatenate(gys). A piece that never reaches the loss gets a
    gradient of zeros from the engine, so its part of gx is 0.
    """

    def __init__(self, sizes: list, dim: int):
        self.sizes, self.dim = sizes, dim

    def forward(self, x):
        xp = get_array_module(x)
        cuts = numpy.cumsum(self.sizes)[:-1].tolist()  # where one piece ends and the next begins
        return tuple(xp.split(x, cuts, axis=self.dim))

    def backward(self, *gys):
        return get_array_module(*gys).concatenate(gys, axis=self.dim)

    def differentiable_backward(self, *gys):
        return Concat(self.dim)(*gys)


class Clone(Function):
    """y = a copy of x (new memory, same values);  gx = gy (the identity's adjoint is itself)."""

    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        return gy

    differentiable_backward = backward


def _coordinates(index, dim: int) -> tuple:
    """The full coordinates that gather and scatter_add address, one index array per axis.

    For a 3-D ``index`` and dim=1, position (i, j, k) addresses (i, index[i, j, k], k):
    every axis but ``dim`` is its own position (an ``arange`` shaped to broadcast along it).
    """
    xp = get_array_module(index)
    coords = []
    for d, n in enumerate(index.shape):
        shape = [1] * index.ndim
        shape[d] = n
        coords.append(index if d == dim else xp.arange(n).reshape(shape))
    return tuple(coords)


class Gather(Function):
    """y[i, j, k] = x[i, index[i, j, k], k] (for dim=1): y has the shape of ``index``.

    Several positions of y may read the same element of x, so the adjoint adds
    their gradients: gx = zeros, then gx[coordinates] += gy, a scatter-add
    (``backend.scatter_add``: repeated indices must add up, not overwrite).
    """

    def __init__(self, dim: int, index: Any):
        self.dim, self.index = dim, index

    def forward(self, x):
        self.in_shape = x.shape
        return x[_coordinates(self.index, self.dim)]

    def backward(self, gy):
        gx = get_array_module(gy).zeros(self.in_shape, dtype=gy.dtype)
        backend.scatter_add(gx, _coordinates(self.index, self.dim), gy)
        return gx

    def differentiable_backward(self, gy):
        zeros = Tensor(get_array_module(gy.data).zeros(self.in_shape, dtype=gy.dtype))
        return ScatterAdd(self.dim, self.index)(zeros, gy)


class ScatterAdd(Function):
    """y = x with src added at the gathered places: y[i, index[i, j, k], k] += src[i, j, k] (dim=1).

    Out of place (PyTorch's ``scatter_add``, not ``scatter_add_``). Only the
    corner of src of ``index``'s shape is used. The gradients:

    * with respect to x: gy (x passes through unchanged);
    * with respect to src: each src value went to one place, so its gradient is
      read from there, a gather: gsrc[i, j, k] = gy[i, index[i, j, k], k] (0
      outside the used corner). Gather and scatter-add are each other's adjoints.
    """

    def __init__(self, dim: int, index: Any):
        self.dim, self.index = dim, index

    def forward(self, x, src):
        self.src_shape = src.shape
        y = x.copy()
        corner = tuple(slice(0, n) for n in self.index.shape)
        backend.scatter_add(y, _coordinates(self.index, self.dim), src[corner])
        return y

    def backward(self, gy):
        gsrc = None
        if self.needs_input_grad[1]:
            gsrc = get_array_module(gy).zeros(self.src_shape, dtype=gy.dtype)
            corner = tuple(slice(0, n) for n in self.index.shape)
            gsrc[corner] = gy[_coordinates(self.index, self.dim)]
        return gy, gsrc

    def differentiable_backward(self, gy):
        gsrc = None
        if self.needs_input_grad[1]:
            gsrc = Gather(self.dim, self.index)(gy)  # (index's shape): src's used corner
            if tuple(self.src_shape) != tuple(self.index.shape):
                gsrc = Place(self.src_shape, tuple(slice(0, n) for n in self.index.shape))(gsrc)
        return gy, gsrc


class Triangle(Function):
    """y = the lower (tril) or upper (triu) triangle of the last two axes, 0 elsewhere.

    tril keeps x[..., i, j] where j <= i + diagonal; triu where j >= i + diagonal.
    Keeping some entries and zeroing the others is its own adjoint: gx = tril(gy) (triu(gy)).
    """

    def __init__(self, upper: bool, diagonal: int):
        self.upper, self.diagonal = upper, diagonal

    def forward(self, x):
        return self._keep(x)

    def backward(self, gy):
        return self._keep(gy)

    def _keep(self, a):
        xp = get_array_module(a)
        return xp.triu(a, self.diagonal) if self.upper else xp.tril(a, self.diagonal)


class Diagonal(Function):
    """y[..., k] = x[..., k + r, k + c] over the axes dim1, dim2 (r, c: where diagonal ``offset`` starts).

    The two axes go away and the diagonal becomes the last axis (as in
    PyTorch and NumPy). Each element of the diagonal comes from one place, so
    the adjoint puts gy back there, zeros elsewhere: gx[..., k + r, k + c] = gy[..., k].
    """

    def __init__(self, offset: int, dim1: int, dim2: int):
        self.offset, self.dim1, self.dim2 = offset, dim1, dim2

    def _places(self, shape: tuple, xp: Any) -> tuple:
        """(rows, cols) of the diagonal's elements in the (dim1, dim2) plane."""
        rows, cols = shape[self.dim1], shape[self.dim2]
        r, c = max(-self.offset, 0), max(self.offset, 0)   # offset > 0: above the main diagonal
        length = max(min(rows - r, cols - c), 0)
        k = xp.arange(length)
        return k + r, k + c

    def _plane_last(self, a: Any) -> Any:
        """A view of ``a`` with dim1, dim2 moved to the end: (..., rows, cols)."""
        return get_array_module(a).moveaxis(a, (self.dim1, self.dim2), (-2, -1))

    def forward(self, x):
        self.in_shape = x.shape
        rows, cols = self._places(x.shape, get_array_module(x))
        return self._plane_last(x)[..., rows, cols]                    # (..., length)

    def backward(self, gy):
        xp = get_array_module(gy)
        gx = xp.zeros(self.in_shape, dtype=gy.dtype)
        rows, cols = self._places(self.in_shape, xp)
        self._plane_last(gx)[..., rows, cols] = gy                      # writes through the view into gx
        return gx


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


def squeeze(x, axis=None, *, dim=None) -> Tensor:
    """Remove axes of length 1 (all, or the given ones; a 0-d tensor comes back as it is)."""
    axis = _axis_or_dim(axis, dim, "squeeze")
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


def unsqueeze(x, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Insert an axis of length 1 at ``axis`` (in [-ndim-1, ndim]: -1 appends one); ``dim=`` is PyTorch's name."""
    axis = _axis_or_dim(axis, dim, "unsqueeze")
    if axis is None:
        raise TypeError("unsqueeze: missing the axis (dim) where the new axis goes")
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


def concat(tensors: Sequence, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing axis, 0 by default (``torch.cat``, ``numpy.concatenate``)."""
    axis = _axis_or_dim(axis, dim, "cat")
    if len(tensors) == 0:
        raise ValueError("concat needs at least one tensor")
    return Concat(0 if axis is None else axis)(*tensors)


cat = concat


def stack(tensors: Sequence, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Join tensors of one shape along a new axis, 0 by default (``dim=`` is PyTorch's name)."""
    axis = _axis_or_dim(axis, dim, "stack")
    if len(tensors) == 0:
        raise ValueError("stack needs at least one tensor")
    return Stack(0 if axis is None else axis)(*tensors)


# ---- more shape ops, PyTorch's names and arguments
def _axis_or_dim(axis: Any, dim: Any, op: str) -> Any:
    """One axis from NumPy's ``axis=`` or PyTorch's ``dim=`` (not both)."""
    if dim is not None and axis is not None and dim != axis:
        raise TypeError(f"{op}: give axis= or dim=, not both (got axis={axis!r}, dim={dim!r})")
    return axis if dim is None else dim


def _ints(values: Any, name: str, op: str) -> tuple:
    """An int, a sequence of ints, or one sequence given as ``*args`` -> a tuple of ints."""
    if isinstance(values, tuple) and len(values) == 1 and isinstance(values[0], (tuple, list)):
        values = values[0]                      # t.flip((0, 1)) as well as t.flip(0, 1)
    if isinstance(values, Tensor):
        values = values.tolist()
    given = values
    values = (values,) if isinstance(values, (int, numpy.integer)) else values
    try:
        values = tuple(values)
    except TypeError:
        values = None
    if values is None or not all(isinstance(v, (int, numpy.integer)) and not isinstance(v, bool) for v in values):
        raise TypeError(f"{op}: {name} must be an int or a sequence of ints, got {given!r}")
    return tuple(int(v) for v in values)


def _dims(dims: Any, x: Any, op: str, name: str = "dims") -> tuple:
    """Distinct axes of ``x``, checked (an axis out of range or given twice is an error)."""
    dims = _ints(dims, name, op)
    out = tuple(normalize_axis(d, x.ndim, op, x.shape, name=name) for d in dims)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: {name} {dims} names an axis twice")
    return out if x.ndim else ()


def _as_index(index: Any, x: Tensor, op: str) -> Any:
    """``index`` (a Tensor, an array or a list) as an integer array on x's device, checked for gather/scatter_add."""
    index = index.data if isinstance(index, Tensor) else index
    here, there = backend.device_of(x.data), backend.device_of(index) if backend.is_array(index) else "cpu"
    if there not in ("cpu", here):  # a host index is copied over; one on another device is a mistake
        raise ValueError(f"{op}: index is on device {there!r}, the input on {here!r}; move one of them with .to()")
    index = get_array_module(x.data).asarray(index)
    if index.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor, got dtype {index.dtype}")
    return index


def flip(input: Any, dims: Any) -> Tensor:
    """Reverse the order of the elements along ``dims`` (an int or a tuple): ``torch.flip``.

    ``flip(x, -1)`` mirrors an (N, C, H, W) batch left to right; ``x.flip(2, 3)`` turns it by 180 degrees.
    """
    (x,) = _as_tensors([input])
    return Flip(_dims(dims, x, "flip"))(x)


def roll(input: Any, shifts: Any, dims: Any = None) -> Tensor:
    """Shift the elements by ``shifts`` along ``dims``, wrapping around: ``torch.roll``.

    ``roll([1, 2, 3, 4], 1)`` is [4, 1, 2, 3]. Without ``dims`` the tensor is
    rolled as if flat (then ``shifts`` is one int); with ``dims``, ``shifts``
    gives one shift per axis.
    """
    (x,) = _as_tensors([input])
    shifts_ = _ints(shifts, "shifts", "roll")
    if dims is None:
        if len(shifts_) != 1:
            raise ValueError(f"roll: without dims, shifts must be one int (the flat tensor is rolled), got {shifts!r}")
        return Roll(shifts_[0], None)(x)
    dims_ = _ints(dims, "dims", "roll")
    if len(shifts_) != len(dims_):
        raise ValueError(f"roll: shifts and dims must have the same length, got shifts={shifts!r} and dims={dims!r}")
    if x.ndim == 0:  # a scalar (dims 0 or -1): nothing to move
        _dims(dims_, x, "roll")
        return Roll(0, None)(x)
    return Roll(shifts_, _dims(dims_, x, "roll"))(x)


def expand(input: Any, *sizes: Any) -> Tensor:
    """Broadcast to ``sizes`` without copying (``Tensor.expand``): axes of length 1 grow, -1 keeps a size.

    ``x`` of shape (3, 1): ``x.expand(3, 4)`` or ``x.expand(-1, 4)`` -> (3, 4);
    ``x.expand(2, 3, 4)`` adds a leading axis (new axes cannot be -1).
    The gradient sums the copies back (the adjoint of broadcasting).
    """
    (x,) = _as_tensors([input])
    sizes_ = _ints(sizes, "sizes", "expand")
    shape = tuple(x.shape)
    new = len(sizes_) - len(shape)
    if new < 0:
        raise ValueError(f"expand: sizes {sizes_} has fewer entries than the tensor's {len(shape)} dimension(s) "
                         f"(shape {shape})")
    target = []
    for d, size in enumerate(sizes_):
        old = shape[d - new] if d >= new else None
        if size == -1 and old is None:
            raise ValueError(f"expand: size -1 at position {d} is a new leading dimension, which needs a size "
                             f"(sizes {sizes_}, shape {shape})")
        size = old if size == -1 else size
        if size < 0 or (old is not None and old != 1 and old != size):
            raise ValueError(f"expand: cannot expand dimension {d - new} of size {old} to {size}; only a size-1 "
                             f"dimension can grow (sizes {sizes_}, shape {shape})")
        target.append(size)
    return Expand(tuple(target))(x)


def sum_to_size(input: Any, *size: Any) -> Tensor:
    """Sum ``input`` down to ``size``, undoing a broadcast (``Tensor.sum_to_size``).

    ``x`` of shape (3, 4): ``x.sum_to_size(1, 4)`` sums the rows, ``x.sum_to_size(4)``
    too, dropping the axis. ``size`` must be a shape that broadcasts to input's.
    """
    (x,) = _as_tensors([input])
    target = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
    try:
        if numpy.broadcast_shapes(target, x.shape) != tuple(x.shape):
            raise ValueError
    except ValueError:
        raise ValueError(f"sum_to_size: size {target} does not broadcast to the input's shape {tuple(x.shape)}") from None
    return SumTo(target)(x)


def repeat(input: Any, *sizes: Any) -> Tensor:
    """Tile the tensor ``sizes[d]`` times along each axis (``Tensor.repeat``; NumPy's ``tile``).

    [1, 2].repeat(3) is [1, 2, 1, 2, 1, 2]; (2, 3).repeat(2, 1, 1) -> (2, 2, 3).
    ``sizes`` needs at least one entry per axis (extra entries add leading axes).
    """
    (x,) = _as_tensors([input])
    sizes_ = _ints(sizes, "sizes", "repeat")
    if len(sizes_) < x.ndim:
        raise ValueError(f"repeat: sizes {sizes_} must have at least one entry per dimension of the tensor "
                         f"({x.ndim}, shape {tuple(x.shape)})")
    if any(r < 0 for r in sizes_):
        raise ValueError(f"repeat: sizes must be >= 0, got {sizes_}")
    return Repeat(sizes_)(x)


def repeat_interleave(input: Any, repeats: Any, dim: Any = None) -> Tensor:
    """Repeat each element ``repeats`` times in place along ``dim``: [a, b] -> [a, a, b, b] (``torch``'s name).

    ``repeats`` is an int (the same for all) or one count per element along
    ``dim`` (a list or an integer tensor). Without ``dim`` the tensor is flattened first.
    """
    (x,) = _as_tensors([input])
    if dim is None:
        x, dim = flatten(x), 0
    elif x.ndim == 0:
        x = flatten(x)
    dim = normalize_axis(dim, x.ndim, "repeat_interleave", x.shape, name="dim")
    counts = _ints(repeats, "repeats", "repeat_interleave")
    n = x.shape[dim]
    if any(r < 0 for r in counts):
        raise ValueError(f"repeat_interleave: repeats must be >= 0, got {repeats!r}")
    if len(counts) == 1:  # one count for every element
        return RepeatInterleave(counts[0], dim)(x)
    if len(counts) != n:
        raise ValueError(f"repeat_interleave: repeats must be one int or one count per element along dim {dim} "
                         f"({n}), got {len(counts)} counts")
    return RepeatInterleave(list(counts), dim)(x)  # (a list: CuPy's repeat takes no device array)


def split(tensor: Any, split_size_or_sections: Any, dim: int = 0) -> tuple:
    """Cut along ``dim`` into pieces: a tuple of tensors (``torch.split``).

    An int gives pieces of that size (the last may be smaller): a length-5
    axis split by 2 gives sizes 2, 2, 1. A list gives the sizes themselves,
    which must add up to the axis' length.
    """
    (x,) = _as_tensors([tensor])
    if x.ndim == 0:
        raise ValueError("split: a 0-d tensor (a scalar) has no dimension to split")
    dim = normalize_axis(dim, x.ndim, "split", x.shape, name="dim")
    n = x.shape[dim]
    if isinstance(split_size_or_sections, (int, numpy.integer)) and not isinstance(split_size_or_sections, bool):
        size = positive_int(split_size_or_sections, "split_size_or_sections", "split")
        sizes = [size] * (n // size) + ([n % size] if n % size else [])
    else:
        sizes = list(_ints(split_size_or_sections, "split_size_or_sections", "split"))
        if any(s < 0 for s in sizes) or sum(sizes) != n:
            raise ValueError(f"split: the sizes {sizes} must be >= 0 and add up to the length of dim {dim} "
                             f"({n}, shape {tuple(x.shape)})")
    return Split(sizes or [0], dim)(x)


def chunk(input: Any, chunks: int, dim: int = 0) -> tuple:
    """Cut along ``dim`` into at most ``chunks`` pieces of ceil(n / chunks) elements (``torch.chunk``).

    A composition: ``split(input, ceil(n / chunks), dim)``. As in PyTorch a
    length-5 axis in 4 chunks gives 3 pieces (2, 2, 1), never empty ones.
    """
    (x,) = _as_tensors([input])
    chunks = positive_int(chunks, "chunks", "chunk")
    if x.ndim == 0:
        raise ValueError("chunk: a 0-d tensor (a scalar) has no dimension to cut")
    n = x.shape[normalize_axis(dim, x.ndim, "chunk", x.shape, name="dim")]
    return split(x, max(-(-n // chunks), 1), dim)


def unflatten(input: Any, dim: int, sizes: Any) -> Tensor:
    """Open axis ``dim`` into several (``torch.unflatten``): (N, 12) with dim=1, sizes (3, 4) -> (N, 3, 4).

    The inverse of ``flatten``, and like it a reshape (one size may be -1).
    """
    (x,) = _as_tensors([input])
    shape = tuple(x.shape)
    dim = normalize_axis(dim, len(shape), "unflatten", shape, name="dim")
    sizes = _ints(sizes, "sizes", "unflatten")
    known = 1
    for s in sizes:
        known *= s if s != -1 else 1
    if not sizes or sizes.count(-1) > 1 or any(s < -1 for s in sizes) or (
            -1 not in sizes and known != shape[dim]) or (-1 in sizes and (known == 0 or shape[dim] % known)):
        raise ValueError(f"unflatten: sizes {sizes} do not multiply to the size {shape[dim]} of dim {dim} "
                         f"(shape {shape}; one size may be -1)")
    sizes = tuple(shape[dim] // known if s == -1 else s for s in sizes)
    return Reshape(shape[:dim] + sizes + shape[dim + 1:])(x)


def permute(input: Any, *dims: Any) -> Tensor:
    """Reorder the axes: ``permute(x, (0, 2, 3, 1))`` takes NCHW to NHWC (``torch.permute``, ``t.permute(*dims)``).

    The :class:`Transpose` op with every axis named; its gradient applies the inverse permutation.
    """
    (x,) = _as_tensors([input])
    return Transpose(_ints(dims, "dims", "permute"), op="permute")(x)


def clone(input: Any) -> Tensor:
    """A copy in new memory that stays in the graph (``torch.clone``); the gradient passes through."""
    (x,) = _as_tensors([input])
    return Clone()(x)


def _check_index(index: Any, x: Tensor, dim: int, op: str, src: Any = None) -> None:
    """gather/scatter_add's index: x's number of axes, no larger than x off ``dim`` (nor than src), in range."""
    if x.ndim == 0:
        raise ValueError(f"{op}: a 0-d tensor (a scalar) has no dimension to index along")
    if index.ndim != x.ndim:
        raise ValueError(f"{op}: index must have as many dimensions as the input ({x.ndim}), "
                         f"got shape {tuple(index.shape)}")
    for d, n in enumerate(index.shape):
        if (d != dim and n > x.shape[d]) or (src is not None and n > src.shape[d]):
            also = "" if src is None else f" or the src shape {tuple(src.shape)}"
            raise ValueError(f"{op}: index shape {tuple(index.shape)} is larger than the input shape "
                             f"{tuple(x.shape)}{also} at dimension {d}")
    if index.size and not (0 <= int(index.min()) and int(index.max()) < x.shape[dim]):
        raise ValueError(f"{op}: index values must be in [0, {x.shape[dim] - 1}] (the size of dim {dim}), "
                         f"got values from {int(index.min())} to {int(index.max())}")


def gather(input: Any, dim: int, index: Any) -> Tensor:
    """Pick values along ``dim`` at ``index``: y[i][j] = x[i][index[i][j]] for dim=1 (``torch.gather``).

    ``index`` is an integer tensor with the input's number of axes; the output
    has its shape. The classic use: each row's value at its label,
    ``log_probs.gather(1, labels.reshape(-1, 1))``.
    """
    (x,) = _as_tensors([input])
    dim = normalize_axis(dim, x.ndim, "gather", x.shape, name="dim")
    index = _as_index(index, x, "gather")
    _check_index(index, x, dim, "gather")
    return Gather(dim, index)(x)


def scatter_add(input: Any, dim: int, index: Any, src: Any) -> Tensor:
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (``torch.scatter_add``, out of place).

    For dim=1: y[i][index[i][j]] += src[i][j]; repeated indices add up. The
    adjoint of :func:`gather`: counting with ``scatter_add(zeros, 0, labels, ones)``
    gives a histogram.
    """
    x, src = _as_tensors([input, src])
    if x.ndim != src.ndim:
        raise ValueError(f"scatter_add: src must have as many dimensions as the input ({x.ndim}), "
                         f"got shape {tuple(src.shape)}")
    if x.dtype != src.dtype:
        raise TypeError(f"scatter_add: src dtype {src.dtype} does not match the input dtype {x.dtype}")
    dim = normalize_axis(dim, x.ndim, "scatter_add", x.shape, name="dim")
    index = _as_index(index, x, "scatter_add")
    _check_index(index, x, dim, "scatter_add", src=src)
    return ScatterAdd(dim, index)(x, src)


def _triangle(input: Any, diagonal: int, upper: bool) -> Tensor:
    op = "triu" if upper else "tril"
    (x,) = _as_tensors([input])
    if x.ndim < 2:
        raise ValueError(f"{op}: input must have at least 2 dimensions (a matrix, or a batch of them), "
                         f"got shape {tuple(x.shape)}")
    if not isinstance(diagonal, (int, numpy.integer)) or isinstance(diagonal, bool):
        raise TypeError(f"{op}: diagonal must be an int, got {diagonal!r}")
    return Triangle(upper, int(diagonal))(x)


def tril(input: Any, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two axes, zeros above (``torch.tril``).

    Keeps x[..., i, j] with j <= i + diagonal: diagonal=0 keeps the main
    diagonal, -1 starts below it, 1 one above. A causal attention mask is ``tril`` of ones.
    """
    return _triangle(input, diagonal, upper=False)


def triu(input: Any, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two axes, zeros below (``torch.triu``): keeps j >= i + diagonal."""
    return _triangle(input, diagonal, upper=True)


def diagonal(input: Any, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of the (dim1, dim2) planes, as a new last axis (``torch.diagonal``).

    offset > 0 takes a diagonal above the main one, offset < 0 one below.
    (3, 4) -> (3,); (N, 3, 3) with dim1=1, dim2=2 -> (N, 3).
    """
    (x,) = _as_tensors([input])
    if x.ndim < 2:
        raise ValueError(f"diagonal: input must have at least 2 dimensions, got shape {tuple(x.shape)}")
    if not isinstance(offset, (int, numpy.integer)) or isinstance(offset, bool):
        raise TypeError(f"diagonal: offset must be an int, got {offset!r}")
    d1 = normalize_axis(dim1, x.ndim, "diagonal", x.shape, name="dim1")
    d2 = normalize_axis(dim2, x.ndim, "diagonal", x.shape, name="dim2")
    if d1 == d2:
        raise ValueError(f"diagonal: dim1 and dim2 must be different axes, got {dim1} and {dim2} "
                         f"(shape {tuple(x.shape)})")
    return Diagonal(int(offset), d1, d2)(x)


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """Integer labels of shape S -> an int64 tensor of shape S + (num_classes,): 1 at the label (``F.one_hot``).

    ``num_classes=-1`` takes the largest label + 1. Not differentiable (the
    input is integers). one_hot([2, 0], 3) = [[0, 0, 1], [1, 0, 0]].
    """
    labels = Tensor(tensor).data  # a Tensor, an array or a list
    xp = get_array_module(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: tensor must hold integer class labels, got dtype {labels.dtype}")
    if num_classes != -1:
        num_classes = positive_int(num_classes, "num_classes", "one_hot")
    if labels.size == 0:
        if num_classes == -1:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor; give num_classes")
        return Tensor(xp.zeros(labels.shape + (num_classes,), dtype=xp.int64))
    low, high = int(labels.min()), int(labels.max())
    if num_classes == -1:
        num_classes = high + 1
    if low < 0 or high >= num_classes:
        raise ValueError(f"one_hot: class labels must be in [0, {num_classes - 1}] (num_classes {num_classes}), "
                         f"got values from {low} to {high}")
    return Tensor((labels[..., None] == xp.arange(num_classes)).astype(xp.int64))  # (*S, num_classes)


def numel(input: Any) -> int:
    """The number of elements (``torch.numel``, ``t.numel()``): the product of the shape."""
    return int(input.data.size if isinstance(input, Tensor) else input.size)
