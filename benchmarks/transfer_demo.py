"""The seeds' digits experiment on Fashion-MNIST: pretrain on classes 0-4, then
learn classes 5-9 from only 100 images per class, four ways.

    python benchmarks/transfer_demo.py            # full size (a few minutes on 2 cores)
    python benchmarks/transfer_demo.py --fast     # small, as the test runs it

1. from scratch: the convnet trained on the 500 new images alone;
2. frozen features + new head: the pretrained convnet, all layers frozen but
   a fresh last layer;
3. features + shallow classifier: the pretrained convnet's 1600 features
   into a logistic regression and a linear SVM, trained in minidl;
4. fine-tuning: every layer trained, lower layers with smaller learning rates.

Prints the four test accuracies (on the 5,000 test images of classes 5-9) and
appends them to RESULTS.md.
"""
from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # common.py
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # minidl, when not installed
import minidl as mdl  # noqa: E402
import minidl.nn as nn  # noqa: E402
from minidl import transfer  # noqa: E402
from minidl.data import DataLoader, TensorDataset  # noqa: E402
from minidl.data.datasets import FashionMNIST  # noqa: E402
from minidl.models import keras_mnist_convnet  # noqa: E402
from minidl.train import evaluate, fit  # noqa: E402


def split(dataset, classes, per_class=None, seed=0):
    """Images of the given classes (labels renumbered 0..k-1), optionally per_class of each."""
    rng = np.random.default_rng(seed)
    idx = []
    for k in classes:
        members = np.flatnonzero(dataset.labels == k)
        idx.append(rng.choice(members, per_class, replace=False) if per_class else members)
    idx = np.sort(np.concatenate(idx))
    x, y = dataset.get_batch(idx)
    return x, (y - min(classes)).astype(np.int64)


def train(model, x, y, epochs, lr=1e-3, params=None, seed=0):
    opt = mdl.optim.Adam(params if params is not None else [p for p in model.parameters() if p.requires_grad], lr=lr)
    fit(model, DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, seed=seed), nn.CrossEntropyLoss(), opt,
        epochs, verbose=0)
    return model


def accuracy(model, x, y):
    return evaluate(model, DataLoader(TensorDataset(x, y), batch_size=500))["accuracy"]


def run(fast: bool = False) -> dict:
    """The four accuracies (and the pretraining's own), as a dict."""
    train_set, test_set = FashionMNIST(train=True), FashionMNIST(train=False)
    x_old, y_old = split(train_set, range(5), per_class=1000 if fast else None)
    x_new, y_new = split(train_set, range(5, 10), per_class=100)
    x_test, y_test = split(test_set, range(5, 10), per_class=300 if fast else None)
    epochs_pre, epochs_new = (2, 15) if fast else (3, 30)

    mdl.manual_seed(0)
    pretrained = train(keras_mnist_convnet(num_classes=5), x_old, y_old, epochs_pre)
    results = {"pretraining (classes 0-4, own test)": accuracy(pretrained, *split(test_set, range(5), 200))}

    mdl.manual_seed(1)
    results["1. from scratch"] = accuracy(train(keras_mnist_convnet(num_classes=5), x_new, y_new, epochs_new), x_test, y_test)

    frozen = copy.deepcopy(pretrained)
    transfer.freeze(frozen)
    transfer.replace_head(frozen, 5)
    results["2. frozen features + new head"] = accuracy(train(frozen, x_new, y_new, epochs_new, lr=3e-3), x_test, y_test)

    features = lambda x: transfer.extract_features(pretrained, [(x, None)], layer="6")[0]  # noqa: E731 - Flatten out
    f_new, f_test = features(x_new), features(x_test)
    for loss in ("logistic", "hinge"):
        clf = transfer.fit_linear_classifier(f_new, y_new, loss=loss, epochs=100, lr=0.01, weight_decay=1e-3)
        with mdl.no_grad():
            pred = clf(f_test).numpy().argmax(axis=1)
        name = "logistic regression" if loss == "logistic" else "linear SVM"
        results[f"3. features + {name}"] = float((pred == y_test).mean())

    tuned = copy.deepcopy(pretrained)
    transfer.replace_head(tuned, 5)
    groups = transfer.param_groups_by_depth(tuned, base_lr=1e-3, decay=0.3)
    results["4. fine-tuning, per-layer lrs"] = accuracy(train(tuned, x_new, y_new, epochs_new, params=groups), x_test, y_test)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fast", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    results = run(fast=args.fast)
    rows = [(name, f"{acc:.3f}") for name, acc in results.items()]
    from common import append_results, print_table

    print_table(["scenario", "test accuracy"], rows)
    print(f"({time.perf_counter() - start:.0f} s)")
    append_results("Transfer learning, Fashion-MNIST 0-4 -> 5-9 (100 images per class)", ["scenario", "test accuracy"],
                   rows, notes="fast mode" if args.fast else "full size")


if __name__ == "__main__":
    main()
