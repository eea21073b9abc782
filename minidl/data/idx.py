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
array. Gzipped files are recognised by their first two bytes (1f 8b), not by
their name, and decompressed as a stream that stops one byte past the size
the header declares: a small .gz that would inflate to gigabytes is refused
after reading what the header promised, never inflated whole. Uncompressed
files can be memory-mapped (``mmap=True``): then a batch of images is read
from disk when it is sliced, not the whole file at once.
"""
from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path
from typing import BinaryIO, Union

import numpy

PathLike = Union[str, os.PathLike]

GZIP_MAGIC = b"\x1f\x8b"

# type code -> dtype as stored in the file (big-endian for multi-byte types)
_DTYPES = {
    0x08: numpy.dtype("u1"),
    0x09: numpy.dtype("i1"),
    0x0B: numpy.dtype(">i2"),
    0x0C: numpy.dtype(">i4"),
    0x0D: numpy.dtype(">f4"),
    0x0E: numpy.dtype(">f8"),
}
# native-order dtype -> type code, for writing
_CODES = {dt.newbyteorder("="): code for code, dt in _DTYPES.items()}


class IDXError(ValueError):
    """A malformed IDX file (bad magic, unknown type code, wrong size)."""


def is_gzip(path: PathLike) -> bool:
    """True when the file starts with gzip's magic bytes."""
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def _open(path: Path) -> BinaryIO:
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")


def _parse_header(head: bytes, path: Path) -> tuple:
    """(stored dtype, shape, header length) from the first bytes of an IDX file."""
    if len(head) < 4:
        raise IDXError(f"{path}: too short for an IDX header ({len(head)} bytes, a header has at least 4)")
    if head[0] != 0 or head[1] != 0:
        raise IDXError(f"{path}: bad magic number {head[:2].hex()} (an IDX file starts with 0000)")
    code, ndim = head[2], head[3]
    if code not in _DTYPES:
        known = ", ".join(f"0x{c:02x}" for c in _DTYPES)
        raise IDXError(f"{path}: unknown IDX type code 0x{code:02x} (expected one of {known})")
    header_len = 4 + 4 * ndim
    if len(head) < header_len:
        raise IDXError(f"{path}: the header says {ndim} dimensions ({header_len} header bytes) "
                       f"but the file ends after {len(head)} bytes")
    shape = struct.unpack(f">{ndim}I", head[4:header_len])
    return _DTYPES[code], tuple(int(n) for n in shape), header_len


def _check_size(path: Path, expected: int, actual: int, exact: bool = True) -> None:
    """``actual`` data bytes against the header's ``expected``; ``exact=False``: ``actual`` is a lower bound."""
    if actual < expected:
        raise IDXError(f"{path}: truncated: the header promises {expected} data bytes, the file has {actual}")
    if actual > expected:
        extra = f"{actual - expected}" if exact else "more"
        raise IDXError(f"{path}: {extra} unexpected bytes after the {expected} data bytes")


MIN_GZIP_SIZE = 18  # a 10-byte header and an 8-byte trailer (CRC-32, size), at the least


def check_gzip_size(path: Path) -> None:
    """An IDXError naming ``path`` when it is too short to be a whole gzip file."""
    size = path.stat().st_size
    if size < MIN_GZIP_SIZE:
        raise IDXError(f"{path}: truncated: {size} bytes is too short for a gzip file "
                       f"(at least {MIN_GZIP_SIZE}: header and trailer)")


def read_head(f: BinaryIO, path: Path) -> tuple:
    """Read an IDX header from the open stream ``f``: (stored dtype, shape, header length, header bytes)."""
    head = f.read(4)
    ndim = head[3] if len(head) == 4 else 0
    head += f.read(4 * ndim)
    dtype, shape, header_len = _parse_header(head, path)
    return dtype, shape, header_len, head


def _read_at_most(f: BinaryIO, n: int, chunk: int = 1 << 20) -> bytes:
    """Up to ``n`` bytes of the stream, read in chunks (``n`` may be absurd: only what is there is kept)."""
    blocks, got = [], 0
    while got < n:
        block = f.read(min(chunk, n - got))
        if not block:
            break
        blocks.append(block)
        got += len(block)
    return b"".join(blocks)


