"""The array backend: which array library holds the numbers, and where.

minidl does its arithmetic on plain arrays from one of three namespaces:

=========  ==============================  ==========================================
device     namespace (``xp``)              what it is
=========  ==============================  ==========================================
"cpu"      ``numpy``                       the default
"cuda:N"   ``cupy``                        a GPU, when CuPy and a GPU are present
"strict"   :mod:`minidl.strict`            NumPy in disguise that, like CuPy, refuses
                                           to be turned into a NumPy array silently;
                                           the tests run on it so that a NumPy-only
                                           code path fails on a machine without a GPU
=========  ==============================  ==========================================

The one rule: code that handles data which may live on the GPU never calls
``numpy.`` on it. It asks for the namespace of its arrays instead::

    xp = get_array_module(x)
    y = xp.exp(x)            # numpy.exp on the CPU, cupy.exp on the GPU

Randomness. Every random number in minidl (initial weights, dropout masks,
shuffles, augmentation) is drawn from a NumPy ``Generator`` on the CPU and then
moved to the array's device. That costs a copy on the GPU, but it buys one
thing a course needs: the same seed gives the same numbers on every backend.
``manual_seed(s)`` reseeds the default generator; ``new_generator(seed)`` gives
an op its own stream (from ``seed`` when given, else split off the default one).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import importlib
from typing import Any

import numpy

from . import strict

_GPU_HELP = (
    "CuPy with a CUDA GPU is needed for device {device!r}. Install the GPU extra: "
    "pip install 'minidl[gpu]' (CUDA 12) or 'minidl[gpu-cuda13]' (CUDA 13)."
)

# The two pieces of global state minidl keeps (besides grad mode): where new
# tensors go by default, and the default random generator.
_default_device = "cpu"
_default_generator = numpy.random.default_rng(0)
_default_dtype = numpy.dtype("float32")


# --------------------------------------------------------------------- cupy
def _import_cupy():
    """Import CuPy, or return None when it or a GPU is missing."""
    try:
        cupy = importlib.import_module("cupy")
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return None
        return cupy
    except Exception:  # ImportError, or CUDA present but no driver/device
        return None


def cuda_is_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    return _import_cupy() is not None


def _require_cupy(device: str):
    cupy = _import_cupy()
    if cupy is None:
        raise RuntimeError(_GPU_HELP.format(device=device))
    return cupy


# ------------------------------------------------------------------ devices
def parse_device(device: Any) -> str:
    """Normalise a device spec: "cpu", "strict", "cuda" -> "cuda:0", "cuda:N".

    Also accepts a :class:`Device` object and the backend names "numpy" and "cupy".
    """
    if isinstance(device, Device):
        return device.name
    if not isinstance(device, str):
        raise TypeError(f"device must be a string like 'cpu' or 'cuda:0', got {type(device).__name__}")
    name = device.strip().lower()
    aliases = {"numpy": "cpu", "cupy": "cuda:0", "gpu": "cuda:0", "cuda": "cuda:0"}
    name = aliases.get(name, name)
    if name in ("cpu", "strict"):
        return name
    if name.startswith("cuda:") and name[5:].isdigit():
        return name
    raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'strict', got {device!r}")


def namespace(device: Any) -> Any:
    """The array namespace (numpy, cupy or minidl.strict) for a device."""
    name = parse_device(device)
    if name == "cpu":
        return numpy
    if name == "strict":
        return strict
    return _require_cupy(name)


def get_array_module(*arrays: Any) -> Any:
    """The namespace of the given arrays (like ``cupy.get_array_module``).

    Anything that is not a CuPy or strict array (NumPy arrays, Python numbers)
    counts as NumPy. Tensors are looked through to their ``.data``.
    """
    for a in arrays:
        if not is_array(a) and is_array(getattr(a, "data", None)):
            a = a.data  # a Tensor: look at its array
        if isinstance(a, strict.ndarray):
            return strict
        if _is_cupy(a):
            return importlib.import_module("cupy")
    return numpy


def _is_cupy(x: Any) -> bool:
    # Checked by module name so that CuPy is imported only when it is used.
    return type(x).__module__.split(".")[0] in ("cupy", "cupyx")


def is_array(x: Any) -> bool:
    """True for a NumPy, CuPy or strict array (not for lists, numbers or Tensors)."""
    return isinstance(x, (numpy.ndarray, strict.ndarray)) or _is_cupy(x)


def device_of(array: Any) -> str:
    """The device string of an array: "cpu", "strict" or "cuda:N"."""
    if isinstance(array, strict.ndarray):
        return "strict"
    if _is_cupy(array):
        return f"cuda:{array.device.id}"
    return "cpu"


def to_numpy(array: Any) -> numpy.ndarray:
    """Copy an array from any device to a NumPy array (the explicit way)."""
    if isinstance(array, strict.ndarray):
        return strict.asnumpy(array)
    if _is_cupy(array):
        return array.get()
    return numpy.asarray(array)


def to_device(array: Any, device: Any) -> Any:
    """Move (copy when needed) an array to ``device``; same device returns it as is."""
    target = parse_device(device)
    if device_of(array) == target and not isinstance(array, (int, float, list, tuple)):
        return array
    host = to_numpy(array)
    if target == "cpu":
        return host
    if target == "strict":
        return strict.asarray(host)
    cupy = _require_cupy(target)
    with cupy.cuda.Device(int(target.split(":")[1])):
        return cupy.asarray(host)


# ----------------------------------------------------- default device/dtype
def get_default_device() -> str:
    """Where ``mdl.tensor`` puts new data when no device is named."""
    return _default_device


def set_backend(name: str) -> None:
    """Choose where new tensors live: "numpy"/"cpu", "cupy"/"cuda[:N]" or "strict".

    Asking for CuPy without CuPy or a GPU is an error that says how to install it.
    """
    global _default_device
    dev = parse_device(name)
    namespace(dev)  # fails early, with the install hint, when CuPy is missing
    _default_device = dev


class Device:
    """A device, usable as a context manager that makes it the default::

        with mdl.device("cuda"):
            x = mdl.tensor([1.0, 2.0])     # lives on the GPU
    """

    def __init__(self, name: str):
        self.name = parse_device(name)
        self._previous: list[str] = []

    @property
    def type(self) -> str:
        return self.name.split(":")[0]

    def __enter__(self) -> "Device":
        self._previous.append(get_default_device())
        set_backend(self.name)
        return self

    def __exit__(self, *exc) -> None:
        global _default_device
        _default_device = self._previous.pop()

    def __eq__(self, other) -> bool:
        try:
            return self.name == parse_device(other)
        except (TypeError, ValueError):
            return False

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"device({self.name!r})"


def device(name: str) -> Device:
    """``mdl.device("cuda")``: a :class:`Device`; also a ``with`` block."""
    return Device(name)


def get_default_dtype() -> numpy.dtype:
    """float32 unless changed; gradient checks use float64 explicitly."""
    return _default_dtype


def set_default_dtype(dtype: Any) -> None:
    """Set the floating dtype that Python floats and new layers get (float32 unless changed)."""
    global _default_dtype
    dt = numpy.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"default dtype must be a floating type, got {dt}")
    _default_dtype = dt


# -------------------------------------------------------------- randomness
def manual_seed(seed: int) -> None:
    """Reseed the default generator: the same seed gives the same run."""
    global _default_generator
    _default_generator = numpy.random.default_rng(seed)


def default_generator() -> numpy.random.Generator:
    """The generator behind every draw that was not given its own seed."""
    return _default_generator


def new_generator(seed: int | None = None) -> numpy.random.Generator:
    """A generator of its own: from ``seed``, or split off the default generator.

    Splitting (drawing a fresh seed from the default generator) means that
    ``manual_seed`` also fixes every op created afterwards without a seed.
    """
    if seed is None:
        seed = int(_default_generator.integers(0, 2**63 - 1))
    return numpy.random.default_rng(seed)


# ----------------------------------------------------------------- memory
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt() parameter numbers


def keep_freed_memory() -> bool:
    """Ask the C allocator to keep freed memory for reuse (glibc on Linux; else a no-op).

    A training step allocates the same large arrays (activations, columns,
    gradients) every time and frees them at its end. By default glibc serves
    each array over 128 KB with a fresh ``mmap`` and returns it to the system
    when freed, so the next step the kernel must map and zero every page again:
    on these machines that was a third of the seed convnet's step (39 ms ->
    25 ms with this). Raising the mmap and trim thresholds keeps such blocks
    in the heap, where the next step reuses them.

    This changes the whole process's allocator (it never grows memory beyond
    the peak already reached). Every optimizer calls it when it is made, so
    ``fit`` and hand-written loops alike get it. Returns True when it took effect.
    """
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False  # not glibc (macOS, Windows, musl): nothing to tune
    return bool(mallopt(_M_MMAP_THRESHOLD, 32 * 2**20)) and bool(mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))


# -------------------------------------------------------- small array tools
def from_python(data: Any) -> numpy.ndarray:
    """Lists and numbers -> a NumPy array; Python floats become the default dtype (float32)."""
    try:
        array = numpy.asarray(data)
    except ValueError:  # ragged nested lists
        array = numpy.empty(0, dtype=object)
    if array.dtype == object:
        raise TypeError(f"cannot make a tensor from {type(data).__name__} (ragged or not numeric)")
    if array.dtype.kind == "f" and not isinstance(data, (numpy.ndarray, numpy.generic)):
        array = array.astype(get_default_dtype())
    return array


def constant_like(value: Any, ref: Any) -> Any:
    """A Python number as a 0-d array on ``ref``'s device, for ``ref <op> value``.

    It takes ``ref``'s dtype when that is a float, so ``x * 2`` stays float32; a
    float beside an integer array takes the default float dtype (``int_tensor
    + 0.5`` is float32, as in PyTorch); an int beside an int array, their common type.
    """
    if ref.dtype.kind == "f":
        dtype = ref.dtype
    elif isinstance(value, (float, numpy.floating)):
        dtype = get_default_dtype()
    else:
        dtype = numpy.result_type(ref.dtype, value)
    return get_array_module(ref).asarray(value, dtype=dtype)


def scatter_add(target: Any, index: Any, values: Any) -> None:
    """``target[index] += values`` where repeated indices add up (in place).

    Plain ``target[index] += values`` keeps only one of the repeated writes;
    NumPy's ``add.at`` (and CuPy's ``cupyx.scatter_add``) sums them all.
    """
    xp = get_array_module(target)
    if xp is numpy or xp is strict:
        xp.add.at(target, index, values)
    else:
        importlib.import_module("cupyx").scatter_add(target, index, values)


def sum_to_shape(array: Any, shape: tuple) -> Any:
    """Sum ``array`` down to ``shape``: the adjoint of broadcasting to its shape.

    Broadcasting copies an input along new leading axes and along axes of size
    1, so its gradient adds those copies back: sum the leading axes away, then
    sum (keeping dims) every axis where ``shape`` has a 1.
    """
    # BEGIN SOLUTION sum_to_shape
    shape = tuple(shape)
    if array.shape == shape:
        return array
    lead = array.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and array.shape[lead + i] != 1
    )
    out = array.sum(axis=axes, keepdims=True)
    if lead:
        out = out.reshape(out.shape[lead:])
    return out
    # END SOLUTION
