"""Linear, Identity, Flatten and Unflatten layers."""
from __future__ import annotations

from typing import Any

import numpy

from .. import backend
from ..autograd import Tensor
from ..functional.linear import linear
from ..functional.shape import flatten, unflatten
from . import init
from .module import Module


class Linear(Module):
    """The fully connected layer: y = x W^T + b.

    Shapes: x (..., in_features) -> y (..., out_features);
    W ``weight`` (out_features, in_features), b ``bias`` (out_features,), as in
    PyTorch, so weights move between the two unchanged.

    Initialised as PyTorch does (see :mod:`minidl.nn.init`): W and b from
    U(-1/sqrt(in_features), 1/sqrt(in_features)), drawn from the default
    generator (``mdl.manual_seed`` fixes them).

    Args:
        in_features, out_features: sizes of each input and output sample.
        bias: learn an additive bias (default True).
        device: where the parameters live (default: the current backend).
        dtype: their dtype (default float32).
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None
    ):
        super().__init__()
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(n, (int, numpy.integer)) or isinstance(n, bool) or n < 1:
                raise ValueError(
                    f"Linear needs positive sizes, got in_features={in_features!r}, out_features={out_features!r}"
                )
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = init.empty_parameter((self.out_features, self.in_features), device, dtype, "Linear")
        if bias:
            self.bias = init.empty_parameter((self.out_features,), device, dtype, "Linear")
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw fresh weights as PyTorch does: kaiming_uniform_(a=sqrt(5)) and U(+-1/sqrt(fan_in))."""
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        if len(x.shape) == 0 or x.shape[-1] != self.in_features:
            got = x.shape[-1] if len(x.shape) else 0
            raise ValueError(
                f"Linear expects {self.in_features} input features, got input of shape {tuple(x.shape)} "
                f"({got} features); check the flattened size feeding this layer"
            )
        x_device, w_device = backend.device_of(x.data), backend.device_of(self.weight.data)
        if x_device != w_device:
            raise ValueError(
                f"Linear's input is on {x_device!r} but its weight is on {w_device!r}; "
                f"move one of them (x.to({w_device!r}) or model.to({x_device!r}))"
            )
        return linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """y = x: a placeholder, e.g. for a removed classification head."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__()  # arguments are ignored, as in PyTorch

    def forward(self, x: Any) -> Any:
        return x


class Flatten(Module):
    """Join the axes start_dim..end_dim (inclusive) into one.

    The default (1, -1) keeps the batch axis: (N, C, H, W) -> (N, C*H*W), the
    step between the convolutional part of a network and its Linear head.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Open axis ``dim`` into ``unflattened_size``, the inverse of Flatten (PyTorch's ``nn.Unflatten``).

    ``Unflatten(1, (64, 7, 7))``: (N, 3136) -> (N, 64, 7, 7), the step from a
    Linear layer back to feature maps in a decoder.
    """

    def __init__(self, dim: int, unflattened_size: tuple):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x: Tensor) -> Tensor:
        return unflatten(x, self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
