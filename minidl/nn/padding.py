"""Padding layers: thin Modules around :func:`minidl.functional.pad.pad`."""
from __future__ import annotations

from typing import Sequence, Union

from ..autograd import Tensor
from ..functional.pad import pad
from .module import Module


def _four(padding: Union[int, Sequence[int]], layer: str) -> tuple:
    """An int, or (left, right, top, bottom) as PyTorch orders them."""
    if isinstance(padding, int) and not isinstance(padding, bool):
        return (padding,) * 4
    padding = tuple(padding)
    if len(padding) != 4:
        raise ValueError(f"{layer}: padding must be an int or (left, right, top, bottom); got {padding}")
    return padding


class _Pad2d(Module):
    mode = "constant"

    def __init__(self, padding: Union[int, Sequence[int]]):
        super().__init__()
        self.padding = _four(padding, type(self).__name__)

    def forward(self, x: Tensor) -> Tensor:
        return pad(x, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"padding={self.padding}"


class ZeroPad2d(_Pad2d):
    """Add zeros around (N, C, H, W) images: ``padding`` an int or (left, right, top, bottom)."""


class ReflectionPad2d(_Pad2d):
    """Pad (N, C, H, W) images with their mirror image, the edge not repeated."""

    mode = "reflect"


class ReplicationPad2d(_Pad2d):
    """Pad (N, C, H, W) images by repeating their edge pixels."""

    mode = "replicate"
