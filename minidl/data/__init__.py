"""Data: file formats, datasets and the batch loader (``mdl.data``)."""
from .idx import IDXError, read_idx, write_idx
