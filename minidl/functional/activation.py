"""Activation functions, each a Function, and softmax / log-softmax.

Elementwise activations keep what backward needs, often the output itself:
sigmoid' = y (1 - y), tanh' = 1 - y^2, so no exp is recomputed.

Two of them need care with large inputs, because exp overflows (float32: for
x > 88; float64: for x > 709):

* sigmoid never evaluates exp of a positive number (see :class:`Sigmoid`);
* softmax and log-softmax subtract the row's maximum first. The result is the
  same, since softmax(x) = softmax(x - c) for any constant c, and the largest
  exponent is then exp(0) = 1.

The second half of the file holds the rest of PyTorch's activations: the
smooth ones (ELU, SELU, CELU, SiLU, GELU, Mish, Softplus, Softsign,
LogSigmoid), the piecewise-linear ones of mobile networks (Hardswish,
Hardsigmoid, Hardtanh) and PReLU, whose negative slope is learned. Where a
function has a kink (slopes that differ on its two sides) the gradient there
is the one PyTorch gives, stated in each docstring.
"""
from __future__ import annotations

import math
from typing import Any

from ..autograd import Function, Tensor
from ..backend import get_array_module
from ..validate import normalize_axis, real
from . import fast
from ._dtypes import check_same_dtype, to_float
from .elementwise import erf_array  # NumPy has no erf: summed from its series there
from .fast import relu as fast_relu


class ReLU(Function):
    """y = max(x, 0);  gx = gy where x > 0, else 0 (0 at the kink, as PyTorch).

    "Else 0" is a ``where``, not ``gy * mask``: an infinite gy (the slope of
    h**0.5 at h = 0, say) must give 0 where the unit is off, not inf * 0 = NaN.
    """

    def forward(self, x):
        xp = get_array_module(x)
        self.mask = x > 0  # (x.shape) bool
        return xp.maximum(x, 0)

    def backward(self, gy):
        return get_array_module(gy).where(self.mask, gy, 0)

    def differentiable_backward(self, gy):  # t.where(c, other): t where c holds, other elsewhere
        return gy.where(self.mask, 0)  # (the mask is a constant: relu'' = 0)


class LeakyReLU(Function):
    """y = x if x > 0 else slope * x;  gx = gy * (1 if x > 0 else slope)."""

    def __init__(self, negative_slope: float = 0.01):
        self.slope = negative_slope

    def forward(self, x):
        xp = get_array_module(x)
        self.mask = x > 0
        return xp.where(self.mask, x, x * self.slope)

    def backward(self, gy):
        xp = get_array_module(gy)
        return xp.where(self.mask, gy, gy * self.slope)

    def differentiable_backward(self, gy):
        return gy.where(self.mask, gy * self.slope)


