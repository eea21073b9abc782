"""Data: datasets on disk, the batch loader, verified downloads (``mdl.data``).

    train = mdl.data.datasets.FashionMNIST(train=True, download=True)
    loader = mdl.data.DataLoader(train, batch_size=128, shuffle=True, seed=0, prefetch=2)
"""
from . import datasets
from .dataset import Dataset, Subset, TensorDataset, random_split
from .download import DownloadError, UnsafeArchiveError, download, extract, sha256_of
from .idx import IDXError, read_idx, write_idx
from .loader import DataLoader
from .sources import cache_dir

datasets.read_idx = read_idx  # DESIGN.md names it mdl.data.datasets.read_idx too
