"""Stochastic gradient descent with momentum, as PyTorch defines it."""
from __future__ import annotations

from typing import Any, Iterable

from .optimizer import Optimizer


class SGD(Optimizer):
    """SGD with optional momentum, dampening, Nesterov and L2 weight decay.

    For each parameter p with gradient g, at step t (PyTorch's algorithm):

        g <- g + weight_decay * p                      (L2 penalty, added to the gradient)
        if momentum:
            b <- g                          at t = 1
            b <- momentum * b + (1 - dampening) * g     after
            g <- g + momentum * b   (nesterov)   or   g <- b
        p <- p - lr * g
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, maximize: bool = False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize))

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        if group.get("momentum", 0) < 0:
            raise ValueError(f"invalid momentum={group['momentum']}: must be >= 0")
        if group.get("nesterov") and (group.get("momentum", 0) <= 0 or group.get("dampening", 0) != 0):
            raise ValueError("nesterov=True needs momentum > 0 and dampening = 0")

    def _update(self, p, grad, state, group) -> None:
        # BEGIN SOLUTION sgd_momentum
        # TODO: add weight decay to grad, keep state["momentum_buffer"] (b = g at the first step), update p.data in place
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * p.data
        momentum = group["momentum"]
        if momentum:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = grad.copy()
            else:
                buf = state["momentum_buffer"]
                buf *= momentum
                buf += (1 - group["dampening"]) * grad
            buf = state["momentum_buffer"]
            grad = grad + momentum * buf if group["nesterov"] else buf
        p.data -= group["lr"] * grad
        # END SOLUTION
