"""DistributedDataParallel: one model per process, gradients averaged before every step.

The three things that keep k copies of a model identical:

1. the same start: rank 0's parameters and buffers are broadcast to all
   (:func:`broadcast_state`), after checking that every rank built the same
   model (:func:`check_same_model`);
2. the same step: after ``backward()`` each rank holds the gradient of its
   own shard; :func:`average_gradients` replaces it by the mean over ranks,
   so every optimizer takes the step of the whole batch;
3. the same buffers: batch norm's running statistics are computed per rank
   from its shard; as PyTorch's DDP does by default, rank 0's are broadcast
   at every training forward, so all ranks keep rank 0's (the statistics of
   its shards). Normalisation itself uses each rank's own batch.

Gradients travel in *buckets*: many small parameters are packed into one
flat array of up to ``bucket_cap_mb`` and reduced in one call, because every
collective has a fixed cost (latency) on top of its bytes.
"""
from __future__ import annotations

import hashlib
from typing import Any, Iterable, List, Optional

import numpy

from .. import backend
from ..nn.module import Module
from .comm import Communicator, default_group


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training over ``comm`` (PyTorch's name and behaviour).

    Args:
        module: the model, built the same way on every rank.
        comm: the communicator from :func:`minidl.distributed.init`; None: the
            default group of :func:`~minidl.distributed.init_process_group`.
        bucket_cap_mb: the largest bucket of gradients reduced in one call.
        broadcast_buffers: send rank 0's buffers (running statistics) to all
            ranks at every forward in training mode.

    Its ``state_dict`` names are the module's with ``module.`` in front, as in
    PyTorch. ``fit`` calls :meth:`sync_gradients` before each optimizer step;
    a hand-written loop does it between ``loss.backward()`` and ``optimizer.step()``.
    """

    def __init__(self, module: Module, comm: Optional[Communicator] = None, bucket_cap_mb: float = 25.0,
                 broadcast_buffers: bool = True):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel needs a Module, got {type(module).__name__}")
        if not bucket_cap_mb > 0:
            raise ValueError(f"bucket_cap_mb must be > 0, got {bucket_cap_mb}")
        self.module = module
        self.comm = comm if comm is not None else default_group("DistributedDataParallel")
        self.bucket_bytes = int(bucket_cap_mb * 2**20)
        self.broadcast_buffers = bool(broadcast_buffers)
        check_same_model(module, self.comm)
        broadcast_state(module, self.comm)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if self.training and self.broadcast_buffers:
            _broadcast_buffers(self.module, self.comm)
        return self.module(*args, **kwargs)

    def sync_gradients(self) -> None:
        """Average every parameter's gradient over the ranks (call after backward, before step)."""
        average_gradients(self.module.parameters(), self.comm, self.bucket_bytes)


def _signature(module: Module) -> str:
    """Every parameter's and buffer's name, shape and dtype, in order: what must match across ranks."""
    parts = [f"p {name} {tuple(p.shape)} {p.dtype}" for name, p in module.named_parameters()]
    parts += [f"b {name} {tuple(b.shape)} {b.dtype}" for name, b in module.named_buffers()]
    return "\n".join(parts)


def check_same_model(module: Module, comm: Communicator) -> None:
    """Raise on every rank if the ranks hold models of different names, shapes or dtypes.

    Each rank hashes its signature into an int64; the all-reduced maximum of
    h and of -h are both this rank's own only if every rank has the same h.
    """
    digest = hashlib.sha256(_signature(module).encode()).digest()
    h = int.from_bytes(digest[:7], "little")  # 56 bits: fits an int64 with room for -h
    both = numpy.array([h, -h], dtype=numpy.int64)
    comm.all_reduce(both, op="max")
    if both[0] != h or both[1] != -h:
        raise ValueError(
            f"DistributedDataParallel: rank {comm.rank}'s model differs from another rank's "
            f"(parameter or buffer names, shapes or dtypes); build the same model on every rank"
        )


def broadcast_state(module: Module, comm: Communicator, root: int = 0) -> None:
    """Copy rank ``root``'s parameters and buffers into every rank's ``module`` (in place)."""
    for p in module.parameters():
        _broadcast_into(p.data, comm, root)
    _broadcast_buffers(module, comm, root)


def _broadcast_buffers(module: Module, comm: Communicator, root: int = 0) -> None:
    for b in module.buffers():
        _broadcast_into(b, comm, root)


def _broadcast_into(array: Any, comm: Communicator, root: int) -> None:
    if array.flags.c_contiguous:
        comm.broadcast(array, root)
    else:
        xp = backend.get_array_module(array)
        copy = xp.ascontiguousarray(array)
        comm.broadcast(copy, root)
        array[...] = copy


def average_gradients(params: Iterable[Any], comm: Communicator, bucket_bytes: int = 25 * 2**20) -> None:
    """Replace each parameter's ``.grad`` by its mean over the ranks, bucket by bucket.

    A parameter that has a gradient on some rank but not on another (a branch
    one shard did not use) counts as zero there; one without a gradient on
    every rank is left with ``grad`` None. A first all-reduce of one flag per
    parameter settles which is which, so every rank packs the same buckets.
    """
    params = [p for p in params if p.requires_grad]
    if comm.world_size == 1 or not params:
        return
    has_grad = numpy.array([p.grad is not None for p in params], dtype=numpy.int64)
    comm.all_reduce(has_grad, op="max")
    live = [p for p, flag in zip(params, has_grad) if flag]
    for bucket in _buckets(live, bucket_bytes):
        _reduce_bucket(bucket, comm)


def _buckets(params: List[Any], bucket_bytes: int) -> List[list]:
    """Consecutive parameters of one dtype and device, up to ``bucket_bytes`` each (a big one alone).

    The order is reversed, as in PyTorch: backward produces the last layers'
    gradients first, so they are the first that could be sent.
    """
    buckets, current, size = [], [], 0
    for p in reversed(params):
        same_kind = not current or (p.dtype == current[0].dtype and p.device == current[0].device)
        if current and (not same_kind or size + p.data.nbytes > bucket_bytes):
            buckets.append(current)
            current, size = [], 0
        current.append(p)
        size += p.data.nbytes
    if current:
        buckets.append(current)
    return buckets


def _reduce_bucket(bucket: list, comm: Communicator) -> None:
    """Pack the bucket's gradients into one flat array, all-reduce it, divide, unpack."""
    xp = backend.get_array_module(bucket[0].data)
    flat = xp.concatenate([
        (p.grad if p.grad is not None else xp.zeros_like(p.data)).reshape(-1) for p in bucket
    ])  # (total,) a fresh contiguous array
    comm.all_reduce(flat)
    flat /= comm.world_size
    start = 0
    for p in bucket:
        p.grad = flat[start:start + p.data.size].reshape(p.shape).copy()
        start += p.data.size
