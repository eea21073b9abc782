"""Differentiable operations, one ``Function`` per op, forward and backward side by side.

Files, in the order a course meets them:

* ``arith``      add, sub, mul, div, neg, pow, exp, log, sqrt, abs, clip, matmul
* ``reduce``     sum, mean, max, min
* ``shape``      reshape, transpose, indexing, concat, stack, moving devices
* ``activation`` relu, leaky_relu, sigmoid, tanh, softmax, log_softmax
* ``loss``       cross_entropy, mse_loss, binary_cross_entropy_with_logits
* ``linear``     linear (x @ W^T + b)
* ``conv``       im2col, col2im, conv2d (one matrix product)
* ``pool``       max_pool2d, avg_pool2d, adaptive_avg_pool2d
* ``norm``       batch_norm
* ``dropout``    dropout, dropout2d
* ``creation``   zeros, ones, full, empty, arange, linspace, eye, rand, randn, randint
                 and the ``*_like`` forms (leaf tensors, not ops: exported as ``mdl.zeros``...)

``methods`` is the table that binds the ops as Tensor's operators and methods
(``x + y``, ``x.sum()``). Two helpers hold rules every op shares: ``_axes`` (the one check of an ``axis``
argument) and ``_dtypes`` (integer promotion, and the dtype check of layers).

``minidl.nn.functional`` (imported as ``F``) gathers the public ones.
"""
from .activation import leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from .arith import abs, add, clip, div, exp, log, matmul, mul, neg, pow, sqrt, sub  # noqa: A004
from .conv import col2im, conv2d, im2col
from .dropout import dropout, dropout2d
from .norm import batch_norm
from .pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from .linear import linear
from .loss import binary_cross_entropy_with_logits, cross_entropy, mse_loss
from .reduce import max, mean, min, sum  # noqa: A004
from .shape import cat, concat, getitem, reshape, squeeze, stack, transpose, unsqueeze
from . import methods  # Tensor's operators and methods, bound by minidl/__init__.py

__all__ = [
    "abs", "add", "clip", "div", "exp", "log", "matmul", "mul", "neg", "pow", "sqrt", "sub",
    "max", "mean", "min", "sum",
    "cat", "concat", "getitem", "reshape", "squeeze", "stack", "transpose", "unsqueeze",
    "leaky_relu", "log_softmax", "relu", "sigmoid", "softmax", "tanh",
    "binary_cross_entropy_with_logits", "cross_entropy", "mse_loss",
    "linear",
    "col2im", "conv2d", "im2col", "dropout", "dropout2d", "batch_norm",
    "adaptive_avg_pool2d", "avg_pool2d", "max_pool2d",
]
