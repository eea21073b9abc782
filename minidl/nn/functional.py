"""``import minidl.nn.functional as F``: the differentiable ops by their PyTorch names.

The ops themselves live in :mod:`minidl.functional`, one file per family, each
a ``Function`` with its forward and backward side by side. This module only
gathers them under one name; each line says where to read an op.
"""
# Activations: minidl/functional/activation.py
from ..functional.activation import leaky_relu, log_softmax, relu, relu6, sigmoid, softmax, tanh  # noqa: F401

# Losses: minidl/functional/loss.py
from ..functional.loss import binary_cross_entropy_with_logits, cross_entropy, mse_loss  # noqa: F401

# The fully connected layer: minidl/functional/linear.py
from ..functional.linear import linear  # noqa: F401

# Arithmetic, reductions and shapes (also Tensor methods): arith.py, reduce.py, shape.py
from ..functional.arith import abs, add, clip, div, exp, log, matmul, mul, neg, pow, sqrt, sub  # noqa: F401,A004
from ..functional.reduce import max, mean, min, sum  # noqa: F401,A004
from ..functional.shape import cat, concat, getitem, reshape, squeeze, stack, transpose, unsqueeze  # noqa: F401

# Padding: pad.py
from ..functional.pad import pad  # noqa: F401

# Convolution, pooling, normalisation, dropout: conv.py, pool.py, norm.py, dropout.py
from ..functional.conv import col2im, conv2d, im2col  # noqa: F401
from ..functional.dropout import dropout, dropout2d  # noqa: F401
from ..functional.norm import batch_norm  # noqa: F401
from ..functional.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d  # noqa: F401
