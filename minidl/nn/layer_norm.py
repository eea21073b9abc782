"""LayerNorm, GroupNorm and InstanceNorm2d: normalisation that does not mix the samples of a batch.

The math is in ``minidl/functional/layer_norm.py``; these layers hold the
learnable scale (``weight``, ones) and shift (``bias``, zeros), PyTorch's
names and defaults.
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy

from .. import backend
from ..autograd import Tensor
from ..functional.layer_norm import group_norm, instance_norm, layer_norm
from ..validate import non_negative, positive_int, probability
from .module import Module, Parameter


def _affine_parameters(module: Module, shape: tuple, affine: bool, device: Any, dtype: Any) -> None:
    """Register ``weight`` (ones) and ``bias`` (zeros) of ``shape``, or declare them absent."""
    if not affine:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)
        return
    xp = backend.namespace(backend.get_default_device() if device is None else device)
    dtype = backend.get_default_dtype() if dtype is None else numpy.dtype(dtype)
    module.weight = Parameter(xp.ones(shape, dtype=dtype))
    module.bias = Parameter(xp.zeros(shape, dtype=dtype))


class LayerNorm(Module):
    """Normalise over the last axes, ``normalized_shape``: one mean and variance per sample.

    Input (*, *normalized_shape), output the same. Parameters ``weight`` and
    ``bias`` of shape ``normalized_shape`` (with ``elementwise_affine``; ``bias=False``
    keeps the weight alone, as PyTorch).
    """

    def __init__(self, normalized_shape: Any, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device: Any = None, dtype: Any = None):
        super().__init__()
        name = type(self).__name__
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(positive_int(n, "normalized_shape", name) for n in normalized_shape)
        self.eps, self.elementwise_affine = non_negative(eps, "eps", name), bool(elementwise_affine)
        _affine_parameters(self, self.normalized_shape, self.elementwise_affine, device, dtype)
        if self.elementwise_affine and not bias:
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    """Normalise each sample over groups of ``num_channels / num_groups`` channels.

    Input (N, C, *), C = ``num_channels``. Parameters ``weight`` and ``bias``
    (C,), one per channel (with ``affine``).
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device: Any = None, dtype: Any = None):
        super().__init__()
        name = type(self).__name__
        self.num_groups = positive_int(num_groups, "num_groups", name)
        self.num_channels = positive_int(num_channels, "num_channels", name)
        if self.num_channels % self.num_groups:
            raise ValueError(f"{name}: num_channels={num_channels} must be divisible by num_groups={num_groups}")
        self.eps, self.affine = non_negative(eps, "eps", name), bool(affine)
        _affine_parameters(self, (self.num_channels,), self.affine, device, dtype)

    def forward(self, x: Tensor) -> Tensor:
        name = type(self).__name__
        if len(x.shape) < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"{name}: expected input (N, {self.num_channels}, *) (num_channels), "
                             f"got shape {tuple(x.shape)}")
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class InstanceNorm2d(Module):
    """Normalise each image's each channel over its H x W values (style transfer, GANs).

    Input (N, C, H, W). PyTorch's defaults: no parameters (``affine=False``)
    and no running statistics (``track_running_stats=False``), so training and
    evaluation compute the same thing. With ``track_running_stats`` the
    buffers ``running_mean``, ``running_var`` and ``num_batches_tracked`` are
    kept in training and used in ``eval()``, as batch norm's.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = False,
                 track_running_stats: bool = False, device: Any = None, dtype: Any = None):
        super().__init__()
        name = type(self).__name__
        self.num_features = positive_int(num_features, "num_features", name)
        self.eps, self.momentum = non_negative(eps, "eps", name), probability(momentum, "momentum", name)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        _affine_parameters(self, (self.num_features,), self.affine, device, dtype)
        if self.track_running_stats:
            xp = backend.namespace(backend.get_default_device() if device is None else device)
            dtype = backend.get_default_dtype() if dtype is None else numpy.dtype(dtype)
            self.register_buffer("running_mean", xp.zeros((self.num_features,), dtype=dtype))
            self.register_buffer("running_var", xp.ones((self.num_features,), dtype=dtype))
            self.register_buffer("num_batches_tracked", xp.zeros((), dtype=numpy.int64))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def forward(self, x: Tensor) -> Tensor:
        name = type(self).__name__
        if len(x.shape) != 4 or x.shape[1] != self.num_features:
            raise ValueError(f"{name}: expected input (N, {self.num_features}, H, W) (num_features), "
                             f"got shape {tuple(x.shape)}")
        use_input_stats = self.training or not self.track_running_stats
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
        return instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                             use_input_stats, self.momentum, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")
