"""Adam and AdamW, as PyTorch defines them."""
from __future__ import annotations

import math
from typing import Any, Iterable

from ..backend import get_array_module
from .optimizer import Optimizer


class Adam(Optimizer):
    """Adam: a per-parameter step size from running averages of g and g^2.

    For each parameter p with gradient g, at step t:

        g <- g + weight_decay * p                  (L2 into the gradient; see AdamW)
        m <- beta1 * m + (1 - beta1) * g           first moment
        v <- beta2 * v + (1 - beta2) * g^2         second moment
        v_max <- max(v_max, v)                     (amsgrad only; then v_max replaces v below)
        p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    The last line is m_hat / (sqrt(v_hat) + eps) with the bias corrections
    m_hat = m / (1 - beta1^t), v_hat = v / (1 - beta2^t), arranged as
    PyTorch computes it, so trajectories match step for step.
    """

    decoupled = False

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, maximize: bool = False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize))

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        betas = group.get("betas", (0.9, 0.999))
        for i, b in enumerate(betas):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"invalid beta parameter at index {i}: {b} (betas must be in [0, 1))")
        if group.get("eps", 0) < 0:
            raise ValueError(f"invalid eps={group['eps']}: must be >= 0")

    def _update(self, p, grad, state, group) -> None:
        # BEGIN SOLUTION adam
        # TODO: weight decay (decoupled for AdamW), moments m and v in state, bias correction, update p.data in place
        xp = get_array_module(p.data)
        beta1, beta2 = group["betas"]
        if self.decoupled:
            p.data *= 1 - group["lr"] * group["weight_decay"]
        elif group["weight_decay"]:
            grad = grad + group["weight_decay"] * p.data
        if "step" not in state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p.data)
            state["exp_avg_sq"] = xp.zeros_like(p.data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = xp.zeros_like(p.data)
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad * grad
        if group["amsgrad"]:
            xp.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        bias1 = 1 - beta1**t
        bias2 = 1 - beta2**t
        denom = xp.sqrt(v) / math.sqrt(bias2) + group["eps"]
        p.data -= (group["lr"] / bias1) * (m / denom)
        # END SOLUTION


class AdamW(Adam):
    """Adam with *decoupled* weight decay (Loshchilov & Hutter):

        p <- p - lr * weight_decay * p      first, straight on the weights
        then Adam's update with g unchanged (no L2 term in the moments)

    With L2 in the gradient (Adam's weight_decay) the decay is rescaled by
    Adam's per-parameter step size; decoupled, every weight decays alike.
    """

    decoupled = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)
