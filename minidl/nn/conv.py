"""Convolution layers: Conv1d, Conv2d, ConvTranspose2d. Each holds its kernels and calls its op in
:mod:`minidl.functional` (``conv1d``, ``conv2d``, ``conv_transpose2d``).

What they share sits in :class:`_ConvNd`, as in PyTorch: the channel checks,
the parameters, PyTorch's initialisation and the repr.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence, Union

from ..autograd import Tensor
from ..functional._windows import check_4d, conv_arguments
from ..functional.conv import conv2d
from ..functional.conv1d import conv1d, padding_1d, single
from ..functional.conv_transpose import (check_no_string_padding, check_output_padding, conv_transpose2d,
                                         output_padding_for)
from ..validate import pair, positive_int
from . import init
from .module import Module


class _ConvNd(Module):
    """The parts every convolution layer shares; a subclass sets the kernel_size, stride, ... first.

    ``weight`` has shape (out_channels, in_channels/groups, *kernel), or
    (in_channels, out_channels/groups, *kernel) when ``transposed``, as in PyTorch.
    Initialised as PyTorch does: kaiming_uniform_(a=sqrt(5)) for the weight,
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias, fan_in = weight.shape[1] * kernel size.
    """

    transposed = False
    output_padding: tuple = ()  # a transposed convolution's (h, w); none for the others

    def __init__(self, in_channels: int, out_channels: int, groups: int, padding_mode: str):
        super().__init__()
        who = type(self).__name__
        for name, n in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            positive_int(n, name, who)
        if in_channels % groups:
            raise ValueError(f"{who}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{who}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        if padding_mode != "zeros":
            raise ValueError(f"{who}: only padding_mode='zeros' is supported, got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.padding_mode = padding_mode

    def _make_parameters(self, bias: bool, device: Any, dtype: Any) -> None:
        if self.transposed:  # (in_channels, out_channels/groups, *kernel), as PyTorch
            shape = (self.in_channels, self.out_channels // self.groups) + tuple(self.kernel_size)
        else:                # (out_channels, in_channels/groups, *kernel)
            shape = (self.out_channels, self.in_channels // self.groups) + tuple(self.kernel_size)
        self.weight = init.empty_parameter(shape, device, dtype, type(self).__name__)
        if bias:
            self.bias = init.empty_parameter((self.out_channels,), device, dtype, type(self).__name__)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Fresh weights as PyTorch draws them (see :mod:`minidl.nn.init`)."""
        init.default_layer_init_(self.weight, self.bias)

    def _check_input(self, x: Tensor) -> None:
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f"{type(self).__name__} expects {self.in_channels} input channels, got input of shape "
                f"{tuple(x.shape)} ({x.shape[1]} channels)"
            )

    def extra_repr(self) -> str:
        """PyTorch's: the channels, kernel_size and stride, then what differs from the defaults."""
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if isinstance(self.padding, str):
            s += f", padding={self.padding!r}"
        elif any(self.padding):
            s += f", padding={self.padding}"
        if any(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if any(d != 1 for d in self.dilation):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv1d(_ConvNd):
    """y = conv1d(x, weight, bias), PyTorch's constructor and initialisation.

    Shapes: x (N, in_channels, L) -> y (N, out_channels, L_out);
    ``weight`` (out_channels, in_channels/groups, k), ``bias`` (out_channels,).
    ``kernel_size``, ``stride``, ``dilation`` are kept as 1-tuples, as PyTorch keeps them.

    Args:
        in_channels, out_channels: channels of the input and of the output.
        kernel_size, stride, dilation: ints (or 1-tuples).
        padding: int, (left, right), "same" (stride 1) or "valid".
        groups, bias, padding_mode, device, dtype: as :class:`Conv2d`.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Union[int, Sequence[int]],
        stride: Union[int, Sequence[int]] = 1,
        padding: Union[int, Sequence[int], str] = 0,
        dilation: Union[int, Sequence[int]] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ):
        super().__init__(in_channels, out_channels, groups, padding_mode)
        self.kernel_size = (single(kernel_size, "kernel_size", "Conv1d", 1),)
        self.stride = (single(stride, "stride", "Conv1d", 1),)
        self.dilation = (single(dilation, "dilation", "Conv1d", 1),)
        both = padding_1d(padding, self.stride[0], "Conv1d")  # "same" or (left, right), checked as conv1d will
        self.padding = padding if isinstance(padding, str) else (both[0],) if both[0] == both[1] else both
        self._make_parameters(bias, device, dtype)

    def forward(self, x: Tensor) -> Tensor:
        if len(x.shape) != 3:
            raise ValueError(f"Conv1d: input must be 3-D (N, C, L), got shape {tuple(x.shape)} ({len(x.shape)}-D)")
        self._check_input(x)
        return conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv2d(_ConvNd):
    """y = conv2d(x, weight, bias), PyTorch's constructor and initialisation.

    Shapes: x (N, in_channels, H, W) -> y (N, out_channels, OH, OW);
    ``weight`` (out_channels, in_channels/groups, kh, kw), ``bias`` (out_channels,).
    Initialised as PyTorch does: kaiming_uniform_(a=sqrt(5)) for the weight,
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias, fan_in = in_channels/groups*kh*kw.

    Args:
        in_channels, out_channels: channels of the input and of the output.
        kernel_size, stride, dilation: ints or (h, w) pairs.
        padding: int, (h, w), (left, right, top, bottom) as ``nn.ZeroPad2d`` orders it
            (PyTorch's Conv2d takes no 4-tuple), "same" (stride 1) or "valid".
        groups: split the channels into independent convolutions.
        bias: learn an additive bias per output channel.
        padding_mode: only "zeros" (PyTorch's default).
        device, dtype: where and how the parameters are made (default: current backend, float32).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Union[int, Sequence[int]],
        stride: Union[int, Sequence[int]] = 1,
        padding: Union[int, Sequence[int], str] = 0,
        dilation: Union[int, Sequence[int]] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ):
        super().__init__(in_channels, out_channels, groups, padding_mode)
        self.kernel_size, self.stride, _, self.dilation = conv_arguments(kernel_size, stride, padding, dilation,
                                                                         "Conv2d")
        self.padding = padding_as_given(padding, "Conv2d")
        self._make_parameters(bias, device, dtype)

    def forward(self, x: Tensor) -> Tensor:
        check_4d(x, "Conv2d")
        self._check_input(x)
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class ConvTranspose2d(_ConvNd):
    """y = conv_transpose2d(x, weight, bias), the adjoint of a Conv2d; PyTorch's constructor and init.

    Shapes: x (N, in_channels, H, W) -> y (N, out_channels, H_out, W_out) with
    H_out = (H - 1)*sh - 2*ph + dh*(kh - 1) + output_padding_h + 1 (W_out alike);
    ``weight`` (in_channels, out_channels/groups, kh, kw), ``bias`` (out_channels,).
    ``forward(x, output_size=(H_out, W_out))`` picks the output_padding that
    gives that size, as PyTorch's (with stride 2 two sizes map to one: 7 and 8
    both become 4, and a decoder says which one it wants back).

    Args:
        in_channels, out_channels: channels of the input and of the output.
        kernel_size, stride, dilation: ints or (h, w) pairs.
        padding: int, (h, w) or (left, right, top, bottom): what the matching Conv2d pads.
        output_padding: int or (h, w), smaller than the stride or the dilation.
        groups, bias, padding_mode, device, dtype: as :class:`Conv2d`.
    """

    transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Union[int, Sequence[int]],
        stride: Union[int, Sequence[int]] = 1,
        padding: Union[int, Sequence[int]] = 0,
        output_padding: Union[int, Sequence[int]] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: Union[int, Sequence[int]] = 1,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ):
        super().__init__(in_channels, out_channels, groups, padding_mode)
        check_no_string_padding(padding, "ConvTranspose2d")
        self.kernel_size, self.stride, _, self.dilation = conv_arguments(kernel_size, stride, padding, dilation,
                                                                         "ConvTranspose2d")
        self.padding = padding_as_given(padding, "ConvTranspose2d")
        self.output_padding = check_output_padding(output_padding, self.stride, self.dilation, "ConvTranspose2d")
        self._make_parameters(bias, device, dtype)

    def forward(self, x: Tensor, output_size: Optional[Sequence[int]] = None) -> Tensor:
        check_4d(x, "ConvTranspose2d")
        self._check_input(x)
        output_padding = self.output_padding
        if output_size is not None:
            output_padding = output_padding_for(x.shape, output_size, self.kernel_size, self.stride, self.padding,
                                                self.dilation, "ConvTranspose2d")
        return conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, output_padding, self.groups,
                                self.dilation)


def padding_as_given(padding: Any, who: str) -> Union[str, tuple]:
    """A layer keeps its padding as PyTorch does: a string, an (h, w) pair, or our (left, right, top, bottom)."""
    if isinstance(padding, str):
        return padding
    if isinstance(padding, Sequence) and len(padding) == 4:
        return tuple(int(p) for p in padding)
    return pair(padding, "padding", who, 0)
