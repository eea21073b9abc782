"""Real datasets, read lazily from disk (``mdl.data.datasets``).

=============  ==================================  ==========================
dataset        files                               a batch is read by
=============  ==================================  ==========================
MNIST,         IDX (gzipped: decompressed once     one slice of a memory map
FashionMNIST   into the cache)
CIFAR10        the binary version (no pickle)      slices of memory maps
ImageFolder    one folder per class of images      decoding just those files
CSVDataset     label + pixel columns, one row      seeking to just those rows
               per image
=============  ==================================  ==========================

Inputs come out as float32 in [0, 1], shaped (N, C, H, W); labels as int64.
Every dataset answers ``dataset[i] -> (x, y)`` and, faster for a whole batch,
``dataset.get_batch(indices) -> (xs, ys)``.
"""
from ..idx import read_idx, write_idx
from .cifar import CIFAR10
from .csv_dataset import CSVDataset
from .image_folder import ImageFolder
from .mnist import MNIST, FashionMNIST

__all__ = ["MNIST", "FashionMNIST", "CIFAR10", "ImageFolder", "CSVDataset", "read_idx", "write_idx"]
