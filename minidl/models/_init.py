"""What the ImageNet networks share: their weight initialisation and argument checks."""
from __future__ import annotations

from .. import nn
from ..validate import positive_int


def init_imagenet_weights(model: nn.Module, linear_std: float | None = None) -> nn.Module:
    """torchvision's initialisation for training from scratch.

    Convolutions: He normal for the gradients (``fan_out``, ReLU gain), bias 0;
    batch norm: weight 1, bias 0; Linear: N(0, ``linear_std``^2) and bias 0
    when ``linear_std`` is given (VGG's 0.01, MobileNetV2's), else PyTorch's
    default. Pretrained weights overwrite all of it.
    """
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)) and module.weight is not None:
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear) and linear_std is not None:
            nn.init.normal_(module.weight, 0.0, linear_std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return model


def check_num_classes(num_classes: int, who: str) -> int:
    return positive_int(num_classes, "num_classes", who)
