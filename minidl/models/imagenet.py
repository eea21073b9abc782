"""ImageNet's side of the model zoo: class names, photo preprocessing, top-k decoding.

    model = get_model("efficientnet-lite0", weights="imagenet").eval()
    x = load_image("cat.jpg", mean=efficientnet_lite.MEAN, std=efficientnet_lite.STD)   # (1, 3, 224, 224)
    with mdl.no_grad():
        print(decode_predictions(model(mdl.tensor(x)), top=5)[0])  # [("tabby", 0.41), ...]
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence, Union

import numpy

from .. import backend
from ..autograd import Tensor

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def imagenet_classes() -> list:
    """The 1,000 ImageNet class names, in the order of the networks' outputs ("tench", "goldfish", ...)."""
    names = Path(__file__).with_name("imagenet_classes.txt").read_text(encoding="utf-8").splitlines()
    return [n for n in names if n]


def load_image(image: Any, size: int = 224, crop_fraction: float = 0.875,
               mean: Union[float, Sequence[float]] = IMAGENET_MEAN,
               std: Union[float, Sequence[float]] = IMAGENET_STD) -> numpy.ndarray:
    """A photo -> the (1, 3, size, size) float32 batch an ImageNet network takes.

    The usual evaluation recipe: resize (bicubic) so that the shorter side is
    ``size / crop_fraction`` (256 for 224), cut the central ``size x size``,
    scale to [0, 1], then ``(x - mean) / std`` per channel. ``image`` is a
    path, a PIL image or an (H, W, 3) uint8 array.
    """
    from PIL import Image

    if isinstance(image, (str, Path)):
        with Image.open(image) as opened:
            image = opened.convert("RGB")
    elif isinstance(image, numpy.ndarray):
        image = Image.fromarray(image)
    image = image.convert("RGB")
    w, h = image.size
    scale = size / crop_fraction / min(w, h)
    image = image.resize((max(size, round(w * scale)), max(size, round(h * scale))), Image.BICUBIC)
    w, h = image.size
    left, top = (w - size) // 2, (h - size) // 2
    x = numpy.asarray(image.crop((left, top, left + size, top + size)), dtype=numpy.float32) / 255.0
    x = (x - numpy.asarray(mean, numpy.float32)) / numpy.asarray(std, numpy.float32)  # (size, size, 3)
    return x.transpose(2, 0, 1)[None].astype(numpy.float32)                          # (1, 3, size, size)


def decode_predictions(logits: Any, top: int = 5) -> list:
    """(N, 1000) logits -> for each image, the ``top`` (class name, probability) pairs, best first."""
    z = backend.to_numpy(logits.data if isinstance(logits, Tensor) else logits).astype(numpy.float64)
    if z.ndim != 2 or z.shape[1] != 1000:
        raise ValueError(f"decode_predictions: logits must be (N, 1000), got shape {z.shape}")
    p = numpy.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    names = imagenet_classes()
    order = numpy.argsort(-p, axis=1)[:, :top]
    return [[(names[k], float(row[k])) for k in idx] for row, idx in zip(p, order)]
