"""Stochastic gradient descent with momentum, as PyTorch defines it."""
from __future__ import annotations

from typing import Any, Iterable

from .optimizer import Optimizer


class SGD(Optimizer):
    """SGD with optional momentum, dampening, Nesterov momentum and L2 weight decay.

    For each parameter p with gradient g, at step t (PyTorch's algorithm,
    ``torch.optim.SGD``; mu = momentum, tau = dampening, lambda = weight_decay)::

        g <- -g                                    (maximize only: climb instead)
        g <- g + lambda * p                        (L2 penalty, added to the gradient)
        if mu != 0:
            b <- g                                 at t = 1 (the buffer starts as the gradient)
            b <- mu * b + (1 - tau) * g            at t > 1
            g <- g + mu * b     if nesterov        (look ahead along the new velocity)
            g <- b              otherwise
        p <- p - lr * g

    Args:
        params: Tensors, or a list of param-group dicts (see :class:`Optimizer`).
        lr: the learning rate (>= 0).
        momentum: mu (>= 0); 0 turns momentum off.
        dampening: tau, how much of each new gradient the buffer takes: (1 - tau).
        weight_decay: lambda (>= 0), the L2 penalty's factor.
        nesterov: Nesterov momentum; needs momentum > 0 and dampening 0.
        maximize: maximize the objective instead of minimizing it.

    State per parameter: ``momentum_buffer`` (only with momentum).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize))

    def _validate(self, group: dict, where: str) -> None:
        super()._validate(group, where)
        self._check(group, "dampening", where, lambda v: True, "")  # any real number, as in PyTorch
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: nesterov=True needs momentum > 0 and dampening = 0{where}, "
                             f"got momentum={group['momentum']!r}, dampening={group['dampening']!r}")

    def _update(self, p, grad, state, group) -> None:
        # BEGIN SOLUTION sgd_momentum
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * p.data  # a new array: p.grad stays as it was
        momentum = group["momentum"]
        if momentum != 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = grad.copy()  # b_1 = g_1 (no dampening at the first step)
            else:
                buf = state["momentum_buffer"]
                buf *= momentum
                buf += (1 - group["dampening"]) * grad
            buf = state["momentum_buffer"]
            grad = grad + momentum * buf if group["nesterov"] else buf
        p.data -= group["lr"] * grad
        # END SOLUTION