def sigmoid_array(x):
    """1 / (1 + exp(-x)) on a raw array, without overflow for any x.

    Written as it stands, exp(-x) overflows for x < -88 (float32). With
    z = exp(-|x|), which lies in (0, 1] and so never overflows:

        x >= 0:  y = 1 / (1 + z)
        x <  0:  y = z / (1 + z)     (top and bottom of 1 / (1 + exp(-x)) times exp(x))

    Both are exact, and a tiny y (x = -30 gives 9.4e-14) keeps its full
    relative precision, which 1 - 1 / (1 + exp(x)) would lose.
    Shared by :class:`Sigmoid` and the binary cross-entropy loss.
    """
    xp = get_array_module(x)
    z = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1, z) / (1 + z)


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x)) (stable: see :func:`sigmoid_array`);  gx = gy * y * (1 - y)."""

    def forward(self, x):
        self.y = sigmoid_array(x)
        return self.y

    def backward(self, gy):
        return gy * self.y * (1 - self.y)

    def differentiable_backward(self, gy):  # y recomputed as a Tensor op, so y' is part of the graph
        y = self.inputs[0].sigmoid()
        return gy * y * (1 - y)


class Tanh(Function):
    """y = tanh(x);  gx = gy * (1 - y^2)."""

    def forward(self, x):
        self.y = get_array_module(x).tanh(x)
        return self.y

    def backward(self, gy):
        return gy * (1 - self.y * self.y)

    def differentiable_backward(self, gy):
        y = self.inputs[0].tanh()
        return gy * (1 - y * y)


def log_softmax_array(x, axis: int = -1):
    """log softmax(x) along ``axis`` on a raw array, stably (the log-sum-exp trick).

        log softmax(x)_i = x_i - log sum_j exp(x_j)
                         = s_i - log sum_j exp(s_j),   s = x - max(x)

    Every exp(s_j) is at most 1, and the one for the maximum is exactly 1, so
    the sum lies in [1, C]: no overflow, and its log is never log(0).
    Shared by :class:`LogSoftmax` and the cross-entropy loss.
    """
    xp = get_array_module(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


class Softmax(Function):
    """y_i = exp(x_i) / sum_j exp(x_j) along ``axis``.

    Stable: exp(x - max x) gives the same y without overflow for logits of 1000.
    Backward (the Jacobian dy_i/dx_j = y_i (delta_ij - y_j) applied to gy):
        gx = y * (gy - sum_j(gy_j * y_j))
    """

    def __init__(self, axis: int | tuple = -1):
        self.axis = axis  # an int, or a tuple of axes (() for a 0-d x)

    def forward(self, x):
        xp = get_array_module(x)
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        self.y = e / e.sum(axis=self.axis, keepdims=True)
        return self.y

    def backward(self, gy):
        y = self.y
        return y * (gy - (gy * y).sum(axis=self.axis, keepdims=True))

    def differentiable_backward(self, gy):
        y = Softmax(self.axis)(self.inputs[0])
        return y * (gy - (gy * y).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """y_i = x_i - log sum_j exp(x_j) along ``axis`` (see :func:`log_softmax_array`).

    Backward: dy_i/dx_j = delta_ij - softmax_j, and softmax = exp(y), so
        gx = gy - exp(y) * sum_j gy_j
    """

    def __init__(self, axis: int | tuple = -1):
        self.axis = axis  # an int, or a tuple of axes (() for a 0-d x)

    def forward(self, x):
        self.y = log_softmax_array(x, self.axis)
        return self.y

    def backward(self, gy):
        xp = get_array_module(gy)
        return gy - xp.exp(self.y) * gy.sum(axis=self.axis, keepdims=True)

    def differentiable_backward(self, gy):
        return gy - Softmax(self.axis)(self.inputs[0]) * gy.sum(axis=self.axis, keepdims=True)


# ---- functional forms
def _pick_axis(name: str, x: Any, axis: int, dim: int | None) -> tuple:
    """``dim`` is PyTorch's word for ``axis``; check the axis exists in x.

    Returned as a tuple of axes, ``()`` for a 0-d tensor (softmax of a scalar is 1).
    """
    if dim is not None:
        axis = dim
    a = normalize_axis(axis, len(x.shape), name, x.shape)
    return (a,) if len(x.shape) else ()


def relu(x: Any) -> Tensor:
    """y = max(x, 0), elementwise. The rule: the fast path (:mod:`minidl.functional.fast.relu`,
    the same numbers on every core) for NumPy batches when fast paths are on, else the reference."""
    data = x.data if isinstance(x, Tensor) else x
    return (fast_relu.ReLU if fast.enabled() and fast_relu.applies(data) else ReLU)()(x)


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """y = x where x > 0, else negative_slope * x."""
    return LeakyReLU(negative_slope)(x)


def sigmoid(x: Any) -> Tensor:
    """y = 1 / (1 + exp(-x)), computed without overflow for any x."""
    return Sigmoid()(to_float(x))


def tanh(x: Any) -> Tensor:
    """y = tanh(x), elementwise."""
    return Tanh()(to_float(x))


def softmax(x: Any, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """Softmax along ``axis`` (``dim`` accepted as PyTorch's name): values in (0, 1) summing to 1."""
    return Softmax(_pick_axis("softmax", x, axis, dim))(to_float(x))


def log_softmax(x: Any, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """log(softmax(x)) along ``axis``, computed stably (finite for logits of +-1000)."""
    return LogSoftmax(_pick_axis("log_softmax", x, axis, dim))(to_float(x))


class ReLU6(Function):
    """y = min(max(x, 0), 6);  gx = gy where 0 < x < 6, else 0 (as PyTorch's hardtanh).

    The ReLU of MobileNetV2 and EfficientNet-Lite: capped so that activations
    stay in a range that 8-bit quantisation represents well.
    """

    def forward(self, x):
        self.x = x
        return get_array_module(x).clip(x, 0, 6)

    def backward(self, gy):
        return gy * ((self.x > 0) & (self.x < 6))


def relu6(x: Any) -> Tensor:
    """y = min(max(x, 0), 6), elementwise."""
    return ReLU6()(to_float(x))


# ============================================================ more activations
# Each: the formula, its derivative, and what PyTorch gives at a kink (where
# the two sides' slopes differ, the gradient there is one side's, as PyTorch's).


def softplus_array(z):
    """log(1 + exp(z)) on a raw array without overflow: max(z, 0) + log1p(exp(-|z|)).

    exp(-|z|) is in (0, 1], so nothing overflows, and for z = -40 the result
    keeps its precision (log1p of a tiny number), where log(1 + exp(z)) gives 0.
    """
    xp = get_array_module(z)
    return xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))


