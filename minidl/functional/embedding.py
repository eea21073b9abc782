"""Embedding: look up one row of a table per integer index.

A vocabulary of ``num_embeddings`` words, each a learned vector of
``embedding_dim`` numbers, is the table ``weight`` (num_embeddings, D). An
input of indices (any shape, integers) becomes those rows::

    y[..., :] = weight[input[...], :]            (input.shape + (D,))

It is a gather, the same as multiplying a one-hot row by the table, without
building the one-hot rows. So the gradient is the adjoint of the gather, a
*scatter-add*: each row of the table receives the sum of the gradients of
every position that looked it up::

    dL/dweight[k] = sum over positions i with input[i] = k of gy[i]

Rows nobody looked up get zero. A word repeated in the batch must add up
all its gradients, which plain ``gw[input] += gy`` does not do (it keeps one
of the repeated writes), hence ``backend.scatter_add``. The row
``padding_idx`` (the "no word here" marker of padded sentences) gets no
gradient at all, so it stays as it was initialised (zeros, in nn.Embedding).
"""
from __future__ import annotations

import numbers
from typing import Any, Optional

from .. import backend
from ..autograd import Function, Tensor
from ..backend import get_array_module


def check_padding_idx(padding_idx: Any, num_embeddings: int, who: str) -> int:
    """``padding_idx`` as a row in [0, num_embeddings) (negative counts from the end, as PyTorch)."""
    if (not isinstance(padding_idx, numbers.Integral) or isinstance(padding_idx, bool)
            or not -num_embeddings <= padding_idx < num_embeddings):
        raise ValueError(f"{who}: padding_idx must be an int in [{-num_embeddings}, {num_embeddings - 1}] "
                         f"(within num_embeddings={num_embeddings}), got {padding_idx!r}")
    return int(padding_idx) % num_embeddings


class Embedding(Function):
    """y = weight[indices] (indices.shape + (D,));  gweight = scatter-add of gy into the used rows.

    ``indices`` is a constant (integers, on weight's device), given to
    ``__init__``; the one input is ``weight`` (num_embeddings, D).
    """

    def __init__(self, indices: Any, padding_idx: Optional[int]):
        self.indices, self.padding_idx = indices, padding_idx

    def forward(self, weight):
        self.weight_shape = weight.shape  # (num_embeddings, D)
        return weight[self.indices]  # (*indices.shape, D)

    def backward(self, gy):
        xp = get_array_module(gy)
        d = self.weight_shape[1]
        gw = xp.zeros(self.weight_shape, dtype=gy.dtype)  # (num_embeddings, D)
        backend.scatter_add(gw, self.indices.reshape(-1), gy.reshape(-1, d))  # repeated rows add up
        if self.padding_idx is not None:
            gw[self.padding_idx] = 0  # the padding row is never trained
        return gw


def embedding(input: Any, weight: Any, padding_idx: Optional[int] = None) -> Tensor:  # noqa: A002
    """The rows of ``weight`` named by ``input``, PyTorch's ``F.embedding`` (its first three arguments).

    Shapes: input (*) integers in [0, num_embeddings); weight (num_embeddings, D);
    output (*, D). ``padding_idx`` (negative counts from the end) names a row
    that gets no gradient. Only weight is differentiable: indices have none.
    """
    op = "embedding"
    weight = weight if isinstance(weight, Tensor) else Tensor(weight)
    if len(weight.shape) != 2:
        raise ValueError(f"{op}: weight must be 2-D (num_embeddings, embedding_dim), got shape {tuple(weight.shape)}")
    if weight.dtype.kind != "f":
        raise TypeError(f"{op}: weight must be a floating-point table, got dtype {weight.dtype}")
    indices = input.data if isinstance(input, Tensor) else input
    if not backend.is_array(indices):
        raise TypeError(f"{op}: input must be a Tensor or array of integer indices, got {type(input).__name__}")
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{op}: input must hold integer indices, got dtype {indices.dtype}")
    num = weight.shape[0]
    indices = backend.to_device(indices, backend.device_of(weight.data))
    if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= num):
        bad = int(indices.min()) if int(indices.min()) < 0 else int(indices.max())
        raise IndexError(f"{op}: index {bad} is out of range for a table of {num} rows "
                         f"(num_embeddings); expected indices in [0, {num - 1}]")
    if padding_idx is not None:
        padding_idx = check_padding_idx(padding_idx, num, op)
    return Embedding(indices, padding_idx)(weight)
