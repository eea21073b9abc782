"""The engine room of augmentation: the geometric sampler's fast path.

:func:`minidl.augment.geometric.sample` is the readable reference: the
source coordinates of every output pixel, the fill mode as an index map,
four fancy-indexed reads and their bilinear weights. It makes a dozen
temporaries the size of the batch and runs on one core. This file computes
the same numbers faster; where the time went, and what each step saves
(256 images of 28x28x1, one core of the 2-core benchmark machine):

* chunks of images, ``CHUNK_PIXELS`` output pixels each, sampled one after
  the other: the chunk's work arrays stay in the core's cache between the
  passes over them, and a pass over data in cache costs a third of one over
  a batch that spills to memory;
* contiguous arrays only: a NumPy loop over a strided view (the x half of an
  (n, 2, H, W) array, a channel of an NCHW batch) runs 3x slower than over a
  contiguous one. So the coordinates are laid out (2, n, H, W), the padded
  chunk and the samples (C, n, H, W), one block per channel;
* the source coordinates of both axes in one matrix product,
  (2n, 3) @ (3, H W), where adding an (n, 1, W) to an (n, H, 1) array ran 5x
  slower (its inner loop is one row long);
* the padding planned from the matrices alone: s is affine in the output
  pixel, so its extremes are at the image corners (:func:`_reach`, no pass
  over the batch); "constant" pads two rings of the fill value, filled once
  per thread and shape (:func:`_constant_frame`), and clamps s into them;
  "reflect" and "wrap" pad as far as the samples reach, so no index needs
  mapping. The four neighbours are then read with ``take`` from views of the
  flat padded chunk shifted by 0, 1, Wp and Wp + 1;
* two lerps along x and one along y (9 passes a channel) instead of four
  weights and four products (6 + 7);
* work arrays reused between calls (:func:`scratch`): fresh memory the size
  of the batch costs more than the arithmetic on it;
* a large NumPy batch's chunks shared out over threads (:func:`set_num_threads`,
  the rule in :func:`threads_for`; NumPy's gathers and arithmetic release
  the GIL), in a pool kept for the life of the process: the threads take
  chunks from one queue (a thread kept waiting by the machine's other work
  holds up at most its chunk), and each batch shape runs with 1 thread or
  more, whichever has been faster lately (:class:`ThreadChoice`): on a
  shared 2-core machine a second thread is as often a loss as a gain.

Measured by step for a chunk of 41 images of 28x28 (ns per output pixel, on
a loaded machine): padding 0.7, coordinates 0.7, clamping 0.8, floor and
weights 0.8, index 1.5, the four gathers 3.1, the lerps 1.3. The gathers
(``take``, ~0.7 ns an element) and NumPy's one pass per operation are the floor.

``warp`` takes it when fast paths are on (``MINIDL_REFERENCE=1`` turns them
off); ``tests/augment/test_sample_paths.py`` checks it against the reference.
"""
from __future__ import annotations

import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy

from .. import backend, strict


_PAD_MODE = {"constant": "constant", "nearest": "edge", "reflect": "symmetric", "wrap": "wrap"}


def _reach(inv: numpy.ndarray, h: int, w: int, shift: float) -> tuple:
    """The lowest and highest floor(s) of the sample coordinates, per axis, from the matrices alone.

    s = inv[n] @ (q, r, 1) is affine in the output pixel (q, r), so its extremes
    over the image lie at the four corners: 4 products per image on the host,
    instead of two reductions over the batch. ``shift`` is added to s first
    (1/2 for "nearest" interpolation). One pixel of slack on each side covers
    s computed in float32 rounding across an integer.
    Returns ((x_lo, x_hi), (y_lo, y_hi)).
    """
    corners = numpy.array([[0, 0, w - 1, w - 1], [0, h - 1, 0, h - 1], [1, 1, 1, 1]], dtype=numpy.float64)
    s = inv[:, :2] @ corners + shift  # (N, 2, 4): x and y of each corner's source
    lo = numpy.floor(s.min(axis=(0, 2))).astype(int) - 1
    hi = numpy.floor(s.max(axis=(0, 2))).astype(int) + 1
    return (int(lo[0]), int(hi[0])), (int(lo[1]), int(hi[1]))


_grids: dict = {}


def _grid(h: int, w: int, dtype: Any) -> numpy.ndarray:
    """(3, H W) host array: the column q, the row r and 1 of every output pixel, row by row."""
    key = (h, w, numpy.dtype(dtype).str)
    if key not in _grids:
        rows, cols = numpy.meshgrid(numpy.arange(h), numpy.arange(w), indexing="ij")
        _grids[key] = numpy.stack([cols.ravel(), rows.ravel(), numpy.ones(h * w)]).astype(dtype)
    return _grids[key]


