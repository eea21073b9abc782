"""The 2-D convolution layer: holds the kernels, calls :func:`minidl.functional.conv.conv2d`."""
from __future__ import annotations

from typing import Any, Sequence, Union


from ..autograd import Tensor
from ..functional._windows import check_4d
from ..functional.conv import conv2d
from ..validate import pair, positive_int
from . import init
from .module import Module


class Conv2d(Module):
    """y = conv2d(x, weight, bias), PyTorch's constructor and initialisation.

    Shapes: x (N, in_channels, H, W) -> y (N, out_channels, OH, OW);
    ``weight`` (out_channels, in_channels/groups, kh, kw), ``bias`` (out_channels,).
    Initialised as PyTorch does: kaiming_uniform_(a=sqrt(5)) for the weight,
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias, fan_in = in_channels/groups*kh*kw.

    Args:
        in_channels, out_channels: channels of the input and of the output.
        kernel_size, stride, dilation: ints or (h, w) pairs.
        padding: int, pair, "same" (stride 1) or "valid".
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
        super().__init__()
        for name, n in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            positive_int(n, name, "Conv2d")
        if in_channels % groups:
            raise ValueError(f"Conv2d: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"Conv2d: out_channels ({out_channels}) must be divisible by groups ({groups})")
        if padding_mode != "zeros":
            raise ValueError(f"Conv2d: only padding_mode='zeros' is supported, got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = pair(kernel_size, "kernel_size", "Conv2d", 1)
        self.stride = pair(stride, "stride", "Conv2d", 1)
        self.dilation = pair(dilation, "dilation", "Conv2d", 1)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Conv2d: padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
            if padding == "same" and self.stride != (1, 1):
                raise ValueError(f"Conv2d: padding='same' needs stride 1, got stride {self.stride}")
            self.padding = padding
        else:
            self.padding = pair(padding, "padding", "Conv2d", 0)
        self.padding_mode = padding_mode
        shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        self.weight = init.empty_parameter(shape, device, dtype, "Conv2d")
        if bias:
            self.bias = init.empty_parameter((self.out_channels,), device, dtype, "Conv2d")
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Fresh weights as PyTorch draws them (see :mod:`minidl.nn.init`)."""
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        check_4d(x, "Conv2d")
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f"Conv2d expects {self.in_channels} input channels, got input of shape {tuple(x.shape)} "
                f"({x.shape[1]} channels)"
            )
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding!r}" if isinstance(self.padding, str) else f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s
