"""The engine room: fast paths of ops whose readable reference is too slow for training.

Each op in ``minidl/functional/`` is first written as its *reference*: the
formula, the shapes, the simplest correct array code. That is what a student
reads and what the assignments cut out. Where a real training run needs
more speed, a fast path here computes exactly the same thing another way
(other memory layouts, chunks, in-place updates), and the op's public
function chooses it by a rule that is written in that function:

==============  ==============================  ==========================================
op              fast path                       taken when
==============  ==============================  ==========================================
conv2d          :mod:`.conv` (batch side by     fast paths are on (every input the other
                side, chunked by memory; by     conv2d rows below do not take);
                cache when not kept; the        cache-sized chunks when the weights want no
                batch innermost for small       gradient (inference); the batch innermost
                images)                         when it goes whole and is longer than an
                                                output row
conv2d          :func:`.conv.live_taps` (the    fast paths are on and some taps of the kernel
                kernel cut to the taps that     only ever read padding (small images: ResNet's
                read real pixels; then one of   last stage at CIFAR size), before the other
                the conv2d paths)               conv2d rules
conv2d          :mod:`.conv_blocks` (the        fast paths are on, training (the weights want
                columns a block of output       a gradient), a NumPy batch longer than an
                rows at a time, in cache; not   output row, one group, at least 8 input
                kept for backward)              channels, columns of more than two blocks
conv2d          :mod:`.depthwise` (kh*kw        fast paths are on and groups = in_channels
                shifted multiply-adds)          = out_channels (one filter per channel)
conv2d          :mod:`.pointwise` (one matrix   fast paths are on, the kernel is 1x1, no
                product over the channels, no   padding, not depthwise (any stride, groups)
                im2col)
batch_norm      :mod:`.norm` (eval: one         fast paths are on, the running statistics are
                multiply-add per value)         used (eval), the input is a NumPy batch
batch_norm      :mod:`.norm` ``BatchNormTrain`` fast paths are on, the batch's statistics, a
                (each channel one row: fewer    NumPy conv output (channels outermost in
                passes)                         memory)
relu            :mod:`.relu` (the gradient's    fast paths are on and the input is a NumPy
                bits times the mask)            batch
max_pool2d      :mod:`.pool` (windows as long   fast paths are on, the windows tile the input
                rows of memory)                 (stride = kernel, no padding, no dilation,
                                                no ceil_mode overhang), the input does not lie
                                                batch-innermost, no return_indices
max_pool2d      :mod:`.pool` ``Windowed...``    fast paths are on, any other windows (at most
                (the reference's slices, in     255 offsets) or a batch-innermost input, no
                place, in the input's memory    return_indices
                order)
==============  ==============================  ==========================================

Memory layouts (:mod:`.layout`): the convolution returns its output in the
memory order its next ops run fastest on, and the ops after it allocate in
that order too.

Every large pass runs on all cores, over one pool of threads (:mod:`.threads`):
the matrix products, im2col and col2im, the depthwise multiply-adds, ReLU,
max pooling and batch norm, each thread a block of memory (the channels of a
conv output), the BLAS kept to one thread meanwhile. ``MINIDL_NUM_THREADS``
(or ``threads.set_num_threads``) sets how many; by default, the cores.

``tests/functional/test_fast_paths.py`` checks every fast path against its
reference on every option, on every backend. Turning fast paths off runs the
references alone (the whole test suite passes that way too)::

    MINIDL_REFERENCE=1 python -m pytest          # at start-up, from the environment
    with minidl.functional.fast.disabled(): ...   # for a block
"""
from __future__ import annotations

import contextlib
import os
from typing import Iterator

_enabled = os.environ.get("MINIDL_REFERENCE", "") in ("", "0")


def enabled() -> bool:
    """Whether ops may take their fast paths (True unless MINIDL_REFERENCE=1 or inside :func:`disabled`)."""
    return _enabled


def set_enabled(flag: bool) -> None:
    """Turn the fast paths on or off for the whole program."""
    global _enabled
    _enabled = bool(flag)


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """``with disabled():`` every op runs its readable reference."""
    previous = _enabled
    set_enabled(False)
    try:
        yield
    finally:
        set_enabled(previous)