def _margins(lo: int, hi: int, size: int, fill_mode: str) -> tuple:
    """How far to pad one axis, and whether the coordinate must be clamped into the padding.

    floor(s) runs from ``lo`` to ``hi`` (:func:`_reach`); bilinear reads floor(s)
    and floor(s) + 1. "reflect" and "wrap" pad as far as that reaches (numpy's
    "symmetric" and "wrap" pads are those extensions), so no index needs
    mapping. "constant" pads two rings of the fill value and "nearest" one ring
    of edge pixels, and clamps s into [0, padded size - 2] where samples reach
    further: a sample far outside then reads fill (or the edge) on both sides,
    as it should. (A small frame fits the cache, and the constant one is
    filled once, see :func:`_constant_frame`.) Returns (pad_before, pad_after, clamp).
    """
    if fill_mode in ("constant", "nearest"):
        ring = 2 if fill_mode == "constant" else 1
        return ring, ring, lo < -ring or hi > size - 2 + ring
    return max(0, -lo), max(0, hi + 2 - size), False


def _constant_frame(x: Any, before: tuple, after: tuple, fill_value: float) -> Any:
    """``x`` (n, C, H, W) padded with ``fill_value``, in a per-thread array whose border is filled once.

    The border of a constant pad is the same for every batch of one shape, so
    each thread keeps its padded arrays (a few shapes: the last chunk of a
    batch is smaller) and only copies the images into their middle.
    """
    xp = backend.get_array_module(x)
    n, c, h, w = x.shape
    (yb, xb), (ya, xa) = before, after
    frames = _scratch.__dict__.setdefault("frames", {})
    key = (tuple(x.shape), x.dtype.str, backend.device_of(x), before, after, float(fill_value))
    frame = frames.get(key)
    if frame is None:
        if len(frames) >= 4:
            frames.clear()
        frame = frames[key] = xp.full((n, c, h + yb + ya, w + xb + xa), fill_value, dtype=x.dtype)
    frame[:, :, yb:yb + h, xb:xb + w] = x
    return frame


_scratch = threading.local()  # per thread: the DataLoader may augment in a background thread


def scratch(name: str, shape: tuple, dtype: Any, like: Any) -> Any:
    """A reusable work array (uninitialised) of ``shape`` on ``like``'s device.

    Why: the sampler needs a dozen temporaries the size of the batch. Freshly
    allocated each call, every one of them is new memory the operating system
    hands over page by page, and that cost more than the arithmetic (4 ms of
    5 for 256 images of 28x28). So each name keeps one flat buffer per thread,
    grown when a bigger one is asked for, and a view of its start is returned
    (shapes vary: the last batch is smaller, reflect padding follows the draws).
    """
    store = _scratch.__dict__.setdefault("arrays", {})
    dtype = numpy.dtype(dtype)
    size = math.prod(shape)
    key = (name, dtype.str, backend.device_of(like))
    buffer = store.get(key)
    if buffer is None or buffer.size < size:
        buffer = store[key] = backend.get_array_module(like).empty(max(size, int(size * 1.25)), dtype=dtype)
    return buffer[:size].reshape(shape)


def pad_into(x: Any, out: Any, before: tuple, fill_mode: str, fill_value: float = 0.0) -> Any:
    """Pad ``x`` (N, C, H, W) into ``out`` by the fill mode (Keras' extensions, see the module docstring).

    ``before`` = (rows above, columns left); the rest of ``out`` is the after-padding.
    Rows are padded after columns, so the corners come out right.
    """
    xp = backend.get_array_module(x)
    h, w = x.shape[2:]
    yb, xb = before
    ya, xa = out.shape[2] - h - yb, out.shape[3] - w - xb
    if fill_mode != "constant" and (max(yb, ya) > h or max(xb, xa) > w):  # pads wider than the image
        out[...] = xp.pad(x, ((0, 0), (0, 0), (yb, ya), (xb, xa)), mode=_PAD_MODE[fill_mode])
        return out
    if fill_mode == "constant":  # one fill of the whole, then the image: faster than four thin borders
        out[...] = fill_value
        out[:, :, yb:yb + h, xb:xb + w] = x
        return out
    out[:, :, yb:yb + h, xb:xb + w] = x
    core = out[:, :, yb:yb + h]  # the image's rows, padded along the columns first

    def source(axis_len: int, before_n: int, after_n: int, arr: Any, axis: int) -> tuple:
        take = lambda a, b: arr[:, :, :, a:b] if axis == 3 else arr[:, :, a:b]  # noqa: E731
        flip = (lambda a: a[:, :, :, ::-1]) if axis == 3 else (lambda a: a[:, :, ::-1])  # noqa: E731
        if fill_mode == "nearest":
            return take(0, 1), take(axis_len - 1, axis_len)
        if fill_mode == "reflect":
            return flip(take(0, before_n)), flip(take(axis_len - after_n, axis_len))
        return take(axis_len - before_n, axis_len), take(0, after_n)  # wrap

    left, right = source(w, xb, xa, x, 3)
    if xb:
        core[:, :, :, :xb] = left
    if xa:
        core[:, :, :, xb + w:] = right
    inner = out[:, :, yb:yb + h]
    top, bottom = source(h, yb, ya, inner, 2)
    if yb:
        out[:, :, :yb] = top
    if ya:
        out[:, :, yb + h:] = bottom
    return out


