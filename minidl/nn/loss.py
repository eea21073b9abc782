"""Loss layers: Modules around minidl.functional.loss, with PyTorch's arguments."""
from __future__ import annotations

from typing import Any

from ..autograd import Tensor
from ..functional import loss as L
from .module import Module


class CrossEntropyLoss(Module):
    """Softmax cross-entropy of logits (N, C) against labels (N,) or soft targets (N, C)."""

    def __init__(self, weight: Any = None, reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__()
        L._check_reduction(reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
        self.weight, self.reduction, self.label_smoothing = weight, reduction, label_smoothing

    def forward(self, input: Any, target: Any) -> Tensor:
        return L.cross_entropy(input, target, self.weight, self.reduction, self.label_smoothing)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, label_smoothing={self.label_smoothing}"


class MSELoss(Module):
    """Mean squared error."""

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        L._check_reduction(reduction)
        self.reduction = reduction

    def forward(self, input: Any, target: Any) -> Tensor:
        return L.mse_loss(input, target, self.reduction)


class BCEWithLogitsLoss(Module):
    """Sigmoid + binary cross-entropy, stable for large logits."""

    def __init__(self, weight: Any = None, reduction: str = "mean", pos_weight: Any = None):
        super().__init__()
        L._check_reduction(reduction)
        self.weight, self.reduction, self.pos_weight = weight, reduction, pos_weight

    def forward(self, input: Any, target: Any) -> Tensor:
        return L.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction, self.pos_weight)
