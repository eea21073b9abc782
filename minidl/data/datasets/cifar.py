"""CIFAR-10, binary version: 32x32 colour images, 50,000 train / 10,000 test.

The binary version needs no pickle (loading a pickle can run code). Each file
is a run of 3073-byte records: 1 label byte, then 3072 pixel bytes (1024 red,
1024 green, 1024 blue, each 32x32 row-major), so a memory map of shape
(records, 3073) reads it, and a batch gathers just its rows.
"""
from __future__ import annotations

import os
from typing import Optional, Sequence, Union

import numpy

from ..dataset import Dataset
from ..sources import CIFAR10 as CIFAR10_SOURCE
from ..sources import locate

PathLike = Union[str, os.PathLike]


class CIFAR10(Dataset):
    """CIFAR-10 from ``cifar-10-batches-bin/`` (found or downloaded like the other datasets).

    Inputs (3, 32, 32) float32 in [0, 1]; labels int64 in 0..9. A label byte
    outside 0..9 (a damaged file) is an error naming the file and the record,
    raised when a batch holding it is read (the labels are spread through the
    whole file, so checking them all up front would read all of it).
    """

    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    RECORD = 1 + 3 * 32 * 32  # label byte + pixels

    def __init__(self, root: Optional[PathLike] = None, train: bool = True, download: bool = False):
        self.train = train
        self.folder = locate(CIFAR10_SOURCE, root, download) / "cifar-10-batches-bin"
        names = [f"data_batch_{i}.bin" for i in range(1, 6)] if train else ["test_batch.bin"]
        self.parts = []  # one (records, 3073) uint8 memory map per file
        for name in names:
            path = self.folder / name
            if not path.is_file():
                raise FileNotFoundError(f"{path} is missing: {self.folder} should hold {', '.join(names)}")
            size = path.stat().st_size
            if size == 0 or size % self.RECORD:
                raise ValueError(f"{path}: {size} bytes is not a whole number of {self.RECORD}-byte records "
                                 f"(a damaged or truncated file?)")
            self.parts.append(numpy.memmap(path, dtype=numpy.uint8, mode="r", shape=(size // self.RECORD, self.RECORD)))
        self.offsets = numpy.cumsum([0] + [len(p) for p in self.parts])  # first global index of each file

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def _rows(self, idx: numpy.ndarray) -> numpy.ndarray:
        """The raw records at global indices ``idx``: (B, 3073) uint8."""
        if len(idx) and (idx.min() < 0 or idx.max() >= len(self)):
            raise IndexError(f"CIFAR10 index out of range [0, {len(self)}): {idx.min()}..{idx.max()}")
        out = numpy.empty((len(idx), self.RECORD), dtype=numpy.uint8)
        part = numpy.searchsorted(self.offsets, idx, side="right") - 1  # which file each index is in
        for p in numpy.unique(part):
            sel = part == p
            out[sel] = self.parts[p][idx[sel] - self.offsets[p]]
        return out

    def get_batch(self, indices: Sequence[int]) -> tuple:
        """Gather the records from the memory maps; split label byte and pixels."""
        idx = numpy.asarray(indices, dtype=numpy.int64)
        rows = self._rows(idx)
        labels = rows[:, 0].astype(numpy.int64)  # (B,)
        self._check_labels(idx, labels)
        x = rows[:, 1:].reshape(-1, 3, 32, 32).astype(numpy.float32) / 255.0  # (B, 3, 32, 32)
        return x, labels

    def _check_labels(self, idx: numpy.ndarray, labels: numpy.ndarray) -> None:
        """A ValueError naming the file and record of the first label outside 0..9."""
        bad = numpy.flatnonzero(labels >= len(self.classes))
        if len(bad):
            i = int(idx[bad[0]]) % len(self)
            part = int(numpy.searchsorted(self.offsets, i, side="right") - 1)
            raise ValueError(f"{self.parts[part].filename}: record {i - int(self.offsets[part])} has label "
                             f"{int(labels[bad[0]])}; CIFAR-10 labels must lie in 0..{len(self.classes) - 1} "
                             "(a damaged file?)")

    def __getitem__(self, index: int) -> tuple:
        x, y = self.get_batch([index + len(self) if index < 0 else index])
        return x[0], int(y[0])

    def __repr__(self) -> str:
        return f"CIFAR10({'train' if self.train else 'test'}, {len(self)} images, from {self.folder})"
