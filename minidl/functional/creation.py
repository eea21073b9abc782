"""Making tensors: ``tensor`` from data; zeros, ones, full, empty, arange, linspace, eye,
rand, randn, randint and the ``*_like`` forms, with PyTorch's names and arguments
(``mdl.zeros(2, 3)``).

These are not ops of a graph (nothing flows back into a shape), so there is no
Function here: each builds one array and wraps it as a leaf Tensor. Every one
takes, as keywords:

* ``dtype``: default float32 (``mdl.get_default_dtype()``) for the float
  makers; ``full`` follows its fill value (bool, int64 or the default float),
  ``arange`` its arguments (int64 for ints), ``randint`` int64;
* ``device``: default the current backend (``mdl.set_backend``); the ``*_like``
  forms default to the input's dtype and device;
* ``requires_grad``: a leaf that collects gradients (floating dtypes only).

Sizes are given as PyTorch does: ``zeros(2, 3)``, ``zeros((2, 3))`` or
``zeros([2, 3])``; ``zeros()`` is a 0-d tensor.

Randomness (``rand``, ``randn``, ``randint``) is drawn on the CPU from minidl's
default generator, which ``mdl.manual_seed`` seeds (or from ``generator=``, a
NumPy Generator or an int seed), and then moved to the device: the same seed
gives the same numbers on every backend, bit for bit.

``empty`` is zero-filled in minidl (PyTorch leaves the memory as it was): a
value read before it is written is a visible 0, and runs stay reproducible.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Optional, Sequence, Union

import numpy

from .. import backend
from ..autograd import Tensor

Size = Union[int, Sequence[int]]
Generator = Union[numpy.random.Generator, int, None]


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None, device: Any = None) -> Tensor:
    """Make a leaf Tensor (a copy of ``data``).

    Python floats become float32 (the default dtype); NumPy arrays keep their
    dtype. ``device`` defaults to the current backend for Python and NumPy data,
    and to the array's own device for CuPy data.
    """
    if isinstance(data, Tensor):
        data = data.data
    if not backend.is_array(data):
        data = backend.from_python(data)
    if device is None:
        device = backend.get_default_device() if isinstance(data, numpy.ndarray) else backend.device_of(data)
    array = backend.to_device(data, device)
    array = array.astype(array.dtype if dtype is None else dtype, copy=True)  # always a copy
    return Tensor(array, requires_grad=requires_grad)


# ------------------------------------------------------------ the arguments
def _size(op: str, size: tuple) -> tuple:
    """``(2, 3)``, ``((2, 3),)`` or ``([2, 3],)`` -> (2, 3), each a non-negative int."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    ok = all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 0 for n in size)
    if not ok:
        raise ValueError(f"{op}: size must be non-negative ints (as 2, 3 or (2, 3)), got {size!r}")
    return tuple(int(n) for n in size)


def _dtype(op: str, dtype: Any, default: Any, floating: bool = False) -> numpy.dtype:
    """The dtype asked for (or ``default``); ``floating`` ops refuse the others."""
    dt = numpy.dtype(default if dtype is None else dtype)
    if floating and dt.kind != "f":
        raise TypeError(f"{op}: dtype must be a floating type, got {dt}")
    return dt


def _device(device: Any) -> str:
    return backend.parse_device(backend.get_default_device() if device is None else device)


def _leaf(op: str, array: Any, requires_grad: bool) -> Tensor:
    if requires_grad and array.dtype.kind != "f":
        raise TypeError(f"{op}: only floating tensors can require gradients, got dtype {array.dtype}")
    return Tensor(array, requires_grad=requires_grad)


def _generator(op: str, generator: Generator) -> numpy.random.Generator:
    """The generator to draw from: the one given, one seeded by an int, or minidl's default."""
    if generator is None:
        return backend.default_generator()
    if isinstance(generator, numpy.random.Generator):
        return generator
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        return numpy.random.default_rng(int(generator))
    raise TypeError(f"{op}: generator must be a numpy.random.Generator, an int seed or None, "
                    f"got {type(generator).__name__}")


def _like(input: Any) -> tuple:
    """(shape, dtype, device) of a Tensor or an array."""
    data = input.data if isinstance(input, Tensor) else input
    if not backend.is_array(data):
        raise TypeError(f"expected a Tensor or an array as input, got {type(input).__name__}")
    return tuple(data.shape), data.dtype, backend.device_of(data)


