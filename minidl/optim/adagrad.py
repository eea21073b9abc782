"""Adagrad, as PyTorch defines it."""
from __future__ import annotations

from typing import Any, Iterable

from ..backend import get_array_module
from .optimizer import Optimizer


class Adagrad(Optimizer):
    """Divide each step by the root of the *sum* of all squared gradients so far.

    For each parameter p with gradient g, at step t = 1, 2, ... (PyTorch's
    algorithm, ``torch.optim.Adagrad``; the sum s starts at
    ``initial_accumulator_value``)::

        g  <- -g                                  (maximize only)
        lr_t = lr / (1 + (t - 1) * lr_decay)      (a decaying learning rate)
        g  <- g + weight_decay * p                (L2 into the gradient)
        s  <- s + g^2                             the sum of squares, never forgotten
        p  <- p - lr_t * g / (sqrt(s) + eps)

    A weight whose gradients have been large takes small steps, a rarely
    updated one (a rare word's embedding) keeps large ones. Since s only
    grows, every step size shrinks towards zero: RMSprop and Adam replace the
    sum by a running average to fix that. At t = 1 with s = 0 the step is
    ``lr * g / |g|``: lr against the sign of g.

    Args:
        params: Tensors, or a list of param-group dicts (see :class:`Optimizer`).
        lr: the learning rate (>= 0).
        lr_decay: the learning rate's decay (>= 0), as above.
        weight_decay: L2 penalty factor (>= 0), added to the gradient.
        initial_accumulator_value: the starting value of s (>= 0).
        eps: added to the denominator (>= 0), for stability.
        maximize: maximize the objective instead of minimizing it.

    State per parameter: ``step`` and ``sum`` (s).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, *, maximize: bool = False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps,
                                      maximize=maximize))

    def _validate(self, group: dict, where: str) -> None:
        super()._validate(group, where)
        for key in ("lr_decay", "initial_accumulator_value"):
            self._check(group, key, where, lambda v: v >= 0, "must be >= 0")

    def _update(self, p, grad, state, group) -> None:
        xp = get_array_module(p.data)
        if "step" not in state:  # first step: the sum starts at initial_accumulator_value
            state["step"] = 0
            state["sum"] = xp.full_like(p.data, group["initial_accumulator_value"])
        state["step"] += 1
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])  # lr_t
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * p.data  # a new array: p.grad stays as it was
        s = state["sum"]
        s += grad * grad  # s = s + g^2
        p.data -= clr * (grad / (xp.sqrt(s) + group["eps"]))
