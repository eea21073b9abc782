"""The engine room of augmentation: the geometric sampler's fast path.

:func:`minidl.augment.geometric.sample` is the readable reference: the
source coordinates of every output pixel, the fill mode as an index map,
four fancy-indexed reads and their bilinear weights. It makes a dozen
temporaries the size of the batch and runs on one core. This file computes
the same numbers faster, in three ways:

* the batch is padded by the fill mode once, as far as the samples reach,
  so that no index needs mapping, and the four neighbours are read with
  ``take`` from views of the flat padded batch shifted by 0, 1, Wp and Wp + 1;
* work arrays are reused between calls (:func:`scratch`): fresh memory the
  size of the batch costs more than the arithmetic on it;
* a large NumPy batch is cut in parts that run on parallel threads
  (:func:`set_num_threads`; NumPy's gathers release the GIL).

``warp`` takes it when fast paths are on (``MINIDL_REFERENCE=1`` turns them
off); ``tests/augment/test_sample_paths.py`` checks it against the reference.
"""
from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy

from .. import backend, strict


_PAD_MODE = {"constant": "constant", "nearest": "edge", "reflect": "symmetric", "wrap": "wrap"}


def _margins(s: Any, size: int, fill_mode: str) -> tuple:
    """How far to pad one axis, and where to clamp the left neighbour's index.

    With the image padded by the fill mode, the four neighbours of every
    sample lie inside the padded image, so no index ever needs mapping:
    "constant" pads two rings of the fill value and clamps indices into them
    (a sample far outside reads fill on both sides); "nearest" pads one ring
    of edge pixels and clamps likewise; "reflect" and "wrap" pad as far as the
    samples reach (numpy's "symmetric" and "wrap" pads are those extensions).
    Returns (pad_before, pad_after, lowest, highest) for floor(s).
    """
    if fill_mode == "constant":
        return 2, 2, -2, size
    if fill_mode == "nearest":
        return 1, 1, -1, size - 1
    lo, hi = math.floor(float(s.min())), math.floor(float(s.max()))
    before, after = max(0, -lo), max(0, hi + 2 - size)
    return before, after, -before, size - 2 + after


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
    out[:, :, yb:yb + h, xb:xb + w] = x
    if fill_mode == "constant":
        out[:, :, :yb] = fill_value
        out[:, :, yb + h:] = fill_value
        out[:, :, yb:yb + h, :xb] = fill_value
        out[:, :, yb:yb + h, xb + w:] = fill_value
        return out
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


_threads = {"count": min(2, os.cpu_count() or 1), "pool": None}


