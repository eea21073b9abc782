"""Losses: cross-entropy (class labels or soft targets), mean squared error,
binary cross-entropy on logits.

Each is one Function with a closed-form backward, computed stably: the
cross-entropy never forms softmax(x) and then its log (log of an underflowed 0
is -inf); it uses log_softmax directly.
"""
from __future__ import annotations

from typing import Any

import numpy

from .. import backend
from ..autograd import Function, Tensor
from ..backend import get_array_module

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _reduce(loss, reduction: str, divisor=None):
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    return total / (loss.size if divisor is None else divisor)


def _log_softmax(x):
    """Rows of log-probabilities: x - logsumexp(x), shifted by the max for stability."""
    xp = get_array_module(x)
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))


class CrossEntropy(Function):
    """Softmax cross-entropy of logits x (M, C) against a target distribution T (M, C).

        log p = log_softmax(x)                          (M, C)
        loss_m = -sum_c w_c T_mc log p_mc               (M,)   w: class weights (1 if none)

    Integer labels y become T = (1 - eps) onehot(y) + eps / C (label smoothing
    eps); soft targets get the same smoothing. The mean divides by ``divisor``
    (M, or the summed weights of the labels, as PyTorch does).

    Backward, with s_m = sum_c w_c T_mc (1 without weights):
        d loss_m / d x_mj = p_mj s_m - w_j T_mj         (= p - T without weights)
    """

    def __init__(self, target, weight, reduction: str, divisor):
        self.target, self.weight = target, weight  # (M, C), (C,) or None
        self.reduction, self.divisor = reduction, divisor

    def forward(self, x):
        self.logp = _log_softmax(x)  # (M, C)
        wt = self.target if self.weight is None else self.target * self.weight
        self.wt = wt  # (M, C) the weighted target
        loss = -(wt * self.logp).sum(axis=1)  # (M,)
        self.m = loss.shape[0]
        return _reduce(loss, self.reduction, self.divisor)

    def backward(self, gy):
        xp = get_array_module(gy)
        if self.reduction == "none":
            g = gy[:, None]  # (M, 1)
        elif self.reduction == "sum":
            g = gy
        else:
            g = gy / self.divisor
        p = xp.exp(self.logp)
        return g * (p * self.wt.sum(axis=1, keepdims=True) - self.wt)


def cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy between logits and class labels or soft targets (PyTorch's rules).

    Args:
        input: logits (N, C), or (N, C, d1, ...) for one class axis per position.
        target: integer labels (N,) / (N, d1, ...) in [0, C), or probabilities of
            the input's shape (rows summing to 1, e.g. from MixUp or CutMix).
            Targets get no gradient.
        weight: optional class weights (C,).
        reduction: "mean", "sum" or "none" (one loss per sample, shape (N, d1, ...)).
        label_smoothing: eps in [0, 1]: the target becomes (1 - eps) target + eps / C.
    """
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.ndim < 2:
        raise ValueError(f"cross_entropy input must be logits of shape (N, C), got shape {x.shape}")
    xp = get_array_module(x.data)
    device = backend.device_of(x.data)
    t = target.data if isinstance(target, Tensor) else target
    t = backend.to_device(t if backend.is_array(t) else numpy.asarray(t), device)
    n, classes = x.shape[0], x.shape[1]
    rest = x.shape[2:]
    if x.ndim > 2:  # (N, C, d...) -> (N*d..., C): each position is a sample
        x = x.transpose(0, *range(2, x.ndim), 1).reshape(-1, classes)
    w = None
    if weight is not None:
        w = backend.to_device(weight.data if isinstance(weight, Tensor) else weight, device).astype(x.dtype)
        if w.shape != (classes,):
            raise ValueError(f"weight must have shape ({classes},) (one per class), got {tuple(w.shape)}")

    if t.dtype.kind in "iub":  # class labels
        if tuple(t.shape) != (n,) + tuple(rest):
            raise ValueError(
                f"target labels must have shape {(n,) + tuple(rest)} for input {tuple(input.shape)}, "
                f"got {tuple(t.shape)}"
            )
        labels = t.reshape(-1).astype("int64")
        if labels.size and (int(labels.min()) < 0 or int(labels.max()) >= classes):
            bad = int(labels.max()) if int(labels.max()) >= classes else int(labels.min())
            raise ValueError(f"target label {bad} is out of range for {classes} classes (0..{classes - 1})")
        dense = xp.zeros((labels.shape[0], classes), dtype=x.dtype)
        dense[xp.arange(labels.shape[0]), labels] = 1
        divisor = labels.shape[0] if w is None else float(w[labels].sum())
    else:  # probabilities
        if tuple(t.shape) != tuple(input.shape):
            raise ValueError(
                f"soft targets must have the input's shape {tuple(input.shape)}, got {tuple(t.shape)}"
            )
        dense = t.astype(x.dtype)
        if x.ndim != t.ndim:
            dense = dense.transpose(0, *range(2, t.ndim), 1).reshape(-1, classes)
        divisor = dense.shape[0]
    if label_smoothing:
        dense = dense * (1 - label_smoothing) + label_smoothing / classes
    loss = CrossEntropy(dense, w, reduction, divisor)(x)
    if reduction == "none" and rest:
        loss = loss.reshape(n, *rest)
    return loss


class MSE(Function):
    """loss = reduce((x - t)^2);  gx = 2 (x - t) * g,  gt = -gx  (g: gy spread by the reduction)."""

    def __init__(self, reduction: str):
        self.reduction = reduction

    def forward(self, x, t):
        self.diff = x - t
        return _reduce(self.diff * self.diff, self.reduction)

    def backward(self, gy):
        scale = 1.0 / self.diff.size if self.reduction == "mean" else 1.0
        gx = 2 * self.diff * (gy * scale)
        return gx, -gx


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error. Inputs that broadcast get gradients of their own shapes."""
    _check_reduction(reduction)
    return MSE(reduction)(input, target)


def _softplus(z):
    """log(1 + exp(z)) without overflow: max(z, 0) + log1p(exp(-|z|))."""
    xp = get_array_module(z)
    return xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))


