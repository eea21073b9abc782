"""See what an op does: originals in the top row, augmented versions below."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import backend
from ..viz.images import save_grid


def show(op: Any, images: Any, path: Any, rows: int = 3, scale: int = 3) -> Path:
    """Save a PNG grid: the images, then ``rows`` rows of ``op`` applied to them (fresh draws each row)."""
    images = images.data if hasattr(images, "creator") else images
    tiles = list(backend.to_numpy(images))
    for _ in range(rows):
        out = op(images)
        out = out[0] if isinstance(out, tuple) else out
        tiles += list(backend.to_numpy(out))
    return save_grid(tiles, path, ncols=len(images), scale=scale)