class ELU(Function):
    """y = x if x > 0 else alpha (exp(x) - 1);  gx = gy if x > 0 else gy alpha exp(x) (= gy (y + alpha)).

    At x = 0 the gradient is the negative side's, alpha, as PyTorch.
    """

    def __init__(self, alpha: float = 1.0, scale: float = 1.0):
        self.alpha, self.scale = alpha, scale  # scale: SELU's factor (1 for ELU)

    def forward(self, x):
        xp = get_array_module(x)
        self.mask = x > 0
        self.neg = self.alpha * xp.expm1(xp.minimum(x, 0))  # alpha (exp(x) - 1); min: no overflow where x > 0
        return self.scale * xp.where(self.mask, x, self.neg)

    def backward(self, gy):
        xp = get_array_module(gy)
        return self.scale * xp.where(self.mask, gy, gy * (self.neg + self.alpha))


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class CELU(Function):
    """y = max(0, x) + min(0, alpha (exp(x / alpha) - 1));  gx = gy if x > 0 else gy exp(x / alpha).

    ELU with the exponent scaled, so the slope at 0- is 1 for every alpha
    (continuously differentiable). At x = 0 the gradient is exp(0) = 1.
    """

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    def forward(self, x):
        xp = get_array_module(x)
        self.mask = x > 0
        self.e = xp.exp(xp.minimum(x, 0) / self.alpha)  # exp(x / alpha) where x <= 0
        return xp.where(self.mask, x, self.alpha * (self.e - 1))

    def backward(self, gy):
        return get_array_module(gy).where(self.mask, gy, gy * self.e)


class SiLU(Function):
    """y = x sigmoid(x) (also called swish);  gx = gy s (1 + x (1 - s)), s = sigmoid(x)."""

    def forward(self, x):
        self.x, self.s = x, sigmoid_array(x)
        return x * self.s

    def backward(self, gy):
        s = self.s
        return gy * s * (1 + self.x * (1 - s))

    def differentiable_backward(self, gy):
        x = self.inputs[0]
        s = x.sigmoid()
        return gy * s * (1 + x * (1 - s))


class GELU(Function):
    """The Gaussian error linear unit: y = x Phi(x), Phi the standard normal CDF.

    approximate="none" (exact; erf from :func:`minidl.functional.elementwise.erf_array`):
        Phi(x) = (1 + erf(x / sqrt 2)) / 2,      gx = gy (Phi(x) + x phi(x)),
        phi(x) = exp(-x^2 / 2) / sqrt(2 pi)      (the normal density)
    approximate="tanh" (Hendrycks and Gimpel's approximation, as in GPT-2):
        y = x (1 + tanh(u)) / 2,   u = sqrt(2 / pi) (x + 0.044715 x^3)
        gx = gy [ (1 + t) / 2 + x (1 - t^2) / 2 * sqrt(2 / pi) (1 + 3 * 0.044715 x^2) ],  t = tanh(u)
    """

    K = math.sqrt(2 / math.pi)

    def __init__(self, approximate: str = "none"):
        self.approximate = approximate

    def forward(self, x):
        xp = get_array_module(x)
        self.x = x
        if self.approximate == "tanh":
            self.t = xp.tanh(self.K * (x + 0.044715 * x ** 3))
            return 0.5 * x * (1 + self.t)
        # Phi(x), with erf summed in float64: 1 + erf(x / sqrt 2) cancels for negative x, and
        # float32's rounding of erf would give gelu(-50) = 1e-5 instead of 0.
        self.cdf = (0.5 * (1 + erf_array(x.astype("float64") / math.sqrt(2)))).astype(x.dtype)
        return x * self.cdf

    def backward(self, gy):
        xp = get_array_module(gy)
        x = self.x
        if self.approximate == "tanh":
            t = self.t
            du = self.K * (1 + 3 * 0.044715 * x * x)
            return gy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
        pdf = xp.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)  # phi(x)
        return gy * (self.cdf + x * pdf)


