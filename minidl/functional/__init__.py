"""Differentiable operations, one ``Function`` per op, forward and backward side by side.

Files, in the order a course meets them:

* ``arith``      add, sub, mul, div, neg, pow, exp, log, sqrt, abs, clip, matmul
* ``reduce``     sum, mean, max, min, prod, var, std, logsumexp, any, all, cumsum,
                 argmax, argmin, sort, argsort, topk
* ``elementwise`` maximum, minimum, where, masked_fill, sin, cos, tan, floor, ceil, round,
                 trunc, sign, log2, log10, exp2, rsqrt, erf, logaddexp, lerp, isnan, isinf,
                 isfinite, floor_divide (//), remainder (%)
* ``einsum``     einsum (its backward: one einsum per operand)
* ``shape``      reshape, transpose, indexing, concat, stack, moving devices; flip, roll, expand,
                 repeat, repeat_interleave, split, chunk, flatten, unflatten, permute, clone,
                 gather, scatter_add, tril, triu, diagonal, one_hot (no gradient)
* ``activation`` relu, relu6, leaky_relu, sigmoid, tanh, softmax, log_softmax; elu, selu, celu,
                 silu, gelu, mish, softplus, softsign, hardswish, hardsigmoid, hardtanh,
                 logsigmoid, prelu
* ``loss``       cross_entropy, mse_loss, binary_cross_entropy_with_logits; nll_loss,
                 binary_cross_entropy, smooth_l1_loss, huber_loss, kl_div
* ``linear``     linear (x @ W^T + b)
* ``conv``       im2col, col2im, conv2d (one matrix product)
* ``conv1d``     conv1d (a conv2d of height 1)
* ``conv_transpose`` conv_transpose2d (conv2d's adjoint: col2im of W^T @ x)
* ``pool``       max_pool2d, avg_pool2d, adaptive_avg_pool2d
* ``unpool``     max_unpool2d (max_pool2d's indices back to an image: a scatter; its gradient a gather)
* ``interpolate`` interpolate (resize: nearest, a gather; bilinear, two 1-D interpolation matrices)
* ``norm``       batch_norm
* ``layer_norm`` layer_norm, group_norm, instance_norm (batch norm's idea over other axes)
* ``embedding``  embedding (a gather; its gradient a scatter-add)
* ``dropout``    dropout, dropout2d
* ``pad``        pad (constant, reflect, replicate, circular)
* ``creation``   zeros, ones, full, empty, arange, linspace, eye, rand, randn, randint
                 and the ``*_like`` forms (leaf tensors, not ops: exported as ``mdl.zeros``...)

``methods`` is the table that binds the ops as Tensor's operators and methods
(``x + y``, ``x.sum()``). Two helpers hold rules every op shares: ``minidl/validate.py`` (the one check of an
``axis`` and of every other argument) and ``_dtypes`` (integer promotion, and the dtype check of layers).

``minidl.nn.functional`` (imported as ``F``, PyTorch's name) is this same list:
adding an op to ``__all__`` here adds it there.
"""
# Each line: the family's file, and its public ops. minidl.nn.functional (F) re-exports these.
from .activation import leaky_relu, log_softmax, relu, relu6, sigmoid, softmax, tanh
from .activation import (celu, elu, gelu, hardsigmoid, hardswish, hardtanh, logsigmoid, mish, prelu, selu,
                         silu, softplus, softsign)
from .arith import abs, add, clip, div, exp, log, matmul, mul, neg, pow, sqrt, sub  # noqa: A004
from .conv import col2im, conv2d, im2col
from .conv1d import conv1d
from .conv_transpose import conv_transpose2d
from .dropout import dropout, dropout2d
from .linear import linear
from .loss import binary_cross_entropy_with_logits, cross_entropy, mse_loss
from .loss import binary_cross_entropy, huber_loss, kl_div, nll_loss, smooth_l1_loss
from .norm import batch_norm
from .layer_norm import group_norm, instance_norm, layer_norm
from .embedding import embedding
from .pad import pad
from .pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from .unpool import max_unpool2d
from .interpolate import interpolate
from .reduce import max, mean, min, sum  # noqa: A004
from .reduce import all, any, argmax, argmin, argsort, cumsum, logsumexp, prod, sort, std, topk, var  # noqa: A004
from .elementwise import (ceil, cos, erf, exp2, floor, floor_divide, isfinite, isinf, isnan, lerp, log2, log10,
                          logaddexp, masked_fill, maximum, minimum, remainder, round, rsqrt, sign, sin, tan,
                          trunc, where)  # noqa: A004
from .einsum import einsum
from .shape import cat, concat, getitem, reshape, squeeze, stack, transpose, unsqueeze
from .shape import (chunk, clone, diagonal, expand, flatten, flip, gather, one_hot, permute, repeat,
                    repeat_interleave, roll, scatter_add, split, tril, triu, unflatten)
from . import methods  # Tensor's operators and methods, bound by minidl/__init__.py

__all__ = [
    "leaky_relu", "log_softmax", "relu", "relu6", "sigmoid", "softmax", "tanh",
    "celu", "elu", "gelu", "hardsigmoid", "hardswish", "hardtanh", "logsigmoid", "mish", "prelu", "selu",
    "silu", "softplus", "softsign",
    "abs", "add", "clip", "div", "exp", "log", "matmul", "mul", "neg", "pow", "sqrt", "sub",
    "col2im", "conv2d", "im2col",
    "conv1d",
    "conv_transpose2d",
    "dropout", "dropout2d",
    "linear",
    "binary_cross_entropy_with_logits", "cross_entropy", "mse_loss",
    "binary_cross_entropy", "huber_loss", "kl_div", "nll_loss", "smooth_l1_loss",
    "batch_norm",
    "group_norm", "instance_norm", "layer_norm",
    "embedding",
    "pad",
    "adaptive_avg_pool2d", "avg_pool2d", "max_pool2d",
    "max_unpool2d",
    "interpolate",
    "max", "mean", "min", "sum",
    "all", "any", "argmax", "argmin", "argsort", "cumsum", "logsumexp", "prod", "sort", "std", "topk", "var",
    "ceil", "cos", "erf", "exp2", "floor", "floor_divide", "isfinite", "isinf", "isnan", "lerp", "log2", "log10",
    "logaddexp", "masked_fill", "maximum", "minimum", "remainder", "round", "rsqrt", "sign", "sin", "tan",
    "trunc", "where",
    "einsum",
    "cat", "concat", "getitem", "reshape", "squeeze", "stack", "transpose", "unsqueeze",
    "chunk", "clone", "diagonal", "expand", "flatten", "flip", "gather", "one_hot", "permute", "repeat",
    "repeat_interleave", "roll", "scatter_add", "split", "tril", "triu", "unflatten",
]
