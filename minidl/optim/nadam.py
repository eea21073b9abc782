"""NAdam (Adam with Nesterov momentum), as PyTorch defines it."""
from __future__ import annotations

import numbers
from typing import Any, Iterable

from ..backend import get_array_module
from .optimizer import Optimizer


class NAdam(Optimizer):
    """Adam whose step looks ahead, as Nesterov momentum does (Dozat, 2016).

    For each parameter p with gradient g, at step t = 1, 2, ... (PyTorch's
    algorithm, ``torch.optim.NAdam``; m and v start at 0, the product P at 1)::

        g  <- -g                                              (maximize only)
        g  <- g + weight_decay * p                            (L2; or, decoupled, p <- p (1 - lr weight_decay))
        mu_t     = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))     the momentum of step t
        mu_next  = beta1 * (1 - 0.5 * 0.96^((t + 1) * momentum_decay))
        P  <- P * mu_t                                        (the product mu_1 ... mu_t)
        m  <- beta1 * m + (1 - beta1) * g                     first moment, as Adam
        v  <- beta2 * v + (1 - beta2) * g^2                   second moment, as Adam
        d  = sqrt(v / (1 - beta2^t)) + eps
        p  <- p - lr (1 - mu_t) / (1 - P) * g / d             this step's gradient ...
                - lr mu_next / (1 - P mu_next) * m / d        ... plus the *next* step's momentum

    Adam moves by its bias-corrected m; NAdam splits that into the fresh
    gradient and the momentum it will have at the next step, so it applies the
    momentum one step early (Nesterov's look-ahead). The momentum itself warms
    up: mu_t grows from about beta1 / 2 towards beta1 as t grows (the schedule
    with ``momentum_decay``); P replaces Adam's ``1 - beta1^t`` correction.

    Args:
        params: Tensors, or a list of param-group dicts (see :class:`Optimizer`).
        lr: the learning rate (>= 0).
        betas: (beta1, beta2), each in [0, 1).
        eps: added to the denominator (>= 0), for stability.
        weight_decay: L2 penalty factor (>= 0).
        momentum_decay: the momentum schedule's rate (>= 0), as above.
        decoupled_weight_decay: decay the weights directly (as AdamW) instead of through g.
        maximize: maximize the objective instead of minimizing it.

    State per parameter: ``step``, ``mu_product`` (P), ``exp_avg`` (m), ``exp_avg_sq`` (v).
    """

    def __init__(self, params: Iterable[Any], lr: float = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *,
                 maximize: bool = False):
        betas = tuple(betas) if isinstance(betas, list) else betas
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))

    def _validate(self, group: dict, where: str) -> None:
        super()._validate(group, where)
        name = type(self).__name__
        self._check(group, "momentum_decay", where, lambda v: v >= 0, "must be >= 0")
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{name}: betas{where} must be a pair (beta1, beta2), got {betas!r}")
        for i, b in enumerate(betas):
            if not isinstance(b, numbers.Real) or isinstance(b, bool) or not 0.0 <= b < 1.0:
                raise ValueError(f"{name}: invalid beta parameter at index {i}: {b!r}{where} "
                                 "(betas must be numbers in [0, 1))")

    def _update(self, p, grad, state, group) -> None:
        xp = get_array_module(p.data)
        beta1, beta2 = group["betas"]
        lr, weight_decay, psi = group["lr"], group["weight_decay"], group["momentum_decay"]
        if "step" not in state:  # first step: m and v start at 0, the running product of the mu at 1
            state["step"] = 0
            state["mu_product"] = 1.0
            state["exp_avg"] = xp.zeros_like(p.data)
            state["exp_avg_sq"] = xp.zeros_like(p.data)
        state["step"] += 1
        t = state["step"]
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                p.data *= 1 - lr * weight_decay
            else:
                grad = grad + weight_decay * p.data  # a new array: p.grad stays as it was
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi))  # mu_t
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        state["mu_product"] *= mu  # P = mu_1 ... mu_t
        mu_product = state["mu_product"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * grad  # m = beta1 m + (1 - beta1) g
        v *= beta2
        v += (1 - beta2) * (grad * grad)  # v = beta2 v + (1 - beta2) g^2
        denom = xp.sqrt(v / (1 - beta2**t)) + group["eps"]  # d
        p.data -= (lr * (1 - mu) / (1 - mu_product)) * (grad / denom)
        p.data -= (lr * mu_next / (1 - mu_product * mu_next)) * (m / denom)
