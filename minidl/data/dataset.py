"""Datasets: anything with a length that returns (input, label) by index.

A Dataset reads one sample at a time (``dataset[i] -> (x, y)``). Datasets
that can read a whole batch faster in one go (a slice of a memory-mapped
file) also offer ``get_batch(indices) -> (xs, ys)``; the DataLoader uses it.
The base class gives every dataset a ``get_batch`` that reads the samples
one by one and stacks them.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy

from .. import backend


def _stack_labels(labels: list) -> Any:
    """Labels of a batch as one array; integer class labels become int64."""
    if labels and backend.is_array(labels[0]):
        ys = backend.get_array_module(labels[0]).stack(labels)  # e.g. one-hot rows, maybe on a device
    else:
        ys = numpy.asarray(labels)
    return ys.astype("int64") if ys.dtype.kind in "iu" and ys.dtype != numpy.int64 else ys


class Dataset:
    """Base class: subclass and write ``__len__`` and ``__getitem__(i) -> (x, y)``.

        class Squares(Dataset):
            def __len__(self):
                return 100
            def __getitem__(self, i):
                return numpy.full((1, 2, 2), i, numpy.float32), i % 10
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index: int) -> tuple:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def get_batch(self, indices: Sequence[int]) -> tuple:
        """(inputs, labels) for these indices, stacked; this default reads them one by one."""
        samples = [self[int(i)] for i in indices]
        inputs = [s[0] for s in samples]
        xp = backend.get_array_module(*inputs)  # samples may already live on a device
        return xp.stack([xp.asarray(x) for x in inputs]), _stack_labels([s[1] for s in samples])


class TensorDataset(Dataset):
    """Samples from arrays of equal length: ``TensorDataset(images, labels)[i] == (images[i], labels[i])``.

    Tensors are accepted and used through their arrays (no graph).
    """

    def __init__(self, *arrays: Any):
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        self.arrays = [self._array(a, k) for k, a in enumerate(arrays)]
        lengths = [len(a) for a in self.arrays]
        if len(set(lengths)) != 1:
            raise ValueError(f"TensorDataset arrays differ in length: {lengths}")

    @staticmethod
    def _array(a: Any, position: int) -> Any:
        if backend.is_array(a):
            return a
        if backend.is_array(getattr(a, "data", None)):
            return a.data  # a Tensor
        a = numpy.asarray(a)
        if a.ndim == 0:
            raise ValueError(f"TensorDataset array {position} is a scalar; each array needs a first (sample) axis")
        return a

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: int) -> tuple:
        return tuple(a[index] for a in self.arrays)

    def get_batch(self, indices: Sequence[int]) -> tuple:
        """Each array indexed with all the indices at once (one gather per array)."""
        idx = numpy.asarray(indices, dtype=numpy.int64)
        # index each array with indices of its own namespace (CuPy wants CuPy indices)
        return tuple(a[backend.to_device(idx, backend.device_of(a))] for a in self.arrays)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = numpy.asarray(indices, dtype=numpy.int64).reshape(-1)
        if len(self.indices) and (self.indices.min() < 0 or self.indices.max() >= len(dataset)):
            raise IndexError(f"Subset indices must be in [0, {len(dataset)}), "
                             f"got {self.indices.min()}..{self.indices.max()}")

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> tuple:
        return self.dataset[int(self.indices[index])]

    def get_batch(self, indices: Sequence[int]) -> tuple:
        """The wrapped dataset's batch at the mapped indices (its fast path when it has one)."""
        inner = self.indices[numpy.asarray(indices, dtype=numpy.int64)]
        getter = getattr(self.dataset, "get_batch", None)
        return getter(inner) if getter else Dataset.get_batch(self.dataset, inner)


def random_split(dataset: Dataset, lengths: Sequence[Any], seed: int | None = None) -> list:
    """Split into non-overlapping Subsets of the given lengths (or fractions summing to 1).

    ``seed`` fixes the split (None: drawn from the default generator, so
    ``mdl.manual_seed`` fixes it). Fractions are rounded down and the
    remainder handed out one by one from the first part on.
    """
    n = len(dataset)
    if lengths and all(isinstance(x, float) for x in lengths):
        if abs(sum(lengths) - 1) > 1e-6 or min(lengths) < 0:
            raise ValueError(f"random_split fractions {list(lengths)} must be non-negative and sum to 1")
        sizes = [int(numpy.floor(n * f)) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
    else:
        sizes = [int(x) for x in lengths]
    if sum(sizes) != n or min(sizes, default=0) < 0:
        raise ValueError(f"random_split lengths {list(lengths)} must be non-negative and sum to {n}")
    order = backend.new_generator(seed).permutation(n)
    out, start = [], 0
    for size in sizes:
        out.append(Subset(dataset, order[start : start + size]))
        start += size
    return out
