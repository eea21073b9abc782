"""Unpacking .tar(.gz/.bz2/.xz) and .zip archives safely.

An archive is a list of names chosen by whoever made it. A name such as
``../../.bashrc`` or ``/etc/cron.d/x``, or a symbolic link pointing out of
the folder followed by a file written "through" it, would let a downloaded
archive write anywhere the user can. So, before anything is written:

* every member's path, resolved, must lie inside the target folder;
* only regular files and folders are allowed: symbolic links, hard links and
  device files are refused.

The archive is unpacked into a temporary folder beside the target and renamed
into place at the end, so the target is either complete or absent.

A few megabytes of archive can unpack to gigabytes (a "bomb"), so the sizes
the members declare are added up, before the first byte is written, and
refused above ``max_bytes`` (:data:`MAX_EXTRACT_BYTES`, 1 GiB, by default;
pass a larger one for a large dataset). A tar member writes exactly its
declared size, and a zip member is cut at its declared size and CRC-checked,
so the sum bounds what lands on disk. A truncated or damaged archive is a
ValueError naming it.
"""
from __future__ import annotations

import gzip
import lzma
import os
import shutil
import stat
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Optional, Union

PathLike = Union[str, os.PathLike]
MAX_EXTRACT_BYTES = 1 << 30  # 1 GiB: CIFAR-10 unpacks to 0.18 GiB
# What a cut or damaged compressed stream raises, by module (BadGzipFile is an OSError: not all OSErrors are)
_DAMAGED = (EOFError, tarfile.ReadError, tarfile.CompressionError, gzip.BadGzipFile, zlib.error, lzma.LZMAError,
            zipfile.BadZipFile)


class UnsafeArchiveError(ValueError):
    """An archive member would land outside the target folder, or is a link or a device."""


def _inside(folder: Path, name: str, archive: Path) -> None:
    """Refuse ``name`` unless folder/name, resolved, stays inside ``folder`` (already resolved)."""
    path = (folder / name).resolve()
    if path != folder and folder not in path.parents:
        raise UnsafeArchiveError(f"{archive}: member {name!r} would be written outside the target folder; "
                                 f"refusing to unpack this archive")


def _check_tar(t: tarfile.TarFile, folder: Path, archive: Path) -> list:
    members = t.getmembers()
    for m in members:
        _inside(folder, m.name, archive)
        if not (m.isfile() or m.isdir()):
            kind = "a symbolic link" if m.issym() else "a hard link" if m.islnk() else "a device or special file"
            raise UnsafeArchiveError(f"{archive}: member {m.name!r} is {kind}; refusing to unpack this archive")
    return members


def _check_zip(z: zipfile.ZipFile, folder: Path, archive: Path) -> None:
    for info in z.infolist():
        _inside(folder, info.filename, archive)
        kind = stat.S_IFMT(info.external_attr >> 16)  # Unix file type, when the zip was made on Unix (else 0)
        if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
            raise UnsafeArchiveError(f"{archive}: member {info.filename!r} is a link or a special file; "
                                     f"refusing to unpack this archive")


def _check_total(archive: Path, sizes: list, max_bytes: Optional[int]) -> None:
    """Refuse an archive whose members declare more than ``max_bytes`` in all (None: no limit)."""
    total = sum(sizes)
    if max_bytes is not None and total > max_bytes:
        raise ValueError(f"{archive}: its members would unpack to {total} bytes, more than max_bytes={max_bytes}; "
                         "pass a larger max_bytes to extract() if you trust this archive")


def extract(archive: PathLike, target: PathLike, max_bytes: Optional[int] = MAX_EXTRACT_BYTES) -> Path:
    """Unpack a tar or zip archive into the new folder ``target``; returns ``target``.

    ``target`` must not exist yet (unpacking never mixes with, or deletes,
    files already there). Every member is checked before the first byte is
    written; an unsafe one raises :class:`UnsafeArchiveError` and leaves
    nothing behind. ``max_bytes`` bounds the total unpacked size (None: no
    bound). A truncated or damaged archive raises a ValueError naming it.
    """
    if max_bytes is not None and (not isinstance(max_bytes, int) or max_bytes < 0):
        raise ValueError(f"max_bytes must be an int >= 0 or None, got {max_bytes!r}")
    archive, target = Path(archive), Path(target).absolute()
    if not archive.is_file():
        raise FileNotFoundError(f"no such archive: {archive}")
    if target.exists():
        raise FileExistsError(f"cannot unpack {archive.name} into {target}: it already exists")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)).resolve()
    try:
        try:
            _unpack(archive, staging, max_bytes)
        except _DAMAGED as error:
            raise ValueError(f"{archive}: truncated or damaged archive ({type(error).__name__}: {error})") from None
        os.replace(staging, target)
        return target
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def _unpack(archive: Path, staging: Path, max_bytes: Optional[int]) -> None:
    """Check every member (place, kind, total size), then write them all into ``staging``."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            _check_zip(z, staging, archive)
            _check_total(archive, [info.file_size for info in z.infolist()], max_bytes)
            z.extractall(staging)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as t:
            members = _check_tar(t, staging, archive)  # reads the whole archive: a cut one fails here
            _check_total(archive, [m.size for m in members], max_bytes)
            # Python >= 3.12 (and patched 3.8-3.11) also has its own "data"
            # filter, which makes the same checks: use it as a second guard.
            extra = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            for m in members:
                t.extract(m, staging, set_attrs=False, **extra)
    else:
        raise ValueError(f"{archive}: not a tar or zip archive")
