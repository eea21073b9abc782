"""RMSprop, as PyTorch defines it."""
from __future__ import annotations

from typing import Any, Iterable

from ..backend import get_array_module
from .optimizer import Optimizer


class RMSprop(Optimizer):
    """Divide the step by a running root-mean-square of recent gradients.

        g <- g + weight_decay * p
        v <- alpha * v + (1 - alpha) * g^2
        centered:  g_avg <- alpha * g_avg + (1 - alpha) * g;  d = sqrt(v - g_avg^2) + eps
        else:      d = sqrt(v) + eps
        momentum:  b <- momentum * b + g / d;  p <- p - lr * b
        else:      p <- p - lr * g / d
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, maximize: bool = False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        if not 0.0 <= group.get("alpha", 0.99) <= 1.0:
            raise ValueError(f"invalid alpha={group['alpha']}: must be in [0, 1]")
        if group.get("momentum", 0) < 0:
            raise ValueError(f"invalid momentum={group['momentum']}: must be >= 0")
        if group.get("eps", 0) < 0:
            raise ValueError(f"invalid eps={group['eps']}: must be >= 0")

    def _update(self, p, grad, state, group) -> None:
        xp = get_array_module(p.data)
        alpha = group["alpha"]
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * p.data
        if "step" not in state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(p.data)
            if group["momentum"] > 0:
                state["momentum_buffer"] = xp.zeros_like(p.data)
            if group["centered"]:
                state["grad_avg"] = xp.zeros_like(p.data)
        state["step"] += 1
        v = state["square_avg"]
        v *= alpha
        v += (1 - alpha) * grad * grad
        if group["centered"]:
            g_avg = state["grad_avg"]
            g_avg *= alpha
            g_avg += (1 - alpha) * grad
            denom = xp.sqrt(v - g_avg * g_avg) + group["eps"]
        else:
            denom = xp.sqrt(v) + group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += grad / denom
            p.data -= group["lr"] * buf
        else:
            p.data -= group["lr"] * (grad / denom)
