"""See what an op does: originals in the top row, augmented versions below."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy

from .. import backend


def _tile(image: numpy.ndarray) -> numpy.ndarray:
    """(C, H, W) in [0, 1] -> uint8 (H, W, 3); values outside [0, 1] are clipped (not rescaled,
    so that a brightness change stays visible)."""
    a = numpy.clip(image.astype(numpy.float64), 0.0, 1.0)
    a = numpy.repeat(a[:1], 3, axis=0) if a.shape[0] != 3 else a
    return (a.transpose(1, 2, 0) * 255).round().astype(numpy.uint8)


def show(op: Any, images: Any, path: Any, rows: int = 3, scale: int = 3, pad: int = 2) -> Path:
    """Save a PNG grid: ``images`` (N, C, H, W) in the top row, then ``rows`` rows of ``op(images)``.

    Each row has fresh random parameters. Mixing ops get the labels 0..N-1
    (mod their number of classes). Images with 1 channel are shown grey,
    3 channels as RGB (others: the first channel). Returns the path.
    """
    from PIL import Image

    if not isinstance(rows, int) or rows < 1:
        raise ValueError(f"rows must be an int >= 1, got {rows!r}")
    images = images.data if not backend.is_array(images) and hasattr(images, "data") else images
    if not backend.is_array(images):
        images = numpy.asarray(images, dtype=numpy.float32)
    if images.ndim != 4:
        raise ValueError(f"images must be a batch (N, C, H, W), got shape {tuple(images.shape)}")
    grid_rows = [backend.to_numpy(images)]
    for _ in range(rows):
        if getattr(op, "mixes_labels", False):
            labels = numpy.arange(images.shape[0]) % getattr(op, "num_classes", images.shape[0])
            out = op(images, labels)[0]
        else:
            out = op(images)
        grid_rows.append(backend.to_numpy(out))
    n = images.shape[0]
    ch = max(r.shape[2] for r in grid_rows) * scale + pad
    cw = max(r.shape[3] for r in grid_rows) * scale + pad
    canvas = numpy.full((len(grid_rows) * ch + pad, n * cw + pad, 3), 255, dtype=numpy.uint8)
    for r, batch in enumerate(grid_rows):
        for i, image in enumerate(batch):
            tile = _tile(image).repeat(scale, axis=0).repeat(scale, axis=1)
            y, x = pad + r * ch, pad + i * cw
            canvas[y:y + tile.shape[0], x:x + tile.shape[1]] = tile
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(canvas).save(path)
    return path