_threads = {"count": min(2, os.cpu_count() or 1), "choose": True, "pool": None}  # pool: count - 1 helpers


def set_num_threads(count: int, choose: bool = True) -> None:
    """How many CPU threads :func:`warp` may split a large NumPy batch over (default: up to 2).

    NumPy's gathers and arithmetic release the GIL, so parts of a batch run
    truly in parallel. With ``choose`` (the default), each batch shape takes
    whichever of 1 and ``count`` threads has been faster lately (:class:`ThreadChoice`);
    ``choose=False`` always uses ``count`` where :func:`threads_for` allows.
    Ignored for CuPy (the GPU is parallel already).
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be an int >= 1, got {count!r}")
    _threads["count"], _threads["choose"] = count, bool(choose)


class ThreadChoice:
    """Of 1 thread and more, the one measured faster lately, per batch shape.

    Whether a second thread pays depends on more than the size of the batch. On
    the 2-core machines here, shared with other work, a second thread that finds
    its core busy makes the batch wait for it, and for the GIL when it is
    descheduled holding it: 2.5x slower than one thread in one measurement,
    where with a free core it was 1.7x faster. So each shape keeps the seconds
    of the last ``KEEP`` calls made either way, takes the way whose median is
    lower, and every ``EXPLORE``-th call times the other again, so that the
    choice follows the machine (at most 1/EXPLORE of the calls run the slower
    way; the median lets one odd timing pass).
    """

    EXPLORE, KEEP = 32, 3

    def __init__(self) -> None:
        self.seconds: dict = {}  # (shape, threads) -> the seconds of its last KEEP calls
        self.calls: dict = {}  # shape -> calls so far

    def choose(self, shape: tuple, options: tuple) -> int:
        calls = self.calls[shape] = self.calls.get(shape, 0) + 1
        untried = [k for k in options if (shape, k) not in self.seconds]
        if untried:
            return untried[0]
        best = min(options, key=lambda k: sorted(self.seconds[shape, k])[len(self.seconds[shape, k]) // 2])
        if calls % self.EXPLORE == 0:
            return next(k for k in options if k != best)  # the other, timed again
        return best

    def record(self, shape: tuple, threads: int, seconds: float) -> None:
        last = self.seconds.setdefault((shape, threads), [])
        last.append(seconds)
        del last[:-self.KEEP]


_choice = ThreadChoice()


# The least work (values) that pays for a second thread. Handing a share to the pool's
# thread and waiting for it costs ~12 us here, sampling 64k values ~0.5 ms: below that,
# the second share is too small to be worth splitting off (and on this 2-core machine,
# shared with other work, the other core is often busy anyway).
MIN_VALUES_PER_THREAD = 1 << 16


def threads_for(x: Any, chunks: int) -> int:
    """The rule: the most threads that may sample the batch ``x`` cut in ``chunks`` chunks.

    1 for CuPy (the GPU is parallel already) and the strict stand-in; for NumPy
    :func:`set_num_threads`'s count, but no more than there are chunks, nor
    than there are ``MIN_VALUES_PER_THREAD`` values to share. Between 1 and
    that, :func:`warp_fast` takes the one measured faster (:class:`ThreadChoice`)
    unless ``set_num_threads(..., choose=False)``.
    """
    if backend.get_array_module(x) is not numpy:
        return 1
    return max(1, min(_threads["count"], chunks, x.size // MIN_VALUES_PER_THREAD))


def _pool() -> ThreadPoolExecutor:
    """The helper threads (the caller is the other one), kept for the life of the process:
    each keeps its own scratch buffers and constant frames."""
    pool, helpers = _threads["pool"], max(1, _threads["count"] - 1)
    if pool is None or pool._max_workers < helpers:
        if pool is not None:
            pool.shutdown(wait=False)
        pool = _threads["pool"] = ThreadPoolExecutor(helpers, thread_name_prefix="minidl-warp")
    return pool


# Output pixels (images x rows x columns) sampled in one go: few enough that a chunk's
# work arrays stay in the core's cache between the passes over them (a pass over 32k
# float32 values in cache takes a third of one over a batch that spills to memory),
# many enough that NumPy's cost per call (~1 us, some 40 calls a chunk) stays small.
CHUNK_PIXELS = 1 << 15


def warp_fast(x: Any, inv: numpy.ndarray, fill_mode: str, fill_value: float, interpolation: str) -> Any:
    """:func:`minidl.augment.geometric.sample`'s numbers, faster (the module docstring).

    The padding is planned once for the batch from the matrices (:func:`_reach`,
    :func:`_margins`); then the batch is sampled in chunks of about
    ``CHUNK_PIXELS`` output pixels (:func:`_warp_chunk`), which a NumPy batch shares out
    over the threads (:func:`set_num_threads`, :func:`threads_for`).
    Shapes: x (N, C, H, W), inv (N, 3, 3) host float64 -> (N, C, H, W).
    """
    xp = backend.get_array_module(x)
    n, c, h, w = x.shape
    out = xp.empty(x.shape, dtype=x.dtype)
    if n == 0:
        return out
    shift = 0.5 if interpolation == "nearest" else 0.0  # the nearest pixel is the left neighbour of s + 1/2
    (x_lo, x_hi), (y_lo, y_hi) = _reach(inv, h, w, shift)
    x_before, x_after, x_clamp = _margins(x_lo, x_hi, w, fill_mode)
    y_before, y_after, y_clamp = _margins(y_lo, y_hi, h, fill_mode)
    # s in the padded image's coordinates: rows (x, y) of inv, the padding and the shift in the constant
    coef = inv[:, :2].copy()  # (N, 2, 3)
    coef[:, 0, 2] += x_before + shift
    coef[:, 1, 2] += y_before + shift
    plan = (x_before, x_after, x_clamp, y_before, y_after, y_clamp, fill_mode, fill_value, interpolation)

    # CuPy: one chunk (a GPU has no such cache to fit, and each call is a kernel launch)
    per_chunk = max(1, CHUNK_PIXELS // (h * w)) if xp is numpy or xp is strict else n
    cuts = list(range(0, n, per_chunk)) + [n]
    chunks = list(zip(cuts[:-1], cuts[1:]))

    # The threads take chunks one at a time from a shared queue until none is left, so
    # a thread that the machine's other work keeps waiting costs at most the chunk it
    # holds (equal shares fixed in advance would make the batch wait for the slower one).
    todo, lock = iter(chunks), threading.Lock()

    def work() -> None:
        while True:
            with lock:
                chunk = next(todo, None)
            if chunk is None:
                return
            a, b = chunk
            _warp_chunk(x[a:b], coef[a:b], out[a:b], plan)

    most = threads_for(x, len(chunks))
    threads = _choice.choose(tuple(x.shape), (1, most)) if most > 1 and _threads["choose"] else most
    start = time.perf_counter()
    helpers = [_pool().submit(work) for _ in range(threads - 1)]
    try:
        work()  # the calling thread takes chunks too
    finally:
        for job in helpers:
            if not job.cancel():  # a helper that never got started has nothing left to do
                job.result()  # wait for its last chunk; re-raises an error from the thread
    if most > 1:
        _choice.record(tuple(x.shape), threads, time.perf_counter() - start)
    return out


def _warp_chunk(x: Any, coef: numpy.ndarray, out: Any, plan: tuple) -> None:
    """Sample the images ``x`` (n, C, H, W) into ``out``; ``coef`` (n, 2, 3): s = coef @ (q, r, 1).

    s = (sx, sy) is where output pixel (column q, row r) reads, in the
    coordinates of the padded image. With x0 = floor(sx), fx = sx - x0 (and
    y0, fy alike), bilinear interpolation is two lerps along x and one along y::

        top    = v(y0, x0)     + fx (v(y0, x0 + 1)     - v(y0, x0))
        bottom = v(y0 + 1, x0) + fx (v(y0 + 1, x0 + 1) - v(y0 + 1, x0))
        out    = top + fy (bottom - top)

    which is the reference's four weighted terms regrouped. "nearest" reads
    v(y0, x0) (the 1/2 is in ``coef``). The steps:

    1. pad the chunk, channels first (C, n, Hp, Wp), by the fill mode, so
       that no index needs mapping (:func:`_margins`);
    2. s (2, n, H, W) in one matrix product; clamped into the padded image
       where :func:`_margins` says so; x0, y0 = floor(s) and the weights fx, fy;
    3. one flat index per output pixel, that of v(y0, x0) of channel 0 in the
       flattened padded chunk: (y0 + i Hp) Wp + x0 for image i (exact in
       float32 below 2**24, formed in float64 above);
    4. the four neighbours of channel k are ``take`` from views of the flat
       chunk shifted by k n Hp Wp + (0, 1, Wp, Wp + 1): one index for all.

    Work arrays are reused between calls (:func:`scratch`).
    """
    xp = backend.get_array_module(x)
    n, c, h, w = x.shape
    dtype = x.dtype
    x_before, x_after, x_clamp, y_before, y_after, y_clamp, fill_mode, fill_value, interpolation = plan
    hp, wp = h + y_before + y_after, w + x_before + x_after
    # channels first: (C, n, Hp, Wp), so that each channel's samples land in one
    # contiguous block and the same index serves every channel (+ k n Hp Wp)
    planes = x.transpose(1, 0, 2, 3)  # (C, n, H, W), a view
    if fill_mode == "constant":
        padded = _constant_frame(planes, (y_before, x_before), (y_after, x_after), fill_value)
    else:
        padded = pad_into(planes, scratch("padded", (c, n, hp, wp), dtype, x), (y_before, x_before), fill_mode,
                          fill_value)
    flat = padded.reshape(-1)  # (C n Hp Wp,)

    # s = coef @ (q, r, 1) for every output pixel: one matrix product for both axes,
    # (2 n, 3) @ (3, H W) -> (2, n, H, W); s[0] is sx, s[1] is sy (each contiguous:
    # NumPy's loops over a strided view run several times slower)
    rows_first = coef.transpose(1, 0, 2).reshape(2 * n, 3).astype(dtype)  # x rows of all images, then y rows
    s = xp.matmul(xp.asarray(rows_first), xp.asarray(_grid(h, w, dtype)),
                  out=scratch("s", (2 * n, h * w), dtype, x)).reshape(2, n, h, w)
    if x_clamp:  # far outside: the outer two columns (rows) of the padding read fill (edge) on both sides
        xp.clip(s[0], 0, wp - 2, out=s[0])
    if y_clamp:
        xp.clip(s[1], 0, hp - 2, out=s[1])
    s0 = xp.floor(s, out=scratch("s0", (2, n, h, w), dtype, x))  # (x0, y0)
    s -= s0  # (fx, fy): the weights
    fx, fy, x0, rows = s[0], s[1], s0[0], s0[1]

    # the flat index of v(y0, x0) of image i, channel 0: (y0 + i Hp) Wp + x0
    big = numpy.float64 if flat.size >= 2**24 else dtype  # float32 is exact for whole numbers below 2**24
    if big != dtype:
        rows = rows.astype(big)
    rows += xp.asarray((numpy.arange(n) * hp).astype(big).reshape(n, 1, 1))
    rows *= wp
    rows += x0
    index = scratch("index", (n, h, w), numpy.intp, x)
    index[...] = rows  # the one conversion to integers

    # NumPy: mode="wrap" never wraps here (every index is inside the padded chunk)
    # but skips the bounds check that mode="raise" buffers the output for: 2x faster.
    # CuPy's take has no mode (and checks nothing).
    take_mode = {"mode": "wrap"} if xp is numpy or xp is strict else {}
    plane = n * hp * wp  # channel k starts k planes on
    result = out.transpose(1, 0, 2, 3)  # (C, n, H, W) view of the output

    def take(offset: int, into: str) -> Any:  # v at (y0, x0) + offset, every channel: (C, n, H, W)
        buffer = scratch(into, (c, n, h, w), dtype, x)
        for k in range(c):
            xp.take(flat[k * plane + offset:], index, out=buffer[k], **take_mode)
        return buffer

    if interpolation == "nearest":
        result[...] = take(0, "top")
        return
    top, v = take(0, "top"), take(1, "v")
    v -= top
    v *= fx
    top += v  # v00 + fx (v01 - v00)
    bottom, v = take(wp, "bottom"), take(wp + 1, "v")
    v -= bottom
    v *= fx
    bottom += v  # v10 + fx (v11 - v10)
    bottom -= top
    bottom *= fy
    xp.add(top, bottom, out=result)  # top + fy (bottom - top)
