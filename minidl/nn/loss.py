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
from ..validate import non_negative
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
        ignore_index: a label value that adds nothing and is not counted (default -100).
    """

    def __init__(self, weight: Any = None, reduction: str = "mean", label_smoothing: float = 0.0,
                 ignore_index: int = -100):
        super().__init__()
        L._check_reduction(reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
        self.register_buffer("weight", _as_buffer(weight))
        self.reduction, self.label_smoothing = reduction, label_smoothing
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.cross_entropy(input, target, self.weight, self.reduction, self.label_smoothing, self.ignore_index)

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


class BCELoss(Module):
    """Binary cross-entropy of probabilities x in [0, 1]: -w [t log(x) + (1 - t) log(1 - x)],
    logs clamped at -100 (see :func:`minidl.functional.binary_cross_entropy`).

    For logits, :class:`BCEWithLogitsLoss` is the stable form.

    Args:
        weight: a rescaling weight broadcast against the loss, or None.
        reduction: "mean", "sum" or "none".
    """

    def __init__(self, weight: Any = None, reduction: str = "mean"):
        super().__init__()
        L._check_reduction(reduction)
        self.register_buffer("weight", _as_buffer(weight))
        self.reduction = reduction

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.binary_cross_entropy(input, target, self.weight, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class NLLLoss(Module):
    """Negative log-likelihood of log-probabilities (N, C) at labels (N,): -w_y x[n, y_n]
    (see :func:`minidl.functional.nll_loss`). ``LogSoftmax`` then ``NLLLoss`` = ``CrossEntropyLoss``.

    Args:
        weight: class weights (C,), or None.
        ignore_index: a label value that adds nothing and is not counted (default -100).
        reduction: "mean" (weighted mean over samples), "sum" or "none".
    """

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__()
        L._check_reduction(reduction)
        self.register_buffer("weight", _as_buffer(weight))
        self.ignore_index, self.reduction = ignore_index, reduction

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)

    def extra_repr(self) -> str:
        return f"ignore_index={self.ignore_index}, reduction={self.reduction!r}"


class SmoothL1Loss(Module):
    """d^2 / (2 beta) for |d| < beta, |d| - beta / 2 beyond, d = input - target (beta = 0: L1)."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0):
        super().__init__()
        L._check_reduction(reduction)
        self.reduction, self.beta = reduction, non_negative(beta, "beta", "SmoothL1Loss")

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.smooth_l1_loss(input, target, self.reduction, self.beta)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, beta={self.beta}"


class HuberLoss(Module):
    """d^2 / 2 for |d| <= delta, delta (|d| - delta / 2) beyond, d = input - target (delta > 0)."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__()
        L._check_reduction(reduction)
        if non_negative(delta, "delta", "HuberLoss") == 0:
            raise ValueError("HuberLoss: delta must be > 0, got 0.0")
        self.reduction, self.delta = reduction, float(delta)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.huber_loss(input, target, self.reduction, self.delta)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, delta={self.delta}"


class KLDivLoss(Module):
    """KL divergence sum t (log t - x) of the target t from the input x (log-probabilities).

    Args:
        reduction: "batchmean" (the KL per sample: use this one), "sum", "none",
            or "mean" (PyTorch's default; divides by every element's count, and warns).
        log_target: the target is given as log-probabilities.
    """

    def __init__(self, reduction: str = "mean", log_target: bool = False):
        super().__init__()
        if reduction not in L._KL_REDUCTIONS:
            raise ValueError(f"KLDivLoss: reduction must be one of {L._KL_REDUCTIONS}, got {reduction!r}")
        self.reduction, self.log_target = reduction, log_target

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.kl_div(input, target, self.reduction, self.log_target)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, log_target={self.log_target}"
