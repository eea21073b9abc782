"""MobileNetV2 (Sandler et al. 2018) in torchvision's layout and parameter names.

Input: (N, 3, H, W) RGB normalised with ImageNet's mean and std, 224x224 for
the ImageNet weights (at least 32x32 runs). Output: (N, num_classes)
logits, or the (N, 1280) pooled features with ``include_top=False``.

Its building block, the *inverted residual*, makes a convolution cheap by
splitting it (t is the expansion factor, 6 in most blocks)::

    1x1 conv  C -> t*C, BN, ReLU6       "expand": widen the narrow input
    3x3 depthwise conv (groups = t*C)    one 3x3 filter per channel: 9 multiply-adds
        BN, ReLU6                        per pixel and channel, not 9*t*C
    1x1 conv  t*C -> C', BN              "project" back down, with no ReLU
                                         (a linear bottleneck keeps information)
    + x when the shape is unchanged

The stages (t, output channels, blocks, first stride) are those of the paper::

    (1, 16, 1, 1) (6, 24, 2, 2) (6, 32, 3, 2) (6, 64, 4, 2) (6, 96, 3, 1) (6, 160, 3, 2) (6, 320, 1, 1)

Names: ``features.0`` is the stem (conv, BN, ReLU6 as ``.0 .1 .2``),
``features.1`` to ``.17`` the blocks (each a ``conv`` Sequential),
``features.18`` the last 1x1 conv to 1280 channels, ``classifier.1`` the
Linear layer (``classifier.0`` is Dropout(0.2)).
"""
from __future__ import annotations

from .. import nn
from ..autograd import Tensor
from ._init import check_num_classes, init_imagenet_weights

STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


def conv_bn_relu6(cin: int, cout: int, kernel_size: int = 3, stride: int = 1, groups: int = 1) -> nn.Sequential:
    """Conv (no bias, "same" size at stride 1) -> BatchNorm -> ReLU6: torchvision's Conv2dNormActivation."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel_size, stride=stride, padding=(kernel_size - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU6(),
    )


class InvertedResidual(nn.Module):
    """Expand (1x1), filter (3x3 depthwise), project (1x1, linear); + x when the shape is kept."""

    def __init__(self, cin: int, cout: int, stride: int, expand_ratio: int):
        super().__init__()
        hidden = cin * expand_ratio
        self.use_residual = stride == 1 and cin == cout
        layers = [conv_bn_relu6(cin, hidden, kernel_size=1)] if expand_ratio != 1 else []
        layers += [
            conv_bn_relu6(hidden, hidden, stride=stride, groups=hidden),  # depthwise
            nn.Conv2d(hidden, cout, 1, bias=False),                       # project
            nn.BatchNorm2d(cout),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv(x) if self.use_residual else self.conv(x)


class MobileNetV2(nn.Module):
    """The stem, 17 inverted residual blocks, a 1x1 conv to 1280 channels, pooling, the classifier."""

    def __init__(self, num_classes: int = 1000, include_top: bool = True, in_channels: int = 3,
                 dropout: float = 0.2):
        super().__init__()
        self.include_top = include_top
        layers = [conv_bn_relu6(in_channels, 32, stride=2)]
        width = 32
        for t, c, n, s in STAGES:
            for k in range(n):
                layers.append(InvertedResidual(width, c, s if k == 0 else 1, t))
                width = c
        layers.append(conv_bn_relu6(width, 1280, kernel_size=1))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.num_features = 1280
        if include_top:
            self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(1280, num_classes))
        init_imagenet_weights(self, linear_std=0.01)

    def forward(self, x: Tensor) -> Tensor:
        x = self.pool(self.features(x))  # (N, 1280, 1, 1)
        x = x.reshape(x.shape[0], -1)    # (N, 1280)
        return self.classifier(x) if self.include_top else x


def mobilenet_v2(num_classes: int = 1000, include_top: bool = True, in_channels: int = 3) -> MobileNetV2:
    """MobileNetV2 (width 1.0): 3,504,872 parameters with the 1000-class head."""
    return MobileNetV2(check_num_classes(num_classes, "mobilenet_v2"), include_top, in_channels)
