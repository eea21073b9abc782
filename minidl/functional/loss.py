"""Losses: cross-entropy (class labels or soft targets), negative log-likelihood,
mean squared error, smooth L1 and Huber, binary cross-entropy (on logits and on
probabilities), Kullback-Leibler divergence.

Each is one Function with a closed-form backward, computed stably: the
cross-entropy never forms softmax(x) and then its log (the log of a
probability that underflowed to 0 is -inf); it uses log-softmax directly, and
its gradient is simply softmax(x) - target. (``huber_loss`` is the one
composition: delta times ``smooth_l1_loss``.)

Class labels are constants. A target of real numbers gets a gradient when it
is a Tensor with ``requires_grad=True`` (soft targets of ``cross_entropy``,
``mse_loss``, ``smooth_l1_loss``, ``huber_loss``, both binary cross-entropies,
``kl_div``); anything else is a constant. Inputs that broadcast against each
other (``mse_loss`` and friends, with a warning) get gradients of their own shapes.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy

from .. import backend
from ..autograd import Function, Tensor
from ..backend import get_array_module
from ..validate import non_negative
from .activation import LogSoftmax, Softmax, log_softmax_array, sigmoid_array, softplus_array

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
def _spread(gy, reduction: str, divisor):
    """The upstream gradient of a reduced loss, per row: (M, 1) for "none", a scalar otherwise."""
    if reduction == "none":
        return gy[:, None]  # (M, 1): one upstream gradient per row
    return gy if reduction == "sum" else gy / divisor  # the mean's 1 / divisor


class CrossEntropy(Function):
    """Softmax cross-entropy of logits x (M, C) against a target distribution T (M, C).

        log p   = log_softmax(x)                         (M, C)   one row per sample
        loss_m  = -sum_c w_c T_mc log p_mc               (M,)     w: class weights (1 if none)

    then the reduction: the sum, the mean (sum / ``divisor``) or the M losses.

    Backward, with s_m = sum_c w_c T_mc (= 1 without weights, as T's rows sum to 1):

        d loss_m / d x_mj = p_mj s_m - w_j T_mj          (= softmax(x) - T without weights)
        d loss_m / d T_mj = -w_j log p_mj                (soft targets that want a gradient)

    so the mean of an unweighted batch has gradient (softmax(x) - T) / M.

    Masked classes. A logit of -inf (a class ruled out) has log p = -inf; where
    the target gives it no mass (w_c T_mc = 0) its term is 0 (0 log 0 = 0, the
    limit), never 0 * -inf = NaN, so the loss and the gradient stay finite.
    Where the target does give it mass the loss is +inf, which is true.
    """

    def __init__(self, weight, reduction: str, divisor):
        self.weight = weight  # (C,) or None
        self.reduction, self.divisor = reduction, divisor

    def forward(self, x, target):
        self.logp = log_softmax_array(x, axis=1)  # (M, C)
        xp = get_array_module(x)
        self.wt = target if self.weight is None else target * self.weight  # (M, C)
        logp = xp.where(self.wt != 0, self.logp, 0)  # classes without target mass add 0, even at -inf
        loss = -(self.wt * logp).sum(axis=1)  # (M,)
        return _reduce(loss, self.reduction, self.divisor)

    def backward(self, gy):
        xp = get_array_module(gy)
        g = _spread(gy, self.reduction, self.divisor)
        gx = gt = None
        if self.needs_input_grad[0]:
            p = xp.exp(self.logp)  # (M, C) softmax(x)
            gx = g * (p * self.wt.sum(axis=1, keepdims=True) - self.wt)  # (M, C)
        if self.needs_input_grad[1]:
            w = 1 if self.weight is None else self.weight
            gt = -g * w * self.logp  # (M, C)
        return gx, gt

    def differentiable_backward(self, gy):  # the same formulas on the input Tensors
        x, target = self.inputs
        g = _spread(gy, self.reduction, self.divisor)
        wt = target if self.weight is None else target * self.weight  # (M, C)
        w = 1 if self.weight is None else self.weight
        gx = g * (Softmax(1)(x) * wt.sum(axis=1, keepdims=True) - wt) if self.needs_input_grad[0] else None
        gt = -g * w * LogSoftmax(1)(x) if self.needs_input_grad[1] else None
        return gx, gt


def _class_last(a, n_classes: int):
    """(N, C, d1, ...) -> (N*d1*..., C): every position becomes a row (a sample)."""
    if a.ndim == 2:
        return a
    axes = (0, *range(2, a.ndim), 1)
    return a.transpose(*axes).reshape(-1, n_classes)


def _one_hot_labels(who: str, t, x: Tensor, weight, ignore_index: int):
    """Integer labels (N, d1, ...) for input (N, C, d1, ...) -> (one-hot rows, kept rows, divisor).

    The rows are (M, C), M = N*d1*...; a label equal to ``ignore_index`` gets a
    row of zeros (it adds nothing to the loss or the gradient) and is False in
    the kept mask (M,). The divisor of the mean is the number of kept labels,
    or the sum of their class weights (PyTorch's rule).
    """
    n, classes, rest = x.shape[0], x.shape[1], tuple(x.shape[2:])
    label_shape = (n,) + rest
    if tuple(t.shape) != label_shape:
        raise ValueError(
            f"{who}: target labels must have shape {label_shape} for input of shape "
            f"{tuple(x.shape)}, got {tuple(t.shape)}"
        )
    xp = get_array_module(x.data)
    labels = t.reshape(-1).astype("int64")  # (M,)
    keep = labels != ignore_index  # (M,)
    kept = labels[keep]
    if kept.size:
        lo, hi = int(kept.min()), int(kept.max())
        if lo < 0 or hi >= classes:
            bad = lo if lo < 0 else hi
            raise ValueError(
                f"{who}: target label {bad} is out of range for {classes} classes "
                f"(labels must be in 0..{classes - 1}) or equal ignore_index={ignore_index}"
            )
    rows = xp.arange(labels.shape[0])[keep]
    dense = xp.zeros((labels.shape[0], classes), dtype=x.dtype)  # (M, C) one-hot rows
    dense[rows, kept] = 1
    divisor = int(keep.sum()) if weight is None else float(weight[kept].sum())
    return dense, keep, divisor


def _learned(target: Any) -> bool:
    """A soft target that gets a gradient: a float Tensor with ``requires_grad=True``."""
    return isinstance(target, Tensor) and target.requires_grad and target.dtype.kind == "f"


def _one_sample(who: str, x: Tensor, target: Any) -> tuple:
    """Logits (C,) and a 0-d label (or soft target (C,)) -> a batch of one: (1, C) and (1,) / (1, C)."""
    t = target if _learned(target) else Tensor(_constant(target, x))
    wanted = () if t.dtype.kind in "iu" else tuple(x.shape)
    if tuple(t.shape) != wanted:
        kind = "a 0-d class label" if t.dtype.kind in "iu" else f"soft targets of shape {tuple(x.shape)}"
        raise ValueError(f"{who}: for input of shape {tuple(x.shape)} (one sample) the target must be {kind}, "
                         f"got shape {tuple(t.shape)}")
    return x.reshape(1, -1), (t.reshape(1, -1) if t.ndim else t.reshape(1))


def cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
    ignore_index: int = -100,
) -> Tensor:
    """Cross-entropy between logits and class labels or soft targets (PyTorch's rules).

    Log-softmax and the negative log-likelihood are one fused, stable Function
    (:class:`CrossEntropy`) whose gradient is (softmax(x) - target) / N.

    Args:
        input: logits (N, C), or (N, C, d1, ...) with one class axis per position,
            or (C,): one sample (then the target is a 0-d label and the loss 0-d).
        target: integer labels (N,) / (N, d1, ...) in [0, C), or probabilities of
            the input's shape (rows summing to 1, e.g. from MixUp or CutMix).
            Labels get no gradient; soft targets that are Tensors with
            ``requires_grad=True`` get one, -w_c log p_c (a learned target, distillation).
        weight: optional class weights (C,): the loss of a sample of class c is
            multiplied by w_c, and the mean over labels divides by the sum of
            the weights of the labels (as PyTorch does; over soft targets it
            divides by N).
        reduction: "mean", "sum" or "none" (one loss per sample, shape (N, d1, ...)).
        label_smoothing: eps in [0, 1]: the target becomes (1 - eps) target + eps / C,
            for labels (as one-hot rows) and soft targets alike.
        ignore_index: a label value that adds nothing (loss 0, gradient 0) and is not
            counted in the mean (default -100, PyTorch's); labels only. If every
            label is ignored, the mean is 0 / 0 = nan, as in PyTorch.

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
    if x.ndim == 1:  # one sample (C,): a batch of one, and a 0-d loss
        x1, t1 = _one_sample("cross_entropy", x, target)
        loss = cross_entropy(x1, t1, weight, reduction, label_smoothing, ignore_index)
        return loss.reshape(()) if reduction == "none" else loss
    if x.ndim < 2:
        raise ValueError(
            f"cross_entropy: input must be logits of shape (C,), (N, C) or (N, C, d1, ...), got shape {x.shape}"
        )
    n, classes, rest = x.shape[0], x.shape[1], tuple(x.shape[2:])
    learned = _learned(target)  # a soft target that wants a gradient
    t = target if learned else _constant(target, x)
    w = _constant(weight, x, x.dtype)
    if w is not None and tuple(w.shape) != (classes,):
        raise ValueError(f"cross_entropy: weight must have shape ({classes},) (one per class), got {tuple(w.shape)}")
    label_shape = (n,) + rest

    if t.dtype.kind in "iu":  # class labels
        dense, keep, divisor = _one_hot_labels("cross_entropy", t, x, w, ignore_index)
        smooth = keep[:, None]  # ignored labels get no smoothing mass either
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
        dense = _class_last(t if learned else t.astype(x.dtype, copy=False), classes)  # (M, C)
        divisor, smooth = dense.shape[0], 1
    else:
        raise TypeError(
            f"cross_entropy: target must hold integer class labels or float probabilities, "
            f"got dtype {t.dtype}"
        )
    if label_smoothing:
        dense = dense * (1 - label_smoothing) + smooth * (label_smoothing / classes)
    rows = _class_last(x, classes)  # (M, C), differentiable (transpose + reshape)
    loss = CrossEntropy(w, reduction, divisor)(rows, dense)
    if reduction == "none" and rest:
        loss = loss.reshape(label_shape)
    return loss


# ---------------------------------------------------- negative log-likelihood
class NLL(Function):
    """The negative log-likelihood of log-probabilities x (M, C) at labels, as one-hot rows T (M, C):

        loss_m = -sum_c w_c T_mc x_mc  = -w_{y_m} x_{m, y_m}      (M,)
        gx     = -g w_c T_mc                                       (M, C)

    (cross_entropy(x) = nll_loss(log_softmax(x)): this is its second half.)
    A row of zeros (an ignored label) adds 0 and gets gradient 0; an x of
    -inf off the label adds 0 too (never 0 * -inf = NaN).
    """

    def __init__(self, onehot, weight, reduction: str, divisor):
        self.wt = onehot if weight is None else onehot * weight  # (M, C)
        self.reduction, self.divisor = reduction, divisor

    def forward(self, x):
        xp = get_array_module(x)
        picked = xp.where(self.wt != 0, x, 0)  # (M, C) x at the label, 0 elsewhere
        return _reduce(-(self.wt * picked).sum(axis=1), self.reduction, self.divisor)

    def backward(self, gy):
        return -_spread(gy, self.reduction, self.divisor) * self.wt


def nll_loss(input: Any, target: Any, weight: Any = None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood: -input[n, target[n]], for log-probabilities (e.g. from log_softmax).

    Args:
        input: log-probabilities (N, C), (N, C, d1, ...), or (C,) for one sample.
        target: integer labels (N,) / (N, d1, ...) in [0, C) (a 0-d label for input (C,)).
        weight: optional class weights (C,); the mean divides by the sum of the labels' weights.
        ignore_index: a label that adds nothing and is not counted (default -100).
        reduction: "mean", "sum" or "none".
    """
    _check_reduction(reduction)
    x = _as_tensor(input)
    if x.ndim == 1:  # one sample (C,)
        x1, t1 = _one_sample("nll_loss", x, target)
        loss = nll_loss(x1, t1, weight, ignore_index, reduction)
        return loss.reshape(()) if reduction == "none" else loss
    if x.ndim < 2:
        raise ValueError(f"nll_loss: input must have shape (C,), (N, C) or (N, C, d1, ...), got shape {x.shape}")
    classes, rest = x.shape[1], tuple(x.shape[2:])
    t = _constant(target, x)
    if t.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must hold integer class labels, got dtype {t.dtype}")
    w = _constant(weight, x, x.dtype)
    if w is not None and tuple(w.shape) != (classes,):
        raise ValueError(f"nll_loss: weight must have shape ({classes},) (one per class), got {tuple(w.shape)}")
    onehot, _, divisor = _one_hot_labels("nll_loss", t, x, w, ignore_index)
    loss = NLL(onehot, w, reduction, divisor)(_class_last(x, classes))
    if reduction == "none" and rest:
        loss = loss.reshape((x.shape[0],) + rest)
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

    def differentiable_backward(self, gy):
        x, t = self.inputs
        scale = 1.0 / self.diff.size if self.reduction == "mean" else 1.0
        gx = 2 * (x - t) * (gy * scale)
        return (gx if self.needs_input_grad[0] else None), (-gx if self.needs_input_grad[1] else None)


def _check_shapes(who: str, x: Tensor, t: Tensor) -> None:
    """Input and target of one shape; shapes that broadcast warn (as PyTorch), others raise."""
    try:
        both = numpy.broadcast_shapes(x.shape, t.shape)
    except ValueError:
        raise ValueError(
            f"{who}: input shape {tuple(x.shape)} and target shape {tuple(t.shape)} do not broadcast"
        ) from None
    if tuple(x.shape) != tuple(t.shape):
        warnings.warn(
            f"{who}: target shape {tuple(t.shape)} differs from input shape {tuple(x.shape)}; they "
            f"broadcast to {both}, which is likely not what you want: give them one shape "
            f"(e.g. target.reshape{tuple(x.shape)})",
            UserWarning,
            stacklevel=3,
        )


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
    _check_shapes("mse_loss", x, t)
    return MSE(reduction)(x, t)


# ------------------------------------------------------ binary cross-entropy
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
        loss = pw * t * softplus_array(-x) + (1 - t) * softplus_array(x)
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
            gt = w * (pw * softplus_array(-x) - softplus_array(x)) * g
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
    x, t = _same_shape_pair("binary_cross_entropy_with_logits", input, target, reduction)
    w = _constant(weight, x, x.dtype)
    pw = _constant(pos_weight, x, x.dtype)
    for name, a in (("weight", w), ("pos_weight", pw)):
        _check_broadcasts("binary_cross_entropy_with_logits", name, a, x)
    return BCEWithLogits(w, pw, reduction)(x, t)


def _same_shape_pair(op: str, input: Any, target: Any, reduction: str) -> tuple:
    """(input, target) as Tensors after checking the reduction and that their shapes are equal."""
    _check_reduction(reduction)
    x = _as_tensor(input)
    t = _target_tensor(target, x)
    if tuple(t.shape) != tuple(x.shape):
        raise ValueError(f"{op}: target shape {tuple(t.shape)} must equal input shape {tuple(x.shape)}")
    return x, t


def _check_broadcasts(op: str, name: str, a: Any, x: Any) -> None:
    """A per-element weight (or None) must broadcast to the input's shape."""
    if a is None:
        return
    try:
        fits = numpy.broadcast_shapes(a.shape, x.shape) == tuple(x.shape)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{op}: {name} of shape {tuple(a.shape)} does not broadcast to the input's shape "
                         f"{tuple(x.shape)}")


# ------------------------------------------------- binary cross-entropy (probabilities)
class BCE(Function):
    """Binary cross-entropy of probabilities x in [0, 1] against targets t in [0, 1]:

        loss = -w [ t log(x) + (1 - t) log(1 - x) ],   each log clamped at >= -100 (as PyTorch)

    The clamp keeps loss finite where x is exactly 0 or 1 (log 0 = -inf).
    With g the upstream gradient spread by the reduction:

        gx = w (x - t) / max(x (1 - x), 1e-12) g     (PyTorch's formula and its floor)
        gt = w [ log(1 - x) - log(x) ] g             (the clamped logs: the loss is linear in t)

    Probabilities from a sigmoid lose precision near 0 and 1: for logits,
    :func:`binary_cross_entropy_with_logits` is the stable form.
    """

    def __init__(self, weight, reduction: str):
        self.w, self.reduction = weight, reduction

    def forward(self, x, t):
        xp = get_array_module(x)
        self.x, self.t = x, t
        with numpy.errstate(divide="ignore"):  # log(0) = -inf is expected here, then clamped
            self.log_x = xp.maximum(xp.log(x), -100)
            self.log_1mx = xp.maximum(xp.log(1 - x), -100)
        loss = -(t * self.log_x + (1 - t) * self.log_1mx)
        if self.w is not None:
            loss = loss * self.w
        self.size = loss.size
        return _reduce(loss, self.reduction)

    def backward(self, gy):
        xp = get_array_module(gy)
        w = 1.0 if self.w is None else self.w
        g = gy / self.size if self.reduction == "mean" else gy
        gx = gt = None
        if self.needs_input_grad[0]:
            gx = w * (self.x - self.t) / xp.maximum(self.x * (1 - self.x), 1e-12) * g
        if self.needs_input_grad[1]:
            gt = w * (self.log_1mx - self.log_x) * g
        return gx, gt


def binary_cross_entropy(input: Any, target: Any, weight: Any = None, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities: -w [t log(x) + (1 - t) log(1 - x)], logs clamped at -100.

    Args:
        input: probabilities in [0, 1] (e.g. a sigmoid's output), any shape.
        target: targets in [0, 1], the input's shape; a Tensor target with
            ``requires_grad=True`` gets a gradient.
        weight: a rescaling weight that broadcasts to the input's shape, or None.
        reduction: "mean", "sum" or "none".

    Raises:
        ValueError: an input value outside [0, 1] (naming the range found), a
            target of another shape, a weight that does not broadcast.
    """
    x, t = _same_shape_pair("binary_cross_entropy", input, target, reduction)
    if x.size:
        lo, hi = float(x.data.min()), float(x.data.max())
        if lo < 0 or hi > 1:
            raise ValueError(
                f"binary_cross_entropy: input must be probabilities in [0, 1], got values in [{lo:g}, {hi:g}]; "
                f"for logits use binary_cross_entropy_with_logits"
            )
    w = _constant(weight, x, x.dtype)
    _check_broadcasts("binary_cross_entropy", "weight", w, x)
    return BCE(w, reduction)(x, t)


# ------------------------------------------------------------ smooth L1 and Huber
class SmoothL1(Function):
    """Smooth L1 of d = x - t: quadratic near 0, linear beyond beta.

        loss = d^2 / (2 beta)      where |d| < beta
               |d| - beta / 2      elsewhere           (beta = 0: the L1 loss |d|)

    The two pieces meet with equal value and slope at |d| = beta. With g the
    upstream gradient spread by the reduction:

        gx = (d / beta where |d| < beta, else sign(d)) g,    gt = -gx
    """

    def __init__(self, beta: float, reduction: str):
        self.beta, self.reduction = beta, reduction

    def forward(self, x, t):
        xp = get_array_module(x)
        d = self.d = x - t  # broadcast shape
        ad = xp.abs(d)
        self.near = ad < self.beta  # all False when beta = 0
        beta = self.beta if self.beta > 0 else 1.0  # beta = 0: the quadratic piece is never used
        return _reduce(xp.where(self.near, 0.5 * d * d / beta, ad - 0.5 * self.beta), self.reduction)

    def backward(self, gy):
        xp = get_array_module(gy)
        beta = self.beta if self.beta > 0 else 1.0
        scale = 1.0 / self.d.size if self.reduction == "mean" else 1.0
        gx = xp.where(self.near, self.d / beta, xp.sign(self.d)) * (gy * scale)
        return (gx if self.needs_input_grad[0] else None), (-gx if self.needs_input_grad[1] else None)


def smooth_l1_loss(input: Any, target: Any, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Smooth L1 loss: d^2 / (2 beta) for |d| < beta, |d| - beta / 2 beyond (d = input - target).

    ``beta`` >= 0; beta = 0 is the L1 loss. Shapes as :func:`mse_loss` (a
    broadcast warns).
    """
    _check_reduction(reduction)
    beta = non_negative(beta, "beta", "smooth_l1_loss")
    x = _as_tensor(input)
    t = _target_tensor(target, x)
    _check_shapes("smooth_l1_loss", x, t)
    return SmoothL1(beta, reduction)(x, t)


def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """Huber loss: d^2 / 2 for |d| <= delta, delta (|d| - delta / 2) beyond (d = input - target).

    A composition, as the lesson: huber_loss = delta * smooth_l1_loss(beta=delta),
    the same curve scaled so that its linear part has slope delta (smooth L1's
    has slope 1). ``delta`` must be > 0.
    """
    _check_reduction(reduction)
    delta = non_negative(delta, "delta", "huber_loss")
    if delta == 0:
        raise ValueError("huber_loss: delta must be > 0, got 0.0")
    x = _as_tensor(input)
    t = _target_tensor(target, x)
    _check_shapes("huber_loss", x, t)
    return SmoothL1(delta, reduction)(x, t) * delta


# ------------------------------------------------------------ Kullback-Leibler
class KLDiv(Function):
    """The Kullback-Leibler divergence, pointwise, with the input x as log-probabilities:

        log_target=False:  loss = t (log t - x)      (0 where t = 0: 0 log 0 = 0)
        log_target=True:   loss = exp(t) (t - x)     (t given as log-probabilities)

    summed over a row, this is KL(target || exp(x)). With g the upstream gradient
    spread by the reduction:

        gx = -t g                    (log_target: -exp(t) g)
        gt = (log t + 1 - x) g       (log_target: exp(t) (t - x + 1) g)
    """

    def __init__(self, log_target: bool, reduction: str, divisor):
        self.log_target, self.reduction, self.divisor = log_target, reduction, divisor

    def forward(self, x, t):
        xp = get_array_module(x)
        self.x, self.t = x, t
        if self.log_target:
            self.p = xp.exp(t)  # (broadcast shape) the target's probabilities
            loss = self.p * (t - x)
        else:
            self.p = t
            self.log_t = xp.log(xp.where(t > 0, t, 1))  # log t, and 0 where t = 0 (so 0 log 0 = 0)
            loss = t * self.log_t - t * x
        return _reduce(loss, self.reduction, self.divisor)

    def backward(self, gy):
        xp = get_array_module(gy)
        g = gy / self.divisor if self.reduction == "mean" else gy
        gx = gt = None
        if self.needs_input_grad[0]:
            gx = -self.p * g
        if self.needs_input_grad[1]:
            if self.log_target:
                gt = self.p * (self.t - self.x + 1) * g
            else:
                gt = xp.where(self.t > 0, self.log_t + 1 - self.x, -xp.inf) * g  # d(t log t)/dt = -inf at 0
        return gx, gt


_KL_REDUCTIONS = ("mean", "batchmean", "sum", "none")


def kl_div(input: Any, target: Any, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL divergence of the target from the input: sum t (log t - x), with x = log-probabilities.

    Args:
        input: log-probabilities (e.g. ``log_softmax(logits, 1)``), any shape, (N, ...) for batchmean.
        target: probabilities of the input's shape, or log-probabilities with ``log_target=True``.
            A Tensor target with ``requires_grad=True`` gets a gradient.
        reduction: "batchmean" (the sum over everything / N: the true KL per sample,
            the one to use), "sum", "none", or "mean" (the sum / every element's
            count; PyTorch's default, kept for its name, and it warns as PyTorch does).
        log_target: the target is given as log-probabilities.
    """
    if reduction not in _KL_REDUCTIONS:
        raise ValueError(f"kl_div: reduction must be one of {_KL_REDUCTIONS}, got {reduction!r}")
    if not isinstance(log_target, bool):
        raise TypeError(f"kl_div: log_target must be True or False, got {log_target!r}")
    x = _as_tensor(input)
    t = _target_tensor(target, x)
    _check_shapes("kl_div", x, t)
    divisor = None
    if reduction == "mean":
        warnings.warn(
            "kl_div: reduction='mean' divides the total loss by the batch size and by the number of "
            "classes; reduction='batchmean' gives the KL divergence per sample (as in PyTorch)",
            UserWarning,
            stacklevel=2,
        )
        divisor = int(numpy.prod(numpy.broadcast_shapes(x.shape, t.shape)))
    elif reduction == "batchmean":
        reduction, divisor = "mean", (x.shape[0] if x.ndim else 1)
    return KLDiv(log_target, reduction, divisor)(x, t)
