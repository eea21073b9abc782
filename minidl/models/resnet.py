"""ResNet-18, -34 and -50 (He et al. 2015), in torchvision's layout and parameter names.

Input: (N, 3, H, W) RGB, normalised with ImageNet's mean and std; 224x224 for
the ImageNet weights, but any size of at least 32x32 runs (the global
average pooling takes whatever map is left). Output: (N, num_classes)
logits, or with ``include_top=False`` the (N, 512) (ResNet-50: 2048)
features the classifier would read.

The shape of ResNet-18 on a 224x224 image::

    conv1 7x7/2, bn1, relu   (N, 64, 112, 112)
    maxpool 3x3/2            (N, 64, 56, 56)
    layer1: 2 BasicBlocks    (N, 64, 56, 56)
    layer2: 2 BasicBlocks    (N, 128, 28, 28)    the first block halves H, W
    layer3: 2 BasicBlocks    (N, 256, 14, 14)
    layer4: 2 BasicBlocks    (N, 512, 7, 7)
    avgpool                  (N, 512, 1, 1) -> flatten (N, 512)
    fc                       (N, num_classes)

A block computes relu(F(x) + x): its layers learn only the *residual* F,
which is what lets a 50-layer network train (the identity path carries the
gradient straight through). When a block changes the shape, ``downsample``
(a strided 1x1 conv and batch norm) brings x to the new shape.
"""
from __future__ import annotations

from typing import Sequence, Type, Union

from .. import nn
from ..autograd import Tensor
from ._init import check_num_classes, init_imagenet_weights


def _conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


def _downsample(cin: int, cout: int, stride: int) -> Union[nn.Sequential, None]:
    """The shortcut's projection when the block changes the shape, else None (the identity)."""
    if stride == 1 and cin == cout:
        return None
    return nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))


class BasicBlock(nn.Module):
    """relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)): two 3x3 convs (ResNet-18, -34)."""

    expansion = 1

    def __init__(self, cin: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = _conv3x3(cin, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = _downsample(cin, planes, stride)

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


class Bottleneck(nn.Module):
    """1x1 (narrow) -> 3x3 -> 1x1 (4x wider), plus the shortcut (ResNet-50).

    The stride sits on the 3x3 conv, as in torchvision ("ResNet v1.5").
    """

    expansion = 4

    def __init__(self, cin: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = _conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU()
        self.downsample = _downsample(cin, planes * 4, stride)

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


class ResNet(nn.Module):
    """The stem, four stages of blocks (widths 64, 128, 256, 512), pooling and the classifier."""

    def __init__(self, block: Type[nn.Module], layers: Sequence[int], num_classes: int = 1000,
                 include_top: bool = True, in_channels: int = 3):
        super().__init__()
        self.include_top = include_top
        self.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        width = 64
        for k, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers)):
            stride = 1 if k == 0 else 2
            stage = []
            for b in range(blocks):
                stage.append(block(width, planes, stride if b == 0 else 1))
                width = planes * block.expansion
            setattr(self, f"layer{k + 1}", nn.Sequential(*stage))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.num_features = width
        self.fc = nn.Linear(width, num_classes) if include_top else None
        init_imagenet_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))   # (N, 64, H/4, W/4)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))  # (N, C, H/32, W/32)
        x = self.avgpool(x).reshape(x.shape[0], -1)            # (N, C)
        return x if self.fc is None else self.fc(x)


def resnet18(num_classes: int = 1000, include_top: bool = True, in_channels: int = 3) -> ResNet:
    """ResNet-18: 11,689,512 parameters with the 1000-class head."""
    return ResNet(BasicBlock, (2, 2, 2, 2), check_num_classes(num_classes, "resnet18"), include_top, in_channels)


def resnet34(num_classes: int = 1000, include_top: bool = True, in_channels: int = 3) -> ResNet:
    """ResNet-34: 21,797,672 parameters with the 1000-class head."""
    return ResNet(BasicBlock, (3, 4, 6, 3), check_num_classes(num_classes, "resnet34"), include_top, in_channels)


def resnet50(num_classes: int = 1000, include_top: bool = True, in_channels: int = 3) -> ResNet:
    """ResNet-50: 25,557,032 parameters with the 1000-class head."""
    return ResNet(Bottleneck, (3, 4, 6, 3), check_num_classes(num_classes, "resnet50"), include_top, in_channels)
