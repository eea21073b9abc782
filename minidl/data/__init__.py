"""Data: datasets on disk, the batch loader, verified downloads (``mdl.data``).

    train = mdl.data.datasets.FashionMNIST(train=True, download=True)
    loader = mdl.data.DataLoader(train, batch_size=128, shuffle=True, seed=0, prefetch=2)
    for images, labels in loader:      # (128, 1, 28, 28) float32, (128,) int64
        ...

==============  =============================================================
dataset.py      Dataset, TensorDataset, Subset, random_split
loader.py       DataLoader: the generator of batches, shuffling, prefetching
idx.py          read_idx / write_idx: the IDX format of MNIST
datasets/       MNIST, FashionMNIST, CIFAR10, ImageFolder, CSVDataset
sources.py      where the files are looked for, and where they come from
download.py     downloads verified by SHA-256 before they enter the cache
archive.py      unpacking archives without letting them write outside
==============  =============================================================
"""
from . import datasets, sources
from .archive import UnsafeArchiveError, extract
from .dataset import Dataset, Subset, TensorDataset, random_split
from .download import DownloadError, download, sha256_of
from .idx import IDXError, read_idx, write_idx
from .loader import DataLoader
from .sources import cache_dir

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split", "DataLoader", "datasets", "sources",
           "read_idx", "write_idx", "IDXError", "download", "sha256_of", "DownloadError", "extract",
           "UnsafeArchiveError", "cache_dir"]
