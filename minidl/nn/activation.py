"""Activation layers: thin Modules around :mod:`minidl.functional.activation`.

Each holds only its options; the math (and the backward) is in the function
it calls.
"""
from __future__ import annotations

from typing import Any, Optional

from ..autograd import Tensor
from ..functional import activation as A
from ..validate import positive_int
from . import init as _init
from .module import Module


def _pick_axis(dim: Optional[int], axis: Optional[int], default: int = -1) -> int:
    """PyTorch says ``dim``, NumPy ``axis``: accept either, not both."""
    if dim is not None and axis is not None and dim != axis:
        raise TypeError(f"give dim= or axis=, not both (got dim={dim}, axis={axis})")
    chosen = dim if dim is not None else axis
    return default if chosen is None else chosen


class ReLU(Module):
    """y = max(x, 0)."""

    def forward(self, x: Tensor) -> Tensor:
        return A.relu(x)


class ReLU6(Module):
    """y = min(max(x, 0), 6)."""

    def forward(self, x: Tensor) -> Tensor:
        return A.relu6(x)


class LeakyReLU(Module):
    """y = x if x > 0 else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return A.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """y = 1 / (1 + exp(-x))."""

    def forward(self, x: Tensor) -> Tensor:
        return A.sigmoid(x)


class Tanh(Module):
    """y = tanh(x)."""

    def forward(self, x: Tensor) -> Tensor:
        return A.tanh(x)


class Softmax(Module):
    """y = exp(x) / sum(exp(x)) along ``dim`` (``axis`` accepted too; default the last)."""

    def __init__(self, dim: Optional[int] = None, *, axis: Optional[int] = None):
        super().__init__()
        self.dim = _pick_axis(dim, axis)

    def forward(self, x: Tensor) -> Tensor:
        return A.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """y = log(softmax(x)) along ``dim``, computed stably (x - logsumexp(x))."""

    def __init__(self, dim: Optional[int] = None, *, axis: Optional[int] = None):
        super().__init__()
        self.dim = _pick_axis(dim, axis)

    def forward(self, x: Tensor) -> Tensor:
        return A.log_softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


# ------------------------------------------------------------------ more activations
class ELU(Module):
    """y = x for x > 0, alpha (exp(x) - 1) otherwise."""

    def __init__(self, alpha: float = 1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, x: Tensor) -> Tensor:
        return A.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class CELU(ELU):
    """y = max(0, x) + min(0, alpha (exp(x / alpha) - 1))."""

    def forward(self, x: Tensor) -> Tensor:
        return A.celu(x, self.alpha)


class SELU(Module):
    """y = scale * elu(x, alpha), alpha = 1.6732632..., scale = 1.0507009..."""

    def forward(self, x: Tensor) -> Tensor:
        return A.selu(x)


class SiLU(Module):
    """y = x sigmoid(x) (swish)."""

    def forward(self, x: Tensor) -> Tensor:
        return A.silu(x)


class Mish(Module):
    """y = x tanh(softplus(x))."""

    def forward(self, x: Tensor) -> Tensor:
        return A.mish(x)


class Softsign(Module):
    """y = x / (1 + |x|)."""

    def forward(self, x: Tensor) -> Tensor:
        return A.softsign(x)


class Hardswish(Module):
    """y = x relu6(x + 3) / 6."""

    def forward(self, x: Tensor) -> Tensor:
        return A.hardswish(x)


class Hardsigmoid(Module):
    """y = relu6(x + 3) / 6."""

    def forward(self, x: Tensor) -> Tensor:
        return A.hardsigmoid(x)


class LogSigmoid(Module):
    """y = log(sigmoid(x)), finite for any x."""

    def forward(self, x: Tensor) -> Tensor:
        return A.logsigmoid(x)


class GELU(Module):
    """y = x Phi(x), exactly (approximate="none") or by the tanh formula (approximate="tanh")."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return A.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """y = log(1 + exp(beta x)) / beta, and x where beta x > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x: Tensor) -> Tensor:
        return A.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """y = clip(x, min_val, max_val)."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0):
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val must be <= max_val, got min_val={min_val}, max_val={max_val}")
        self.min_val, self.max_val = min_val, max_val

    def forward(self, x: Tensor) -> Tensor:
        return A.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class PReLU(Module):
    """y = x if x > 0 else a x, with a learned slope ``weight`` a: one for all channels,
    or one per channel (``num_parameters`` = C, the input's axis 1), each starting at ``init``.

    As in PyTorch, weight decay should usually not apply to it (its own param group).
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: Any = None, dtype: Any = None):
        super().__init__()
        self.num_parameters = positive_int(num_parameters, "num_parameters", "PReLU")
        self.init = init
        self.weight = _init.empty_parameter((self.num_parameters,), device, dtype, "PReLU")
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every slope back to ``init``."""
        self.weight.data[...] = self.init

    def forward(self, x: Tensor) -> Tensor:
        return A.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"
