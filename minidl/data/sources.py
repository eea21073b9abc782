"""Where dataset files come from, in this order:

1. an explicit ``root`` folder;
2. ``$MINIDL_DATA/<name>``;
3. the user cache, ``$XDG_CACHE_HOME/minidl/<name>`` (else ``~/.cache/minidl/<name>``);
4. folders where Linux distributions install datasets (Debian's
   ``dataset-fashion-mnist`` puts Fashion-MNIST in ``/usr/share/datasets/fashion-mnist``);
5. with ``download=True``: the official sources and their mirrors, verified by
   SHA-256, into the cache; and on Debian, the distribution's package
   (installed with apt-get when we are root, else downloaded and unpacked
   into the cache with ``apt-get download`` and ``dpkg -x``).

When nothing works, one error lists every place tried and how to get the data.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

from .download import DownloadError, download


@dataclass
class RemoteFile:
    name: str  # the file name in the dataset folder
    sha256: Optional[str]
    urls: Sequence[str]


@dataclass
class Source:
    """Everything minidl knows about where one dataset's files live."""

    name: str  # the folder name, e.g. "fashion-mnist"
    files: Sequence[str]  # what must be present (any of the accepted spellings, see `present`)
    remote: Sequence[RemoteFile] = ()
    system_dirs: Sequence[str] = ()
    debian_package: Optional[str] = None
    alternatives: Callable[[str], Sequence[str]] = field(default=lambda f: (f, f + ".gz"))


def cache_dir() -> Path:
    """The user cache: $XDG_CACHE_HOME/minidl, else ~/.cache/minidl."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "minidl"


def candidate_dirs(source: Source, root: Optional[os.PathLike] = None) -> list:
    """The folders to look in, in order."""
    dirs = []
    if root is not None:
        dirs += [Path(root), Path(root) / source.name]
    if os.environ.get("MINIDL_DATA"):
        dirs.append(Path(os.environ["MINIDL_DATA"]) / source.name)
    dirs.append(cache_dir() / source.name)
    dirs += [Path(d) for d in source.system_dirs]
    return dirs


def present(folder: Path, source: Source) -> bool:
    return all(any((folder / alt).exists() for alt in source.alternatives(f)) for f in source.files)


def locate(source: Source, root: Optional[os.PathLike] = None, download_ok: bool = False) -> Path:
    """The folder holding the dataset's files; downloads when allowed; else one clear error."""
    tried = []
    for folder in candidate_dirs(source, root):
        if present(folder, source):
            return folder
        tried.append(f"{folder} (not there)")
    if root is not None:
        # An explicit root is where the user wants the files: download there.
        target = Path(root)
    else:
        target = cache_dir() / source.name
    if download_ok:
        problems = []
        if source.remote:
            try:
                for rf in source.remote:
                    download(rf.urls, target / rf.name, rf.sha256)
                if present(target, source):
                    return target
            except DownloadError as error:
                problems.append(str(error))
        if source.debian_package:
            try:
                folder = debian_package_dir(source)
                if present(folder, source):
                    return folder
                problems.append(f"Debian package {source.debian_package} has no {source.name} files")
            except (RuntimeError, OSError) as error:
                problems.append(f"Debian package {source.debian_package}: {error}")
        tried += [f"download: {p}" for p in problems]
    else:
        tried.append("download: not attempted (pass download=True)")
    how = [f"pass download=True to fetch it into {cache_dir() / source.name}",
           f"or put the files ({', '.join(source.files)}) in one of the folders above"]
    if source.debian_package:
        how.append(f"or on Debian/Ubuntu: apt-get install {source.debian_package}")
    raise FileNotFoundError(f"{source.name} not found. Tried:\n  " + "\n  ".join(tried) + "\nTo get it: " + "; ".join(how))


def debian_package_dir(source: Source) -> Path:
    """Get the dataset from its Debian package: install it (root) or unpack it into the cache.

    Returns the folder holding the files. Needs apt-get (and dpkg); fails with
    a RuntimeError saying why otherwise.
    """
    package = source.debian_package
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        raise RuntimeError("apt-get and dpkg are not available on this system")
    system = [Path(d) for d in source.system_dirs]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "install", "-y", "-q", package], check=False, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not any(present(d, source) for d in system):
            subprocess.run(["apt-get", "update", "-q"], check=False, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            subprocess.run(["apt-get", "install", "-y", "-q", package], check=False, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for d in system:
            if present(d, source):
                return d
    # Not root (or the install failed): download the .deb and unpack it ourselves.
    target = cache_dir() / source.name
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(["apt-get", "download", package], cwd=tmp, capture_output=True, text=True)
        debs = list(Path(tmp).glob("*.deb"))
        if proc.returncode != 0 or not debs:
            raise RuntimeError(f"apt-get download {package} failed: {proc.stderr.strip()[-300:]}")
        unpacked = Path(tmp) / "root"
        subprocess.run(["dpkg", "-x", str(debs[0]), str(unpacked)], check=True)
        found = [d for d in unpacked.rglob("*") if d.is_dir() and present(d, source)]
        if not found:
            raise RuntimeError(f"the package {package} holds no {source.name} files")
        target.mkdir(parents=True, exist_ok=True)
        for f in found[0].iterdir():
            if f.is_file():
                shutil.copy2(f, target / f".{f.name}.part")
                os.replace(target / f".{f.name}.part", target / f.name)
    return target


# ------------------------------------------------------------ known datasets
def _idx_files(base_urls: Sequence[str], sums: dict) -> list:
    return [RemoteFile(name, sha, [u.rstrip("/") + "/" + name for u in base_urls]) for name, sha in sums.items()]


# SHA-256 of the Fashion-MNIST files: computed from Debian's dataset-fashion-mnist,
# which ships the upstream files unchanged.
FASHION_MNIST = Source(
    name="fashion-mnist",
    files=["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"],
    remote=_idx_files(
        ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com",
         "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion"],
        {
            "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
            "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
            "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
            "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
        },
    ),
    system_dirs=["/usr/share/datasets/fashion-mnist"],
    debian_package="dataset-fashion-mnist",
)

# SHA-256 of the MNIST files as published by many independent projects.
MNIST = Source(
    name="mnist",
    files=FASHION_MNIST.files,
    remote=_idx_files(
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

# CIFAR-10, binary version (no pickle). Its SHA-256 comes from a third party's
# record (the official page publishes only an MD5); if it were wrong, the
# download would be refused with a checksum error, never used.
CIFAR10 = Source(
    name="cifar-10",
    files=["cifar-10-batches-bin"],
    remote=[RemoteFile("cifar-10-binary.tar.gz",
                       "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
                       ["https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"])],
    alternatives=lambda f: (f,),
)
