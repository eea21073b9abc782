"""Downloads that are verified before use.

    download(["https://mirror-a/x.gz", "https://mirror-b/x.gz"], cache / "x.gz", sha256="3aed...")

A download streams into a temporary file *in the destination folder* (so the
final rename is atomic: same file system), with a progress bar, and is
checked against its SHA-256. Only a file with the right checksum is renamed
to its real name. A wrong checksum, a truncated transfer, a 404 or a
connection error deletes the temporary file and tries the next mirror. So the
cache only ever holds complete, verified files; and when every mirror fails,
one error says what went wrong with each.

A file whose SHA-256 is not known is never downloaded: pass ``sha256``
yourself when you know it.

Two limits keep a bad server from hanging a run: ``timeout`` bounds each wait
for data, and ``deadline`` bounds a whole transfer from one mirror (a server
that trickles a byte every half second never trips a per-read timeout). The
deadline defaults to :data:`DEFAULT_DEADLINE` seconds, or to the environment
variable ``MINIDL_DOWNLOAD_DEADLINE`` when it is set; it is checked after every
read, and a read waits at most ``timeout``.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Optional, Sequence, Union

from .archive import UnsafeArchiveError, extract  # noqa: F401  (re-exported: older imports use download.extract)

PathLike = Union[str, os.PathLike]
CHUNK = 1 << 16
USER_AGENT = "minidl-dataset-download"
DEFAULT_DEADLINE = 3600.0  # seconds for one mirror's whole transfer: CIFAR-10's 170 MB at 50 kB/s
DEADLINE_VARIABLE = "MINIDL_DOWNLOAD_DEADLINE"


class DownloadError(RuntimeError):
    """No mirror gave a complete file with the right checksum."""


def sha256_of(path: PathLike) -> str:
    """The SHA-256 of a file, as 64 hex digits, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _progress_bar(total: Optional[int], name: str, enabled: bool):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is a dependency, but a bar is not worth failing for
        return None
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=name, leave=False)


def default_deadline() -> float:
    """``$MINIDL_DOWNLOAD_DEADLINE`` (seconds) when set, else DEFAULT_DEADLINE."""
    text = os.environ.get(DEADLINE_VARIABLE)
    if text is None or text.strip() == "":
        return DEFAULT_DEADLINE
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise ValueError(f"{DEADLINE_VARIABLE} must be a number of seconds > 0, got {text!r}")
    return value


def _fetch(url: str, out, progress: bool, timeout: float, deadline: float) -> int:
    """Stream ``url`` into the open file ``out``; return the byte count.

    Raises on HTTP errors (404...), connection errors, transfers shorter
    than the Content-Length the server announced, and transfers still going
    ``deadline`` seconds after they began.
    """
    start = time.monotonic()
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        bar = _progress_bar(total, url.rsplit("/", 1)[-1], progress)
        received = 0
        try:
            while True:
                # read1: what has arrived (up to CHUNK), so a trickle still returns to the deadline check
                block = response.read1(CHUNK)
                if not block:
                    break
                out.write(block)
                received += len(block)
                if bar is not None:
                    bar.update(len(block))
                if time.monotonic() - start > deadline:
                    raise DownloadError(f"deadline passed: {received} bytes in {deadline:g} s and still going "
                                        f"(pass deadline= or set {DEADLINE_VARIABLE} for a slow link)")
        finally:
            if bar is not None:
                bar.close()
    if total is not None and received != total:
        raise DownloadError(f"truncated transfer: got {received} of {total} bytes")
    return received


def download(urls: Sequence[str], dest: PathLike, sha256: Optional[str], progress: bool = True,
             timeout: float = 60.0, deadline: Optional[float] = None) -> Path:
    """Fetch the first mirror whose file has the given SHA-256 into ``dest``; return ``dest``.

    Args:
        urls: mirrors, tried in order.
        dest: the final path; its folder is created. An existing ``dest``
            with the right checksum is kept without downloading.
        sha256: the expected SHA-256 (64 hex digits). ``None`` is refused:
            an unverified download is never used.
        progress: show a tqdm progress bar on stderr.
        timeout: seconds without data before a mirror counts as failed.
        deadline: seconds for a mirror's whole transfer before it counts as
            failed; None: :func:`default_deadline` (an hour, or
            ``$MINIDL_DOWNLOAD_DEADLINE``).
    """
    dest = Path(dest)
    if isinstance(urls, str):
        urls = [urls]
    if sha256 is None:
        raise DownloadError(f"no SHA-256 is known for {dest.name}: refusing to use an unverified download "
                            f"(pass sha256='...' if you know the file's checksum)")
    deadline = default_deadline() if deadline is None else deadline
    if not (isinstance(deadline, (int, float)) and deadline > 0):
        raise ValueError(f"deadline must be a number of seconds > 0, got {deadline!r}")
    sha256 = sha256.lower()
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"sha256 must be 64 hex digits, got {sha256!r}")
    if dest.is_file() and sha256_of(dest) == sha256:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        # The temporary file starts with "." and ends with ".part": never mistaken for the real one.
        fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                _fetch(url, out, progress, timeout, deadline)
                out.flush()
                os.fsync(out.fileno())  # on disk before it gets the real name
            got = sha256_of(tmp)
            if got != sha256:
                raise DownloadError(f"checksum mismatch: SHA-256 {got}, expected {sha256}")
            os.replace(tmp, dest)
            return dest
        except (OSError, http.client.HTTPException, DownloadError, ValueError) as error:
            # OSError covers urllib.error.URLError/HTTPError (404...), timeouts and refused connections;
            # HTTPException covers IncompleteRead and malformed responses.
            failures.append(f"{url}: {type(error).__name__}: {error}")
        finally:
            tmp.unlink(missing_ok=True)
    raise DownloadError(f"could not download {dest.name}; every mirror failed:\n  " + "\n  ".join(failures))