class Mish(Function):
    """y = x tanh(softplus(x));  gx = gy [ t + x (1 - t^2) sigmoid(x) ],  t = tanh(softplus(x)).

    (softplus'(x) = sigmoid(x).) softplus is the stable one of :func:`softplus_array`.
    """

    def forward(self, x):
        self.x = x
        self.t = get_array_module(x).tanh(softplus_array(x))
        return x * self.t

    def backward(self, gy):
        t = self.t
        return gy * (t + self.x * (1 - t * t) * sigmoid_array(self.x))


class Softplus(Function):
    """y = log(1 + exp(beta x)) / beta, and y = x where beta x > threshold (as PyTorch);
    gx = gy sigmoid(beta x), and gy where beta x > threshold.

    Past the threshold softplus equals x to float precision (log(1 + e^20) - 20 = 2e-9),
    so PyTorch returns x itself there.
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        xp = get_array_module(x)
        self.bx = self.beta * x
        self.linear = self.bx > self.threshold
        return xp.where(self.linear, x, softplus_array(self.bx) / self.beta)

    def backward(self, gy):
        return get_array_module(gy).where(self.linear, gy, gy * sigmoid_array(self.bx))

    def differentiable_backward(self, gy):
        return gy.where(self.linear, gy * (self.beta * self.inputs[0]).sigmoid())


class Softsign(Function):
    """y = x / (1 + |x|);  gx = gy / (1 + |x|)^2."""

    def forward(self, x):
        self.d = 1 + get_array_module(x).abs(x)
        return x / self.d

    def backward(self, gy):
        return gy / (self.d * self.d)


class Hardswish(Function):
    """y = x relu6(x + 3) / 6: 0 for x <= -3, x for x >= 3, x (x + 3) / 6 between;
    gx = gy (2x + 3) / 6 = gy (x / 3 + 1/2) for -3 < x < 3, 0 below, gy above
    (at x = -3: 0; at x = 3: gy, as PyTorch)."""

    def forward(self, x):
        xp = get_array_module(x)
        self.x = x
        return x * xp.clip(x + 3, 0, 6) / 6

    def backward(self, gy):
        xp = get_array_module(gy)
        x = self.x
        return xp.where(x <= -3, 0, xp.where(x < 3, gy * (x / 3 + 0.5), gy))


class Hardsigmoid(Function):
    """y = relu6(x + 3) / 6 (0 below -3, 1 above 3, a line between);
    gx = gy / 6 for -3 < x < 3, else 0 (0 at both kinks, as PyTorch)."""

    def forward(self, x):
        self.inside = (x > -3) & (x < 3)
        return get_array_module(x).clip(x + 3, 0, 6) / 6

    def backward(self, gy):
        return get_array_module(gy).where(self.inside, gy / 6, 0)


class Hardtanh(Function):
    """y = clip(x, min_val, max_val);  gx = gy for min_val < x < max_val, else 0 (0 at both kinks)."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0):
        self.min_val, self.max_val = min_val, max_val

    def forward(self, x):
        self.inside = (x > self.min_val) & (x < self.max_val)
        return get_array_module(x).clip(x, self.min_val, self.max_val)

    def backward(self, gy):
        return get_array_module(gy).where(self.inside, gy, 0)


class LogSigmoid(Function):
    """y = log sigmoid(x) = -softplus(-x) = min(x, 0) - log1p(exp(-|x|));  gx = gy sigmoid(-x).

    Stable for any x: log(sigmoid(x)) as written is log(0) = -inf for x = -800,
    where the true value is -800; exp(-|x|) never overflows.
    """

    def forward(self, x):
        xp = get_array_module(x)
        self.x = x
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, gy):
        return gy * sigmoid_array(-self.x)


