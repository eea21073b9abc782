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


LINE_HEIGHT = 11  # Pillow's built-in bitmap font is 11 pixels high


def wrap_text(draw: Any, text: str, width: int) -> list:
    """Split ``text`` into lines no wider than ``width`` pixels, at spaces, "/" and newlines.

    A single word wider than ``width`` keeps a line of its own (it is never
    cut): callers make their cells as wide as :func:`widest_word`.
    """
    lines = []
    for paragraph in str(text).split("\n"):
        words = paragraph.replace("/", "/ ").split()
        line = ""
        for word in words:
            candidate = f"{line} {word}".replace("/ ", "/") if line else word
            if line and draw.textlength(candidate) > width:
                lines.append(line.replace("/ ", "/"))
                line = word
            else:
                line = candidate
        lines.append(line.replace("/ ", "/"))
    return lines


def widest_word(draw: Any, texts: Sequence[str]) -> int:
    """The width in pixels of the widest word (split as :func:`wrap_text` does) in ``texts``."""
    words = [w for t in texts for w in str(t).replace("/", "/ ").split()]
    return int(max((draw.textlength(w) for w in words), default=0)) + 1


def save_grid(images: Sequence[Any], path: Any, ncols: Optional[int] = None, scale: int = 3,
              pad: int = 2, titles: Optional[Sequence[str]] = None) -> Path:
    """Save images side by side (rows of ``ncols``), each scaled up ``scale`` times.

    Images may differ in size; each cell is as big as the largest. Titles, if
    given, are drawn above each image, wrapped onto several lines when they
    are wider than the image (a cell widens to fit its longest word: a title
    is never cut).
    """
    from PIL import Image, ImageDraw

    tiles = [Image.fromarray(to_uint8(im)) for im in images]
    tiles = [t.resize((t.width * scale, t.height * scale), Image.NEAREST) for t in tiles]
    if titles is not None and len(titles) != len(tiles):
        raise ValueError(f"titles must have one entry per image: {len(tiles)} images, got {len(titles)} titles")
    ncols = ncols or len(tiles)
    nrows = -(-len(tiles) // ncols)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    width = max(max(t.width for t in tiles), widest_word(measure, titles or []))
    lines = [wrap_text(measure, t, width) for t in titles] if titles else []
    title_h = max(len(ls) for ls in lines) * LINE_HEIGHT + 4 if titles else 0  # 3 pixels above each title
    cw = width + pad
    ch = max(t.height for t in tiles) + pad + title_h
    grid = Image.new("RGB", (ncols * cw + pad, nrows * ch + pad), "white")
    draw = ImageDraw.Draw(grid)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, ncols)
        x, y = pad + c * cw, pad + r * ch
        if titles:
            draw.multiline_text((x, y + 3), "\n".join(lines[k]), fill="black", spacing=0)
        grid.paste(tile.convert("RGB"), (x, y + title_h))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    grid.save(path)
    return path
