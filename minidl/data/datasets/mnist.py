"""MNIST and Fashion-MNIST: 28x28 grey images in IDX files, read through a memory map.

The files usually come gzipped. A gzipped file cannot be memory-mapped, so
the images are decompressed *once* into the cache, to a temporary name and
then renamed (the cache never holds half a file); every later run maps the
decompressed copy, and a batch is then one slice of that map: only the bytes
of the batch's images are read from disk.

The cached copy's name carries the CRC-32 that the gzip file records for its
content, so copies of different files (a test's small fake and the real
set, say) never mix.
"""
from __future__ import annotations

import os
import struct
import tempfile
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy

from ..dataset import Dataset
from ..idx import IDXError, check_gzip_size, copy_gzipped_idx, is_gzip, read_idx
from ..sources import FASHION_MNIST as FASHION_MNIST_SOURCE
from ..sources import MNIST as MNIST_SOURCE
from ..sources import Source, cache_dir, locate

PathLike = Union[str, os.PathLike]


def _find(folder: Path, name: str) -> Path:
    """``folder/name`` or ``folder/name.gz``, whichever exists (the raw file first)."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"neither {name} nor {name}.gz is in {folder}")


def _gzip_crc32(path: Path) -> int:
    """The CRC-32 of the uncompressed data, from the gzip trailer (its last 8 bytes: CRC-32, size)."""
    with open(path, "rb") as f:
        f.seek(-8, os.SEEK_END)
        return struct.unpack("<I", f.read(4))[0]


def memory_mapped_idx(path: Path, cache: Path) -> numpy.ndarray:
    """A read-only memory map of an IDX file; a gzipped one is decompressed once into ``cache``.

    When the cache cannot be written, the file is read into memory instead
    (correct, only not lazy).
    """
    if not is_gzip(path):
        return read_idx(path, mmap=True)
    check_gzip_size(path)  # (the CRC-32 is read from its last 8 bytes)
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    cached = cache / f"{name}.{_gzip_crc32(path):08x}"
    if cached.is_file():
        try:
            return read_idx(cached, mmap=True)
        except IDXError:
            cached.unlink()  # damaged (the disk, or a person): make it again
    try:
        cache.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=cache)
    except OSError:
        return read_idx(path)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            copy_gzipped_idx(path, out)  # stops at the size the header declares
        read_idx(tmp, mmap=True)  # header and size checked before it takes the real name
        os.replace(tmp, cached)
    except OSError:  # the cache is full or read-only: read into memory instead
        return read_idx(path)
    finally:
        tmp.unlink(missing_ok=True)
    return read_idx(cached, mmap=True)


class _IDXImages(Dataset):
    """MNIST-format images: 28x28 grey, labels 0-9; see the module docstring."""

    source: Source
    classes: Sequence[str] = [str(i) for i in range(10)]

    def __init__(self, root: Optional[PathLike] = None, train: bool = True, download: bool = False):
        self.train = train
        self.folder = locate(self.source, root, download)
        prefix = "train" if train else "t10k"
        images_path = _find(self.folder, f"{prefix}-images-idx3-ubyte")
        labels_path = _find(self.folder, f"{prefix}-labels-idx1-ubyte")
        self.images = memory_mapped_idx(images_path, cache_dir() / self.source.name)  # (N, 28, 28) uint8
        self.labels = read_idx(labels_path).astype(numpy.int64)  # (N,): small, kept in memory
        if self.images.ndim != 3 or self.images.dtype != numpy.uint8:
            raise IDXError(f"{images_path}: expected uint8 images (N, H, W), got {self.images.dtype} "
                           f"{self.images.shape}")
        if self.labels.ndim != 1 or len(self.labels) != len(self.images):
            raise IDXError(f"{labels_path}: {self.labels.shape} labels for {len(self.images)} images in {images_path}")
        if len(self.labels) and not 0 <= self.labels.min() <= self.labels.max() < len(self.classes):
            raise IDXError(f"{labels_path}: labels must lie in 0..{len(self.classes) - 1}, "
                           f"got {self.labels.min()}..{self.labels.max()}")

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple:
        x = self.images[index].astype(numpy.float32)[None] / 255.0  # (1, 28, 28)
        return x, int(self.labels[index])

    def get_batch(self, indices: Sequence[int]) -> tuple:
        """One slice (consecutive indices) or one gather of the memory map, scaled to [0, 1]."""
        idx = numpy.asarray(indices, dtype=numpy.int64)
        if len(idx) and idx[0] >= 0 and numpy.array_equal(idx, numpy.arange(idx[0], idx[0] + len(idx))):
            raw = self.images[idx[0] : idx[0] + len(idx)]  # consecutive: one plain slice
        else:
            raw = self.images[idx]  # (B, 28, 28) uint8, gathered from the map
        x = raw.astype(numpy.float32)[:, None] / 255.0  # (B, 1, 28, 28) in [0, 1]
        return x, self.labels[idx]

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return f"{type(self).__name__}({split}, {len(self)} images, from {self.folder})"


class MNIST(_IDXImages):
    """Handwritten digits: 60,000 training and 10,000 test images, 28x28 grey.

    ``root`` is searched first, then the usual places (see
    ``minidl.data.sources``); ``download=True`` fetches the files, verified.
    """

    source = MNIST_SOURCE


class FashionMNIST(_IDXImages):
    """Zalando's clothing images: a harder drop-in for MNIST (60,000 / 10,000, 28x28 grey).

    On Debian, ``apt-get install dataset-fashion-mnist`` provides the files.
    """

    source = FASHION_MNIST_SOURCE
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
