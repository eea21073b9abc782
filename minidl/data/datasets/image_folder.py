"""ImageFolder: image files in one sub-folder per class, decoded only when read.

    root/
      cat/ 001.png 002.jpg ...      -> label 0 (classes are sorted by name)
      dog/ 001.png ...              -> label 1

Building the dataset only lists the files; Pillow decodes an image when a
batch that holds it is read. A batch must have one shape, so pass
``size=(H, W)`` when the images differ in size.

8-bit images are scaled by 1/255, 16-bit grey ones (PNGs of depth 16, Pillow's
mode "I;16") by 1/65535: Pillow's own conversion to 8 bits would clip them at
255 (50% grey would load as white). A file that cannot be decoded (truncated,
not an image) is a ValueError naming it.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Sequence, Tuple, Union

import numpy

from ..dataset import Dataset

PathLike = Union[str, os.PathLike]


class ImageFolder(Dataset):
    """Images in one sub-folder per class; see the module docstring.

    Args:
        root: the folder holding one sub-folder per class.
        size: (H, W) to resize every image to (bilinear), or None to keep sizes.
        grayscale: one channel ("L"); else three (RGB; alpha is dropped).

    Inputs are float32 (C, H, W) in [0, 1]; labels int64 (the class's position in ``classes``).
    """

    EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")

    def __init__(self, root: PathLike, size: Optional[Tuple[int, int]] = None, grayscale: bool = False):
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"ImageFolder root {self.root} is not a folder")
        if size is not None:
            try:
                height, width = (int(n) for n in size)
            except (TypeError, ValueError):
                raise ValueError(f"size must be (H, W), got {size!r}") from None
            if height < 1 or width < 1:
                raise ValueError(f"size must be (H, W) with positive sides, got {size!r}")
            size = (height, width)
        self.size, self.grayscale = size, grayscale
        # hidden folders (".ipynb_checkpoints", ".git") are not classes
        self.classes = sorted(d.name for d in self.root.iterdir() if d.is_dir() and not d.name.startswith("."))
        if not self.classes:
            raise ValueError(f"{self.root} has no class sub-folders (expected root/<class>/<image>)")
        self.samples = [(p, k) for k, c in enumerate(self.classes) for p in sorted((self.root / c).rglob("*"))
                        if p.suffix.lower() in self.EXTENSIONS and p.is_file()]
        if not self.samples:
            raise ValueError(f"no images ({', '.join(self.EXTENSIONS)}) under {self.root}")
        self.targets = numpy.asarray([k for _, k in self.samples], dtype=numpy.int64)

    def __len__(self) -> int:
        return len(self.samples)

    def _decode(self, path: Path) -> numpy.ndarray:
        """One image file -> (C, H, W): uint8, or float32 in [0, 1] for 16-bit grey (see the module docstring)."""
        from PIL import Image  # imported here: only datasets of image files need Pillow

        try:
            with Image.open(path) as im:
                a = self._decode_16bit(im) if im.mode.startswith("I;16") else self._decode_8bit(im)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
            raise ValueError(f"{path}: cannot decode this image ({type(error).__name__}: {error})") from None
        return a[None] if a.ndim == 2 else a.transpose(2, 0, 1)  # (C, H, W)

    def _decode_8bit(self, im) -> numpy.ndarray:
        """(H, W) or (H, W, 3) uint8, converted to L or RGB and resized by Pillow."""
        from PIL import Image

        mode = "L" if self.grayscale else "RGB"
        if im.mode != mode:
            im = im.convert(mode)
        if self.size is not None and im.size != (self.size[1], self.size[0]):
            im = im.resize((self.size[1], self.size[0]), Image.BILINEAR)  # Pillow takes (W, H)
        return numpy.asarray(im)

    def _decode_16bit(self, im) -> numpy.ndarray:
        """(H, W) or (H, W, 3) float32 in [0, 1]: 16-bit grey divided by 65535, resized as floats."""
        from PIL import Image

        grey = numpy.asarray(im.convert("I"), dtype=numpy.float32) / 65535.0  # (H, W) in [0, 1]
        if self.size is not None and grey.shape != tuple(self.size):
            grey = numpy.asarray(Image.fromarray(grey, mode="F").resize((self.size[1], self.size[0]),
                                                                        Image.BILINEAR))
        return grey if self.grayscale else numpy.repeat(grey[:, :, None], 3, axis=2)  # grey -> 3 equal channels

    @staticmethod
    def _scaled(a: numpy.ndarray) -> numpy.ndarray:
        """A decoded image as float32 in [0, 1] (uint8 / 255; 16-bit images are already floats)."""
        return a.astype(numpy.float32) / 255.0 if a.dtype == numpy.uint8 else a.astype(numpy.float32, copy=False)

    def __getitem__(self, index: int) -> tuple:
        path, label = self.samples[index]
        return self._scaled(self._decode(path)), label

    def get_batch(self, indices: Sequence[int]) -> tuple:
        """Decode just these files, stack them, scale to [0, 1] once."""
        idx = [int(i) for i in indices]
        images = [self._decode(self.samples[i][0]) for i in idx]
        shapes = {im.shape for im in images}
        if len(shapes) > 1:
            raise ValueError(f"images of different sizes {sorted(shapes)} in one batch: "
                             f"pass size=(H, W) to ImageFolder")
        if all(im.dtype == numpy.uint8 for im in images):
            x = numpy.stack(images).astype(numpy.float32) / 255.0  # (B, C, H, W) in [0, 1], scaled once
        else:
            x = numpy.stack([self._scaled(im) for im in images])  # some 16-bit: each scaled by its depth
        return x, self.targets[idx]

    def __repr__(self) -> str:
        return f"ImageFolder({self.root}, {len(self)} images, {len(self.classes)} classes)"
