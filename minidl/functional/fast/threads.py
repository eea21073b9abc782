"""Splitting a batch over threads: how the fast paths use both cores for elementwise work.

A BLAS product already runs on every core, but NumPy's elementwise loops
(a multiply-add of whole arrays, a running maximum) run on one. They do
release Python's lock while they loop, though, so two threads, each given
half of the batch, really run at the same time: for a loop over samples that
are independent, ``over_batch(part, n, xp)`` calls ``part(rows)`` for slices
of the batch on several threads and returns their results in order.

How many threads: ``MINIDL_NUM_THREADS``, by default 1 (the calling thread
alone). Measured on the 2-core machines here, more did not pay: a training
step of the seed convnet took 58 ms with 1 and 81 ms with 2 (the BLAS's own
threads, which spin for a while after every matrix product, compete with
them, and these loops are bound by memory bandwidth rather than by the
core), and EfficientNet-Lite0's forward 1.34 s against 1.47 s. Try it on a
machine with more cores and bandwidth.

Measured again on a quiet machine (a ReLU of 11 MB, 2 cores): alone, 0.82 ms
on 1 thread and 0.55 ms on 2; right after a matrix product, while
OpenBLAS's 2 threads spin, 1.02 ms and 0.85 ms (median 1.21 ms); with
OpenBLAS on 1 thread, 2 threads of ours take 0.70 ms. So the second core pays
for elementwise work only where the BLAS leaves it alone: the way to use
both cores for a whole training step is one pool for everything (the BLAS
on 1 thread, each large product and each elementwise pass split over the
channels, which are the outermost memory axis of every conv output),
not this module's split of some loops beside a multi-threaded BLAS. CuPy arrays (the GPU spreads the work
already) always run in the calling thread. The pool lives only for the call:
no state is kept between ops.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, List

import numpy

PARTS_PER_THREAD = 2  # a little more parts than threads evens out uneven progress


def thread_count() -> int:
    """``MINIDL_NUM_THREADS``, else 1 (the module docstring says why)."""
    value = os.environ.get("MINIDL_NUM_THREADS", "").strip()
    if not value:
        return 1
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"MINIDL_NUM_THREADS must be a whole number >= 1, got {value!r}")
    return int(value)


def over_batch(part: Callable[[slice], Any], n: int, xp: Any, min_rows: int = 2) -> List[Any]:
    """``[part(rows) for rows in slices of range(n)]``, the slices run on several threads (NumPy only)."""
    threads = min(thread_count(), n // min_rows) if xp is numpy else 1
    if threads <= 1:
        return [part(slice(0, n))]
    cuts = numpy.linspace(0, n, min(n, threads * PARTS_PER_THREAD) + 1).astype(int)
    rows = [slice(int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:]) if b > a]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(part, rows))
