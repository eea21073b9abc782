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
(``os.replace``). An error mid-save leaves the old file intact and removes the
temporary file. A crash (kill -9, power loss) cannot remove it, so its name
says whose it is, ``.<target name>.<host>-<pid>-<random>.tmp``: the next save or
load of the same target removes the ones whose process (on this host) is gone,
and nothing else.

Loading checks before it trusts. The file is read member by member, never
with pickle; every size an .npy header declares is checked against the bytes
the file really holds before any memory is allocated (as safetensors does),
so a 64-byte file cannot ask for 8 TiB. Compressed members are refused:
minidl never writes them, and a compressed member's true size is only known
by inflating it (a 1 MB "zip bomb" inflates to gigabytes). The nesting of the
``__structure__`` entry is bounded (:data:`MAX_DEPTH`), both when saving and
when loading. Whatever is wrong with a file, ``load`` raises a ValueError that
names it.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import socket
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
MAX_DEPTH = 100  # dicts and lists nested deeper than this are refused (a real checkpoint nests < 10)
_MAX_HEADER = 10_000  # bytes of an .npy header: numpy's own bound


# ------------------------------------------------------------------ encoding
def _encode(value: Any, path: str, arrays: dict, depth: int = 0) -> Any:
    """The JSON description of ``value``; its arrays go into ``arrays`` under their path.

    Arrays become {"$array": name}; dicts become {"$dict": [[key, value], ...]}
    (a list of pairs, so int keys stay ints and the order is kept); lists stay
    lists; numbers, strings, booleans and None are written as they are.
    Refused: nesting deeper than MAX_DEPTH, keys holding NUL (a zip member
    name ends at NUL, so the file could not be read back).
    """
    if depth > MAX_DEPTH:
        raise ValueError(f"cannot save {path or 'the value'!r}: nested deeper than {MAX_DEPTH} dicts/lists")
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
            if isinstance(key, str) and "\x00" in key:
                raise ValueError(f"cannot save key {key!r} under {path or 'the top level'!r}: "
                                 "keys must not contain NUL ('\\x00')")
            pairs.append([key, _encode(item, f"{path}{_SEPARATOR}{key}" if path else str(key), arrays, depth + 1)])
        return {"$dict": pairs}
    if isinstance(value, (list, tuple)):
        return [_encode(v, f"{path}{_SEPARATOR}{i}" if path else str(i), arrays, depth + 1)
                for i, v in enumerate(value)]
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