class PReLU(Function):
    """y = x if x > 0 else w x, with a learned slope w per channel (axis 1), or one for all.

    Shapes: x (N, C, ...), w (C,) or (1,). With w viewed as (1, C, 1, ...):
        gx = gy if x > 0 else gy w                  (x's shape)
        gw = sum over all but axis 1 of gy x where x <= 0, else 0      (C,) or (1,)
    At x = 0 the slope is w's side, as PyTorch.
    """

    def forward(self, x, w):
        self.x, self.mask = x, x > 0
        self.wshape = w.shape
        self.w = w.reshape(self._view(x, w))  # (1, C, 1, ...) or (1,)*ndim
        return get_array_module(x).where(self.mask, x, self.w * x)

    @staticmethod
    def _view(x, w):
        if w.size == 1 or x.ndim < 2:
            return (1,) * x.ndim if x.ndim else ()
        return (1, w.size) + (1,) * (x.ndim - 2)

    def backward(self, gy):
        xp = get_array_module(gy)
        gx = xp.where(self.mask, gy, gy * self.w) if self.needs_input_grad[0] else None
        gw = None
        if self.needs_input_grad[1]:
            gw = xp.where(self.mask, 0, gy * self.x)  # (x.shape)
            gw = gw.sum() if self.w.size == 1 else gw.sum(axis=tuple(a for a in range(gw.ndim) if a != 1))
            gw = gw.reshape(self.wshape)
        return gx, gw


# ---- functional forms
def elu(input: Any, alpha: float = 1.0) -> Tensor:
    """y = x for x > 0, alpha (exp(x) - 1) otherwise (saturates at -alpha)."""
    return ELU(real(alpha, "alpha", "elu"))(to_float(input))


def selu(input: Any) -> Tensor:
    """y = scale * elu(x, alpha) with the self-normalising constants
    alpha = 1.6732632..., scale = 1.0507009... (Klambauer et al., 2017)."""
    return ELU(SELU_ALPHA, SELU_SCALE)(to_float(input))


def celu(input: Any, alpha: float = 1.0) -> Tensor:
    """y = max(0, x) + min(0, alpha (exp(x / alpha) - 1)); alpha must not be 0."""
    alpha = real(alpha, "alpha", "celu")
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x), got 0")
    return CELU(alpha)(to_float(input))


def silu(input: Any) -> Tensor:
    """y = x sigmoid(x) (swish)."""
    return SiLU()(to_float(input))


def gelu(input: Any, approximate: str = "none") -> Tensor:
    """y = x Phi(x) (Phi the normal CDF), exactly (approximate="none") or by the tanh formula ("tanh")."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU(approximate)(to_float(input))


def mish(input: Any) -> Tensor:
    """y = x tanh(softplus(x))."""
    return Mish()(to_float(input))


def softplus(input: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """y = log(1 + exp(beta x)) / beta, and x itself where beta x > threshold; beta must be > 0."""
    beta = real(beta, "beta", "softplus")
    if beta <= 0:
        raise ValueError(f"softplus: beta must be > 0, got {beta!r}")
    return Softplus(beta, real(threshold, "threshold", "softplus"))(to_float(input))


def softsign(input: Any) -> Tensor:
    """y = x / (1 + |x|)."""
    return Softsign()(to_float(input))


def hardswish(input: Any) -> Tensor:
    """y = x relu6(x + 3) / 6 (MobileNetV3's cheap swish)."""
    return Hardswish()(to_float(input))


def hardsigmoid(input: Any) -> Tensor:
    """y = relu6(x + 3) / 6 (MobileNetV3's cheap sigmoid)."""
    return Hardsigmoid()(to_float(input))


def hardtanh(input: Any, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """y = clip(x, min_val, max_val); min_val must not exceed max_val."""
    min_val, max_val = real(min_val, "min_val", "hardtanh"), real(max_val, "max_val", "hardtanh")
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val must be <= max_val, got min_val={min_val}, max_val={max_val}")
    return Hardtanh(min_val, max_val)(to_float(input))


def logsigmoid(input: Any) -> Tensor:
    """y = log(sigmoid(x)) = -softplus(-x), finite for any x (PyTorch's F.logsigmoid)."""
    return LogSigmoid()(to_float(input))


def prelu(input: Any, weight: Any) -> Tensor:
    """y = x where x > 0, else weight * x; weight has one slope, or one per channel (input's axis 1).

    Raises:
        ValueError: weight not 1-D, or its size neither 1 nor the input's channel count.
    """
    x, w = to_float(input), to_float(weight)
    channels = x.shape[1] if x.ndim >= 2 else 1
    if w.ndim != 1 or w.shape[0] not in (1, channels):
        raise ValueError(
            f"prelu: weight must have shape (1,) or ({channels},) (one slope per channel, the input's "
            f"axis 1) for input of shape {tuple(x.shape)}, got {tuple(w.shape)}"
        )
    check_same_dtype("prelu", x, weight=w)
    return PReLU()(x, w)
