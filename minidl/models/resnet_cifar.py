"""ResNet-20 for 32x32 images (He et al. 2016, section 4.2): 269,722 parameters.

Input: (N, 3, 32, 32), e.g. CIFAR-10 normalised per channel. Output:
(N, num_classes) logits, or the (N, 64) pooled features with
``include_top=False``.

The paper's CIFAR network is not the ImageNet ResNet made smaller: a 3x3
stem with 16 filters, then three stages of n = 3 basic blocks (6n + 2 = 20
layers) with 16, 32 and 64 filters on 32x32, 16x16 and 8x8 maps, global
average pooling and the classifier. Where a stage halves the map and
doubles the width, the shortcut is the paper's *option A*: take every other
pixel and pad the new channels with zeros, so the shortcut adds no
parameters (``n=3`` gives 0.27M, as Table 6 reports)::

    shortcut(x) = pad(x[:, :, ::2, ::2], channels: C/2 zeros before and after)
"""
from __future__ import annotations

from .. import nn
from ..autograd import Tensor
from ..functional.pad import pad
from ._init import check_num_classes, init_imagenet_weights


class BasicBlockA(nn.Module):
    """relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), with the parameter-free option-A shortcut."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.stride, self.extra_channels = stride, cout - cin

    def shortcut(self, x: Tensor) -> Tensor:
        if self.stride == 1 and self.extra_channels == 0:
            return x
        x = x[:, :, ::self.stride, ::self.stride]                 # (N, C, H/2, W/2)
        half = self.extra_channels // 2
        return pad(x, (0, 0, 0, 0, half, self.extra_channels - half))  # (N, 2C, H/2, W/2)

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """conv 3x3 (16) -> 3 stages of n blocks (16, 32, 64 filters) -> global average pooling -> fc."""

    def __init__(self, n: int = 3, num_classes: int = 10, include_top: bool = True, in_channels: int = 3):
        super().__init__()
        self.include_top = include_top
        self.conv1 = nn.Conv2d(in_channels, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU()
        width = 16
        for k, planes in enumerate((16, 32, 64)):
            blocks = [BasicBlockA(width if b == 0 else planes, planes, 2 if (k > 0 and b == 0) else 1)
                      for b in range(n)]
            setattr(self, f"layer{k + 1}", nn.Sequential(*blocks))
            width = planes
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.num_features = 64
        self.fc = nn.Linear(64, num_classes) if include_top else None
        init_imagenet_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.bn1(self.conv1(x)))                    # (N, 16, 32, 32)
        x = self.layer3(self.layer2(self.layer1(x)))              # (N, 64, 8, 8)
        x = self.avgpool(x).reshape(x.shape[0], -1)               # (N, 64)
        return x if self.fc is None else self.fc(x)


def resnet20_cifar(num_classes: int = 10, include_top: bool = True, in_channels: int = 3) -> CifarResNet:
    """ResNet-20 (n = 3): 269,722 parameters with a 10-class head."""
    return CifarResNet(3, check_num_classes(num_classes, "resnet20_cifar"), include_top, in_channels)
