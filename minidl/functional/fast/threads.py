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
* The pool is a few worker threads of our own (:class:`_Worker`), each
  handed its part through two locks: no queue, no futures. Waking another
  thread still costs tens of microseconds on these machines (a split of no
  work at all: about 70 us, 80-100 us with a ``ThreadPoolExecutor``), so a
  call is split only when it touches at least :data:`MIN_SIZE` values. A
  ReLU forward (two passes), one thread against two: 2^16 values 29 against
  99 us, 2^18 114 against 149, 2^19 217 against 222, 2^21 1048 against
  738. A ResNet-18 step at CIFAR size, whose later stages hold arrays of
  2^15-2^18 values, took 3% less time with 2^19 than with 2^16 (the two
  settings alternating step by step in one process, medians of 40).

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
calling thread. With several processes on one machine (MPI ranks), set
``MINIDL_NUM_THREADS`` (or ``OMP_NUM_THREADS``) so that their threads add up
to the cores. Without
``threadpoolctl`` installed the BLAS cannot be told to keep to one thread,
so the default is then 1 (the calling thread alone, the BLAS on all cores). CuPy arrays always run in the
calling thread: the GPU spreads the work already. A part that itself calls
:func:`over_rows` (from a pool thread) runs its rows in that thread, and so
does a second thread that splits while another's split is out. The pool is
made again in a forked child, whose copy has no threads, and after Ctrl-C
stopped a caller waiting for its workers.
"""
from __future__ import annotations

import importlib.util
import os
import threading
from typing import Any, Callable, List, Optional

import numpy

MIN_ROWS = 2  # at least this many rows per thread, else fewer threads
MIN_SIZE = 2**19  # values a call must touch to be split: below, waking a thread costs more (docstring)
MIN_PRODUCT = 2**22  # multiply-adds (M*N*K) below which a product is not worth splitting
MIN_BLOCK = 64  # rows (or columns) of a product per thread, at least

_count: Optional[int] = None  # set_num_threads(); None: from the environment
_crew: Optional["_Crew"] = None  # the worker threads, made at the first split
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


class _Worker:
    """One thread that runs one part at a time, handed over by two locks.

    ``go`` is held while the worker has nothing to do: its thread waits to
    acquire it, and :meth:`start` releases it with a part to run. ``done`` is
    released when the part has finished, and :meth:`join` waits to acquire it.
    Nothing else stands between the caller and the worker: no queue, no
    futures (the module docstring has what a split costs).
    """

    def __init__(self, name: str):
        self.go, self.done = threading.Lock(), threading.Lock()
        self.go.acquire()
        self.done.acquire()
        self.task: Any = None  # (part, rows)
        self.result: Any = None
        self.error: Optional[BaseException] = None
        self.running = False  # started and not yet joined
        self.retired = False  # exit after the part in hand
        self.thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.retired:
            self.go.acquire()
            self._run()
            self.done.release()

    def _run(self) -> None:  # (a method of its own: no local name keeps the part's arrays alive)
        try:
            self.result, self.error = _inside(*self.task), None
        except BaseException as error:  # raised again in the caller's thread by join()
            self.result, self.error = None, error
        self.task = None

    def start(self, part: Callable[[slice], Any], rows: slice) -> None:
        self.task, self.running = (part, rows), True
        self.go.release()

    def join(self) -> Any:
        """The part's result once it has finished (its error raised again)."""
        self.done.acquire()
        self.running = False
        result, error, self.result, self.error = self.result, self.error, None, None
        if error is not None:
            raise error
        return result


class _Crew:
    """This process's ``get_num_threads() - 1`` workers (the calling thread is the other one).

    ``busy`` is held while a split is out: a second thread that splits at the
    same time (a data loader's, say) finds it held and runs its rows alone.
    """

    def __init__(self, threads: int):
        self.key = (os.getpid(), threads)
        self.workers = [_Worker(f"minidl-worker-{i}") for i in range(1, threads)]
        self.busy = threading.Lock()

    def stop(self) -> None:
        """Let every worker exit: an idle one is woken with nothing to do, a running one exits after its part."""
        for worker in self.workers:
            worker.retired = True
            if not worker.running:
                worker.start(lambda rows: None, slice(0, 0))

    def abandon(self) -> None:
        """The caller stopped waiting (Ctrl-C): some workers may still be running, so this crew is
        never handed work again; the next split makes a new one."""
        global _crew
        self.stop()
        if _crew is self:
            _crew = None


def _workers() -> _Crew:
    """This process's crew, made again after a fork (a copy has no threads) or for a new thread count."""
    global _crew
    key = (os.getpid(), get_num_threads())
    with _lock:
        if _crew is None or _crew.key != key:
            if _crew is not None and _crew.key[0] == key[0]:
                with _crew.busy:  # no split out: every worker is idle
                    _crew.stop()
            _crew = _Crew(key[1])
        if _blas_control():
            _hold_blas()
        return _crew


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
    crew = _workers()
    if not crew.busy.acquire(blocking=False):  # another thread's split is out: these rows run here
        return [_inside(part, slice(0, count))]
    try:
        return _split(crew, part, count, threads)
    finally:
        crew.busy.release()


def _split(crew: _Crew, part: Callable[[slice], Any], count: int, threads: int) -> List[Any]:
    """The first slice of range(count) in this thread, the others on the crew's workers; all finished."""
    cuts = [count * i // threads for i in range(threads + 1)]
    rows = [slice(a, b) for a, b in zip(cuts[:-1], cuts[1:])]
    workers = crew.workers[: threads - 1]
    for worker, r in zip(workers, rows[1:]):
        worker.start(part, r)
    results, errors = [], []
    try:
        for run in [lambda: _inside(part, rows[0])] + [worker.join for worker in workers]:
            try:
                results.append(run())
            except Exception as error:  # kept until every worker has finished writing
                errors.append(error)
    except BaseException:  # Ctrl-C: the workers not yet joined may still run
        crew.abandon()
        raise
    if errors:
        raise errors[0]
    return results


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
