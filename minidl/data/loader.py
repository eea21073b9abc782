"""The batch loader: a generator over (inputs, labels) batches.

    loader = DataLoader(dataset, batch_size=128, shuffle=True, seed=0, prefetch=2)
    for epoch in range(3):
        for images, labels in loader:      # a fresh order every epoch
            ...

Iterating is a *generator*: it reads only the samples of the batches it
yields, when it yields them, so a dataset bigger than memory streams from
disk. Each ``for`` loop over the loader is one epoch, and the order of epoch
``e`` is a permutation drawn from ``(seed, e)`` alone. So the same seed
replays the same run, no two epochs repeat, and a run resumed from a
checkpoint (``state_dict()`` holds the seed and the next epoch number) sees
exactly the batches it would have seen without stopping.

``prefetch=k`` prepares the next k batches in a background *thread* while the
model trains on the current one (reading files, decoding images and NumPy's
heavy loops release the GIL, so loading and computing overlap). A thread,
not a process: no fork, no copied memory, no duplicated random state. The
thread loads the batches in order, one after the other, so the batches (and
the random draws of a ``transform``) are the same as without prefetching.
When the consumer stops early (``break``, an exception), the thread is told
to stop and is joined before the loop's generator finishes closing.
"""
from __future__ import annotations

import contextlib
import queue
import threading
from typing import Any, Callable, Iterator, Optional

import numpy

from .. import backend
from ..validate import positive_int
from .dataset import Dataset

_DONE = object()  # the worker's "no more batches" marker


