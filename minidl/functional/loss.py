"""Losses: cross-entropy (class labels or soft targets), mean squared error,
binary cross-entropy on logits.

Each is one Function with a closed-form backward, computed stably: the
cross-entropy never forms softmax(x) and then its log (the log of a
probability that underflowed to 0 is -inf); it uses log-softmax directly, and
its gradient is simply softmax(x) - target.

Targets are constants: they get no gradient, except in ``mse_loss`` and
``binary_cross_entropy_with_logits``, where a target Tensor with
``requires_grad=True`` gets one. Inputs that broadcast against each other
(``mse_loss``) get gradients of their own shapes.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy

from .. import backend
from ..autograd import Function, Tensor
from ..backend import get_array_module
from .activation import log_softmax_array, sigmoid_array

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _reduce(loss, reduction: str, divisor=None):
    """Per-element losses -> their sum, mean (sum / divisor, default the count) or themselves."""
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    return total / (loss.size if divisor is None else divisor)


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _constant(a: Any, like: Tensor, dtype: Any = None) -> Any:
    """A target or weight as a raw array on ``like``'s device (Tensors give their array).

    Lists and NumPy arrays are moved there, so ``loss(gpu_logits, numpy_labels)`` works.
    """
    if a is None:
        return None
    a = a.data if isinstance(a, Tensor) else a
    if not backend.is_array(a):
        a = numpy.asarray(a)
    a = backend.to_device(a, backend.device_of(like.data))
    return a if dtype is None else a.astype(dtype, copy=False)


def _target_tensor(target: Any, like: Tensor) -> Tensor:
    """A Tensor target that wants a gradient stays itself; anything else (an array,
    a list, a constant Tensor such as ``nn.MSELoss`` makes of a NumPy array)
    becomes a constant on the input's device, with the input's dtype."""
    if isinstance(target, Tensor) and (target.requires_grad or target.device == like.device):
        return target
    return Tensor(_constant(target, like, like.dtype))


# ------------------------------------------------------------ cross-entropy
class CrossEntropy(Function):
    """Softmax cross-entropy of logits x (M, C) against a target distribution T (M, C).

        log p   = log_softmax(x)                         (M, C)   one row per sample
        loss_m  = -sum_c w_c T_mc log p_mc               (M,)     w: class weights (1 if none)

    then the reduction: the sum, the mean (sum / ``divisor``) or the M losses.

    Backward, with s_m = sum_c w_c T_mc (= 1 without weights, as T's rows sum to 1):

        d loss_m / d x_mj = p_mj s_m - w_j T_mj          (= softmax(x) - T without weights)

    so the mean of an unweighted batch has gradient (softmax(x) - T) / M.

    Masked classes. A logit of -inf (a class ruled out) has log p = -inf; where
    the target gives it no mass (w_c T_mc = 0) its term is 0 (0 log 0 = 0, the
    limit), never 0 * -inf = NaN, so the loss and the gradient stay finite.
    Where the target does give it mass the loss is +inf, which is true.
    """

    def __init__(self, target, weight, reduction: str, divisor):
        self.target, self.weight = target, weight  # (M, C), (C,) or None
        self.reduction, self.divisor = reduction, divisor

    def forward(self, x):
        self.logp = log_softmax_array(x, axis=1)  # (M, C)
        xp = get_array_module(x)
        self.wt = self.target if self.weight is None else self.target * self.weight  # (M, C)
        logp = xp.where(self.wt != 0, self.logp, 0)  # classes without target mass add 0, even at -inf
        loss = -(self.wt * logp).sum(axis=1)  # (M,)
        return _reduce(loss, self.reduction, self.divisor)

    def backward(self, gy):
        xp = get_array_module(gy)
        if self.reduction == "none":
            g = gy[:, None]  # (M, 1): one upstream gradient per row
        elif self.reduction == "sum":
            g = gy  # () every row counts once
        else:
            g = gy / self.divisor  # () the mean's 1 / divisor
        p = xp.exp(self.logp)  # (M, C) softmax(x)
        return g * (p * self.wt.sum(axis=1, keepdims=True) - self.wt)  # (M, C)


def _class_last(a, n_classes: int):
    """(N, C, d1, ...) -> (N*d1*..., C): every position becomes a row (a sample)."""
    if a.ndim == 2:
        return a
    axes = (0, *range(2, a.ndim), 1)
    return a.transpose(*axes).reshape(-1, n_classes)


def cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy between logits and class labels or soft targets (PyTorch's rules).

    Log-softmax and the negative log-likelihood are one fused, stable Function
    (:class:`CrossEntropy`) whose gradient is (softmax(x) - target) / N.

    Args:
        input: logits (N, C), or (N, C, d1, ...) with one class axis per position.
        target: integer labels (N,) / (N, d1, ...) in [0, C), or probabilities of
            the input's shape (rows summing to 1, e.g. from MixUp or CutMix).
            Targets get no gradient.
        weight: optional class weights (C,): the loss of a sample of class c is
            multiplied by w_c, and the mean over labels divides by the sum of
            the weights of the labels (as PyTorch does; over soft targets it
            divides by N).
        reduction: "mean", "sum" or "none" (one loss per sample, shape (N, d1, ...)).
        label_smoothing: eps in [0, 1]: the target becomes (1 - eps) target + eps / C,
            for labels (as one-hot rows) and soft targets alike.

    Masked classes (a logit of -inf on a class that is not the target): the
    loss and its gradient are finite, as PyTorch gives with labels. With
    ``label_smoothing > 0`` every class gets target mass eps / C, so such a
    loss is +inf (as in PyTorch; the gradient stays finite). With soft targets
    that give the masked class probability 0, minidl gives the finite loss
    (0 log 0 = 0) where PyTorch gives NaN (it multiplies 0 by -inf).

    Raises:
        ValueError: a label outside [0, C) (naming it and C), a target of the
            wrong shape (naming both shapes), an unknown reduction.
    """
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    x = _as_tensor(input)
    if x.ndim < 2:
        raise ValueError(
            f"cross_entropy: input must be logits of shape (N, C) or (N, C, d1, ...), got shape {x.shape}"
        )
    n, classes, rest = x.shape[0], x.shape[1], tuple(x.shape[2:])
    xp = get_array_module(x.data)
    t = _constant(target, x)
    w = _constant(weight, x, x.dtype)
    if w is not None and tuple(w.shape) != (classes,):
        raise ValueError(f"cross_entropy: weight must have shape ({classes},) (one per class), got {tuple(w.shape)}")
    label_shape = (n,) + rest

    if t.dtype.kind in "iu":  # class labels
        if tuple(t.shape) != label_shape:
            raise ValueError(
                f"cross_entropy: target labels must have shape {label_shape} for input of shape "
                f"{tuple(x.shape)}, got {tuple(t.shape)}"
            )
        labels = t.reshape(-1).astype("int64")  # (M,)
        if labels.size:
            lo, hi = int(labels.min()), int(labels.max())
            if lo < 0 or hi >= classes:
                bad = lo if lo < 0 else hi
                raise ValueError(
                    f"cross_entropy: target label {bad} is out of range for {classes} classes "
                    f"(labels must be in 0..{classes - 1})"
                )
        dense = xp.zeros((labels.shape[0], classes), dtype=x.dtype)  # (M, C) one-hot rows
        dense[xp.arange(labels.shape[0]), labels] = 1
        divisor = labels.shape[0] if w is None else float(w[labels].sum())
    elif t.dtype.kind == "f":  # probabilities
        if tuple(t.shape) != tuple(x.shape):
            hint = (
                "; class labels must have an integer dtype"
                if tuple(t.shape) == label_shape else ""
            )
            raise ValueError(
                f"cross_entropy: soft targets must have the input's shape {tuple(x.shape)}, "
                f"got {tuple(t.shape)}{hint}"
            )
        dense = _class_last(t.astype(x.dtype, copy=False), classes)  # (M, C)
        divisor = dense.shape[0]
    else:
        raise TypeError(
            f"cross_entropy: target must hold integer class labels or float probabilities, "
            f"got dtype {t.dtype}"
        )
    if label_smoothing:
        dense = dense * (1 - label_smoothing) + label_smoothing / classes
    rows = _class_last(x, classes)  # (M, C), differentiable (transpose + reshape)
    loss = CrossEntropy(dense, w, reduction, divisor)(rows)
    if reduction == "none" and rest:
        loss = loss.reshape(label_shape)
    return loss


# --------------------------------------------------------- mean squared error
class MSE(Function):
    """loss = reduce((x - t)^2).

    With g the upstream gradient spread by the reduction (gy, or gy / size for
    the mean):  gx = 2 (x - t) g,  gt = -gx, of the broadcast shape; the engine
    sums each back to its input's own shape.
    """

    def __init__(self, reduction: str):
        self.reduction = reduction

    def forward(self, x, t):
        self.diff = x - t  # broadcast shape
        return _reduce(self.diff * self.diff, self.reduction)

    def backward(self, gy):
        scale = 1.0 / self.diff.size if self.reduction == "mean" else 1.0
        gx = 2 * self.diff * (gy * scale)
        return (gx if self.needs_input_grad[0] else None), (-gx if self.needs_input_grad[1] else None)


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error, reduce((input - target)^2).

    Input and target should have one shape. Shapes that differ but broadcast
    are computed over the broadcast shape (each input still gets a gradient
    of its own shape) with a ``UserWarning``, as PyTorch warns: predictions
    (N, 1) against targets (N,) broadcast to (N, N), a classic silent bug.
    Shapes that do not broadcast raise ``ValueError``.
    """
    _check_reduction(reduction)
    x = _as_tensor(input)
    t = _target_tensor(target, x)
    try:
        both = numpy.broadcast_shapes(x.shape, t.shape)
    except ValueError:
        raise ValueError(
            f"mse_loss: input shape {tuple(x.shape)} and target shape {tuple(t.shape)} do not broadcast"
        ) from None
    if tuple(x.shape) != tuple(t.shape):
        warnings.warn(
            f"mse_loss: target shape {tuple(t.shape)} differs from input shape {tuple(x.shape)}; they "
            f"broadcast to {both}, which is likely not what you want: give them one shape "
            f"(e.g. target.reshape{tuple(x.shape)})",
            UserWarning,
            stacklevel=2,
        )
    return MSE(reduction)(x, t)


# ------------------------------------------------------ binary cross-entropy
def _softplus(z):
    """log(1 + exp(z)) without overflow: max(z, 0) + log1p(exp(-|z|))."""
    xp = get_array_module(z)
    return xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))


class BCEWithLogits(Function):
    """Binary cross-entropy on logits x with targets t in [0, 1]:

        loss = -w [ pw t log sigmoid(x) + (1 - t) log(1 - sigmoid(x)) ]
             =  w [ pw t softplus(-x) + (1 - t) softplus(x) ]

    since log sigmoid(x) = -softplus(-x) and log(1 - sigmoid(x)) = -softplus(x).
    softplus never overflows, so logits of +-1000 are fine. w (``weight``) and
    pw (``pos_weight``) are 1 when not given. With g the upstream gradient
    spread by the reduction:

        gx = w [ (1 - t) sigmoid(x) - pw t sigmoid(-x) ] g     (= sigmoid(x) - t plainly)
        gt = w [ pw softplus(-x) - softplus(x) ] g             (= -x plainly)
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
        gx = gt = None
        if self.needs_input_grad[0]:
            gx = w * ((1 - t) * sigmoid_array(x) - pw * t * sigmoid_array(-x)) * g
        if self.needs_input_grad[1]:
            gt = w * (pw * _softplus(-x) - _softplus(x)) * g
        return gx, gt


def binary_cross_entropy_with_logits(
    input: Any, target: Any, weight: Any = None, reduction: str = "mean", pos_weight: Any = None
) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable step (PyTorch's arguments).

    Args:
        input: logits, any shape.
        target: probabilities in [0, 1], the input's shape.
        weight: a rescaling weight that broadcasts to the input's shape, or None.
        reduction: "mean", "sum" or "none".
        pos_weight: weight of the positive term, e.g. one per class (C,), or None.
    """
    _check_reduction(reduction)
    x = _as_tensor(input)
    t = _target_tensor(target, x)
    if tuple(t.shape) != tuple(x.shape):
        raise ValueError(
            f"binary_cross_entropy_with_logits: target shape {tuple(t.shape)} must equal "
            f"input shape {tuple(x.shape)}"
        )
    w = _constant(weight, x, x.dtype)
    pw = _constant(pos_weight, x, x.dtype)
    for name, a in (("weight", w), ("pos_weight", pw)):
        if a is not None:
            try:
                fits = numpy.broadcast_shapes(a.shape, x.shape) == tuple(x.shape)
            except ValueError:
                fits = False
            if not fits:
                raise ValueError(
                    f"binary_cross_entropy_with_logits: {name} of shape {tuple(a.shape)} does not "
                    f"broadcast to the input's shape {tuple(x.shape)}"
                )
    return BCEWithLogits(w, pw, reduction)(x, t)
