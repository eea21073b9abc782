"""Read PyTorch checkpoint files with NumPy alone, never running code from them.

``torch.save`` writes a *pickle*: a little program for Python's unpickler
that rebuilds objects by calling functions the file names. Unpickling a
stranger's file with :mod:`pickle` can therefore run any code
(``os.system`` included). This module reads such files the way
``torch.load(weights_only=True)`` does, but without importing torch: a
restricted unpickler admits only the few names a state dict needs, maps
each to a harmless stand-in of ours, and refuses everything else::

    torch._utils._rebuild_tensor_v2   -> a reference to (storage, offset, size, stride)
    torch._utils._rebuild_tensor      -> the same, from older files
    torch._utils._rebuild_parameter   -> the tensor inside (a Parameter is a tensor)
    collections.OrderedDict           -> a dict (state dicts are OrderedDicts)
    torch.FloatStorage, ...           -> the element type of a storage

A tensor in the file is a view into a *storage*, a flat buffer shared by
every tensor cut from it (``w[1:]`` and ``w.t()`` point into ``w``'s). The
pickle names each storage by a key; the bytes live elsewhere:

* zip format (``torch.save`` since 1.6): a zip archive holding
  ``<name>/data.pkl`` and one member ``<name>/data/<key>`` per storage;
* legacy format (``_use_new_zipfile_serialization=False``, and many
  published weight files): five pickles in a row (magic number, protocol,
  system info, the object, the list of storage keys), then each storage as
  an int64 element count followed by its raw bytes.

Every declared size is checked against the bytes that are really there
before anything is allocated, and every view against its storage. Arrays
come back little-endian and C-contiguous, float16 as float16, bfloat16
widened to float32 (NumPy has no bfloat16). Any problem is a ValueError that
names the file.
"""
from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import zipfile
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable

import numpy

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001
_MAX_DEPTH = 100  # nesting of dicts/lists in a checkpoint: a real one is a few levels deep

# torch's storage classes -> (NumPy dtype of the bytes in the file, bytes per element)
_STORAGE_DTYPES = {
    "DoubleStorage": "<f8", "FloatStorage": "<f4", "HalfStorage": "<f2", "BFloat16Storage": "<u2",
    "LongStorage": "<i8", "IntStorage": "<i4", "ShortStorage": "<i2", "CharStorage": "i1",
    "ByteStorage": "u1", "BoolStorage": "?",
}


# ------------------------------------------------------------------ what the pickle may build
@dataclass(frozen=True)
class _StorageType:
    """Stands for ``torch.FloatStorage`` etc.: only its element type matters."""

    name: str

    def __call__(self, *args: Any) -> None:
        raise pickle.UnpicklingError(f"a checkpoint may name torch.{self.name} but not call it")


@dataclass(frozen=True)
class _StorageRef:
    """A storage the pickle points at: its key, the file's dtype and its element count."""

    key: str
    dtype: str
    numel: int
    view: tuple | None = None  # legacy files: (root key, offset, size) of a storage view


@dataclass(frozen=True)
class _TensorRef:
    """A tensor to cut from a storage once the storages' bytes are read."""

    storage: _StorageRef
    offset: int
    size: tuple
    stride: tuple


def _rebuild_tensor(storage: Any, offset: Any, size: Any, stride: Any, *ignored: Any) -> _TensorRef:
    """Our ``torch._utils._rebuild_tensor_v2``: record the view, build nothing yet."""
    if not isinstance(storage, _StorageRef):
        raise pickle.UnpicklingError("a tensor's first argument must be a storage")
    if not (_is_int(offset) and _int_tuple(size) and _int_tuple(stride) and len(size) == len(stride)):
        raise pickle.UnpicklingError(f"a tensor's offset/size/stride are malformed: {offset!r}, {size!r}, {stride!r}")
    return _TensorRef(storage, int(offset), tuple(size), tuple(stride))


def _rebuild_parameter(data: Any, requires_grad: Any = None, hooks: Any = None, *state: Any) -> Any:
    """Our ``torch._utils._rebuild_parameter``: a Parameter's weights are the tensor inside."""
    if not isinstance(data, _TensorRef):
        raise pickle.UnpicklingError("a Parameter must wrap a tensor")
    return data


_ALLOWED: dict = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("collections", "OrderedDict"): collections.OrderedDict,
}
_ALLOWED.update({("torch", name): _StorageType(name) for name in _STORAGE_DTYPES})


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _int_tuple(v: Any) -> bool:
    return isinstance(v, tuple) and all(_is_int(e) for e in v)


