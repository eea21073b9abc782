"""Real datasets, read lazily from disk.

=============  ==================================  ==========================
dataset        files                               a batch is read by
=============  ==================================  ==========================
MNIST,         IDX (gzipped or not)                one slice of a memory map
FashionMNIST
CIFAR10        the binary version (no pickle)      slices of memory maps
ImageFolder    one folder per class of images      decoding just those files
CSVDataset     label + pixel columns, one row      seeking to just those rows
               per image
=============  ==================================  ==========================

Inputs come out as float32 in [0, 1], shaped (N, C, H, W); labels as int64.
"""
from __future__ import annotations

import gzip
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Optional, Sequence, Tuple, Union

import numpy

from .dataset import Dataset
from .download import download, extract
from .idx import read_idx
from .sources import CIFAR10 as CIFAR10_SOURCE
from .sources import FASHION_MNIST, MNIST as MNIST_SOURCE
from .sources import Source, cache_dir, locate

PathLike = Union[str, os.PathLike]


def _raw_idx(folder: Path, name: str, cache: Path) -> numpy.ndarray:
    """A memory map of an IDX file; a gzipped one is decompressed once into the cache.

    The decompressed copy is written to a temporary name and renamed, so the
    cache never holds half a file. When the cache cannot be written, the file
    is read into memory instead.
    """
    raw = folder / name
    if raw.exists():
        return read_idx(raw, mmap=True)
    cached = cache / name
    if not cached.exists():
        try:
            cache.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=cache)
            with os.fdopen(fd, "wb") as out, gzip.open(folder / f"{name}.gz", "rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
            read_idx(tmp)  # verify before it takes the real name
            os.replace(tmp, cached)
        except OSError:
            return read_idx(folder / f"{name}.gz")
        finally:
            if "tmp" in locals() and os.path.exists(tmp):
                os.unlink(tmp)
    return read_idx(cached, mmap=True)


class _IDXImages(Dataset):
    """MNIST-format images: 28x28 grey, labels 0-9."""

    source: Source
    classes: Sequence[str] = [str(i) for i in range(10)]

    def __init__(self, root: Optional[PathLike] = None, train: bool = True, download: bool = False):
        self.folder = locate(self.source, root, download)
        prefix = "train" if train else "t10k"
        self.train = train
        cache = cache_dir() / self.source.name
        self.images = _raw_idx(self.folder, f"{prefix}-images-idx3-ubyte", cache)  # (N, 28, 28) uint8
        self.labels = _raw_idx(self.folder, f"{prefix}-labels-idx1-ubyte", cache).astype(numpy.int64)
        if len(self.images) != len(self.labels):
            raise ValueError(f"{self.folder}: {len(self.images)} images but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple:
        return self.images[index][None].astype(numpy.float32) / 255.0, int(self.labels[index])

    def get_batch(self, indices: Sequence[int]) -> tuple:
        idx = numpy.asarray(indices, dtype=numpy.int64)
        x = self.images[idx].astype(numpy.float32)[:, None] / 255.0  # (B, 1, 28, 28)
        return x, self.labels[idx]

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return f"{type(self).__name__}({split}, {len(self)} images, from {self.folder})"


class MNIST(_IDXImages):
    """Handwritten digits: 60,000 training and 10,000 test images, 28x28."""

    source = MNIST_SOURCE


class FashionMNIST(_IDXImages):
    """Zalando's clothing images, a drop-in replacement for MNIST that is harder."""

    source = FASHION_MNIST
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


class CIFAR10(Dataset):
    """CIFAR-10, binary version: 32x32 colour images, 50,000 train / 10,000 test.

    Each record is 1 label byte then 3072 pixel bytes (1024 red, 1024 green,
    1024 blue, row-major), so a memory map of shape (10000, 3073) reads it.
    """

    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    RECORD = 1 + 3 * 32 * 32

    def __init__(self, root: Optional[PathLike] = None, train: bool = True, download: bool = False):
        folder = self._folder(root, download)
        names = [f"data_batch_{i}.bin" for i in range(1, 6)] if train else ["test_batch.bin"]
        self.parts = []
        for name in names:
            path = folder / name
            size = path.stat().st_size
            if size % self.RECORD:
                raise ValueError(f"{path}: {size} bytes is not a whole number of {self.RECORD}-byte records")
            self.parts.append(numpy.memmap(path, dtype=numpy.uint8, mode="r", shape=(size // self.RECORD, self.RECORD)))
        self.offsets = numpy.cumsum([0] + [len(p) for p in self.parts])
        self.train = train

    @staticmethod
    def _folder(root, download_ok: bool) -> Path:
        try:
            return locate(CIFAR10_SOURCE, root, False) / "cifar-10-batches-bin"
        except FileNotFoundError as error:
            if not download_ok:
                raise FileNotFoundError(str(error).replace("pass download=True", "pass download=True")) from None
        target = Path(root) if root is not None else cache_dir() / CIFAR10_SOURCE.name
        remote = CIFAR10_SOURCE.remote[0]
        archive = download(remote.urls, target / remote.name, remote.sha256)
        extract(archive, target / "extracted")
        os.replace(target / "extracted" / "cifar-10-batches-bin", target / "cifar-10-batches-bin")
        shutil.rmtree(target / "extracted", ignore_errors=True)
        return target / "cifar-10-batches-bin"

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def _rows(self, idx: numpy.ndarray) -> numpy.ndarray:
        out = numpy.empty((len(idx), self.RECORD), dtype=numpy.uint8)
        part = numpy.searchsorted(self.offsets, idx, side="right") - 1
        for p in numpy.unique(part):
            sel = part == p
            out[sel] = self.parts[p][idx[sel] - self.offsets[p]]
        return out

    def get_batch(self, indices: Sequence[int]) -> tuple:
        rows = self._rows(numpy.asarray(indices, dtype=numpy.int64))
        x = rows[:, 1:].reshape(-1, 3, 32, 32).astype(numpy.float32) / 255.0
        return x, rows[:, 0].astype(numpy.int64)

    def __getitem__(self, index: int) -> tuple:
        x, y = self.get_batch([index])
        return x[0], int(y[0])


class ImageFolder(Dataset):
    """Images in one sub-folder per class (``root/cat/1.png``, ``root/dog/7.jpg``...).

    Files are decoded with Pillow only when their batch is read. ``size`` (H, W)
    resizes every image (needed when they differ); ``grayscale`` gives one
    channel, else three (RGB).
    """

    EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")

    def __init__(self, root: PathLike, size: Optional[Tuple[int, int]] = None, grayscale: bool = False):
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"ImageFolder root {self.root} is not a folder")
        self.classes = sorted(d.name for d in self.root.iterdir() if d.is_dir())
        if not self.classes:
            raise ValueError(f"{self.root} has no class sub-folders")
        self.samples = [(p, k) for k, c in enumerate(self.classes) for p in sorted((self.root / c).rglob("*"))
                        if p.suffix.lower() in self.EXTENSIONS]
        if not self.samples:
            raise ValueError(f"no images ({', '.join(self.EXTENSIONS)}) under {self.root}")
        self.size, self.grayscale = size, grayscale

    def __len__(self) -> int:
        return len(self.samples)

    def _load(self, path: Path) -> numpy.ndarray:
        from PIL import Image

        with Image.open(path) as im:
            im = im.convert("L" if self.grayscale else "RGB")
            if self.size is not None:
                im = im.resize((self.size[1], self.size[0]), Image.BILINEAR)
            a = numpy.asarray(im, dtype=numpy.float32) / 255.0
        return a[None] if a.ndim == 2 else a.transpose(2, 0, 1)  # (C, H, W)

    def __getitem__(self, index: int) -> tuple:
        path, label = self.samples[index]
        return self._load(path), label

    def get_batch(self, indices: Sequence[int]) -> tuple:
        images = [self._load(self.samples[int(i)][0]) for i in indices]
        shapes = {im.shape for im in images}
        if len(shapes) > 1:
            raise ValueError(f"images of different sizes {sorted(shapes)} in one batch: pass size=(H, W) to ImageFolder")
        return numpy.stack(images), numpy.asarray([self.samples[int(i)][1] for i in indices], dtype=numpy.int64)


class CSVDataset(Dataset):
    """Rows of ``label, pixel, pixel, ...`` (Kaggle's MNIST CSV style), read row by row.

    The file is never loaded whole: one pass in chunks records where each row
    starts, and a batch seeks to just its rows. ``image_shape`` (C, H, W)
    reshapes the pixels; ``scale`` multiplies them (1/255 for 0-255 values).
    A first line that is not numeric is taken as a header.
    """

    def __init__(self, path: PathLike, label_column: int = 0, image_shape: Optional[Sequence[int]] = None,
                 scale: float = 1 / 255.0, chunk_size: int = 1 << 20):
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"no such CSV file: {self.path}")
        self.label_column, self.scale = label_column, scale
        self.image_shape = tuple(image_shape) if image_shape is not None else None
        self.offsets = self._index(chunk_size)
        if len(self.offsets) == 0:
            raise ValueError(f"{self.path} has no data rows")

    def _index(self, chunk_size: int) -> numpy.ndarray:
        """Byte offsets of the data rows, found by reading the file in chunks."""
        starts, position, pending_start = [], 0, 0
        with open(self.path, "rb") as f:
            while True:
                chunk = f.read(chunk_size)
                if not chunk:
                    break
                for i in range(len(chunk)):
                    if chunk[i] == 10:  # b"\n": the next row starts after it
                        starts.append(pending_start)
                        pending_start = position + i + 1
                position += len(chunk)
        if pending_start < position:
            starts.append(pending_start)
        offsets = numpy.asarray(starts, dtype=numpy.int64)
        with open(self.path, "rb") as f:
            first = f.readline().decode("utf-8", "replace").strip()
        try:
            [float(v) for v in first.split(",")]
        except ValueError:
            offsets = offsets[1:]  # a header
        # drop empty lines
        return offsets

    def __len__(self) -> int:
        return len(self.offsets)

    def _parse(self, line: str) -> tuple:
        values = line.strip().split(",")
        label = int(float(values.pop(self.label_column)))
        x = numpy.asarray(values, dtype=numpy.float32) * self.scale
        return (x.reshape(self.image_shape) if self.image_shape else x), label

    def get_batch(self, indices: Sequence[int]) -> tuple:
        xs, ys = [], []
        with open(self.path, "rb") as f:
            for i in indices:
                f.seek(int(self.offsets[int(i)]))
                x, y = self._parse(f.readline().decode("utf-8"))
                xs.append(x)
                ys.append(y)
        return numpy.stack(xs), numpy.asarray(ys, dtype=numpy.int64)

    def __getitem__(self, index: int) -> tuple:
        x, y = self.get_batch([index])
        return x[0], int(y[0])
