"""Datasets: anything with a length that returns (input, label) by index.

A Dataset reads one sample at a time (``dataset[i]``). Datasets that can
read a whole batch faster in one go (a slice of a memory-mapped file) also
offer ``get_batch(indices)``; the DataLoader uses it when present.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy

from .. import backend


class Dataset:
    """Base class: subclass and write ``__len__`` and ``__getitem__(i) -> (x, y)``."""

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index: int) -> tuple:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def get_batch(self, indices: Sequence[int]) -> tuple:
        """(inputs, labels) stacked for these indices; the default reads one by one."""
        samples = [self[int(i)] for i in indices]
        xs = numpy.stack([numpy.asarray(s[0]) for s in samples])
        ys = numpy.asarray([s[1] for s in samples])
        return xs, ys


class TensorDataset(Dataset):
    """Samples from arrays of equal length: ``TensorDataset(images, labels)[i] == (images[i], labels[i])``."""

    def __init__(self, *arrays: Any):
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        self.arrays = [a.data if hasattr(a, "creator") else a for a in arrays]
        lengths = {len(a) for a in self.arrays}
        if len(lengths) != 1:
            raise ValueError(f"TensorDataset arrays differ in length: {[len(a) for a in self.arrays]}")

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: int) -> tuple:
        return tuple(a[index] for a in self.arrays)

    def get_batch(self, indices: Sequence[int]) -> tuple:
        idx = numpy.asarray(indices)
        out = []
        for a in self.arrays:
            i = idx if isinstance(a, numpy.ndarray) else backend.get_array_module(a).asarray(idx)
            out.append(a[i])
        return tuple(out)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = numpy.asarray(indices, dtype=numpy.int64)
        if len(self.indices) and (self.indices.min() < 0 or self.indices.max() >= len(dataset)):
            raise IndexError(f"Subset indices must be in [0, {len(dataset)}), got {self.indices.min()}..{self.indices.max()}")

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> tuple:
        return self.dataset[int(self.indices[index])]

    def get_batch(self, indices: Sequence[int]) -> tuple:
        inner = self.indices[numpy.asarray(indices, dtype=numpy.int64)]
        getter = getattr(self.dataset, "get_batch", None)
        return getter(inner) if getter else Dataset.get_batch(self.dataset, inner)


def random_split(dataset: Dataset, lengths: Sequence[Any], seed: int | None = None) -> list:
    """Split into non-overlapping Subsets of the given lengths (or fractions summing to 1)."""
    n = len(dataset)
    if all(isinstance(x, float) for x in lengths) and abs(sum(lengths) - 1) < 1e-6:
        sizes = [int(numpy.floor(n * f)) for f in lengths]
        for i in range(n - sum(sizes)):  # hand out the remainder, first come first served
            sizes[i % len(sizes)] += 1
    else:
        sizes = [int(x) for x in lengths]
    if sum(sizes) != n or min(sizes) < 0:
        raise ValueError(f"random_split lengths {list(lengths)} must be non-negative and sum to {n}")
    order = backend.new_generator(seed).permutation(n)
    out, start = [], 0
    for size in sizes:
        out.append(Subset(dataset, order[start : start + size]))
        start += size
    return out
