"""One pool of threads for the fast paths: every large pass split over the cores, the BLAS on one thread.

NumPy runs an elementwise loop (a ReLU, a running maximum, a copy) on one
core, but it releases Python's lock while it loops, so two threads, each
given half of the rows, really run at the same time. The BLAS, meanwhile,
runs each matrix product on every core with threads of its own, which keep
spinning for a while after each product, waiting for the next one. On the
2-core machines here those spinning threads took the second core from the
elementwise loops that came after a product (a ReLU of 11 MB: 0.55 ms on two
threads alone, 0.85 ms right after a product). So the fast paths share out
*everything* over one pool of their own:

* :func:`over_rows` calls ``part(rows)`` for slices of a range of rows, one
  slice per thread (the caller's thread takes the first), and returns the
  results in order. The rows are the array's outermost axis *in memory*
  (:func:`.layout.outer_axis`: the channels of a conv output), so that each
  thread's slice is one block of memory and its loops keep their long runs.
  Sliced along the batch of a batch-innermost array, every run would halve.
* :func:`matmul` splits a large matrix product over the same threads, by
  blocks of the output's columns (or rows, when there are more rows; or of
  the summed axis, for a weight gradient's small output).
* While the pool is in use, the BLAS runs on one thread (set once, with
  ``threadpoolctl``, for the whole program, as PyTorch's
  ``torch.set_num_threads`` governs its own). NumPy products elsewhere in
  the same program then run on one thread too: ``minidl.set_num_threads(1)``
  gives the BLAS its threads back.

Measured on the 2-core machines here (seed convnet, batch 128, each op
forward and backward, medians): max pooling 9.4 -> 4.7 ms, ReLU 3.5-4.3 ->
2.4-2.6 ms, col2im 2.6 -> 1.4-1.9 ms, im2col 1.1-1.3 -> 0.7 ms; the split
products take what the BLAS's own 2 threads take (4.1 against 4.5 ms). A
whole training step 41 -> 39 ms (medians of 5 fresh processes each; the
spread shrank from 35-50 to 36-41 ms), ResNet-18's forward at 224x224
(batch 16) from 1.6-2.0x PyTorch's time to 1.3-1.5x. Time it in fresh
processes: in one process the BLAS's threads, once woken by a product run
outside the pool, spin through the next pool's work and slow it.

How many threads: :func:`set_num_threads`, else ``MINIDL_NUM_THREADS``, else
``OMP_NUM_THREADS`` (as PyTorch reads it), else the cores this process may
run on. Calls that touch fewer than :data:`MIN_SIZE` values run in the
calling thread: handing them to another costs more than they take. With
several processes on one machine (MPI ranks), set ``MINIDL_NUM_THREADS`` (or
``OMP_NUM_THREADS``) so that their threads add up to the cores. Without
``threadpoolctl`` installed the BLAS cannot be told to keep to one thread,
so the default is then 1 (the calling thread alone, the BLAS on all cores). CuPy arrays always run in the
calling thread: the GPU spreads the work already. A part that itself calls
:func:`over_rows` (from a pool thread) runs its rows in that thread. The
pool is made again in a forked child, whose copy has no threads.
"""
from __future__ import annotations

import concurrent.futures
import importlib.util
import os
import threading
from typing import Any, Callable, List, Optional

import numpy

MIN_ROWS = 2  # at least this many rows per thread, else fewer threads
MIN_SIZE = 2**16  # values a call must touch to be split: below, handing work to a thread costs more
MIN_PRODUCT = 2**22  # multiply-adds (M*N*K) below which a product is not worth splitting
MIN_BLOCK = 64  # rows (or columns) of a product per thread, at least

_count: Optional[int] = None  # set_num_threads(); None: from the environment
_pool: Optional[concurrent.futures.ThreadPoolExecutor] = None
_pool_key: tuple = ()  # (pid, threads) the pool was made for
_blas_limit: Any = None  # threadpoolctl's limiter while the BLAS is held to one thread
_local = threading.local()  # .inside: this thread is running a part
_lock = threading.Lock()