def _decode(node: Any, arrays: dict, path: Path, depth: int = 0) -> Any:
    """The inverse of :func:`_encode`, checking each node (the file may be crafted).

    A node is {"$array": name}, {"$dict": [[key, value], ...]} (str or int
    keys), a list, or a JSON scalar; anything else, or nesting deeper than
    MAX_DEPTH, is a ValueError naming the path.
    """
    if depth > MAX_DEPTH:
        raise ValueError(f"{path} is damaged: its {_STRUCTURE} nests deeper than {MAX_DEPTH} levels")
    if isinstance(node, list):
        return [_decode(v, arrays, path, depth + 1) for v in node]
    if not isinstance(node, dict):
        return node  # json.loads gives only None, bool, int, float, str here
    if list(node) == ["$array"]:
        name = node["$array"]
        if not isinstance(name, str) or name not in arrays:
            raise ValueError(f"{path} is damaged: its structure names an array {name!r} it lacks")
        return arrays[name]
    if list(node) == ["$dict"] and isinstance(node["$dict"], list):
        result = {}
        for pair in node["$dict"]:
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], (str, int))
                    and not isinstance(pair[0], bool)):
                raise ValueError(f"{path} is damaged: a dict entry in its {_STRUCTURE} should be a "
                                 f"[key, value] pair with a str or int key, got {str(pair)[:80]}")
            result[pair[0]] = _decode(pair[1], arrays, path, depth + 1)
        return result
    raise ValueError(f"{path} is damaged: its {_STRUCTURE} holds {str(node)[:80]}, expected "
                     "{'$array': name} or {'$dict': [[key, value], ...]}")


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
    ``path`` (if any) is left untouched and no temporary file remains. The
    temporary file is ``.<name>.<host>-<pid>-<random>.tmp`` beside the target;
    should the process be killed mid-save, the next save or load of ``path``
    removes it (see :func:`remove_stale_temporaries`).
    """
    path = Path(path)
    arrays: dict = {}
    structure = _encode(state, "", arrays)  # fails before touching the disk
    arrays[_STRUCTURE] = numpy.array(json.dumps(structure))  # 0-d unicode array
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    # Same folder as the target: os.replace is atomic only within one file system.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{_host_tag()}-{os.getpid()}-", suffix=".tmp", dir=path.parent)
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


def _host_tag() -> str:
    """8 hex digits naming this machine, so that a shared folder's other hosts' files are left alone."""
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]


def _temporary_pattern(path: Path) -> "re.Pattern":
    """The names :func:`save` gives its temporary files for ``path``: host tag and pid in groups 1 and 2."""
    return re.compile(re.escape(f".{path.name}.") + r"([0-9a-f]{8})-(\d+)-[a-z0-9_]+\.tmp")


def _process_is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by someone else
    except (OverflowError, OSError):
        return False
    return True


def remove_stale_temporaries(path: PathLike) -> list:
    """Remove what killed saves of ``path`` left beside it; returns the paths removed.

    Only files named as :func:`save` names the temporaries of this very
    target (``.<name>.<host>-<pid>-<random>.tmp``), made on this host by a
    process that no longer runs, are removed: a save in progress (its process
    runs), another host's save in a shared folder, and every other file are
    left alone. Errors (a read-only folder) are ignored: this only tidies up.
    """
    path = Path(path)
    pattern, host = _temporary_pattern(path), _host_tag()
    removed = []
    try:
        names = os.listdir(path.parent)
    except OSError:
        return removed
    for name in names:
        match = pattern.fullmatch(name)
        if match is None or match.group(1) != host:
            continue
        pid = int(match.group(2))
        if pid == os.getpid() or _process_is_running(pid):
            continue
        try:
            os.unlink(path.parent / name)
            removed.append(path.parent / name)
        except OSError:
            pass
    return removed


def _umask() -> int:
    mask = os.umask(0)  # reading the umask means setting it; set it straight back
    os.umask(mask)
    return mask


# ------------------------------------------------------------------- reading
def load(path: PathLike) -> Any:
    """Read what :func:`save` wrote: arrays come back as NumPy arrays, and the
    dicts, lists, numbers and strings as they were.

    A plain ``numpy.savez`` file loads as a dict name -> array. Refused, each
    with a ValueError naming the path: a file holding pickled objects (loading
    it could run code), a ``torch.save`` file (the message says how to import
    PyTorch weights), compressed members (``numpy.savez_compressed``: re-save
    with ``numpy.savez``), and any truncated, damaged or crafted file (bad
    headers, sizes the file does not hold, a malformed ``__structure__``).
    Stale temporary files of killed saves of ``path`` are removed first.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    remove_stale_temporaries(path)
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic[:1] == b"\x80":  # pickle's PROTO opcode: a pickle, e.g. a torch.save file of the legacy format
        raise ValueError(f"{path} is a Python pickle (a legacy torch.save file?), not an .npz; minidl does not "
                         f"unpickle files (that could run code). {_IMPORT_TORCH}")
    if magic != _ZIP_MAGIC:
        raise ValueError(f"{path} is not an .npz file (it does not start as a zip archive does)")
    try:
        with zipfile.ZipFile(path) as archive:
            arrays = _read_members(archive, path)
    except _FileError as error:
        raise ValueError(str(error)) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, KeyError, ValueError,
            NotImplementedError, RuntimeError) as error:
        raise ValueError(f"{path} is not a complete .npz file (truncated or damaged): {error}") from None
    if _STRUCTURE not in arrays:
        return arrays
    text = arrays.pop(_STRUCTURE)
    if text.dtype.kind != "U" or text.ndim != 0:
        raise ValueError(f"{path} is damaged: its {_STRUCTURE} entry should be a 0-d unicode array, "
                         f"got {text.dtype} of shape {text.shape}")
    try:
        structure = json.loads(str(text))
    except (json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"{path} is damaged: its {_STRUCTURE} entry is not valid JSON "
                         f"(or nests too deep): {error}") from None
    return _decode(structure, arrays, path)


