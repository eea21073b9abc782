"""VGG-11 and VGG-16 (Simonyan and Zisserman 2014), with and without batch norm, as torchvision builds them.

Input: (N, 3, H, W) RGB normalised with ImageNet's mean and std, 224x224 for
the ImageNet weights (at least 32x32 runs: the adaptive pooling resizes
whatever map is left to 7x7). Output: (N, num_classes) logits; with
``include_top=False``, the (N, 512) globally average-pooled features of the
last convolution (the three-layer classifier is dropped).

VGG is the plainest deep convnet: stacks of 3x3 convolutions (padding 1, so
the size is kept) and ReLU, halved by 2x2 max pooling after each stack::

    "vgg11": 64 M 128 M 256 256 M 512 512 M 512 512 M
    "vgg16": 64 64 M 128 128 M 256 256 256 M 512 512 512 M 512 512 512 M

Two 3x3 layers see a 5x5 window with fewer weights than one 5x5 layer, and
an extra ReLU between. Parameter names follow torchvision: ``features.{i}``
numbers the convs, batch norms, ReLUs and poolings in order (so the indices
differ with and without BN); ``classifier.0``, ``.3`` and ``.6`` are the
three Linear layers. VGG-16's 138M parameters are mostly in the first of
them (25088 x 4096).
"""
from __future__ import annotations

from typing import Sequence, Union

from .. import nn
from ..autograd import Tensor
from ._init import check_num_classes, init_imagenet_weights

CONFIGS = {
    "vgg11": (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "vgg16": (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
}


def make_features(config: Sequence[Union[int, str]], batch_norm: bool, in_channels: int = 3) -> nn.Sequential:
    """The convolutional part: conv 3x3 (+ BN) + ReLU for each width, MaxPool2d(2) for each "M"."""
    layers: list = []
    width = in_channels
    for v in config:
        if v == "M":
            layers.append(nn.MaxPool2d(2, stride=2))
            continue
        layers.append(nn.Conv2d(width, v, 3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU())
        width = v
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """features -> AdaptiveAvgPool2d(7) -> flatten -> Linear-ReLU-Dropout x2 -> Linear."""

    def __init__(self, config: Sequence[Union[int, str]], batch_norm: bool = False, num_classes: int = 1000,
                 include_top: bool = True, in_channels: int = 3, dropout: float = 0.5):
        super().__init__()
        self.include_top = include_top
        self.features = make_features(config, batch_norm, in_channels)
        self.num_features = 512
        if include_top:
            self.avgpool = nn.AdaptiveAvgPool2d(7)
            self.classifier = nn.Sequential(
                nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Dropout(dropout),
                nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(dropout),
                nn.Linear(4096, num_classes),
            )
        else:
            self.avgpool = nn.AdaptiveAvgPool2d(1)
        init_imagenet_weights(self, linear_std=0.01)

    def forward(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.features(x))  # (N, 512, 7, 7), or (N, 512, 1, 1) without the top
        x = x.reshape(x.shape[0], -1)
        return self.classifier(x) if self.include_top else x


def _vgg(name: str, batch_norm: bool, num_classes: int, include_top: bool, in_channels: int) -> VGG:
    check_num_classes(num_classes, name + ("_bn" if batch_norm else ""))
    return VGG(CONFIGS[name], batch_norm, num_classes, include_top, in_channels)


def vgg11(num_classes: int = 1000, include_top: bool = True, in_channels: int = 3) -> VGG:
    """VGG-11 (configuration "A"): 132,863,336 parameters with the 1000-class head."""
    return _vgg("vgg11", False, num_classes, include_top, in_channels)


def vgg11_bn(num_classes: int = 1000, include_top: bool = True, in_channels: int = 3) -> VGG:
    """VGG-11 with batch norm after every convolution: 132,868,840 parameters."""
    return _vgg("vgg11", True, num_classes, include_top, in_channels)


def vgg16(num_classes: int = 1000, include_top: bool = True, in_channels: int = 3) -> VGG:
    """VGG-16 (configuration "D"): 138,357,544 parameters with the 1000-class head."""
    return _vgg("vgg16", False, num_classes, include_top, in_channels)


def vgg16_bn(num_classes: int = 1000, include_top: bool = True, in_channels: int = 3) -> VGG:
    """VGG-16 with batch norm after every convolution: 138,365,992 parameters."""
    return _vgg("vgg16", True, num_classes, include_top, in_channels)
