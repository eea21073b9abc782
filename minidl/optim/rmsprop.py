"""RMSprop, as PyTorch defines it."""
from __future__ import annotations

from typing import Any, Iterable

from ..backend import get_array_module
from .optimizer import Optimizer


class RMSprop(Optimizer):
    """Divide each step by a running root-mean-square of recent gradients.

    For each parameter p with gradient g (PyTorch's algorithm,
    ``torch.optim.RMSprop``; v, g_avg and b start at 0)::

        g <- -g                                           (maximize only)
        g <- g + weight_decay * p                         (L2 into the gradient)
        v <- alpha * v + (1 - alpha) * g^2                running mean of g^2
        if centered:
            g_avg <- alpha * g_avg + (1 - alpha) * g      running mean of g
            d = sqrt(v - g_avg^2) + eps                   (a running standard deviation)
        else:
            d = sqrt(v) + eps
        if momentum > 0:
            b <- momentum * b + g / d
            p <- p - lr * b
        else:
            p <- p - lr * g / d

    There is no bias correction (unlike Adam): the first steps are large,
    ``lr * g / (sqrt(1 - alpha) |g|)``, 10 lr at alpha = 0.99.

    Args:
        params: Tensors, or a list of param-group dicts (see :class:`Optimizer`).
        lr: the learning rate (>= 0).
        alpha: the smoothing constant, in [0, 1].
        eps: added to the denominator (>= 0), for stability.
        weight_decay: L2 penalty factor (>= 0), added to the gradient.
        momentum: momentum factor (>= 0).
        centered: divide by the gradient's estimated standard deviation
            instead of its root mean square.
        maximize: maximize the objective instead of minimizing it.

    State per parameter: ``step``, ``square_avg`` (v), ``momentum_buffer``
    (b, with momentum) and ``grad_avg`` (g_avg, when centered).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 maximize: bool = False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _validate(self, group: dict, where: str) -> None:
        super()._validate(group, where)
        self._check(group, "alpha", where, lambda a: 0.0 <= a <= 1.0, "must be in [0, 1]")

    def _update(self, p, grad, state, group) -> None:
        xp = get_array_module(p.data)
        alpha, eps, momentum = group["alpha"], group["eps"], group["momentum"]
        if "step" not in state:  # first step: the running mean of g^2 starts at 0
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(p.data)
        state["step"] += 1
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * p.data  # a new array: p.grad stays as it was
        v = state["square_avg"]
        v *= alpha
        v += (1 - alpha) * (grad * grad)  # v = alpha v + (1 - alpha) g^2
        if group["centered"]:
            if "grad_avg" not in state:
                state["grad_avg"] = xp.zeros_like(p.data)
            g_avg = state["grad_avg"]
            g_avg *= alpha
            g_avg += (1 - alpha) * grad  # g_avg = alpha g_avg + (1 - alpha) g
            denom = xp.sqrt(v - g_avg * g_avg) + eps
        else:
            denom = xp.sqrt(v) + eps
        if momentum > 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = xp.zeros_like(p.data)
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += grad / denom  # b = momentum b + g / d
            p.data -= group["lr"] * buf
        else:
            p.data -= group["lr"] * (grad / denom)
