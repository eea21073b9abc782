"""Augmentation earns its keep: on a small training set the seed convnet overfits less with it.

1,000 Fashion-MNIST training images, 15 epochs of the seed convnet (Adam),
once on the plain images and once through an augmentation pipeline given to
the DataLoader. The gap between accuracy on the (plain) training images and
on 1,000 test images is smaller with augmentation. About 25-45 s on 2 quiet
cores (more when the machine is shared).
"""
import numpy as np
import pytest

import minidl as mdl
import minidl.augment as A
import minidl.nn as nn
from minidl.data import DataLoader, TensorDataset
from minidl.data.idx import read_idx
from minidl.train import evaluate, fit

ROOT = "/usr/share/datasets/fashion-mnist/"
FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz"]


def _have_data() -> bool:
    import os

    return all(os.path.exists(ROOT + f) for f in FILES)


def _load(images: str, labels: str, n: int) -> tuple:
    x = read_idx(ROOT + images)[:n].astype(np.float32)[:, None] / 255.0  # (n, 1, 28, 28) in [0, 1]
    return x, read_idx(ROOT + labels)[:n].astype(np.int64)


def _gap(transform) -> tuple:
    x, y = _load(FILES[0], FILES[1], 1000)
    xt, yt = _load(FILES[2], FILES[3], 1000)
    mdl.manual_seed(0)
    model = mdl.models.keras_mnist_convnet()
    train = DataLoader(TensorDataset(x, y), batch_size=128, shuffle=True, seed=0, transform=transform)
    fit(model, train, nn.CrossEntropyLoss(), mdl.optim.Adam(model.parameters(), lr=2e-3), 15, verbose=0)
    train_acc = evaluate(model, DataLoader(TensorDataset(x, y), batch_size=500))["accuracy"]
    test_acc = evaluate(model, DataLoader(TensorDataset(xt, yt), batch_size=500))["accuracy"]
    return train_acc - test_acc, train_acc, test_acc


@pytest.mark.slow
@pytest.mark.skipif(not _have_data(), reason=f"Fashion-MNIST not in {ROOT} (apt-get install dataset-fashion-mnist)")
def test_augmentation_shrinks_the_train_test_gap():
    plain_gap, plain_train, plain_test = _gap(None)
    pipeline = A.Compose([A.RandomFlip(), A.RandomAffine(10, (0.1, 0.1), (0.9, 1.1), 5, fill_mode="constant"),
                          A.RandomErasing(p=0.5)], seed=0)
    aug_gap, aug_train, aug_test = _gap(pipeline)
    report = (f"plain: train {plain_train:.3f} test {plain_test:.3f}; "
              f"augmented: train {aug_train:.3f} test {aug_test:.3f}")
    assert plain_gap > 0.04, report  # without augmentation it does overfit...
    assert aug_gap < plain_gap - 0.02, report  # ...and with it, clearly less
