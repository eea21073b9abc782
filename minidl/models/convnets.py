"""Small classic networks: the seed's Keras MNIST convnet and an MLP."""
from __future__ import annotations

from typing import Sequence, Tuple, Union

from .. import nn


def keras_mnist_convnet(num_classes: int = 10, in_channels: int = 1,
                        input_size: Union[int, Tuple[int, int]] = 28) -> nn.Sequential:
    """The convnet of the Keras MNIST example, for 28x28 images: 34,826 parameters.

    ``input_size`` (H or (H, W)) sizes the last layer for other images: each
    3x3 convolution takes 2 pixels off, each 2x2 pooling halves (rounding down),
    so 32x32 (CIFAR-10) ends at (None, 64, 6, 6) and Linear(2304, 10).

    ======================  ==================  ========
    layer                   output              params
    ======================  ==================  ========
    Conv2d(1, 32, 3)        (None, 32, 26, 26)       320
    ReLU, MaxPool2d(2)      (None, 32, 13, 13)
    Conv2d(32, 64, 3)       (None, 64, 11, 11)    18,496
    ReLU, MaxPool2d(2)      (None, 64, 5, 5)
    Flatten, Dropout(0.5)   (None, 1600)
    Linear(1600, 10)        (None, 10)            16,010
    ======================  ==================  ========
    """
    h, w = (input_size, input_size) if isinstance(input_size, int) else tuple(input_size)
    fh, fw = ((h - 2) // 2 - 2) // 2, ((w - 2) // 2 - 2) // 2  # the feature map after the second pooling
    if fh < 1 or fw < 1:
        raise ValueError(f"input_size must be at least 10x10 for two 3x3 convolutions and 2x2 poolings, "
                         f"got {h}x{w}")
    return nn.Sequential(
        nn.Conv2d(in_channels, 32, kernel_size=3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, kernel_size=3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.5),
        nn.Linear(64 * fh * fw, num_classes),
    )


def mlp(in_features: int = 784, hidden: Sequence[int] = (256,), num_classes: int = 10) -> nn.Sequential:
    """Flatten, then Linear + ReLU for each hidden size, then a Linear head (logits)."""
    layers: list = [nn.Flatten()]
    width = in_features
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)
