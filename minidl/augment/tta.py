"""Test-time augmentation: average the model's predictions over augmented copies.

A model that saw flipped and shifted images in training can be asked about
several versions of a test image; averaging its softmax probabilities
smooths out its mistakes on any single version. With ``n = 2`` and a flip,
this is the classic "original + mirror" average.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy

from .. import backend
from ..autograd import Tensor, no_grad


def _softmax(z: numpy.ndarray) -> numpy.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = numpy.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def tta_predict(model: Any, x: Any, transforms: Optional[Callable], n: int = 2, include_original: bool = True,
                batch_size: int = 512) -> numpy.ndarray:
    """Mean softmax probabilities (N, classes) over ``n`` versions of x, in eval mode.

    Args:
        model: a Module (or any callable) giving logits (N, classes), as a
            minidl Tensor or an array.
        x: the images (N, C, H, W), an array of any backend or a Tensor.
        transforms: an augmentation op (or a list of them, composed); each
            version gets fresh random parameters.
        n: how many versions are averaged. The first is x itself when
            ``include_original`` (the default), so ``n=2`` with a flip is the
            classic "original + mirror" average.
        batch_size: the model sees at most this many images at a time.

    Returns a NumPy array (host), float64. The model runs under
    ``minidl.no_grad()``; its training mode is restored afterwards.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    if isinstance(transforms, (list, tuple)):
        from .compose import Compose

        transforms = Compose(transforms)
    if transforms is None and not include_original:
        raise ValueError("transforms is None: there is nothing to augment with")
    x = x.data if isinstance(x, Tensor) else x
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    total = None
    try:
        with no_grad():
            for k in range(n):
                version = x if (k == 0 and include_original) or transforms is None else transforms(x)
                probs = []
                for i in range(0, len(version), batch_size):
                    out = model(version[i:i + batch_size])
                    out = out.data if isinstance(out, Tensor) else out
                    probs.append(_softmax(backend.to_numpy(out).astype(numpy.float64)))
                p = numpy.concatenate(probs)
                total = p if total is None else total + p
    finally:
        if was_training and hasattr(model, "train"):
            model.train()
    return total / n
