"""Downloads that are verified before use, and archives unpacked safely.

A download streams into a temporary file *in the cache folder* (so the final
rename is atomic), is checked against its SHA-256, and only then is renamed
to its real name. A wrong checksum, a truncated transfer, a 404 or a
connection error deletes the temporary file and tries the next mirror. So the
cache only ever holds complete, verified files.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Optional, Sequence

CHUNK = 1 << 16


class DownloadError(RuntimeError):
    """No mirror gave a complete file with the right checksum."""


class UnsafeArchiveError(ValueError):
    """An archive member would land outside the target folder (or is a link or device)."""


def sha256_of(path: os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch(url: str, tmp: Path, progress: bool, timeout: float) -> None:
    """Stream url into tmp; raise on HTTP errors and short transfers."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        total = response.headers.get("Content-Length")
        total = int(total) if total and total.isdigit() else None
        bar = None
        if progress:
            try:
                from tqdm import tqdm

                bar = tqdm(total=total, unit="B", unit_scale=True, desc=Path(url).name, leave=False)
            except ImportError:
                bar = None
        received = 0
        with open(tmp, "wb") as out:
            while True:
                block = response.read(CHUNK)
                if not block:
                    break
                out.write(block)
                received += len(block)
                if bar is not None:
                    bar.update(len(block))
            out.flush()
            os.fsync(out.fileno())
        if bar is not None:
            bar.close()
        if total is not None and received != total:
            raise DownloadError(f"truncated transfer: got {received} of {total} bytes")


def download(urls: Sequence[str], dest: os.PathLike, sha256: Optional[str], progress: bool = True,
             timeout: float = 60.0) -> Path:
    """Fetch the first mirror whose file has the given SHA-256 into ``dest``.

    Returns ``dest``. An existing ``dest`` with the right checksum is kept.
    ``sha256=None`` is refused: an unverified file is never used.
    """
    dest = Path(dest)
    if sha256 is None:
        raise DownloadError(f"no SHA-256 is known for {dest.name}: refusing to use an unverified download")
    if dest.exists() and sha256_of(dest) == sha256:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        os.close(fd)
        tmp = Path(name)
        try:
            _fetch(url, tmp, progress, timeout)
            got = sha256_of(tmp)
            if got != sha256:
                raise DownloadError(f"checksum mismatch: SHA-256 {got}, expected {sha256}")
            os.replace(tmp, dest)
            return dest
        except (urllib.error.URLError, OSError, DownloadError, ValueError) as error:
            failures.append(f"{url}: {error}")
        finally:
            if tmp.exists():
                tmp.unlink()
    raise DownloadError(f"could not download {dest.name}:\n  " + "\n  ".join(failures))


# ------------------------------------------------------------------ archives
def _inside(target: Path, name: str) -> Path:
    path = (target / name).resolve()
    if path != target and target not in path.parents:
        raise UnsafeArchiveError(f"archive member {name!r} would be written outside {target}")
    return path


def extract(archive: os.PathLike, target: os.PathLike) -> Path:
    """Unpack a .tar(.gz) or .zip into ``target``, refusing members that escape it.

    Absolute paths, ``..`` components, links and device files are refused
    before anything is written. The archive is unpacked into a temporary
    folder beside ``target`` and renamed into place, so ``target`` is
    complete or absent.
    """
    archive, target = Path(archive), Path(target).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as z:
                for name in z.namelist():
                    _inside(staging.resolve(), name)
                z.extractall(staging)
        else:
            with tarfile.open(archive) as t:
                members = t.getmembers()
                for m in members:
                    _inside(staging.resolve(), m.name)
                    if not (m.isfile() or m.isdir()):
                        raise UnsafeArchiveError(f"archive member {m.name!r} is a link or a special file")
                # Python >= 3.12 also has its own "data" filter: use it as a second guard.
                extra = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                for m in members:
                    t.extract(m, staging, set_attrs=False, **extra)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
        return target
    finally:
        if staging.exists():
            shutil.rmtree(staging)
