"""The IDX file format of MNIST and Fashion-MNIST.

An IDX file is a tiny header and then raw numbers, big-endian:

    bytes 0-1   0x00 0x00           magic
    byte  2     type code           0x08 uint8, 0x09 int8, 0x0B int16,
                                    0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions, d
    then d      4-byte sizes        e.g. 60000, 28, 28
    then        the data, prod(sizes) values, row-major

``read_idx`` checks all of it: a file that is truncated (or has extra bytes)
is an error naming the file and both byte counts, never a silently short
array. Uncompressed files can be memory-mapped (``mmap=True``): then a batch
of images is read from disk when it is sliced, not the whole file at once.
"""
from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path
from typing import Union

import numpy

PathLike = Union[str, os.PathLike]

_DTYPES = {
    0x08: numpy.dtype("u1"),
    0x09: numpy.dtype("i1"),
    0x0B: numpy.dtype(">i2"),
    0x0C: numpy.dtype(">i4"),
    0x0D: numpy.dtype(">f4"),
    0x0E: numpy.dtype(">f8"),
}
_CODES = {dt.newbyteorder("=") if dt.itemsize > 1 else dt: code for code, dt in _DTYPES.items()}


class IDXError(ValueError):
    """A malformed IDX file."""


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def _parse_header(head: bytes, path: Path) -> tuple:
    """(dtype, shape, header length) from the first bytes of an IDX file."""
    if len(head) < 4:
        raise IDXError(f"{path}: too short for an IDX header ({len(head)} bytes)")
    if head[0] != 0 or head[1] != 0:
        raise IDXError(f"{path}: bad magic number {head[:2].hex()} (an IDX file starts with 0000)")
    code, ndim = head[2], head[3]
    if code not in _DTYPES:
        raise IDXError(f"{path}: unknown IDX type code 0x{code:02x} (expected one of "
                       f"{', '.join(f'0x{c:02x}' for c in _DTYPES)})")
    header_len = 4 + 4 * ndim
    if len(head) < header_len:
        raise IDXError(f"{path}: header says {ndim} dimensions but the file ends after {len(head)} bytes")
    shape = struct.unpack(f">{ndim}I", head[4:header_len])
    return _DTYPES[code], tuple(int(n) for n in shape), header_len


def read_idx(path: PathLike, mmap: bool = False) -> numpy.ndarray:
    """Read an IDX file (``.gz`` or not) into an array of its shape and dtype.

    Multi-byte types come back in the machine's byte order. With ``mmap=True``
    (uncompressed files only) the array is a read-only memory map.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such IDX file: {path}")
    with _open(path) as f:
        head = f.read(4)
        ndim = head[3] if len(head) == 4 else 0
        head += f.read(4 * ndim)
        dtype, shape, header_len = _parse_header(head, path)
        expected = int(numpy.prod(shape, dtype=numpy.int64)) * dtype.itemsize
        if mmap and path.suffix != ".gz":
            actual = path.stat().st_size - header_len
            _check_size(path, expected, actual)
            array = numpy.memmap(path, dtype=dtype, mode="r", offset=header_len, shape=shape)
            return array if dtype.itemsize == 1 else array.astype(dtype.newbyteorder("="))
        body = f.read()
    _check_size(path, expected, len(body))
    array = numpy.frombuffer(body, dtype=dtype).reshape(shape)
    return array.astype(dtype.newbyteorder("=")) if dtype.itemsize > 1 else array.copy()


def _check_size(path: Path, expected: int, actual: int) -> None:
    if actual < expected:
        raise IDXError(f"{path}: truncated: the header promises {expected} data bytes, the file has {actual}")
    if actual > expected:
        raise IDXError(f"{path}: {actual - expected} unexpected bytes after the {expected} data bytes")


def write_idx(array: numpy.ndarray, path: PathLike) -> None:
    """Write an array as an IDX file (gzipped when the name ends in .gz)."""
    array = numpy.asarray(array)
    code = _CODES.get(array.dtype)
    if code is None:
        raise TypeError(f"IDX cannot store dtype {array.dtype}; use one of uint8, int8, int16, int32, float32, float64")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    body = array.astype(_DTYPES[code]).tobytes()
    path = Path(path)
    with (gzip.open(path, "wb") if path.suffix == ".gz" else open(path, "wb")) as f:
        f.write(header + body)
