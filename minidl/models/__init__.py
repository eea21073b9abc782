"""Ready-made networks, by function or by name: ``get_model("keras-mnist-convnet")``."""
from __future__ import annotations

from typing import Any, Callable, Dict

from ..nn.module import Module
from .convnets import keras_mnist_convnet, mlp

_REGISTRY: Dict[str, Callable[..., Module]] = {
    "keras-mnist-convnet": keras_mnist_convnet,
    "mlp": mlp,
}


def list_models() -> list:
    """The names :func:`get_model` knows."""
    return sorted(_REGISTRY)


def get_model(name: str, **kwargs: Any) -> Module:
    """A fresh model by name ("keras-mnist-convnet", "mlp"); keyword arguments go to its builder.

    Underscores and case do not matter: "keras_mnist_convnet" works too.
    """
    key = str(name).strip().lower().replace("_", "-")
    if key not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(list_models())}")
    return _REGISTRY[key](**kwargs)


def register_model(name: str, builder: Callable[..., Module]) -> None:
    """Make ``get_model(name)`` call ``builder`` (for your own networks)."""
    _REGISTRY[str(name).strip().lower().replace("_", "-")] = builder


__all__ = ["get_model", "keras_mnist_convnet", "list_models", "mlp", "register_model"]
