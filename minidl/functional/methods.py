"""Tensor's operators and methods, bound from one table.

The engine (:mod:`minidl.autograd`) knows nothing about particular ops: a
Tensor there has data, a gradient and a creator, and no ``+``. Here each
operator and method is one line mapping a name to the function in this
package that builds the op's graph, and :func:`bind` (called once by
``minidl/__init__.py``) sets them on the Tensor class::

    x + y        ->  Tensor.__add__(x, y)  ->  arith.add(x, y)  ->  Add()(x, y)
    x.sum(1)     ->  reduce.sum(x, 1)

So an op lives in one file of ``minidl/functional/``, and a Tensor method
for it is one more line below (CONTRIBUTING.md, "Adding an op"). The same
trick is DeZero's ``setup_variable``; PyTorch binds its C++ ops to
``torch.Tensor`` from generated tables.

Reductions take NumPy's ``axis=`` and PyTorch's ``dim=`` (one of the two).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy

from .. import backend
from . import activation, arith, reduce, shape
from . import elementwise  # maximum, where, sin, floor, //, % ... (minidl/functional/elementwise.py)


def _swapped(fn: Callable) -> Callable:
    """``b <op> a`` for the reflected operators: ``2 - x`` calls ``x.__rsub__(2)`` = sub(2, x)."""
    return lambda self, other: fn(other, self)


def _pick(axis: Any, dim: Any) -> Any:
    if dim is not None and axis is not None:
        raise TypeError("give axis= or dim=, not both")
    return axis if dim is None else dim


def _reduction(fn: Callable) -> Callable:
    def method(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        return fn(self, _pick(axis, dim), keepdims if keepdim is None else keepdim)  # keepdim: PyTorch's word

    method.__doc__ = fn.__doc__
    return method


def _flip(self, *dims, **kwargs):
    """``t.flip(0, 1)``, ``t.flip((0, 1))`` or ``t.flip(dims=(0, 1))``, as PyTorch."""
    if kwargs.keys() - {"dims"} or (dims and kwargs):
        raise TypeError(f"flip() takes the dims positionally or as dims=, got {dims} and {kwargs}")
    dims = kwargs["dims"] if kwargs else dims[0] if len(dims) == 1 else dims
    return shape.flip(self, dims)


def _to(self, device: Any = None, dtype: Any = None):
    """A copy on ``device`` and/or of ``dtype``; differentiable (the gradient moves back)."""
    return self if device is None and dtype is None else shape.ToDevice(device, dtype)(self)


def _comparison(op: str) -> Callable:
    """``x < y`` and friends: a boolean tensor, outside the graph (no gradient)."""
    def compare(self, other):
        return type(self)(getattr(self.data, op)(other.data if isinstance(other, type(self)) else other))

    return compare


def _setitem(self, index, value) -> None:
    """``t[index] = value``, for tensors outside any graph (it would corrupt a gradient)."""
    if self.requires_grad or self.creator is not None:
        raise RuntimeError(
            "in-place assignment into a tensor that is part of a graph would corrupt its "
            "gradient; assign into .data under no_grad(), or build a new tensor"
        )
    index = index.data if isinstance(index, type(self)) else index
    self.data[index] = value.data if isinstance(value, type(self)) else value


def _clip(self, min=None, max=None):  # noqa: A002 - PyTorch's argument names
    return arith.clip(self, min, max)


# ------------------------------------------------------------ Python's protocols, conversions
def _len(self) -> int:
    """``len(t)``: the size of the first axis (a 0-d tensor has none)."""
    if self.ndim == 0:
        raise TypeError("len() of a 0-d tensor (a scalar); use .item() for its value")
    return len(self.data)


def _bool(self) -> bool:
    """``if t:`` as PyTorch: a one-element tensor is truthy by its value; a larger
    (or empty) one is ambiguous, so ``t == 2.0`` in an ``assert`` checks the value."""
    if self.data.size != 1:
        raise RuntimeError(
            f"the truth value of a tensor of shape {self.shape} ({self.data.size} values) is "
            f"ambiguous; use .any() / .all() on .data, or compare .item()"
        )
    return bool(self.data.item())


def _repr(self) -> str:
    """``tensor([1., 2.], grad_fn=<Mul>)``, as PyTorch prints it."""
    body = numpy.array2string(backend.to_numpy(self.data), separator=", ", prefix="tensor(")
    extra = ""
    if backend.device_of(self.data) != "cpu":
        extra += f", device='{backend.device_of(self.data)}'"
    if self.creator is not None:
        extra += f", grad_fn=<{type(self.creator).__name__}>"
    elif self.requires_grad:
        extra += ", requires_grad=True"
    return f"tensor({body}{extra})"


def _array(self, dtype=None, copy=None):
    """``numpy.asarray(t)``: CPU tensors convert like arrays; device tensors refuse, as CuPy does."""
    a = numpy.asarray(self.data)
    return a if dtype is None else a.astype(dtype)


def _numpy(self) -> numpy.ndarray:
    """The data as a NumPy array (copied from the GPU when needed)."""
    return backend.to_numpy(self.data)


def _item(self) -> Any:
    """The single value of a one-element tensor, as a Python number."""
    if self.data.size != 1:
        raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
    return self.data.item()


def _tolist(self) -> Any:
    """The data as nested Python lists."""
    return backend.to_numpy(self.data).tolist()



TABLE = {
    # Python's protocols and conversions
    "__len__": _len, "__bool__": _bool, "__repr__": _repr, "__array__": _array,
    "numpy": _numpy, "item": _item, "tolist": _tolist,
    # arithmetic operators
    "__add__": arith.add, "__radd__": _swapped(arith.add),
    "__sub__": arith.sub, "__rsub__": _swapped(arith.sub),
    "__mul__": arith.mul, "__rmul__": _swapped(arith.mul),
    "__truediv__": arith.div, "__rtruediv__": _swapped(arith.div),
    "__pow__": arith.pow, "__rpow__": _swapped(arith.pow),
    "__matmul__": arith.matmul, "__rmatmul__": _swapped(arith.matmul),
    "__neg__": arith.neg, "__abs__": arith.abs, "__pos__": lambda self: self,
    # elementwise functions
    "exp": arith.exp, "log": arith.log, "sqrt": arith.sqrt, "abs": arith.abs, "pow": arith.pow,
    "clip": _clip, "clamp": _clip,
    "relu": activation.relu, "sigmoid": activation.sigmoid, "tanh": activation.tanh,
    "prelu": activation.prelu,
    "maximum": elementwise.maximum, "minimum": elementwise.minimum, "masked_fill": elementwise.masked_fill,
    "where": lambda self, condition, other: elementwise.where(condition, self, other),  # self where condition
    "sin": elementwise.sin, "cos": elementwise.cos, "tan": elementwise.tan,
    "floor": elementwise.floor, "ceil": elementwise.ceil, "round": elementwise.round,
    "trunc": elementwise.trunc, "sign": elementwise.sign,
    "log2": elementwise.log2, "log10": elementwise.log10, "exp2": elementwise.exp2, "rsqrt": elementwise.rsqrt,
    "erf": elementwise.erf, "logaddexp": elementwise.logaddexp, "lerp": elementwise.lerp,
    "isnan": elementwise.isnan, "isinf": elementwise.isinf, "isfinite": elementwise.isfinite,
    "__floordiv__": elementwise.floor_divide, "__rfloordiv__": _swapped(elementwise.floor_divide),
    "__mod__": elementwise.remainder, "__rmod__": _swapped(elementwise.remainder),
    "floor_divide": elementwise.floor_divide, "remainder": elementwise.remainder,
    # reductions
    "sum": _reduction(reduce.sum), "mean": _reduction(reduce.mean),
    "max": _reduction(reduce.max), "min": _reduction(reduce.min),
    "argmax": reduce.argmax, "argmin": reduce.argmin,
    "prod": reduce.prod, "var": reduce.var, "std": reduce.std, "logsumexp": reduce.logsumexp,
    "any": reduce.any, "all": reduce.all, "cumsum": reduce.cumsum,
    "sort": reduce.sort, "argsort": reduce.argsort, "topk": reduce.topk,
    # shapes and indexing
    "reshape": shape.reshape, "view": shape.reshape, "flatten": shape.flatten,
    "transpose": shape.transpose, "T": property(lambda self: shape.transpose(self)),
    "squeeze": shape.squeeze, "unsqueeze": shape.unsqueeze,
    "__getitem__": shape.getitem, "__setitem__": _setitem,
    "flip": _flip, "roll": shape.roll, "sum_to_size": shape.sum_to_size,
    "expand": shape.expand, "repeat": shape.repeat, "repeat_interleave": shape.repeat_interleave,
    "split": shape.split, "chunk": shape.chunk, "unflatten": shape.unflatten,
    "permute": shape.permute, "clone": shape.clone, "gather": shape.gather, "scatter_add": shape.scatter_add,
    "tril": shape.tril, "triu": shape.triu, "diagonal": shape.diagonal,
    "numel": shape.numel, "dim": lambda self: self.ndim,
    # comparisons (no gradient); tensors stay hashable by identity (Tensor.__hash__)
    **{op: _comparison(op) for op in ("__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__")},
    # devices and dtypes
    "to": _to, "float": lambda self: _to(self, dtype="float32"), "double": lambda self: _to(self, dtype="float64"),
}


def bind(tensor_class: type) -> None:
    """Set every entry of :data:`TABLE` on ``tensor_class`` (minidl's Tensor)."""
    for name, fn in TABLE.items():
        setattr(tensor_class, name, fn)
