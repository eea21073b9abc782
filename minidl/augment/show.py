"""See what an op does: originals in the top row, augmented versions below, each labelled.

    A.show(A.RandomRotation(20), x[:6], "rotation.png")
    A.show(A.MixUp(0.4, num_classes=10), x[:6], "mixup.png", labels=y[:6],
           class_names=FashionMNIST.classes)

Under a mixing op (MixUp, CutMix) each tile is captioned with its soft label,
the classes it is made of and their weights ("0.62 coat", "0.38 bag"), which
is what the network is asked to predict for it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Sequence

import numpy

from .. import backend
from ..viz.images import LINE_HEIGHT, widest_word, wrap_text


def _tile(image: numpy.ndarray) -> numpy.ndarray:
    """(C, H, W) in [0, 1] -> uint8 (H, W, 3); values outside [0, 1] are clipped (not rescaled,
    so that a brightness change stays visible)."""
    a = numpy.clip(image.astype(numpy.float64), 0.0, 1.0)
    a = numpy.repeat(a[:1], 3, axis=0) if a.shape[0] != 3 else a
    return (a.transpose(1, 2, 0) * 255).round().astype(numpy.uint8)


def _name(k: int, class_names: Optional[Sequence[str]]) -> str:
    return str(class_names[k]) if class_names is not None and k < len(class_names) else f"class {k}"


def soft_label_caption(soft: numpy.ndarray, class_names: Optional[Sequence[str]] = None, top: int = 2) -> str:
    """The largest weights of a soft label, one per line: "0.62 coat\\n0.38 bag"."""
    order = numpy.argsort(-soft)[:top]
    return "\n".join(f"{soft[k]:.2f} {_name(int(k), class_names)}" for k in order if soft[k] >= 0.005)


def show(op: Any, images: Any, path: Any, rows: int = 3, scale: int = 3, pad: int = 2,
         labels: Optional[Sequence[int]] = None, class_names: Optional[Sequence[str]] = None) -> Path:
    """Save a PNG grid: ``images`` (N, C, H, W) in the top row, then ``rows`` rows of ``op(images)``.

    Each row has fresh random parameters. Mixing ops get ``labels`` (default
    0..N-1, mod their number of classes) and every mixed tile is captioned
    with its soft label. With ``labels``, the originals are captioned with
    their class (named from ``class_names`` when given). Images with 1
    channel are shown grey, 3 channels as RGB (others: the first channel).
    Returns the path.
    """
    from PIL import Image, ImageDraw

    if not isinstance(rows, int) or rows < 1:
        raise ValueError(f"rows must be an int >= 1, got {rows!r}")
    images = images.data if not backend.is_array(images) and hasattr(images, "data") else images
    if not backend.is_array(images):
        images = numpy.asarray(images, dtype=numpy.float32)
    if images.ndim != 4:
        raise ValueError(f"images must be a batch (N, C, H, W), got shape {tuple(images.shape)}")
    n = images.shape[0]
    mixing = getattr(op, "mixes_labels", False)
    if labels is not None and len(labels) != n:
        raise ValueError(f"labels must have one entry per image: {n} images, got {len(labels)} labels")
    if mixing and labels is None:
        labels = numpy.arange(n) % getattr(op, "num_classes", n)
    grid_rows = [backend.to_numpy(images)]
    captions = [[_name(int(k), class_names) for k in labels] if labels is not None else [""] * n]
    for _ in range(rows):
        if mixing:
            out, soft = op(images, numpy.asarray(labels))
            captions.append([soft_label_caption(s, class_names) for s in backend.to_numpy(soft)])
        else:
            out = op(images)
            captions.append([""] * n)
        grid_rows.append(backend.to_numpy(out))

    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    tile_w = max(r.shape[3] for r in grid_rows) * scale
    texts = [c for row in captions for c in row]
    widest_line = max((measure.textlength(line) for c in texts for line in c.split("\n")), default=0)
    # Wide enough for a whole caption line where that is at most twice the image; wrapped beyond.
    cw = max(tile_w, int(min(widest_line + 6, 2 * tile_w)), widest_word(measure, texts)) + pad
    wrapped = [[wrap_text(measure, c, cw - pad) if c else [] for c in row] for row in captions]
    text_h = [max(len(lines) for lines in row) * LINE_HEIGHT for row in wrapped]
    tile_h = max(r.shape[2] for r in grid_rows) * scale
    canvas = Image.new("RGB", (n * cw + pad, sum(tile_h + h + pad for h in text_h) + pad), "white")
    draw = ImageDraw.Draw(canvas)
    y = pad
    for r, batch in enumerate(grid_rows):
        for i, image in enumerate(batch):
            tile = _tile(image).repeat(scale, axis=0).repeat(scale, axis=1)
            x = pad + i * cw
            canvas.paste(Image.fromarray(tile), (x, y))
            if wrapped[r][i]:
                draw.multiline_text((x, y + tile_h + 1), "\n".join(wrapped[r][i]), fill="black", spacing=0)
        y += tile_h + text_h[r] + pad
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)
    return path