class _RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the names in ``_ALLOWED`` and reads storages as references."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: only tensors, storages and dicts may be in a "
                "checkpoint (this file may try to run code)"
            ) from None

    def persistent_load(self, pid: Any) -> _StorageRef:
        # ('storage', type, key, location, numel) and, in legacy files, a 6th: view metadata
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r:.80}")
        _, kind, key, _location, numel = pid[:5]
        view = pid[5] if len(pid) == 6 else None
        if not isinstance(kind, _StorageType) or not isinstance(key, str) or not _is_int(numel):
            raise pickle.UnpicklingError(f"malformed storage reference {pid!r:.80}")
        if view is not None and not (isinstance(view, tuple) and len(view) == 3 and isinstance(view[0], str)
                                     and _is_int(view[1]) and _is_int(view[2])):
            raise pickle.UnpicklingError(f"malformed storage view {view!r:.80}")
        return _StorageRef(key, _STORAGE_DTYPES[kind.name], numel, view)


def _unpickle(stream: BinaryIO) -> Any:
    return _RestrictedUnpickler(stream).load()


# ------------------------------------------------------------------ the public function
def load_pytorch(path: os.PathLike | str) -> Any:
    """Read a ``torch.save`` file (zip or legacy format): tensors become NumPy arrays.

    Returns what was saved, with every tensor (and Parameter) replaced by a
    C-contiguous NumPy array and every OrderedDict by a dict: for a saved
    ``model.state_dict()`` that is ``{name: ndarray}``; a checkpoint saved as
    ``{"state_dict": ..., "epoch": 3}`` keeps that nesting. Tensors that
    shared a storage in the file come back as separate copies.

    Nothing in the file is executed: any name other than the tensor-rebuild
    functions, storage types and OrderedDict is refused (see the module's
    docstring), as ``torch.load(weights_only=True)`` refuses it.

    Raises:
        ValueError: naming ``path``: not a PyTorch file, a refused name, a
            truncated or inconsistent file (a size or a view that does not
            fit the bytes there), or an unsupported variant.
    """
    path = os.fspath(path)
    try:
        if zipfile.is_zipfile(path):
            return _load_zip(path)
        with open(path, "rb") as f:
            return _load_legacy(f, os.fstat(f.fileno()).st_size)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    except (pickle.UnpicklingError, EOFError, struct.error, zipfile.BadZipFile, KeyError, TypeError,
            AttributeError, IndexError, RecursionError, MemoryError, UnicodeDecodeError, OverflowError) as error:
        raise ValueError(f"{path}: not a readable PyTorch checkpoint ({type(error).__name__}: {error})") from None


def _load_zip(path: str) -> Any:
    with zipfile.ZipFile(path) as archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise ValueError("a zip file, but not one written by torch.save (no <name>/data.pkl)")
        prefix = pickles[0][: -len("data.pkl")]
        byteorder = f"{prefix}byteorder"
        if byteorder in archive.namelist() and archive.read(byteorder).strip() != b"little":
            raise ValueError("the file was written on a big-endian machine, which is not supported")
        obj = _unpickle(io.BytesIO(archive.read(pickles[0])))

        def read_storage(ref: _StorageRef) -> numpy.ndarray:
            name = f"{prefix}data/{ref.key}"
            try:
                info = archive.getinfo(name)
            except KeyError:
                raise ValueError(f"storage {ref.key!r} is referenced but {name} is missing") from None
            if info.compress_type != zipfile.ZIP_STORED:
                raise ValueError(f"{name} is compressed; torch.save stores storages uncompressed")
            return _storage_array(archive.read(name), ref, f"{name} ({info.file_size} bytes)")

        return _materialize(obj, read_storage)


