"""Saving and loading: ``mdl.save(state, path)`` / ``mdl.load(path)``, as .npz.

Why not pickle (as ``torch.save`` does)? Unpickling runs code chosen by
whoever wrote the file: a downloaded checkpoint could do anything. An .npz is
a zip of plain arrays, read here with ``allow_pickle=False``, so loading a
file never runs code.

What can be saved: nested dicts and lists whose leaves are arrays (NumPy,
CuPy or Tensors; stored as NumPy), numbers, strings, booleans and None. The
arrays are stored under their path ("model/0.weight", "optimizer/state/3/exp_avg")
so ``numpy.load(path).files`` shows them by name; the nesting itself is kept
as a JSON text array named ``__structure__``.

Saving is atomic: the file is written to a temporary name in the same folder,
flushed to disk, then renamed over the target in one step. A crash mid-save
leaves the old file intact and no temporary debris.
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


def _encode(value: Any, path: str, arrays: dict) -> Any:
    """The JSON-able description of ``value``; arrays go into ``arrays`` by path."""
    if isinstance(value, Tensor):
        value = value.data
    if backend.is_array(value):
        name = path or "value"
        if name in arrays or name == _STRUCTURE:
            name = f"{name}#{len(arrays)}"
        array = backend.to_numpy(value)
        if array.dtype == object:
            raise TypeError(f"cannot save {path!r}: object arrays would need pickle")
        arrays[name] = array
        return {"$array": name}
    if isinstance(value, dict):
        return {"$dict": [[k, _encode(v, f"{path}/{k}" if path else str(k), arrays)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return [_encode(v, f"{path}/{i}" if path else str(i), arrays) for i, v in enumerate(value)]
    if isinstance(value, numpy.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot save {path or 'the value'!r} of type {type(value).__name__}: "
                    "only dicts, lists, arrays, numbers, strings and None")


def _decode(node: Any, arrays: Any) -> Any:
    if isinstance(node, dict) and "$array" in node:
        return arrays[node["$array"]]
    if isinstance(node, dict) and "$dict" in node:
        return {k: _decode(v, arrays) for k, v in node["$dict"]}
    if isinstance(node, list):
        return [_decode(v, arrays) for v in node]
    return node


def save(state: Any, path: PathLike) -> None:
    """Write ``state`` to ``path`` (.npz) atomically; see the module docstring."""
    path = Path(path)
    arrays: dict = {}
    structure = _encode(state, "", arrays)
    arrays[_STRUCTURE] = numpy.array(json.dumps(structure))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            numpy.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load(path: PathLike) -> Any:
    """Read what :func:`save` wrote (arrays come back as NumPy arrays).

    A plain ``numpy.savez`` file loads as a dict of its arrays. Files holding
    pickled objects are refused; a truncated or foreign file is a clear error.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        with numpy.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except ValueError as error:
        if "pickle" in str(error):
            raise ValueError(f"{path} holds pickled Python objects; minidl refuses to load them "
                             "(loading a pickle can run arbitrary code)") from None
        raise ValueError(f"{path} is not a readable .npz file: {error}") from None
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ValueError(f"{path} is not a complete .npz file (truncated or not an .npz): {error}") from None
    if _STRUCTURE not in arrays:
        return arrays
    structure = json.loads(str(arrays.pop(_STRUCTURE)))
    return _decode(structure, arrays)
