"""A CuPy stand-in for machines without a GPU: NumPy that refuses to leak.

CuPy arrays live on the GPU, so CuPy refuses to turn one into a NumPy array
behind your back: ``numpy.asarray(cupy_array)`` raises, and so does mixing a
CuPy array with a NumPy array in one operation. Code that calls ``numpy.`` on
data that may be on the GPU therefore works on a laptop and breaks on a GPU.

This module catches those bugs on a CPU. ``strict.ndarray`` wraps a NumPy
array and behaves like ``cupy.ndarray``:

* ``numpy.asarray(a)`` / ``numpy.array(a)`` raise ``TypeError``;
* an operation that mixes it with a NumPy array (not a scalar) raises;
* NumPy functions and ufuncs called on it dispatch to it and give strict
  arrays back (CuPy does the same through ``__array_function__``);
* ``a.get()`` and ``strict.asnumpy(a)`` are the explicit ways out.

The module itself is used as an array namespace, like ``cupy``: ``strict.zeros``,
``strict.exp``, ``strict.random``... are NumPy's, wrapped. It is slower than
NumPy and meant for tests only (``device="strict"``).
"""
from __future__ import annotations

import types
from typing import Any

import numpy

_NO_IMPLICIT = (
    "Implicit conversion of a strict (GPU stand-in) array to a NumPy array is not "
    "allowed; use .get() or minidl.backend.to_numpy(). A NumPy-only code path ran "
    "on device data."
)


def _unwrap(obj: Any, refuse_numpy: bool = False) -> Any:
    """strict arrays -> NumPy arrays, through lists, tuples and dicts."""
    if isinstance(obj, ndarray):
        return obj._a
    if refuse_numpy and isinstance(obj, numpy.ndarray) and obj.ndim > 0:
        raise TypeError(
            "Unsupported type <class 'numpy.ndarray'>: a NumPy array was mixed with a "
            "strict (GPU stand-in) array; move it with xp.asarray() first."
        )
    if isinstance(obj, (list, tuple)):
        return type(obj)(_unwrap(o, refuse_numpy) for o in obj)
    if isinstance(obj, dict):
        return {k: _unwrap(v, refuse_numpy) for k, v in obj.items()}
    return obj


def _wrap(obj: Any) -> Any:
    """NumPy arrays -> strict arrays, through tuples and lists."""
    if isinstance(obj, numpy.ndarray):
        return ndarray(obj)
    if isinstance(obj, numpy.generic):  # CuPy gives 0-d arrays, not NumPy scalars
        return ndarray(numpy.asarray(obj))
    if isinstance(obj, tuple):
        return tuple(_wrap(o) for o in obj)
    if isinstance(obj, list):
        return [_wrap(o) for o in obj]
    return obj


