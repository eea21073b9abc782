"""Loss layers: Modules around :mod:`minidl.functional.loss`, with PyTorch's arguments.

``loss_fn = nn.CrossEntropyLoss(); loss = loss_fn(logits, labels)``. Class
weights are buffers, as in PyTorch: they move with ``loss_fn.to(device)``.
"""
from __future__ import annotations

from typing import Any

import numpy

from .. import backend
from ..autograd import Tensor
from ..functional import loss as L
from .module import Module


def _as_buffer(value: Any) -> Any:
    """None, or an array (Tensors give their array; lists become NumPy arrays)."""
    if value is None or backend.is_array(value):
        return value
    if isinstance(value, Tensor):
        return value.data
    return numpy.asarray(value, dtype=backend.get_default_dtype())


class CrossEntropyLoss(Module):
    """Softmax cross-entropy of logits (N, C) against labels (N,) or soft targets (N, C).

    loss_n = -sum_c w_c t_nc log softmax(x_n)_c; see :func:`minidl.functional.cross_entropy`.

    Args:
        weight: class weights (C,), or None.
        reduction: "mean" (weighted mean over samples), "sum" or "none".
        label_smoothing: eps in [0, 1]; targets become (1 - eps) t + eps / C.
    """

    def __init__(self, weight: Any = None, reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__()
        L._check_reduction(reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
        self.register_buffer("weight", _as_buffer(weight))
        self.reduction, self.label_smoothing = reduction, label_smoothing

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.cross_entropy(input, target, self.weight, self.reduction, self.label_smoothing)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, label_smoothing={self.label_smoothing}"


class MSELoss(Module):
    """Mean squared error: mean((x - t)^2) (or its sum, or each term with reduction="none").

    Input and target of different shapes warn (``UserWarning``, as PyTorch):
    see :func:`minidl.functional.mse_loss`.
    """

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        L._check_reduction(reduction)
        self.reduction = reduction

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.mse_loss(input, target, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class BCEWithLogitsLoss(Module):
    """Sigmoid + binary cross-entropy in one stable step, for logits x and targets t in [0, 1]:

        loss = -w [ pos_weight t log sigmoid(x) + (1 - t) log(1 - sigmoid(x)) ]

    Args:
        weight: a rescaling weight broadcast against the loss, or None.
        reduction: "mean", "sum" or "none".
        pos_weight: weight of the positive examples, per class, or None.
    """

    def __init__(self, weight: Any = None, reduction: str = "mean", pos_weight: Any = None):
        super().__init__()
        L._check_reduction(reduction)
        self.register_buffer("weight", _as_buffer(weight))
        self.register_buffer("pos_weight", _as_buffer(pos_weight))
        self.reduction = reduction

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction, self.pos_weight)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"