class DataLoader:
    """Batches of (inputs, labels) from a dataset; see the module docstring.

    Args:
        dataset: a :class:`Dataset` (``len`` and ``[i]``; ``get_batch`` used when present).
        batch_size: samples per batch.
        shuffle: a fresh permutation every epoch (else the dataset's order).
        drop_last: drop the last batch when it is smaller than batch_size.
        transform: called on each batch of inputs (N, C, H, W), on the batch's
            device, e.g. a ``minidl.augment`` pipeline; it returns the new inputs.
            A transform with ``mixes_labels = True`` (MixUp, CutMix) is called
            as ``transform(x, y)`` and returns ``(x, y)`` (soft labels).
        seed: the seed of the shuffling (None: drawn once from the default
            generator, so ``mdl.manual_seed`` fixes it).
        prefetch: batches prepared ahead in a background thread (0: none).
        device: where batches go ("cpu", "cuda", "strict"...; None: the
            default device at the time each batch is made).
        num_replicas, rank: data parallelism (PyTorch's DistributedSampler):
            this loader yields only rank ``rank``'s shard of every epoch, out
            of ``num_replicas``. All ranks draw the same permutation (same
            seed), pad it by repeating its start to a multiple of
            num_replicas, and rank r takes every num_replicas-th sample from
            r. So the ranks' first batches together are the first
            ``num_replicas * batch_size`` samples of one process's order.
        sampler: a :class:`minidl.distributed.DistributedSampler`, PyTorch's
            spelling of the same: its num_replicas, rank, shuffle, seed and
            drop_last (a shard cut to equal size instead of padded) are used.

    ``len(loader)`` is the number of batches in an epoch. ``loader.epoch`` is
    the epoch the next ``for`` loop will run.
    """

    def __init__(self, dataset: Dataset, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 transform: Optional[Callable] = None, seed: Optional[int] = None, prefetch: int = 0,
                 device: Any = None, num_replicas: int = 1, rank: int = 0, sampler: Any = None):
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(f"dataset must have __len__ and __getitem__, got {type(dataset).__name__}")
        positive_int(batch_size, "batch_size", "DataLoader")
        positive_int(prefetch, "prefetch", "DataLoader", minimum=0)
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable (a function of the inputs batch), got {type(transform).__name__}")
        if seed is not None and (not isinstance(seed, (int, numpy.integer)) or seed < 0):
            raise ValueError(f"seed must be an int >= 0 or None, got {seed!r}")
        if len(dataset) == 0:
            raise ValueError("the dataset is empty")
        if sampler is not None:
            if shuffle:
                raise ValueError("DataLoader: give shuffle to the sampler, not to the loader (as PyTorch: they exclude each other)")
            if len(sampler.dataset) != len(dataset):
                raise ValueError(f"DataLoader: the sampler is over {len(sampler.dataset)} samples, the dataset has {len(dataset)}")
            num_replicas, rank, shuffle, seed = sampler.num_replicas, sampler.rank, sampler.shuffle, sampler.seed
        self.shard_drop_last = bool(sampler is not None and sampler.drop_last)
        positive_int(num_replicas, "num_replicas", "DataLoader")
        positive_int(rank, "rank", "DataLoader", minimum=0)
        if rank >= num_replicas:
            raise ValueError(f"DataLoader: rank must be in [0, num_replicas), got rank {rank} of {num_replicas}")
        if seed is None and num_replicas > 1:
            raise ValueError("DataLoader: with num_replicas > 1 give a seed, so that every rank draws the same order")
        self.num_replicas, self.rank = int(num_replicas), int(rank)
        self.dataset = dataset
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), bool(shuffle), bool(drop_last)
        self.transform, self.prefetch = transform, int(prefetch)
        self.device = None if device is None else backend.parse_device(device)
        self.seed = int(backend.new_generator().integers(2**31)) if seed is None else int(seed)
        self.epoch = 0  # the epoch the next iteration will be

    # ------------------------------------------------------------ bookkeeping
    def __len__(self) -> int:
        n, k, b = len(self.dataset), self.num_replicas, self.batch_size
        n = n // k if self.shard_drop_last else -(-n // k)  # this rank's samples
        return n // b if self.drop_last else -(-n // b)  # -(-n // b) is n / b rounded up

    def order(self, epoch: int) -> numpy.ndarray:
        """The sample order of ``epoch``: a permutation drawn from (seed, epoch), or 0..n-1."""
        n = len(self.dataset)
        if not self.shuffle:
            return numpy.arange(n)
        # A generator seeded with the pair: independent of every other random stream.
        return numpy.random.default_rng([self.seed, int(epoch)]).permutation(n)

    def batch_indices(self, epoch: int) -> list:
        """The dataset indices of each batch of ``epoch``, in order (this rank's shard)."""
        order = self.order(epoch)
        if self.num_replicas > 1:
            k = self.num_replicas
            size = len(order) // k * k if self.shard_drop_last else -(-len(order) // k) * k
            order = numpy.resize(order, size)[self.rank::k]  # resize repeats the start (or cuts the end)
        stop = len(self) * self.batch_size if self.drop_last else len(order)
        return [order[i : min(i + self.batch_size, stop)] for i in range(0, stop, self.batch_size)]

    def set_epoch(self, epoch: int) -> None:
        """Make the next ``for`` loop run epoch ``epoch`` (its order depends only on seed and epoch)."""
        if int(epoch) < 0:
            raise ValueError(f"epoch must be >= 0, got {epoch}")
        self.epoch = int(epoch)

    def state_dict(self) -> dict:
        """What a checkpoint needs to resume the same sequence of batches: seed and next epoch."""
        return {"seed": self.seed, "epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        """Restore the seed and next epoch saved by :meth:`state_dict`."""
        self.seed, self.epoch = int(state["seed"]), int(state["epoch"])

    # ------------------------------------------------------- making batches
    def _load(self, indices: numpy.ndarray) -> tuple:
        """Read one batch, move it to the device, transform its inputs."""
        getter = getattr(self.dataset, "get_batch", None)
        x, y = getter(indices) if getter else Dataset.get_batch(self.dataset, indices)
        device = self.device or backend.get_default_device()
        if not backend.is_array(y):
            y = numpy.asarray(y)
        x, y = backend.to_device(x, device), backend.to_device(y, device)
        if self.transform is not None:
            if getattr(self.transform, "mixes_labels", False):  # MixUp / CutMix change the labels too
                x, y = self.transform(x, y)
            else:
                x = self.transform(x)
        return x, y

    def __iter__(self) -> Iterator[tuple]:
        """One epoch of batches (and the loader moves on to the next epoch)."""
        epoch = self.epoch
        self.epoch += 1
        batches = self.batch_indices(epoch)
        if self.prefetch == 0:
            return (self._load(idx) for idx in batches)
        return self._prefetching(batches)

    def _device_context(self):
        """Inside the worker thread: make the target GPU current (CuPy's current device is per thread)."""
        device = self.device or backend.get_default_device()
        if device.startswith("cuda:"):
            import cupy

            return cupy.cuda.Device(int(device.split(":")[1]))
        return contextlib.nullcontext()

    def _prefetching(self, batches: list) -> Iterator[tuple]:
        """Yield the batches while a thread loads up to ``prefetch`` of them ahead."""
        ready: queue.Queue = queue.Queue(maxsize=self.prefetch)
        stop = threading.Event()

        def hand_over(item: Any) -> bool:
            """Put item in the queue, waiting while it is full; False when told to stop."""
            while not stop.is_set():
                try:
                    ready.put(item, timeout=0.05)
                    return True
                except queue.Full:
                    continue
            return False

        def work() -> None:
            try:
                with self._device_context():
                    for idx in batches:
                        if stop.is_set() or not hand_over(self._load(idx)):
                            return
                hand_over(_DONE)
            except BaseException as error:  # hand the error to the consumer, who raises it
                hand_over(error)

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
        finally:  # also runs when the consumer breaks out early (the generator is closed)
            stop.set()
            thread.join()

    def __repr__(self) -> str:
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, seed={self.seed}, epoch={self.epoch}, prefetch={self.prefetch})")
