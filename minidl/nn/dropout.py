"""Dropout layers: drop in ``train()`` mode, identity in ``eval()`` mode."""
from __future__ import annotations

from typing import Optional


from .. import backend
from ..autograd import Tensor
from ..functional.dropout import dropout, dropout2d
from ..validate import probability
from .module import Module


class Dropout(Module):
    """Zero each value with probability p, scale the rest by 1/(1-p) (training only).

    ``seed`` gives the layer its own generator (reproducible masks);
    otherwise masks come from the default generator (``mdl.manual_seed``).
    """

    def __init__(self, p: float = 0.5, seed: Optional[int] = None):
        super().__init__()
        self.p = probability(p, "p", type(self).__name__)
        self.generator = None if seed is None else backend.new_generator(seed)

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Dropout2d(Dropout):
    """Zero whole channels of (N, C, H, W) with probability p (training only)."""

    def forward(self, x: Tensor) -> Tensor:
        return dropout2d(x, self.p, self.training, self.generator)