def _blas_control() -> bool:
    """Whether the BLAS's threads can be set (threadpoolctl is installed)."""
    return importlib.util.find_spec("threadpoolctl") is not None


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def get_num_threads() -> int:
    """Threads the fast paths use: :func:`set_num_threads`, ``MINIDL_NUM_THREADS``, ``OMP_NUM_THREADS``
    (as PyTorch reads it), or the cores (1 without threadpoolctl; the module docstring says why)."""
    if _count is not None:
        return _count
    for name in ("MINIDL_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value:
            if not value.isdigit() or int(value) < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
            return int(value)
    return _cores() if _blas_control() else 1


def set_num_threads(count: Optional[int]) -> None:
    """Use ``count`` threads (1: the calling thread alone, the BLAS's threads given back;
    None: back to ``MINIDL_NUM_THREADS`` or the default)."""
    global _count
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
        raise ValueError(f"set_num_threads takes a whole number >= 1 (or None), got {count!r}")
    _count = count
    if get_num_threads() == 1:
        _release_blas()


def _hold_blas() -> None:
    """Keep the BLAS to one thread (the module docstring says why); once, until released."""
    global _blas_limit
    if _blas_limit is None:
        from threadpoolctl import threadpool_limits

        _blas_limit = threadpool_limits(limits=1, user_api="blas")


def _release_blas() -> None:
    global _blas_limit
    if _blas_limit is not None:
        _blas_limit.restore_original_limits()
        _blas_limit = None


def _threads_for(count: int, xp: Any, min_rows: int, size: Optional[int] = None) -> int:
    """How many threads share ``count`` rows: 1 inside a part, for CuPy, for few rows or small work."""
    if xp is not numpy or getattr(_local, "inside", False) or (size is not None and size < MIN_SIZE):
        return 1
    return max(1, min(get_num_threads(), count // max(1, min_rows)))


def _executor() -> concurrent.futures.ThreadPoolExecutor:
    """The pool's ``get_num_threads() - 1`` workers (the caller is the other), made again after a fork."""
    global _pool, _pool_key
    key = (os.getpid(), get_num_threads())
    with _lock:
        if _pool_key != key:
            if _pool is not None and _pool_key[0] == key[0]:
                _pool.shutdown(wait=True)
            _pool = concurrent.futures.ThreadPoolExecutor(max_workers=key[1] - 1, thread_name_prefix="minidl")
            _pool_key = key
        if _blas_control():
            _hold_blas()
        return _pool


def _inside(part: Callable[[slice], Any], rows: slice) -> Any:
    _local.inside = True
    try:
        return part(rows)
    finally:
        _local.inside = False


def over_rows(part: Callable[[slice], Any], count: int, xp: Any, min_rows: int = MIN_ROWS,
              size: Optional[int] = None) -> List[Any]:
    """``[part(rows) for rows in slices of range(count)]``, one slice per thread, the first in this one.

    ``size``: how many values the call touches; below :data:`MIN_SIZE` it runs
    in this thread alone. Every part has returned when this returns, also when
    one of them raised (the first error is raised again).
    """
    threads = _threads_for(count, xp, min_rows, size)
    if threads <= 1:
        return [part(slice(0, count))]
    cuts = [count * i // threads for i in range(threads + 1)]
    rows = [slice(a, b) for a, b in zip(cuts[:-1], cuts[1:])]
    pool = _executor()
    futures = [pool.submit(_inside, part, r) for r in rows[1:]]
    try:
        first = _inside(part, rows[0])
    finally:
        concurrent.futures.wait(futures)
    return [first] + [f.result() for f in futures]


def matmul(a: Any, b: Any) -> Any:
    """``a @ b`` for a (..., M, K), b (..., K, N), split over the threads when the product is large:
    by blocks of the output's columns, or of its rows where M > N, or, where the output is too
    small for either (a weight gradient: M, N small, K the pixels of a whole batch), by blocks of K,
    the partial products summed (their rounding then differs from one product's, as it does
    between BLAS thread counts)."""
    if not isinstance(a, numpy.ndarray):
        return a @ b
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    batch_shape = numpy.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    if int(numpy.prod(batch_shape, dtype=numpy.int64)) * m * n * k < MIN_PRODUCT:
        return a @ b
    # Split the longer side of the output; split the summed axis K only when it is over 16 times
    # longer than both (a weight gradient): then each thread's partial product is still a large
    # one, and adding the partials up costs little next to it.
    if 16 * max(m, n) >= k:
        split, length = ("rows", m) if m > n else ("columns", n)
    else:
        split, length = "sum", k
    if _threads_for(length, numpy, MIN_BLOCK) <= 1:
        return a @ b
    if split == "sum":
        return sum(over_rows(lambda r: a[..., r] @ b[..., r, :], k, numpy, MIN_BLOCK))
    out = numpy.empty(batch_shape + (m, n), dtype=numpy.result_type(a, b))

    def part(r):
        if split == "rows":
            numpy.matmul(a[..., r, :], b, out=out[..., r, :])
        else:
            numpy.matmul(a, b[..., r], out=out[..., r])

    over_rows(part, length, numpy, MIN_BLOCK)
    return out
