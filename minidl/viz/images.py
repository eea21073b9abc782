"""Image grids as PNG files, with Pillow (no matplotlib needed)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Sequence

import numpy

from .. import backend


def to_uint8(image: Any) -> numpy.ndarray:
    """An image (C, H, W) or (H, W), any range, to uint8 (H, W[, 3]) scaled to its own min..max."""
    a = backend.to_numpy(getattr(image, "data", image) if not isinstance(image, numpy.ndarray) else image)
    a = a.astype(numpy.float64)
    if a.ndim == 3:
        a = a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)
    lo, hi = a.min(), a.max()
    a = (a - lo) / (hi - lo) if hi > lo else a * 0
    return (a * 255).round().astype(numpy.uint8)


def save_grid(images: Sequence[Any], path: Any, ncols: Optional[int] = None, scale: int = 3,
              pad: int = 2, titles: Optional[Sequence[str]] = None) -> Path:
    """Save images side by side (rows of ``ncols``), each scaled up ``scale`` times.

    Images may differ in size; each cell is as big as the largest. Titles, if
    given, are drawn above each image.
    """
    from PIL import Image, ImageDraw

    tiles = [Image.fromarray(to_uint8(im)) for im in images]
    tiles = [t.resize((t.width * scale, t.height * scale), Image.NEAREST) for t in tiles]
    ncols = ncols or len(tiles)
    nrows = -(-len(tiles) // ncols)
    title_h = 12 if titles else 0
    cw = max(t.width for t in tiles) + pad
    ch = max(t.height for t in tiles) + pad + title_h
    grid = Image.new("RGB", (ncols * cw + pad, nrows * ch + pad), "white")
    draw = ImageDraw.Draw(grid)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, ncols)
        x, y = pad + c * cw, pad + r * ch
        if titles:
            draw.text((x, y), str(titles[k])[: cw // 6], fill="black")
        grid.paste(tile.convert("RGB"), (x, y + title_h))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    grid.save(path)
    return path
