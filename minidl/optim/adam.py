"""Adam and AdamW, as PyTorch defines them."""
from __future__ import annotations

import math
import numbers
from typing import Any, Iterable

from ..backend import get_array_module
from .optimizer import Optimizer


class Adam(Optimizer):
    """Adam: a per-parameter step size from running averages of g and g^2.

    For each parameter p with gradient g, at step t = 1, 2, ... (PyTorch's
    algorithm, ``torch.optim.Adam``; m, v and v_max start at 0)::

        g <- -g                                    (maximize only)
        g <- g + weight_decay * p                  (L2 into the gradient; AdamW decouples it)
        m <- beta1 * m + (1 - beta1) * g           first moment (mean of g)
        v <- beta2 * v + (1 - beta2) * g^2         second moment (mean of g^2)
        v_max <- max(v_max, v)                     (amsgrad only; v_max then replaces v below)
        p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    The last line is ``lr * m_hat / (sqrt(v_hat) + eps)`` with the bias
    corrections ``m_hat = m / (1 - beta1^t)``, ``v_hat = v / (1 - beta2^t)``
    (m and v start at 0, so early averages are too small; dividing by
    ``1 - beta^t`` undoes that). It is arranged as PyTorch computes it, eps
    added after the correction of sqrt(v), so trajectories match step for step.
    At t = 1 the step is ``lr * g / (|g| + eps)``: lr against the sign of g.

    Args:
        params: Tensors, or a list of param-group dicts (see :class:`Optimizer`).
        lr: the learning rate (>= 0).
        betas: (beta1, beta2), each in [0, 1): the averages' decay rates.
        eps: added to the denominator (>= 0), for stability.
        weight_decay: L2 penalty factor (>= 0), added to the gradient.
        amsgrad: use the largest v seen so far (AMSGrad).
        maximize: maximize the objective instead of minimizing it.

    State per parameter: ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v) and,
    with amsgrad, ``max_exp_avg_sq`` (v_max).
    """

    decoupled = False  # AdamW sets this: weight decay straight on p, not through g

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, dict(lr=lr, betas=_pair(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize))

    def _validate(self, group: dict, where: str) -> None:
        super()._validate(group, where)
        name = type(self).__name__
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{name}: betas{where} must be a pair (beta1, beta2), got {betas!r}")
        for i, b in enumerate(betas):
            if not isinstance(b, numbers.Real) or isinstance(b, bool):
                raise TypeError(f"{name}: betas[{i}]{where} must be a number, got {type(b).__name__} {b!r}")
            if not 0.0 <= b < 1.0:
                raise ValueError(f"{name}: invalid beta parameter at index {i}: {b!r}{where} "
                                 "(betas must be in [0, 1))")

    def _update(self, p, grad, state, group) -> None:
        # BEGIN SOLUTION adam
        xp = get_array_module(p.data)
        beta1, beta2 = group["betas"]
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        if "step" not in state:  # first step: the moments start at 0
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p.data)
            state["exp_avg_sq"] = xp.zeros_like(p.data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = xp.zeros_like(p.data)
        state["step"] += 1
        t = state["step"]
        if self.decoupled:
            p.data *= 1 - lr * weight_decay  # AdamW: decay the weights themselves
        elif weight_decay != 0:
            grad = grad + weight_decay * p.data  # Adam: L2 into the gradient (a new array)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * grad  # m = beta1 m + (1 - beta1) g
        v *= beta2
        v += (1 - beta2) * (grad * grad)  # v = beta2 v + (1 - beta2) g^2
        if group["amsgrad"]:
            xp.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        bias_correction1 = 1 - beta1**t
        bias_correction2 = 1 - beta2**t
        denom = xp.sqrt(v) / math.sqrt(bias_correction2) + eps  # sqrt(v_hat) + eps
        p.data -= (lr / bias_correction1) * (m / denom)  # lr * m_hat / (sqrt(v_hat) + eps)
        # END SOLUTION


class AdamW(Adam):
    """Adam with *decoupled* weight decay (Loshchilov & Hutter, PyTorch's ``AdamW``).

    At each step, before Adam's update (which then sees g unchanged)::

        p <- p - lr * weight_decay * p             straight on the weights
        m, v, v_max and p as in :class:`Adam`, with no L2 term in g

    Why: with L2 in the gradient (Adam's ``weight_decay``) the decay passes
    through Adam's per-parameter scaling, so weights with large gradients
    hardly decay; decoupled, every weight shrinks by the same factor
    ``1 - lr * weight_decay``. The default weight_decay is 1e-2 (Adam's is 0),
    as in PyTorch.
    """

    decoupled = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)


def _pair(betas: Any) -> Any:
    """betas as a tuple (lists, from a config file, too); anything else is left for _validate."""
    return tuple(betas) if isinstance(betas, list) else betas
