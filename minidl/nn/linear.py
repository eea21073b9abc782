"""Linear, Identity and Flatten layers."""
from __future__ import annotations

from typing import Any

from .. import backend
from ..autograd import Tensor
from ..functional.linear import linear
from . import init
from .module import Module, Parameter


class Linear(Module):
    """y = x W^T + b, with W (out_features, in_features) initialised as PyTorch does.

    Input (..., in_features) -> output (..., out_features).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None):
        super().__init__()
        if in_features < 1 or out_features < 1:
            raise ValueError(f"Linear needs positive sizes, got in_features={in_features}, out_features={out_features}")
        self.in_features, self.out_features = in_features, out_features
        xp = backend.namespace(device or backend.get_default_device())
        dtype = dtype or backend.get_default_dtype()
        self.weight = Parameter(xp.empty((out_features, in_features), dtype=dtype))
        self.bias = Parameter(xp.empty((out_features,), dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, x: Any) -> Tensor:
        if x.shape[-1:] != (self.in_features,):
            raise ValueError(
                f"Linear expects {self.in_features} input features, got input of shape {tuple(x.shape)} "
                f"({x.shape[-1] if len(x.shape) else 0} features); check the flattened size feeding this layer"
            )
        return linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """y = x (a placeholder, e.g. for a removed head)."""

    def forward(self, x: Any) -> Any:
        return x


class Flatten(Module):
    """Join the dimensions start_dim..end_dim: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        shape = x.shape
        start = self.start_dim % len(shape)
        end = self.end_dim % len(shape)
        joined = 1
        for n in shape[start : end + 1]:
            joined *= n
        return x.reshape(*shape[:start], joined, *shape[end + 1 :])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