def _sigmoid(z):
    xp = get_array_module(z)
    return 0.5 * (1 + xp.tanh(0.5 * z))


class BCEWithLogits(Function):
    """Binary cross-entropy on logits x with targets t in [0, 1]:

        loss = w [ pw t softplus(-x) + (1 - t) softplus(x) ]
    since log sigmoid(x) = -softplus(-x) and log(1 - sigmoid(x)) = -softplus(x).
    softplus never overflows, so logits of +-1000 are fine.

        gx = w [ (1 - t) sigmoid(x) - pw t sigmoid(-x) ] * g      (= sigmoid(x) - t plainly)
        gt = w [ pw softplus(-x) - softplus(x) ] * g
    """

    def __init__(self, weight, pos_weight, reduction: str):
        self.w, self.pw, self.reduction = weight, pos_weight, reduction

    def forward(self, x, t):
        self.x, self.t = x, t
        pw = 1.0 if self.pw is None else self.pw
        loss = pw * t * _softplus(-x) + (1 - t) * _softplus(x)
        if self.w is not None:
            loss = loss * self.w
        self.size = loss.size
        return _reduce(loss, self.reduction)

    def backward(self, gy):
        x, t = self.x, self.t
        pw = 1.0 if self.pw is None else self.pw
        w = 1.0 if self.w is None else self.w
        g = gy / self.size if self.reduction == "mean" else gy
        gx = w * ((1 - t) * _sigmoid(x) - pw * t * _sigmoid(-x)) * g if self.needs_input_grad[0] else None
        gt = w * (pw * _softplus(-x) - _softplus(x)) * g if self.needs_input_grad[1] else None
        return gx, gt


def binary_cross_entropy_with_logits(
    input: Any, target: Any, weight: Any = None, reduction: str = "mean", pos_weight: Any = None
) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable step (PyTorch's ``pos_weight`` too)."""
    _check_reduction(reduction)
    x = input if isinstance(input, Tensor) else Tensor(input)
    shape_t = target.shape if hasattr(target, "shape") else ()
    if tuple(shape_t) != tuple(x.shape):
        raise ValueError(f"target shape {tuple(shape_t)} must equal input shape {tuple(x.shape)}")
    device = backend.device_of(x.data)

    def const(a):
        if a is None:
            return None
        a = a.data if isinstance(a, Tensor) else a
        return backend.to_device(a if backend.is_array(a) else numpy.asarray(a, dtype=x.dtype), device)

    return BCEWithLogits(const(weight), const(pos_weight), reduction)(x, target)
