"""EfficientNet-Lite0 (Tan and Le 2019; the "Lite" variant for mobile CPUs), named as its weight file names it.

Input: (N, 3, 224, 224) RGB, preprocessed as the TensorFlow original that
the weights come from: pixels in [0, 255], ``(x - 127) / 128``, so on [0, 1]
images ``(x - 127/255) / (128/255)``, nearly (x - 0.5) / 0.5
(:func:`preprocess` does it; ``efficientnet_lite_builder.py`` in the
TensorFlow repository gives MEAN_RGB = 127, STDDEV_RGB = 128 for the Lite
models). Other sizes run too. Output: (N, num_classes) logits, or the
(N, 1280) pooled features with ``include_top=False``.

EfficientNet-Lite0 is EfficientNet-B0 made friendly to phones: no
squeeze-and-excitation, ReLU6 instead of swish, and a stem and head that do
not scale. What is left is a stack of MBConv blocks, the inverted residual of
MobileNetV2 (expand 1x1, depthwise kxk, project 1x1, + x when the shape is
kept), with 5x5 depthwise kernels in some stages::

    stage  repeats  kernel  stride  expand  channels (in -> out)
    1      1        3       1       1       32 -> 16
    2      2        3       2       6       16 -> 24
    3      2        5       2       6       24 -> 40
    4      3        3       2       6       40 -> 80
    5      3        5       1       6       80 -> 112
    6      4        5       2       6       112 -> 192
    7      1        3       1       6       192 -> 320

Padding is TensorFlow's "SAME": the output is ceil(H / stride), and when the
padding needed is odd the extra row and column go at the bottom and right
(PyTorch's symmetric padding would shift the grid by one pixel and the
ImageNet weights would no longer fit). Batch norm: eps 1e-3, momentum 0.01
(TensorFlow's 0.99). Names: ``_conv_stem``, ``_bn0``, ``_blocks.{i}`` with
``_expand_conv``/``_bn0``, ``_depthwise_conv``/``_bn1``,
``_project_conv``/``_bn2``, then ``_conv_head``, ``_bn1`` and ``_fc``.
"""
from __future__ import annotations

import math
from typing import Any

from .. import nn
from ..autograd import Tensor
from ..functional.conv import conv2d
from ..functional.pad import pad
from ._init import check_num_classes, init_imagenet_weights

#: (repeats, kernel, stride, expand ratio, in channels, out channels) of each stage
STAGES = ((1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320))
MEAN, STD = 127.0 / 255.0, 128.0 / 255.0
BN = dict(eps=1e-3, momentum=0.01)


def same_padding(size: int, kernel: int, stride: int) -> tuple:
    """TensorFlow's SAME padding of one axis: (before, after), the odd pixel after."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SameConv2d(nn.Conv2d):
    """A Conv2d with TensorFlow's "SAME" padding, worked out from each input's size."""

    def __init__(self, cin: int, cout: int, kernel_size: int, stride: int = 1, groups: int = 1):
        super().__init__(cin, cout, kernel_size, stride=stride, groups=groups, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        top, bottom = same_padding(x.shape[2], kh, sh)
        left, right = same_padding(x.shape[3], kw, sw)
        if top or bottom or left or right:
            x = pad(x, (left, right, top, bottom))
        return conv2d(x, self.weight, self.bias, self.stride, 0, 1, self.groups)  # bias: None unless fused


class MBConvBlock(nn.Module):
    """Expand (1x1, when expand_ratio > 1), depthwise kxk, project (1x1, linear); + x when the shape is kept."""

    def __init__(self, cin: int, cout: int, kernel_size: int, stride: int, expand_ratio: int):
        super().__init__()
        hidden = cin * expand_ratio
        if expand_ratio != 1:
            self._expand_conv = SameConv2d(cin, hidden, 1)
            self._bn0 = nn.BatchNorm2d(hidden, **BN)
        self._depthwise_conv = SameConv2d(hidden, hidden, kernel_size, stride=stride, groups=hidden)
        self._bn1 = nn.BatchNorm2d(hidden, **BN)
        self._project_conv = SameConv2d(hidden, cout, 1)
        self._bn2 = nn.BatchNorm2d(cout, **BN)
        self._relu6 = nn.ReLU6()
        self.expand = expand_ratio != 1
        self.use_residual = stride == 1 and cin == cout

    def forward(self, x: Tensor) -> Tensor:
        out = self._relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        out = self._relu6(self._bn1(self._depthwise_conv(out)))
        out = self._bn2(self._project_conv(out))
        return out + x if self.use_residual else out


class EfficientNetLite(nn.Module):
    """Stem (3x3/2 to 32 channels), 16 MBConv blocks, head (1x1 to 1280), pooling, dropout, classifier."""

    def __init__(self, num_classes: int = 1000, include_top: bool = True, in_channels: int = 3,
                 dropout: float = 0.2):
        super().__init__()
        self.include_top = include_top
        self._conv_stem = SameConv2d(in_channels, 32, 3, stride=2)
        self._bn0 = nn.BatchNorm2d(32, **BN)
        blocks = []
        for repeats, kernel, stride, expand, cin, cout in STAGES:
            for k in range(repeats):
                blocks.append(MBConvBlock(cin if k == 0 else cout, cout, kernel, stride if k == 0 else 1, expand))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(320, 1280, 1)
        self._bn1 = nn.BatchNorm2d(1280, **BN)
        self._relu6 = nn.ReLU6()
        self._avg_pooling = nn.AdaptiveAvgPool2d(1)
        self.num_features = 1280
        if include_top:
            self._dropout = nn.Dropout(dropout)
            self._fc = nn.Linear(1280, num_classes)
        init_imagenet_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        x = self._relu6(self._bn0(self._conv_stem(x)))     # (N, 32, H/2, W/2)
        for block in self._blocks:
            x = block(x)                                   # ... (N, 320, H/32, W/32)
        x = self._relu6(self._bn1(self._conv_head(x)))     # (N, 1280, H/32, W/32)
        x = self._avg_pooling(x).reshape(x.shape[0], -1)   # (N, 1280)
        return self._fc(self._dropout(x)) if self.include_top else x


def efficientnet_lite0(num_classes: int = 1000, include_top: bool = True, in_channels: int = 3) -> EfficientNetLite:
    """EfficientNet-Lite0: 4,652,008 parameters with the 1000-class head (4,694,073 with BN statistics)."""
    return EfficientNetLite(check_num_classes(num_classes, "efficientnet_lite0"), include_top, in_channels)


def preprocess(images: Any) -> Any:
    """[0, 1] RGB images (N, 3, H, W) -> the network's input: (x - 127/255) / (128/255)."""
    return (images - MEAN) / STD
