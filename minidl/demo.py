"""``make demo`` (for now): train a small MLP on Fashion-MNIST and print its test accuracy.

    python -m minidl.demo [--epochs 1] [--batch-size 128]

Finds the IDX files in $MINIDL_DATA/fashion-mnist, ~/.cache/minidl/fashion-mnist
or Debian's /usr/share/datasets/fashion-mnist (apt-get install dataset-fashion-mnist).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy

import minidl as mdl
import minidl.nn as nn
import minidl.nn.functional as F
from minidl.data import read_idx

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def find_fashion_mnist() -> Path:
    """The first folder that holds the four Fashion-MNIST IDX files (gzipped or not)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "minidl"
    places = [Path(p) / "fashion-mnist" for p in filter(None, [os.environ.get("MINIDL_DATA")])]
    places += [cache / "fashion-mnist", Path("/usr/share/datasets/fashion-mnist")]
    for folder in places:
        if all(any((folder / (name + ext)).exists() for ext in ("", ".gz")) for name in FILES.values()):
            return folder
    raise FileNotFoundError(
        "Fashion-MNIST not found; looked in: " + ", ".join(map(str, places))
        + ". On Debian: apt-get install dataset-fashion-mnist"
    )


def load_split(folder: Path, images: str, labels: str) -> tuple:
    def path(name):
        return folder / name if (folder / name).exists() else folder / (name + ".gz")

    x = read_idx(path(FILES[images])).reshape(-1, 784).astype(numpy.float32) / 255.0
    y = read_idx(path(FILES[labels])).astype(numpy.int64)
    return x, y


def accuracy(model: nn.Module, x: numpy.ndarray, y: numpy.ndarray) -> float:
    model.eval()
    with mdl.no_grad():
        correct = sum(int((model(x[i:i + 1000]).data.argmax(axis=1) == y[i:i + 1000]).sum())
                      for i in range(0, len(x), 1000))
    model.train()
    return correct / len(x)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    folder = find_fashion_mnist()
    x_train, y_train = load_split(folder, "train_images", "train_labels")
    x_test, y_test = load_split(folder, "test_images", "test_labels")
    print(f"Fashion-MNIST from {folder}: {len(x_train)} training and {len(x_test)} test images")

    mdl.manual_seed(args.seed)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    optimizer = mdl.optim.Adam(model.parameters(), lr=1e-3)
    rng = numpy.random.default_rng(args.seed)
    for epoch in range(1, args.epochs + 1):
        start, order = time.perf_counter(), rng.permutation(len(x_train))
        for i in range(0, len(order), args.batch_size):
            idx = order[i:i + args.batch_size]
            loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch}: last batch loss {loss.item():.3f}, {time.perf_counter() - start:.1f} s")
    print(f"test accuracy: {accuracy(model, x_test, y_test):.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
