"""Upsampling layer: a thin Module around :func:`minidl.functional.interpolate.interpolate`."""
from __future__ import annotations

from typing import Optional, Sequence, Union

from ..autograd import Tensor
from ..functional.interpolate import interpolate
from .module import Module


class Upsample(Module):
    """Resize (N, C, H, W) images to ``size`` or by ``scale_factor``: "nearest" or "bilinear" (PyTorch's ``nn.Upsample``).

    ``Upsample(scale_factor=2)`` doubles H and W by repeating each pixel;
    ``mode="bilinear"`` mixes the four pixels around each sampled point
    (``align_corners`` as in :func:`~minidl.functional.interpolate.interpolate`).
    """

    def __init__(
        self,
        size: Optional[Union[int, Sequence[int]]] = None,
        scale_factor: Optional[Union[float, Sequence[float]]] = None,
        mode: str = "nearest",
        align_corners: Optional[bool] = None,
    ):
        super().__init__()
        self.size = size
        if isinstance(scale_factor, (tuple, list)):
            self.scale_factor = tuple(float(f) for f in scale_factor)  # as PyTorch stores it
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners

    def forward(self, x: Tensor) -> Tensor:
        return interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners)

    def extra_repr(self) -> str:
        which = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return f"{which}, mode={self.mode!r}"
