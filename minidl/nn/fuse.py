"""Folding a batch norm into the convolution before it, for inference.

In eval mode batch norm is a fixed affine map per channel,
``bn(z) = gamma * (z - mu) / sqrt(var + eps) + beta = a * z + c`` with
``a = gamma / sqrt(var + eps)`` and ``c = beta - a * mu``. Applied to a
convolution's output ``z = W * x + b`` it gives ``(a W) * x + (a b + c)``:
another convolution, with each output channel's kernel scaled by ``a`` and a
new bias. The fused network computes the same thing with one layer less:
batch norm costs nothing at test time.
"""
from __future__ import annotations

from .. import backend
from ..autograd import no_grad
from .conv import Conv2d
from .normalization import _BatchNorm


def fuse_conv_bn(conv: Conv2d, bn: _BatchNorm) -> Conv2d:
    """One Conv2d equal to ``bn(conv(x))`` with ``bn`` in eval mode (the inputs are not changed).

    Needs ``bn.track_running_stats`` (the running statistics are what eval mode uses)
    and ``bn.num_features == conv.out_channels``.
    """
    if not isinstance(conv, Conv2d) or not isinstance(bn, _BatchNorm):
        raise TypeError(f"fuse_conv_bn needs a Conv2d and a BatchNorm, got {type(conv).__name__} and {type(bn).__name__}")
    if bn.num_features != conv.out_channels:
        raise ValueError(
            f"fuse_conv_bn: the batch norm has {bn.num_features} features but the convolution "
            f"{conv.out_channels} output channels"
        )
    if not bn.track_running_stats:
        raise ValueError("fuse_conv_bn: the batch norm keeps no running statistics (track_running_stats=False)")
    w = conv.weight.data
    xp = backend.get_array_module(w)
    device = backend.device_of(w)
    fused = Conv2d(
        conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, conv.dilation,
        conv.groups, bias=True, device=device, dtype=w.dtype,
    )
    mu = backend.to_device(bn.running_mean, device).astype(w.dtype)
    var = backend.to_device(bn.running_var, device).astype(w.dtype)
    a = 1.0 / xp.sqrt(var + bn.eps)  # (O,)
    c = -a * mu
    if bn.affine:
        gamma = bn.weight.data.astype(w.dtype)
        a, c = gamma * a, gamma * c + bn.bias.data.astype(w.dtype)
    b = conv.bias.data if conv.bias is not None else xp.zeros_like(a)
    with no_grad():
        fused.weight.data[...] = w * a.reshape(-1, 1, 1, 1)
        fused.bias.data[...] = a * b + c
    fused.train(conv.training)
    return fused