_IMPORT_TORCH = ("To import PyTorch weights, read the file with mdl.load_pytorch(path), which admits only "
                 "tensors and runs nothing from it, then model.load_state_dict(...) or "
                 "mdl.transfer.load_torch_state_dict(model, ...)")


class _FileError(Exception):
    """A problem :func:`load` found and described itself (the message already names the path)."""


def _read_members(archive: zipfile.ZipFile, path: Path) -> dict:
    """name -> array for every member, each checked before it is read (see :func:`_read_npy`)."""
    infos = archive.infolist()
    names = [info.filename for info in infos]
    if any(name.rsplit("/", 1)[-1] == "data.pkl" for name in names):
        raise _FileError(f"{path} is a PyTorch file (torch.save), which holds pickled objects; minidl does not "
                         f"unpickle it (that could run code). {_IMPORT_TORCH}")
    file_size = path.stat().st_size
    arrays = {}
    for info in infos:
        name = info.filename
        if not name.endswith(".npy"):
            raise _FileError(f"{path} holds a member {name!r} that is not an .npy array "
                             "(a minidl or numpy.savez file holds only .npy members)")
        if info.compress_type != zipfile.ZIP_STORED:
            method = zipfile.compressor_names.get(info.compress_type, f"method {info.compress_type}")
            raise _FileError(
                f"{path}: member {name!r} is compressed ({method}); minidl reads only uncompressed members, "
                "whose sizes it can check before reading (and never writes compressed ones). "
                "Re-save it with mdl.save or numpy.savez (not numpy.savez_compressed)"
            )
        if info.compress_size != info.file_size or info.header_offset + info.compress_size > file_size:
            raise _FileError(f"{path} is truncated or damaged: member {name!r} declares {info.file_size} bytes, "
                             f"but the whole file is {file_size} bytes")
        arrays[name[: -len(".npy")]] = _read_npy(archive, info, path)
    return arrays


def _read_npy(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> numpy.ndarray:
    """One .npy member: magic and header first, the declared size checked against the member, then the bytes.

    An .npy file is a magic string, a version, a header (a Python dict
    literal: dtype, order, shape) and then exactly
    prod(shape) * itemsize bytes. Nothing is allocated until those bytes are
    known to be there; the zip's CRC is checked as the last byte is read.
    """
    name = info.filename
    with archive.open(info) as member:
        try:
            version = numpy.lib.format.read_magic(member)
            read_header = {(1, 0): numpy.lib.format.read_array_header_1_0,
                           (2, 0): numpy.lib.format.read_array_header_2_0}.get(version)
            if read_header is None:
                raise ValueError(f"unsupported .npy format version {version}")
            shape, fortran_order, dtype = read_header(member, max_header_size=_MAX_HEADER)
        except (zipfile.BadZipFile, OSError, EOFError):
            raise
        except Exception as error:  # the header is untrusted text: any failure to parse it is damage
            raise _FileError(f"{path}: member {name!r} has a damaged .npy header "
                             f"({type(error).__name__}: {error})") from None
        if any(n < 0 for n in shape):
            raise _FileError(f"{path}: member {name!r} has a damaged .npy header (shape {shape})")
        if dtype.hasobject:
            raise _FileError(f"{path} holds pickled Python objects in {name!r}; minidl refuses to load them "
                             "(unpickling can run arbitrary code)")
        declared = math.prod(shape) * dtype.itemsize
        body = info.file_size - member.tell()
        if declared != body:
            raise _FileError(f"{path} is damaged: member {name!r} declares a {dtype} array of shape {shape} "
                             f"({declared} bytes), but holds {body} bytes")
        flat = numpy.empty(math.prod(shape), dtype=dtype)
        if declared:
            buffer, got = memoryview(flat.view(numpy.uint8)), 0
            while got < declared:
                n = member.readinto(buffer[got:])
                if not n:
                    raise _FileError(f"{path} is truncated: member {name!r} ends after {got} of {declared} bytes")
                got += n
        member.read(1)  # reaching the end makes zipfile check the CRC
    return flat.reshape(shape[::-1]).transpose() if fortran_order else flat.reshape(shape)