def copy_gzipped_idx(path: Path, out: BinaryIO, chunk: int = 1 << 20) -> None:
    """Decompress the gzipped IDX file ``path`` into the open file ``out``, as a stream.

    It stops one byte past the size the header declares, so a file holding
    more than its header says is refused without being inflated whole.
    Raises IDXError naming ``path`` for a short, damaged or oversized file.
    """
    check_gzip_size(path)
    try:
        with gzip.open(path, "rb") as f:
            dtype, shape, _, head = read_head(f, path)
            expected = math.prod(shape) * dtype.itemsize
            out.write(head)
            copied = 0
            while copied <= expected:
                block = f.read(min(chunk, expected + 1 - copied))
                if not block:
                    break
                out.write(block)
                copied += len(block)
    except EOFError as error:  # a gzip stream cut short
        raise IDXError(f"{path}: truncated: the compressed stream ends early ({error})") from None
    except (gzip.BadGzipFile, zlib.error) as error:
        raise IDXError(f"{path}: damaged gzip data ({error})") from None
    _check_size(path, expected, copied, exact=False)


def read_idx(path: PathLike, mmap: bool = False) -> numpy.ndarray:
    """Read an IDX file (gzipped or not) into an array of its shape and dtype.

    Without ``mmap`` the whole file is read and multi-byte types come back in
    the machine's byte order. With ``mmap=True`` (uncompressed files only) the
    array is a read-only ``numpy.memmap``: nothing is read until it is
    indexed, and multi-byte types keep the file's big-endian dtype (NumPy
    converts when you compute with them).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such IDX file: {path}")
    gzipped = is_gzip(path)
    if mmap and gzipped:
        raise ValueError(f"{path} is gzipped: it cannot be memory-mapped (decompress it first, or pass mmap=False)")
    if gzipped:
        check_gzip_size(path)
    with _open(path) as f:
        try:
            dtype, shape, header_len, _ = read_head(f, path)
            expected = math.prod(shape) * dtype.itemsize  # Python ints: no overflow for absurd headers
            if not gzipped:  # the size is known before reading: check it first
                _check_size(path, expected, path.stat().st_size - header_len)
            if mmap and expected > 0:  # (an empty array cannot be memory-mapped)
                return numpy.memmap(path, dtype=dtype, mode="r", offset=header_len, shape=shape)
            # A gzip stream's size is known only by inflating it: read at most one
            # byte more than the header promises (a damaged header must not make
            # us allocate gigabytes, nor a small bomb inflate whole), then compare.
            body = _read_at_most(f, expected + 1) if gzipped else f.read()
        except EOFError as error:  # a gzip stream cut short
            raise IDXError(f"{path}: truncated: the compressed stream ends early ({error})") from None
        except (gzip.BadGzipFile, zlib.error) as error:
            raise IDXError(f"{path}: damaged gzip data ({error})") from None
    _check_size(path, expected, len(body), exact=not gzipped)
    array = numpy.frombuffer(body, dtype=dtype).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # a writable copy in native byte order


def write_idx(array: numpy.ndarray, path: PathLike, compress: bool | None = None) -> None:
    """Write an array as an IDX file; gzipped when ``compress`` (default: the name ends in .gz).

    For tests and tools; the file is written whole (no streaming).
    """
    array = numpy.asarray(array)
    native = array.dtype.newbyteorder("=")
    code = _CODES.get(native)
    if code is None:
        raise TypeError(f"IDX cannot store dtype {array.dtype}; use one of uint8, int8, int16, int32, float32, float64")
    if any(n >= 2**32 for n in array.shape):
        raise ValueError(f"IDX sizes are 4-byte numbers; shape {array.shape} is too large")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    body = numpy.ascontiguousarray(array, dtype=_DTYPES[code]).tobytes()
    path = Path(path)
    if compress is None:
        compress = path.suffix == ".gz"
    with (gzip.open(path, "wb") if compress else open(path, "wb")) as f:
        f.write(header + body)