def _load_legacy(f: BinaryIO, file_size: int) -> Any:
    try:
        magic = _unpickle(f)
    except (pickle.UnpicklingError, EOFError, ValueError):
        magic = None
    if magic != _LEGACY_MAGIC:
        raise ValueError("not a PyTorch checkpoint (neither a torch.save zip file nor the legacy format)")
    if _unpickle(f) != _LEGACY_PROTOCOL:
        raise ValueError("unsupported legacy protocol version")
    info = _unpickle(f)
    if not isinstance(info, dict) or info.get("little_endian") is not True:
        raise ValueError("the file was written on a big-endian machine, which is not supported")
    obj = _unpickle(f)
    keys = _unpickle(f)
    if not (isinstance(keys, list) and all(isinstance(k, str) for k in keys)):
        raise ValueError("the list of storage keys is malformed")
    declared = _storage_refs(obj)
    data = {}
    for key in keys:
        (numel,) = struct.unpack("<q", _read_exactly(f, 8, key))
        ref = declared.get(key)
        if ref is None:
            raise ValueError(f"storage {key!r} is in the file but no tensor uses it")
        itemsize = numpy.dtype(ref.dtype).itemsize
        left = file_size - f.tell()
        if numel < 0 or numel * itemsize > left:
            raise ValueError(f"storage {key!r} declares {numel} elements ({numel * itemsize} bytes) "
                             f"but {left} bytes are left in the file")
        data[key] = _storage_array(_read_exactly(f, numel * itemsize, key), _StorageRef(key, ref.dtype, numel),
                                   f"storage {key!r}")

    def read_storage(ref: _StorageRef) -> numpy.ndarray:
        if ref.view is not None:  # a view of another storage (files from before PyTorch 1.0)
            root_key, offset, size = ref.view
            if root_key not in data or offset + size > data[root_key].size:
                raise ValueError(f"storage view {ref.key!r} does not fit in storage {root_key!r}")
            return data[root_key][offset:offset + size]
        if ref.key not in data:
            raise ValueError(f"storage {ref.key!r} is referenced but its bytes are missing")
        return data[ref.key]

    return _materialize(obj, read_storage)


def _read_exactly(f: BinaryIO, n: int, key: str) -> bytes:
    chunk = f.read(n)
    if len(chunk) != n:
        raise ValueError(f"the file ends inside storage {key!r} (truncated)")
    return chunk


def _storage_array(raw: bytes, ref: _StorageRef, where: str) -> numpy.ndarray:
    """The flat array of a storage, after checking the declared size against the bytes there."""
    itemsize = numpy.dtype(ref.dtype).itemsize
    if len(raw) < ref.numel * itemsize:
        raise ValueError(f"{where}: holds {len(raw)} bytes, but {ref.numel} elements of {itemsize} bytes are declared")
    flat = numpy.frombuffer(raw, dtype=ref.dtype, count=ref.numel)
    if ref.dtype == "<u2":  # bfloat16: the top half of a float32
        flat = (flat.astype(numpy.uint32) << 16).view(numpy.float32)
    return flat


# ------------------------------------------------------------------ from references to arrays
def _walk(obj: Any, leaf: Callable[[Any], Any], depth: int = 0) -> Any:
    """Rebuild dicts, lists and tuples, applying ``leaf`` to everything else."""
    if depth > _MAX_DEPTH:
        raise ValueError(f"the checkpoint is nested more than {_MAX_DEPTH} levels deep")
    if isinstance(obj, dict):
        return {k: _walk(v, leaf, depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_walk(v, leaf, depth + 1) for v in obj)
    return leaf(obj)


def _storage_refs(obj: Any) -> dict:
    """key -> _StorageRef of every storage the object's tensors use (largest declared count kept)."""
    refs: dict = {}

    def note(value: Any) -> Any:
        if isinstance(value, _TensorRef):
            ref = value.storage
            key = ref.view[0] if ref.view else ref.key
            numel = ref.view[1] + ref.view[2] if ref.view else ref.numel
            if key not in refs or refs[key].numel < numel:
                refs[key] = _StorageRef(key, ref.dtype, numel)
        return value

    _walk(obj, note)
    return refs


def _materialize(obj: Any, read_storage: Callable[[_StorageRef], numpy.ndarray]) -> Any:
    storages: dict = {}

    def leaf(value: Any) -> Any:
        if isinstance(value, _TensorRef):
            ref = value.storage
            if ref not in storages:
                storages[ref] = read_storage(ref)
            return _cut(storages[ref], value)
        if isinstance(value, (_StorageRef, _StorageType)):
            raise ValueError("a bare storage or storage type outside a tensor is not supported")
        return value

    return _walk(obj, leaf)


def _cut(flat: numpy.ndarray, t: _TensorRef) -> numpy.ndarray:
    """The tensor's elements: flat[offset + sum(index * stride)], after checking they lie inside."""
    last = t.offset + sum((n - 1) * s for n, s in zip(t.size, t.stride) if n > 0)
    if any(n == 0 for n in t.size):
        return numpy.zeros(t.size, dtype=flat.dtype)
    if last >= flat.size:
        raise ValueError(f"a tensor of size {t.size}, stride {t.stride} and offset {t.offset} reaches element "
                         f"{last} of a storage of {flat.size}")
    itemsize = flat.dtype.itemsize
    view = numpy.lib.stride_tricks.as_strided(flat[t.offset:], shape=t.size,
                                              strides=tuple(s * itemsize for s in t.stride), writeable=False)
    return numpy.array(view, order="C")  # a C-contiguous copy that owns its memory