def set_num_threads(count: int) -> None:
    """How many CPU threads :func:`warp` splits a large NumPy batch over (default: up to 2).

    NumPy's gathers and arithmetic release the GIL, so parts of a batch run
    truly in parallel. Ignored for CuPy (the GPU is parallel already).
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be an int >= 1, got {count!r}")
    _threads["count"] = count


def _pool() -> ThreadPoolExecutor:
    """The worker threads, kept for the life of the process: each keeps its own scratch buffers."""
    pool = _threads["pool"]
    if pool is None or pool._max_workers < _threads["count"]:
        if pool is not None:
            pool.shutdown(wait=False)
        pool = _threads["pool"] = ThreadPoolExecutor(_threads["count"], thread_name_prefix="minidl-warp")
    return pool


def warp_fast(x: Any, inv: numpy.ndarray, fill_mode: str, fill_value: float, interpolation: str) -> Any:
    """:func:`minidl.augment.geometric.sample`'s numbers, faster (the module docstring); a large
    NumPy batch in parts on threads."""
    xp = backend.get_array_module(x)
    out = xp.empty(x.shape, dtype=x.dtype)
    n = x.shape[0]
    parts = min(_threads["count"], max(1, x.size // 50_000)) if xp is numpy else 1
    if parts == 1:
        _warp_part(x, inv, out, fill_mode, fill_value, interpolation)
        return out
    cuts = numpy.linspace(0, n, parts + 1).astype(int)
    jobs = [_pool().submit(_warp_part, x[a:b], inv[a:b], out[a:b], fill_mode, fill_value, interpolation)
            for a, b in zip(cuts[:-1], cuts[1:]) if b > a]
    for job in jobs:
        job.result()  # re-raises an error from the thread
    return out


def _warp_part(x: Any, inv: numpy.ndarray, out: Any, fill_mode: str, fill_value: float, interpolation: str) -> None:
    """Sample ``x`` at ``inv`` @ (every output pixel) into ``out``; all images at once.

    The steps: the source coordinates of every output pixel (N, H, W); the
    batch padded by the fill mode; one flat index per output pixel (its
    top-left neighbour in the flattened padded batch); then the four
    neighbours are gathered with ``xp.take``, from views of the flat batch
    shifted by 0, 1, Wp and Wp + 1 elements, and added up with their bilinear
    weights. Work arrays are reused between calls (see :func:`scratch`).
    """
    xp = backend.get_array_module(x)
    n, c, h, w = x.shape
    dtype = x.dtype

    # Source coordinates. The grid is separable (columns times rows), so
    # s[n, r, q] = a[n] q + (b[n] r + t[n]) costs one full-size add.
    def coord(row: int, name: str) -> Any:
        a, b, t = (xp.asarray(inv[:, row, k].astype(dtype).reshape(n, 1, 1)) for k in range(3))
        along_x = a * xp.arange(w, dtype=dtype).reshape(1, 1, w)  # (N, 1, W)
        along_y = b * xp.arange(h, dtype=dtype).reshape(1, h, 1) + t  # (N, H, 1)
        return xp.add(along_x, along_y, out=scratch(name, (n, h, w), dtype, x))  # (N, H, W)

    sx, sy = coord(0, "sx"), coord(1, "sy")
    if interpolation == "nearest":  # the nearest pixel is the left neighbour of s + 1/2
        sx += 0.5
        sy += 0.5
    x_before, x_after, x_lo, x_hi = _margins(sx, w, fill_mode)
    y_before, y_after, y_lo, y_hi = _margins(sy, h, fill_mode)
    hp, wp = h + y_before + y_after, w + x_before + x_after
    padded = pad_into(x, scratch("padded", (n, c, hp, wp), dtype, x), (y_before, x_before), fill_mode, fill_value)
    flat = padded.reshape(-1)

    # Left/top neighbour, clamped into the padded image; the weights are the fractional parts.
    x0 = xp.floor(sx, out=scratch("x0", (n, h, w), dtype, x))
    y0 = xp.floor(sy, out=scratch("y0", (n, h, w), dtype, x))
    fx, fy = xp.subtract(sx, x0, out=sx), xp.subtract(sy, y0, out=sy)  # sx, sy become the weights
    xp.clip(x0, x_lo, x_hi, out=x0)
    xp.clip(y0, y_lo, y_hi, out=y0)
    # flat index of (image i, channel 0, row y0, column x0) in the padded batch:
    # i C Hp Wp + (y0 + y_before) Wp + (x0 + x_before). Float32 holds whole
    # numbers exactly up to 2**24; beyond that the index is formed in float64.
    big = numpy.float64 if flat.size >= 2**24 else dtype
    image_start = (xp.arange(n, dtype=big) * (c * hp * wp) + (y_before * wp + x_before)).reshape(n, 1, 1)
    index_f = y0 if big == dtype else y0.astype(big)
    index_f *= wp
    index_f += x0
    index_f += image_start
    index = scratch("index", (n, h, w), numpy.intp, x)
    index[...] = index_f  # the one conversion to integers
    if c > 1:  # every channel: the same pixels, Hp Wp further on
        chan = xp.arange(0, c * hp * wp, hp * wp).reshape(1, c, 1, 1)
        index = xp.add(index.reshape(n, 1, h, w), chan, out=scratch("index_c", (n, c, h, w), numpy.intp, x))
    index = index.reshape(n, c, h, w)

    # NumPy: mode="wrap" never wraps here (every index is inside the padded batch)
    # but skips the bounds check that mode="raise" buffers the output for: 2x faster.
    # CuPy's take has no mode (and checks nothing).
    take_mode = {"mode": "wrap"} if xp is numpy or xp is strict else {}

    def take(view: Any, into: Any) -> Any:
        return xp.take(view, index, out=into, **take_mode)

    if interpolation == "nearest":
        take(flat, out)
        return
    # bilinear weights (N, 1, H, W), one per neighbour, computed once for all channels
    fx, fy = fx.reshape(n, 1, h, w), fy.reshape(n, 1, h, w)
    w11 = xp.multiply(fx, fy, out=scratch("w11", (n, 1, h, w), dtype, x))
    w01 = xp.subtract(fx, w11, out=x0.reshape(n, 1, h, w))  # fx (1 - fy)
    w10 = xp.subtract(fy, w11, out=y0.reshape(n, 1, h, w))  # (1 - fx) fy
    w00 = fx  # (1 - fx)(1 - fy) = 1 - fx - fy + fx fy, written over fx (used no more)
    w00 -= 1.0
    w00 += fy
    w00 -= w11
    w00 *= -1.0
    take(flat, out)
    out *= w00
    v = scratch("v", (n, c, h, w), dtype, x)  # one buffer for the other three neighbours
    for offset, weight in ((1, w01), (wp, w10), (wp + 1, w11)):
        take(flat[offset:], v)
        v *= weight
        out += v