# ------------------------------------------------------------ constant fills
def zeros(*size: Size, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with 0 (default float32)."""
    shape, dt = _size("zeros", size), _dtype("zeros", dtype, backend.get_default_dtype())
    return _leaf("zeros", backend.namespace(_device(device)).zeros(shape, dtype=dt), requires_grad)


def ones(*size: Size, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with 1 (default float32)."""
    shape, dt = _size("ones", size), _dtype("ones", dtype, backend.get_default_dtype())
    return _leaf("ones", backend.namespace(_device(device)).ones(shape, dtype=dt), requires_grad)


def empty(*size: Size, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` to be filled later; zero-filled in minidl (see the module docstring)."""
    shape, dt = _size("empty", size), _dtype("empty", dtype, backend.get_default_dtype())
    return _leaf("empty", backend.namespace(_device(device)).zeros(shape, dtype=dt), requires_grad)


def _fill_dtype(value: Any) -> numpy.dtype:
    """PyTorch's inference for ``full``: bool -> bool, int -> int64, float -> the default float."""
    if isinstance(value, (bool, numpy.bool_)):
        return numpy.dtype(bool)
    if isinstance(value, numbers.Integral):
        return numpy.dtype(numpy.int64)
    if isinstance(value, numbers.Real):
        return backend.get_default_dtype()
    raise TypeError(f"full: fill_value must be a number, got {type(value).__name__}")


def full(size: Size, fill_value: Any, *, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` (a sequence, or one int) filled with ``fill_value``."""
    shape = _size("full", (size,) if isinstance(size, numbers.Integral) else (tuple(size),))
    dt = _dtype("full", dtype, _fill_dtype(fill_value))
    return _leaf("full", backend.namespace(_device(device)).full(shape, fill_value, dtype=dt), requires_grad)


# ---------------------------------------------------------------- sequences
def arange(start: float, end: Optional[float] = None, step: float = 1, *, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """start, start + step, ... up to but not including ``end``; ``arange(n)`` is 0 .. n-1.

    Length ceil((end - start) / step). int64 when every argument is an int, else
    the default float dtype (values computed in float64, then cast, as PyTorch).
    """
    if end is None:
        start, end = 0, start
    args = (start, end, step)
    if not all(isinstance(a, numbers.Real) and not isinstance(a, bool) for a in args):
        raise TypeError(f"arange: start, end and step must be numbers, got {args!r}")
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise ValueError(f"arange: end {end} cannot be reached from start {start} with step {step} "
                         f"(the sign of step must be that of end - start)")
    integral = all(isinstance(a, numbers.Integral) for a in args)
    dt = _dtype("arange", dtype, numpy.int64 if integral else backend.get_default_dtype())
    n = math.ceil((end - start) / step)
    values = start + step * numpy.arange(n, dtype=numpy.int64 if integral else numpy.float64)
    return _leaf("arange", backend.to_device(values.astype(dt), _device(device)), requires_grad)


def linspace(start: float, end: float, steps: int, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` values evenly spaced from ``start`` to ``end``, both included (default float32)."""
    if not isinstance(steps, numbers.Integral) or isinstance(steps, bool) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative int, got {steps!r}")
    dt = _dtype("linspace", dtype, backend.get_default_dtype())
    values = numpy.linspace(start, end, int(steps), dtype=numpy.float64).astype(dt)
    return _leaf("linspace", backend.to_device(values, _device(device)), requires_grad)


def eye(n: int, m: Optional[int] = None, *, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    """The (n, m) identity matrix (m = n by default): ones on the diagonal, zeros elsewhere."""
    shape = _size("eye", (n, n if m is None else m))
    dt = _dtype("eye", dtype, backend.get_default_dtype())
    return _leaf("eye", backend.namespace(_device(device)).eye(*shape, dtype=dt), requires_grad)


# ------------------------------------------------------------------ random
def rand(*size: Size, generator: Generator = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform values in [0, 1) (default float32), from minidl's seeded generator."""
    shape, dt = _size("rand", size), _dtype("rand", dtype, backend.get_default_dtype(), floating=True)
    values = _generator("rand", generator).random(shape, dtype=numpy.float64).astype(dt)
    return _leaf("rand", backend.to_device(values, _device(device)), requires_grad)


def randn(*size: Size, generator: Generator = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal values N(0, 1) (default float32), from minidl's seeded generator."""
    shape, dt = _size("randn", size), _dtype("randn", dtype, backend.get_default_dtype(), floating=True)
    values = _generator("randn", generator).standard_normal(shape, dtype=numpy.float64).astype(dt)
    return _leaf("randn", backend.to_device(values, _device(device)), requires_grad)


def _randint_array(op: str, low: int, high: int, shape: tuple, generator: Generator, dtype: Any, device: Any):
    if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in (low, high)):
        raise TypeError(f"{op}: low and high must be ints, got low={low!r}, high={high!r}")
    if high <= low:
        raise ValueError(f"{op}: needs low < high (values are drawn from [low, high)), got low={low}, high={high}")
    values = _generator(op, generator).integers(low, high, shape, dtype=numpy.int64)
    return backend.to_device(values.astype(_dtype(op, dtype, numpy.int64)), _device(device))


def randint(*args: Any, size: Optional[Size] = None, generator: Generator = None, dtype: Any = None,
            device: Any = None, requires_grad: bool = False) -> Tensor:
    """Integers drawn uniformly from [low, high) (default int64), PyTorch's forms::

        randint(high, size)        randint(low, high, size)        randint(low, high, size=size)
    """
    if size is None and args:
        *args, size = args
    if size is None or len(args) not in (1, 2):
        raise TypeError("randint: call it as randint(high, size) or randint(low, high, size)")
    low, high = (0, args[0]) if len(args) == 1 else args
    shape = _size("randint", (size,) if isinstance(size, numbers.Integral) else (tuple(size),))
    return _leaf("randint", _randint_array("randint", low, high, shape, generator, dtype, device), requires_grad)


# ----------------------------------------------------------- the *_like forms
def zeros_like(input: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``input``'s shape, dtype and device (unless given)."""
    shape, dt, dev = _like(input)
    return zeros(shape, dtype=dt if dtype is None else dtype, device=dev if device is None else device,
                 requires_grad=requires_grad)


def ones_like(input: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of ``input``'s shape, dtype and device (unless given)."""
    shape, dt, dev = _like(input)
    return ones(shape, dtype=dt if dtype is None else dtype, device=dev if device is None else device,
                requires_grad=requires_grad)


def empty_like(input: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """:func:`empty` of ``input``'s shape, dtype and device (unless given)."""
    shape, dt, dev = _like(input)
    return empty(shape, dtype=dt if dtype is None else dtype, device=dev if device is None else device,
                 requires_grad=requires_grad)


def full_like(input: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """``fill_value`` in ``input``'s shape, dtype and device (unless given)."""
    shape, dt, dev = _like(input)
    return full(shape, fill_value, dtype=dt if dtype is None else dtype,
                device=dev if device is None else device, requires_grad=requires_grad)


def rand_like(input: Any, *, generator: Generator = None, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """:func:`rand` in ``input``'s shape, dtype and device (unless given)."""
    shape, dt, dev = _like(input)
    return rand(shape, generator=generator, dtype=dt if dtype is None else dtype,
                device=dev if device is None else device, requires_grad=requires_grad)


def randn_like(input: Any, *, generator: Generator = None, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """:func:`randn` in ``input``'s shape, dtype and device (unless given)."""
    shape, dt, dev = _like(input)
    return randn(shape, generator=generator, dtype=dt if dtype is None else dtype,
                 device=dev if device is None else device, requires_grad=requires_grad)


def randint_like(input: Any, *args: int, generator: Generator = None, dtype: Any = None,
                 device: Any = None, requires_grad: bool = False) -> Tensor:
    """:func:`randint` in ``input``'s shape: ``randint_like(x, high)`` or ``randint_like(x, low, high)``.

    The dtype is ``input``'s unless given (as PyTorch), so a float input gives whole floats.
    """
    if len(args) not in (1, 2):
        raise TypeError("randint_like: call it as randint_like(input, high) or randint_like(input, low, high)")
    low, high = (0, args[0]) if len(args) == 1 else args
    shape, dt, dev = _like(input)
    array = _randint_array("randint_like", low, high, shape, generator, dt if dtype is None else dtype,
                           dev if device is None else device)
    return _leaf("randint_like", array, requires_grad)
