"""CSVDataset: one image per row, ``label, pixel, pixel, ...`` (Kaggle's MNIST CSV style).

The file is never loaded whole. Building the dataset makes one pass over it
in fixed-size chunks, noting where each row starts (8 bytes per row); a batch
then seeks to just its rows and parses them. A 200 MB CSV costs a few hundred
kilobytes of memory, and a batch of 128 rows reads about 128 lines.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy

from ..dataset import Dataset

PathLike = Union[str, os.PathLike]


class CSVDataset(Dataset):
    """Rows of ``label, pixel, ...`` read on demand; see the module docstring.

    Args:
        path: the CSV file (comma-separated numbers; a first line that is not
            numeric is taken as a header and skipped; blank lines are skipped).
        label_column: which column holds the label (default the first).
        image_shape: (C, H, W) to reshape the pixels to, e.g. (1, 28, 28);
            None keeps them flat.
        scale: multiplies the pixels (default 1/255 for 0-255 values).
        chunk_size: bytes read at a time while indexing the rows.

    Inputs are float32; labels int64. A label must be a whole number >= 0
    ("3" or "3.0"; not 3.7, -1, inf or 1e30), and the file UTF-8 text: else a
    ValueError naming the file and the data row.
    """

    def __init__(self, path: PathLike, label_column: int = 0, image_shape: Optional[Sequence[int]] = None,
                 scale: float = 1 / 255.0, chunk_size: int = 1 << 20):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no such CSV file: {self.path}")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.label_column, self.scale = label_column, scale
        self.image_shape = tuple(int(n) for n in image_shape) if image_shape is not None else None
        self.offsets = self._index_rows(chunk_size)  # byte offset of each data row
        if len(self.offsets) == 0:
            raise ValueError(f"{self.path} has no data rows")

    def _index_rows(self, chunk_size: int) -> numpy.ndarray:
        """Byte offsets of the non-blank rows (header dropped), found chunk by chunk."""
        ends, crs = [], []  # per chunk: positions of b"\n", and whether b"\r" precedes each
        position, previous_byte = 0, 0
        with open(self.path, "rb") as f:
            while True:
                chunk = f.read(chunk_size)
                if not chunk:
                    break
                a = numpy.frombuffer(chunk, dtype=numpy.uint8)
                nl = numpy.flatnonzero(a == ord("\n"))
                before = numpy.where(nl > 0, a[nl - 1], previous_byte)  # the byte before each newline
                ends.append(nl + position)
                crs.append(before == ord("\r"))
                position += len(a)
                previous_byte = a[-1]
        ends = numpy.concatenate(ends) if ends else numpy.zeros(0, numpy.int64)
        crs = numpy.concatenate(crs) if crs else numpy.zeros(0, bool)
        starts = numpy.concatenate([[0], ends[:-1] + 1]) if len(ends) else numpy.zeros(0, numpy.int64)
        lengths = ends - starts - crs  # characters in each line, without "\r\n"
        last_start = ends[-1] + 1 if len(ends) else 0
        if last_start < position:  # a last row without a final newline
            starts = numpy.append(starts, last_start)
            lengths = numpy.append(lengths, position - last_start)
        starts = starts[lengths > 0].astype(numpy.int64)  # blank lines are not rows
        if len(starts) and not self._numeric(self._line(starts[0])):
            starts = starts[1:]  # a header
        return starts

    @staticmethod
    def _numeric(line: str) -> bool:
        try:
            [float(v) for v in line.split(",")]
            return True
        except ValueError:
            return False

    def _line(self, offset: int, f=None, row: Optional[int] = None) -> str:
        """The line starting at byte ``offset``, decoded (a ValueError naming file and row if not UTF-8)."""
        if f is None:
            with open(self.path, "rb") as f:
                return self._line(offset, f, row)
        f.seek(int(offset))
        raw = f.readline()
        try:
            return raw.decode("utf-8").strip()
        except UnicodeDecodeError as error:
            where = f"data row {row}" if row is not None else f"the line at byte {int(offset)}"
            raise ValueError(f"{self.path}: {where} is not UTF-8 text (byte {raw[error.start]:#04x} "
                             f"at column {error.start}): {raw[:80]!r}") from None

    def __len__(self) -> int:
        return len(self.offsets)

    def _parse(self, line: str, row: int) -> tuple:
        values = line.split(",")
        try:
            label_text = values.pop(self.label_column)
            label = float(label_text)
            x = numpy.asarray(values, dtype=numpy.float32) * numpy.float32(self.scale)
        except (ValueError, IndexError) as error:
            raise ValueError(f"{self.path}: data row {row} is not a row of numbers ({error}): {line[:80]!r}") from None
        if not (math.isfinite(label) and label == int(label) and 0 <= label < 2**63):
            raise ValueError(f"{self.path}: data row {row}: the label must be a whole number >= 0 "
                             f"(a class index), got {label_text.strip()!r}")
        label = int(label)
        if self.image_shape is not None:
            if x.size != int(numpy.prod(self.image_shape)):
                raise ValueError(f"{self.path}: data row {row} has {x.size} pixel values, "
                                 f"image_shape {self.image_shape} needs {int(numpy.prod(self.image_shape))}")
            x = x.reshape(self.image_shape)
        return x, label

    def get_batch(self, indices: Sequence[int]) -> tuple:
        """Seek to each row, parse it; the file is opened once per batch."""
        xs, ys = [], []
        with open(self.path, "rb") as f:
            for i in indices:
                x, y = self._parse(self._line(self.offsets[int(i)], f, int(i)), int(i))
                xs.append(x)
                ys.append(y)
        shapes = {x.shape for x in xs}
        if len(shapes) > 1:
            raise ValueError(f"{self.path}: rows of different lengths {sorted(shapes)} in one batch")
        return numpy.stack(xs), numpy.asarray(ys, dtype=numpy.int64)

    def __getitem__(self, index: int) -> tuple:
        x, y = self.get_batch([index])
        return x[0], int(y[0])

    def __repr__(self) -> str:
        return f"CSVDataset({self.path}, {len(self)} rows)"
