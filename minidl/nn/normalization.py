"""Batch normalisation layers: learnable scale and shift, running statistics as buffers."""
from __future__ import annotations

import numbers
from typing import Any, Optional

import numpy

from .. import backend
from ..autograd import Tensor
from ..functional.norm import batch_norm
from .module import Module, Parameter


class _BatchNorm(Module):
    """Shared by BatchNorm1d and BatchNorm2d (they differ only in the input ranks they accept).

    Parameters: ``weight`` (gamma, ones) and ``bias`` (beta, zeros), (C,), when ``affine``.
    Buffers: ``running_mean`` (zeros), ``running_var`` (ones), ``num_batches_tracked``
    (a counter), when ``track_running_stats``. In ``train()`` mode the batch
    statistics normalise and the running ones are updated; in ``eval()`` the
    running ones normalise. ``momentum=None`` makes the running statistics a
    plain average over all batches seen (factor 1/num_batches_tracked).
    """

    _ranks: tuple = ()
    _layout: str = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: Optional[float] = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
    ):
        super().__init__()
        name = type(self).__name__
        if not isinstance(num_features, numbers.Integral) or isinstance(num_features, bool) or num_features < 1:
            raise ValueError(f"{name}: num_features must be a positive int, got {num_features!r}")
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"{name}: momentum must be in [0, 1] or None, got {momentum!r}")
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        xp = backend.namespace(backend.get_default_device() if device is None else device)
        dtype = backend.get_default_dtype() if dtype is None else numpy.dtype(dtype)
        c = self.num_features
        if self.affine:
            self.weight = Parameter(xp.ones((c,), dtype=dtype))
            self.bias = Parameter(xp.zeros((c,), dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", xp.zeros((c,), dtype=dtype))
            self.register_buffer("running_var", xp.ones((c,), dtype=dtype))
            self.register_buffer("num_batches_tracked", xp.zeros((), dtype=numpy.int64))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, counter 0."""
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def forward(self, x: Tensor) -> Tensor:
        name = type(self).__name__
        if len(x.shape) not in self._ranks:
            raise ValueError(f"{name}: expected input {self._layout}, got shape {tuple(x.shape)} ({len(x.shape)}-D)")
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{name}: expected {self.num_features} channels (num_features), got input of shape "
                f"{tuple(x.shape)} ({x.shape[1]} channels)"
            )
        # Training with running statistics: count the batch, and batch_norm updates the estimates
        # (functional/norm.py, update_running_stats). Without them the batch's statistics are
        # used in eval mode too (PyTorch's track_running_stats=False).
        updates_stats = self.training and self.track_running_stats
        if updates_stats:
            self.num_batches_tracked += 1
        if self.momentum is None:  # a cumulative average over all batches seen
            momentum = 1.0 / float(self.num_batches_tracked) if updates_stats else 0.0
        else:
            momentum = self.momentum
        use_batch_stats = self.training or not self.track_running_stats
        return batch_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias, use_batch_stats, momentum, self.eps
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch norm of features (N, C) or sequences (N, C, L): statistics per channel over N (and L)."""

    _ranks = (2, 3)
    _layout = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm of images (N, C, H, W): statistics per channel over N, H and W."""

    _ranks = (4,)
    _layout = "4-D (N, C, H, W)"
