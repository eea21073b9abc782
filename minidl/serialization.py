"""Saving and loading: ``mdl.save(state, path)`` / ``mdl.load(path)``, as .npz.

Why not pickle (as ``torch.save`` does)? Unpickling runs code chosen by
whoever wrote the file: a downloaded checkpoint could do anything. An .npz is
a zip holding one ``.npy`` file per array (a small header with dtype and
shape, then the raw bytes). minidl writes it without pickle and reads it with
``allow_pickle=False``, so loading a file never runs code.

What can be saved: nested dicts (str or int keys) and lists whose leaves are
arrays (NumPy, CuPy or strict, or Tensors: all stored as NumPy), numbers,
strings, booleans and None. Each array is stored under its path, the keys
joined with "/" ("model/0.weight", "optimizer/state/3/exp_avg"), so
``numpy.load(path).files`` lists them by name. The nesting and the small values
are kept as JSON text in one more entry, ``__structure__`` (a unicode array,
never an object array), which is how ``load`` gives back the same dicts,
lists, ints, floats and strings that were saved.

Saving is atomic: the file is written to a temporary name in the same folder,
flushed to disk (fsync), then renamed over the target in one step
(``os.replace``). A crash or an error mid-save leaves the old file intact and
no temporary file behind.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Union

import numpy

from . import backend
from .autograd import Tensor

PathLike = Union[str, os.PathLike]
_STRUCTURE = "__structure__"
_SEPARATOR = "/"
_ZIP_MAGIC = b"PK\x03\x04"


# ------------------------------------------------------------------ encoding
def _encode(value: Any, path: str, arrays: dict) -> Any:
    """The JSON description of ``value``; its arrays go into ``arrays`` under their path.

    Arrays become {"$array": name}; dicts become {"$dict": [[key, value], ...]}
    (a list of pairs, so int keys stay ints and the order is kept); lists stay
    lists; numbers, strings, booleans and None are written as they are.
    """
    if isinstance(value, Tensor):
        value = value.data
    if backend.is_array(value):
        array = backend.to_numpy(value)  # GPU and strict arrays are copied to the host
        if array.dtype.hasobject:
            raise TypeError(f"cannot save {path or 'the value'!r}: object arrays would need pickle")
        name = path or "value"
        if name in arrays or name == _STRUCTURE:  # {"a/b": x} next to {"a": {"b": y}}
            name = f"{name}#{len(arrays)}"
        arrays[name] = array
        return {"$array": name}
    if isinstance(value, dict):
        pairs = []
        for key, item in value.items():
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(
                    f"cannot save key {key!r} under {path or 'the top level'!r}: keys must be str or int"
                )
            pairs.append([key, _encode(item, f"{path}{_SEPARATOR}{key}" if path else str(key), arrays)])
        return {"$dict": pairs}
    if isinstance(value, (list, tuple)):
        return [_encode(v, f"{path}{_SEPARATOR}{i}" if path else str(i), arrays) for i, v in enumerate(value)]
    if isinstance(value, numpy.generic):  # numpy.float32(0.5) -> 0.5
        if value.dtype.hasobject:
            raise TypeError(f"cannot save {path!r}: object scalars would need pickle")
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(
        f"cannot save {path or 'the value'!r} of type {type(value).__name__}: "
        "only dicts, lists, arrays, Tensors, numbers, strings and None can be saved"
    )


def _decode(node: Any, arrays: dict, path: Path) -> Any:
    """The inverse of :func:`_encode`."""
    if isinstance(node, dict) and "$array" in node:
        if node["$array"] not in arrays:
            raise ValueError(f"{path} is damaged: its structure names an array {node['$array']!r} it lacks")
        return arrays[node["$array"]]
    if isinstance(node, dict) and "$dict" in node:
        return {key: _decode(value, arrays, path) for key, value in node["$dict"]}
    if isinstance(node, list):
        return [_decode(v, arrays, path) for v in node]
    return node


# ------------------------------------------------------------------- writing
def _write_npz(file: Any, arrays: dict) -> None:
    """Write ``arrays`` (name -> NumPy array) as an .npz: a zip of ``name.npy`` files.

    The same layout as ``numpy.savez``, written by hand so that the names can be
    anything and ``allow_pickle=False`` refuses object arrays on the way out too.
    """
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", mode="w", force_zip64=True) as member:
                numpy.lib.format.write_array(member, numpy.asanyarray(array), allow_pickle=False)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save(state: Any, path: PathLike) -> None:
    """Write ``state`` to ``path`` as an .npz, atomically.

    ``state`` is typically ``model.state_dict()`` or a checkpoint such as
    ``{"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}``.
    The folder is created if needed. On any error the previous file at
    ``path`` (if any) is left untouched and no temporary file remains.
    """
    path = Path(path)
    arrays: dict = {}
    structure = _encode(state, "", arrays)  # fails before touching the disk
    arrays[_STRUCTURE] = numpy.array(json.dumps(structure))  # 0-d unicode array
    path.parent.mkdir(parents=True, exist_ok=True)
    # Same folder as the target: os.replace is atomic only within one file system.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_npz(f, arrays)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the name points at them
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_folder(path.parent)


def _umask() -> int:
    mask = os.umask(0)  # reading the umask means setting it; set it straight back
    os.umask(mask)
    return mask


# ------------------------------------------------------------------- reading
def load(path: PathLike) -> Any:
    """Read what :func:`save` wrote: arrays come back as NumPy arrays, and the
    dicts, lists, numbers and strings as they were.

    A plain ``numpy.savez`` file loads as a dict name -> array. A file holding
    pickled objects is refused (loading it could run code); a truncated,
    damaged or non-.npz file is a ``ValueError`` naming the path.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != _ZIP_MAGIC:
        raise ValueError(f"{path} is not an .npz file (it does not start as a zip archive does)")
    try:
        with numpy.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except ValueError as error:
        if "pickle" in str(error):
            raise ValueError(
                f"{path} holds pickled Python objects; minidl refuses to load them "
                "(unpickling can run arbitrary code)"
            ) from None
        raise ValueError(f"{path} is not a readable .npz file (damaged?): {error}") from None
    except (zipfile.BadZipFile, OSError, EOFError, KeyError) as error:
        raise ValueError(f"{path} is not a complete .npz file (truncated or damaged): {error}") from None
    if _STRUCTURE not in arrays:
        return arrays
    try:
        structure = json.loads(str(arrays.pop(_STRUCTURE)))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is damaged: its {_STRUCTURE} entry is not valid JSON ({error})") from None
    return _decode(structure, arrays, path)
