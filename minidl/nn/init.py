"""Weight initialisation, as PyTorch does it.

Why it matters: with weights too large, activations grow layer after layer and
gradients explode; too small, and they vanish. The schemes below pick the
spread so that the variance of activations (or gradients) stays the same
through a layer.

For a weight of shape (out, in, *kernel), with k = the product of the kernel sizes:
    fan_in  = in * k    (in_features for Linear; in_ch/groups * kh * kw for Conv2d)
    fan_out = out * k

===================  ==========================================================
scheme               distribution
===================  ==========================================================
xavier_uniform_      U(-a, a),  a = gain * sqrt(6 / (fan_in + fan_out))
xavier_normal_       N(0, std), std = gain * sqrt(2 / (fan_in + fan_out))
kaiming_uniform_     U(-b, b),  b = gain * sqrt(3 / fan),  gain = calculate_gain(nonlinearity, a)
kaiming_normal_      N(0, std), std = gain / sqrt(fan)
===================  ==========================================================

PyTorch's default for Linear and Conv2d (and ours):
    weight: kaiming_uniform_(a=sqrt(5)), which works out to U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    bias:   U(-1/sqrt(fan_in), 1/sqrt(fan_in))

Every function fills a Tensor (or a raw array) in place and returns it.
Random numbers are drawn on the CPU from ``generator`` (a NumPy Generator, or
an int seed; default: split off the default generator that ``mdl.manual_seed``
seeds), then moved to the tensor's device with ``xp.asarray``: the same seed
gives the same weights on every backend.

Why a = sqrt(5) gives 1/sqrt(fan_in): calculate_gain("leaky_relu", sqrt(5)) =
sqrt(2 / (1 + 5)) = sqrt(1/3), and b = sqrt(1/3) * sqrt(3 / fan_in) = 1/sqrt(fan_in).
A uniform U(-b, b) has standard deviation b / sqrt(3).
"""
from __future__ import annotations

import math
from typing import Any, Optional, Union

import numpy

from .. import backend
from ..autograd import Tensor


def calculate_gain(nonlinearity: str, param: Optional[float] = None) -> float:
    """The gain for a nonlinearity: linear/sigmoid 1, tanh 5/3, relu sqrt(2),
    leaky_relu sqrt(2 / (1 + slope^2)) (slope = param, default 0.01), selu 3/4."""
    if nonlinearity in ("linear", "identity", "conv1d", "conv2d", "conv3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor: Any) -> tuple:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel)."""
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a tensor of at least 2 dimensions, got shape {tuple(shape)}")
    receptive = 1
    for n in shape[2:]:
        receptive *= n
    return shape[1] * receptive, shape[0] * receptive


def _fan(tensor: Any, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor: Tensor, values: numpy.ndarray) -> Tensor:
    """Write host values into the tensor's own array (keeping dtype and device)."""
    data = tensor.data if isinstance(tensor, Tensor) else tensor
    data[...] = backend.to_device(values.astype(data.dtype), backend.device_of(data))
    return tensor


Generator = Union[numpy.random.Generator, int, None]


def _rng(generator: Generator) -> numpy.random.Generator:
    """The generator to draw from: the one given, one from an int seed, or a fresh split."""
    if isinstance(generator, numpy.random.Generator):
        return generator
    if generator is None or isinstance(generator, (int, numpy.integer)):
        return backend.new_generator(None if generator is None else int(generator))
    raise TypeError(f"generator must be a numpy.random.Generator, an int seed or None, got {type(generator).__name__}")


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Generator = None) -> Tensor:
    """Fill with U(a, b)."""
    return _fill(tensor, _rng(generator).uniform(a, b, size=tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Generator = None) -> Tensor:
    """Fill with N(mean, std^2)."""
    return _fill(tensor, _rng(generator).normal(mean, std, size=tensor.shape))


def constant_(tensor: Tensor, value: float) -> Tensor:
    """Fill with ``value``."""
    return _fill(tensor, numpy.full(tensor.shape, value))


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0 (the usual start for biases and batch norm's shift)."""
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1 (batch norm's scale)."""
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Generator = None) -> Tensor:
    """Glorot: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Generator = None) -> Tensor:
    """Glorot: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(
    tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator: Generator = None
) -> Tensor:
    """He: U(-b, b) with b = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a).

    ``a`` is the negative slope of a leaky ReLU that follows (0 for ReLU);
    ``mode="fan_in"`` keeps the forward activations' variance, "fan_out" the
    backward gradients'.
    """
    if tensor.size == 0:  # nothing to fill (and a fan of 0 would divide by zero)
        return tensor
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(tensor, mode))
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator: Generator = None
) -> Tensor:
    """He: N(0, std^2) with std = gain / sqrt(fan), gain = calculate_gain(nonlinearity, a)."""
    if tensor.size == 0:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def default_layer_init_(weight: Tensor, bias: Optional[Tensor], generator: Generator = None) -> None:
    """PyTorch's reset_parameters() for Linear and Conv: see the module docstring."""
    kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound, generator)


def empty_parameter(shape: tuple, device: Any = None, dtype: Any = None, who: str = "layer") -> Any:
    """An uninitialised Parameter of ``shape`` for a layer to fill with one of the schemes above.

    On ``device`` (default: the current backend), of a floating ``dtype``
    (default: float32); a non-floating dtype is an error naming the layer.
    """
    from .module import Parameter  # (module imports nothing from here; this keeps it that way)

    dtype = backend.get_default_dtype() if dtype is None else numpy.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"{who} needs a floating dtype, got {dtype}")
    xp = backend.namespace(backend.get_default_device() if device is None else device)
    return Parameter(xp.empty(shape, dtype=dtype))
