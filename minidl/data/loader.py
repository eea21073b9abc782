"""The batch loader: a generator over (inputs, labels) batches.

    loader = DataLoader(dataset, batch_size=128, shuffle=True, seed=0, prefetch=2)
    for epoch in range(3):
        for images, labels in loader:      # a fresh order every epoch
            ...

Iterating is a *generator*: it reads only the samples of the batches it
yields, when it yields them, so a dataset bigger than memory streams from
disk. Each pass is one epoch; its order is a permutation drawn from
(seed, epoch), so the same seed replays the same run and no two epochs repeat.
``state_dict()`` holds the seed and the epoch count, so a run can stop and
resume on the exact next epoch.

``prefetch=k`` prepares the next k batches in a background *thread* while the
model trains on the current one (NumPy releases the GIL in its heavy loops,
so reading and computing overlap). A thread, not a process: no fork, no
copied memory, no duplicated random state.
"""
from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Iterator, Optional

import numpy

from .. import backend
from .dataset import Dataset

_DONE = object()


class DataLoader:
    """Batches of (inputs, labels) from a dataset; see the module docstring.

    Args:
        dataset: a :class:`Dataset` (``len`` and ``[i]``; ``get_batch`` used when present).
        batch_size: samples per batch.
        shuffle: a fresh permutation every epoch (else the dataset's order).
        drop_last: drop the last batch when it is smaller than batch_size.
        transform: called on each batch of inputs (N, C, H, W), on the batch's
            device (e.g. a ``minidl.augment`` pipeline).
        seed: the seed of the shuffling (None: drawn once from the default
            generator, so ``mdl.manual_seed`` fixes it).
        prefetch: batches prepared ahead in a background thread (0: none).
        device: where batches go ("cpu", "cuda", ...; None: the current backend).
    """

    def __init__(self, dataset: Dataset, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 transform: Optional[Callable] = None, seed: Optional[int] = None, prefetch: int = 0,
                 device: Any = None):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        if not isinstance(prefetch, int) or prefetch < 0:
            raise ValueError(f"prefetch must be an int >= 0, got {prefetch!r}")
        if len(dataset) == 0:
            raise ValueError("the dataset is empty")
        self.dataset = dataset
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.transform, self.prefetch = transform, prefetch
        self.device = None if device is None else backend.parse_device(device)
        self.seed = int(backend.new_generator().integers(2**31)) if seed is None else int(seed)
        self.epoch = 0  # the epoch the next iteration will be

    # ---- bookkeeping
    def __len__(self) -> int:
        n, b = len(self.dataset), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def order(self, epoch: int) -> numpy.ndarray:
        """The sample order of an epoch: a permutation from (seed, epoch), or 0..n-1."""
        n = len(self.dataset)
        if not self.shuffle:
            return numpy.arange(n)
        return numpy.random.default_rng([self.seed, epoch]).permutation(n)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def state_dict(self) -> dict:
        return {"seed": self.seed, "epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        self.seed, self.epoch = int(state["seed"]), int(state["epoch"])

    # ---- producing batches
    def _batch_indices(self, epoch: int) -> list:
        order = self.order(epoch)
        stop = len(self) * self.batch_size if self.drop_last else len(order)
        return [order[i : min(i + self.batch_size, stop)] for i in range(0, stop, self.batch_size)]

    def _load(self, indices: numpy.ndarray) -> tuple:
        getter = getattr(self.dataset, "get_batch", None)
        x, y = getter(indices) if getter else Dataset.get_batch(self.dataset, indices)
        device = self.device or backend.get_default_device()
        x, y = backend.to_device(x, device), backend.to_device(numpy.asarray(y) if not backend.is_array(y) else y, device)
        if self.transform is not None:
            if getattr(self.transform, "mixes_labels", False):  # MixUp / CutMix change the labels too
                x, y = self.transform(x, y)
            else:
                x = self.transform(x)
        return x, y

    def __iter__(self) -> Iterator[tuple]:
        epoch = self.epoch
        self.epoch += 1
        batches = self._batch_indices(epoch)
        if self.prefetch == 0:
            return (self._load(idx) for idx in batches)
        return self._prefetching(batches)

    def _prefetching(self, batches: list) -> Iterator[tuple]:
        """Run _load in a thread, ``prefetch`` batches ahead; stop it if the consumer stops."""
        ready: queue.Queue = queue.Queue(maxsize=self.prefetch)
        stop = threading.Event()

        def work() -> None:
            try:
                for idx in batches:
                    if stop.is_set():
                        return
                    item = self._load(idx)
                    while not stop.is_set():
                        try:
                            ready.put(item, timeout=0.1)
                            break
                        except queue.Full:
                            continue
                ready.put(_DONE)
            except BaseException as error:  # hand the error to the consumer
                ready.put(error)

        thread = threading.Thread(target=work, name="minidl-prefetch", daemon=True)
        thread.start()
        try:
            while True:
                item = ready.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            while thread.is_alive():  # unblock a worker waiting on a full queue
                try:
                    ready.get_nowait()
                except queue.Empty:
                    pass
                thread.join(timeout=0.05)

    def __repr__(self) -> str:
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, seed={self.seed}, prefetch={self.prefetch})")