class ndarray(numpy.lib.mixins.NDArrayOperatorsMixin):
    """A NumPy array that pretends to live on another device."""

    __slots__ = ("_a",)
    __array_priority__ = 100

    def __init__(self, a: numpy.ndarray):
        self._a = a

    # The door CuPy keeps shut.
    def __array__(self, dtype=None, copy=None):
        raise TypeError(_NO_IMPLICIT)

    def get(self) -> numpy.ndarray:
        """Copy to a NumPy array (as ``cupy.ndarray.get``)."""
        return self._a.copy()

    # NumPy's protocols: dispatch ufuncs and functions to the wrapped array.
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = _unwrap(inputs, refuse_numpy=True)
        if "out" in kwargs:
            kwargs["out"] = _unwrap(kwargs["out"], refuse_numpy=True)
        result = getattr(ufunc, method)(*inputs, **kwargs)
        return _wrap(result)

    def __array_function__(self, func, types_, args, kwargs):
        result = func(*_unwrap(args, refuse_numpy=True), **_unwrap(kwargs, refuse_numpy=True))
        return _wrap(result)

    # Attributes and methods of the wrapped array, with results wrapped.
    def __getattr__(self, name: str) -> Any:
        # No dunders: forwarding __array_interface__ would let NumPy read the
        # data after all; and "_a" is missing only mid-copy (no endless recursion).
        if name == "_a" or name.startswith("__"):
            raise AttributeError(name)
        attr = getattr(self._a, name)
        if callable(attr):
            def method(*args, **kwargs):
                return _wrap(attr(*_unwrap(args, True), **_unwrap(kwargs, True)))
            return method
        return _wrap(attr)

    @property
    def T(self) -> "ndarray":
        return ndarray(self._a.T)

    @property
    def shape(self) -> tuple:
        return self._a.shape

    @property
    def dtype(self) -> numpy.dtype:
        return self._a.dtype

    @property
    def ndim(self) -> int:
        return self._a.ndim

    @property
    def size(self) -> int:
        return self._a.size

    @property
    def device(self) -> str:
        return "strict"

    def __getitem__(self, index):
        return _wrap(self._a[_unwrap(index, True)])

    def __setitem__(self, index, value):
        self._a[_unwrap(index, True)] = _unwrap(value, True)

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self):
        return (_wrap(row) for row in self._a)

    # Scalars may be read out explicitly, as CuPy allows.
    def __bool__(self) -> bool:
        return bool(self._a)

    def __float__(self) -> float:
        return float(self._a)

    def __int__(self) -> int:
        return int(self._a)

    def __index__(self) -> int:
        return self._a.__index__()

    def __complex__(self) -> complex:
        return complex(self._a)

    def __repr__(self) -> str:
        return "strict." + repr(self._a)

    def __copy__(self) -> "ndarray":
        return ndarray(self._a.copy())

    def __deepcopy__(self, memo) -> "ndarray":
        return ndarray(self._a.copy())

    def __reduce__(self):
        raise TypeError("strict arrays cannot be pickled; convert with .get() first")


def asnumpy(a: Any) -> numpy.ndarray:
    """The explicit way back to NumPy (as ``cupy.asnumpy``)."""
    return a.get() if isinstance(a, ndarray) else numpy.asarray(a)


def asarray(a: Any, dtype=None) -> ndarray:
    """To the stand-in device; NumPy input is copied, as CuPy copies to the GPU."""
    if isinstance(a, ndarray):
        return a if dtype is None or a.dtype == dtype else ndarray(a._a.astype(dtype))
    return ndarray(numpy.array(a, dtype=dtype))


def array(a: Any, dtype=None, copy: bool = True) -> ndarray:
    if isinstance(a, ndarray):
        return ndarray(numpy.array(a._a, dtype=dtype, copy=copy))
    return ndarray(numpy.array(a, dtype=dtype))


def get_array_module(*arrays: Any) -> Any:
    import sys

    return sys.modules[__name__] if any(isinstance(a, ndarray) for a in arrays) else numpy


class _Namespace(types.ModuleType):
    """Wraps a NumPy (sub)module: functions take and give strict arrays."""

    def __init__(self, target: types.ModuleType):
        super().__init__("minidl.strict." + target.__name__)
        self._target = target

    def __getattr__(self, name: str) -> Any:
        return _lookup(self._target, name)


def _lookup(target: types.ModuleType, name: str) -> Any:
    attr = getattr(target, name)
    if isinstance(attr, types.ModuleType):
        return _Namespace(attr)
    if isinstance(attr, type):  # dtypes such as float32 stay NumPy's, as in CuPy
        return attr
    if isinstance(attr, numpy.ufunc):
        return _Ufunc(attr)
    if callable(attr):
        def function(*args, **kwargs):
            return _wrap(attr(*_unwrap(args, True), **_unwrap(kwargs, True)))
        function.__name__ = name
        function.__doc__ = attr.__doc__
        return function
    return attr


class _Ufunc:
    """A ufunc that also keeps its methods (``add.at``, ``maximum.reduce``)."""

    def __init__(self, ufunc: numpy.ufunc):
        self._u = ufunc

    def __call__(self, *args, **kwargs):
        return _wrap(self._u(*_unwrap(args, True), **_unwrap(kwargs, True)))

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._u, name)
        if callable(attr):
            def method(*args, **kwargs):
                return _wrap(attr(*_unwrap(args, True), **_unwrap(kwargs, True)))
            return method
        return attr


def __getattr__(name: str) -> Any:  # module-level fallback: everything else is NumPy's
    if name.startswith("__"):
        raise AttributeError(name)
    return _lookup(numpy, name)
