"""The command line: ``python -m minidl {train, summary, datasets}``.

    python -m minidl train --model keras-mnist-convnet --dataset fashion-mnist --epochs 2 \\
        --batch-size 128 --augment flip,shift,rotate --device cpu --seed 0 --out runs/demo
    python -m minidl train --out runs/demo --resume        # pick the run up where it stopped
    python -m minidl summary keras-mnist-convnet
    python -m minidl datasets

``train`` prints the model summary, a progress line per epoch and the test
accuracy with and without test-time augmentation, and writes into --out:
checkpoint.npz (the full training state, written after every epoch),
model.npz (the final weights), history.csv and curves.png (with matplotlib).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

import minidl as mdl
from minidl import augment as A
from minidl import nn

DATASETS = {
    "fashion-mnist": (lambda **kw: mdl.data.datasets.FashionMNIST(**kw), (1, 28, 28)),
    "mnist": (lambda **kw: mdl.data.datasets.MNIST(**kw), (1, 28, 28)),
    "cifar10": (lambda **kw: mdl.data.datasets.CIFAR10(**kw), (3, 32, 32)),
}

AUGMENTATIONS = {
    "flip": lambda: A.RandomFlip("horizontal"),
    "shift": lambda: A.RandomShift(0.1, 0.1),
    "rotate": lambda: A.RandomRotation(10),
    "zoom": lambda: A.RandomZoom(0.1),
    "shear": lambda: A.RandomShear(10),
    "crop": None,  # needs the image size: made in _augmentations
    "color": lambda: A.ColorJitter(brightness=0.2, contrast=0.2),
    "erase": lambda: A.RandomErasing(p=0.5),
    "noise": lambda: A.GaussianNoise(0.02),
}


class UsageError(Exception):
    """A bad command-line argument: printed as one line, exit status 2."""


def _positive(kind: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{kind} must be a positive integer, got {text!r}") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{kind} must be a positive integer, got {value}")
        return value

    return parse


def _augmentations(spec: str, image_shape: tuple):
    """'flip,shift,rotate' -> a Compose of those ops (None for '' or 'none')."""
    if not spec or spec == "none":
        return None
    ops = []
    for name in [s.strip() for s in spec.split(",") if s.strip()]:
        if name not in AUGMENTATIONS:
            raise UsageError(f"unknown augmentation {name!r}; choose from {', '.join(sorted(AUGMENTATIONS))}")
        ops.append(A.RandomCrop(image_shape[1:], padding=2) if name == "crop" else AUGMENTATIONS[name]())
    return A.Compose(ops)


def _tta_transform(spec: str):
    """Test-time augmentation: flips when training used flips, else small shifts."""
    names = set((spec or "").split(","))
    return A.RandomFlip("horizontal", p=1.0) if "flip" in names else A.RandomShift(0.05, 0.05)


def _model(name: str, image_shape: tuple) -> nn.Module:
    """A fresh model for images of ``image_shape`` (C, H, W) and 10 classes."""
    if name == "mlp":
        return mdl.models.get_model("mlp", in_features=math.prod(image_shape))
    return mdl.models.get_model(name, num_classes=10, in_channels=image_shape[0])


def cmd_train(args: argparse.Namespace) -> int:
    out = Path(args.out)
    settings_path = out / "settings.json"
    if args.resume:
        if not settings_path.exists():
            raise UsageError(f"--resume: {settings_path} not found; start the run without --resume first")
        saved = json.loads(settings_path.read_text())
        for key in ("model", "dataset", "batch_size", "augment", "seed", "lr", "limit"):
            setattr(args, key, saved[key])
        args.epochs = max(args.epochs, saved["epochs"]) if args.epochs_given else saved["epochs"]
    mdl.manual_seed(args.seed)
    if args.device != "cpu":
        mdl.set_backend(args.device)  # a clear error with the install hint when CuPy is missing
    make_dataset, image_shape = DATASETS[args.dataset]
    try:
        train_set = make_dataset(train=True, download=True)
        test_set = make_dataset(train=False, download=True)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 1
    if args.limit:
        train_set = mdl.data.Subset(train_set, range(min(args.limit, len(train_set))))
        test_set = mdl.data.Subset(test_set, range(min(max(args.limit // 5, 100), len(test_set))))
    transform = _augmentations(args.augment, image_shape)
    model = _model(args.model, image_shape)
    model.to(args.device)
    print(f"{args.dataset}: {len(train_set)} training and {len(test_set)} test images")
    nn.summary(model, image_shape)
    optimizer = mdl.optim.Adam(model.parameters(), lr=args.lr)
    train_loader = mdl.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True, seed=args.seed,
                                       transform=transform, prefetch=2, device=args.device)
    test_loader = mdl.data.DataLoader(test_set, batch_size=500, device=args.device)
    out.mkdir(parents=True, exist_ok=True)
    settings = {k: getattr(args, k) for k in ("model", "dataset", "epochs", "batch_size", "augment", "seed", "lr", "limit")}
    settings_path.write_text(json.dumps(settings, indent=2))
    loss = nn.CrossEntropyLoss()
    checkpoint = out / "checkpoint.npz"
    start = time.perf_counter()
    history = mdl.train.fit(model, train_loader, loss, optimizer, args.epochs, val_loader=test_loader,
                            checkpoint=checkpoint, resume_from=checkpoint if args.resume and checkpoint.exists() else None,
                            verbose=args.verbose)
    print(f"training took {time.perf_counter() - start:.1f} s")
    plain = mdl.train.evaluate(model, test_loader, loss)["accuracy"]
    correct, total = 0, 0
    tta = _tta_transform(args.augment)
    for x, y in test_loader:
        probs = A.tta_predict(model, x, tta, n=2)
        correct += int((probs.argmax(axis=1) == mdl.backend.to_numpy(y)).sum())
        total += len(y)
    print(f"test accuracy: {plain:.2%}")
    print(f"test accuracy with test-time augmentation (2 views): {correct / total:.2%}")
    mdl.save(model.state_dict(), out / "model.npz")
    history.to_csv(out / "history.csv")
    try:
        history.plot(out / "curves.png")
    except ImportError:
        print("(curves.png skipped: pip install 'minidl[plot]' for matplotlib)")
    print(f"wrote {out}/: checkpoint.npz model.npz history.csv" + (" curves.png" if (out / "curves.png").exists() else ""))
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    shape = tuple(int(v) for v in args.input_shape.split(",")) if args.input_shape else None
    shape = shape or (1, 28, 28)
    nn.summary(_model(args.model, shape), shape)
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    from minidl.data import sources

    print(f"cache: {sources.cache_dir()}")
    for source in (sources.FASHION_MNIST, sources.MNIST, sources.CIFAR10):
        found = next((d for d in sources.candidate_dirs(source) if sources.present(d, source)), None)
        print(f"  {source.name:<14} {'found in ' + str(found) if found else 'not available locally (downloads on first use)'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m minidl", description="minidl: train and inspect models.")
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a model on a dataset")
    t.add_argument("--model", default="keras-mnist-convnet", choices=mdl.models.list_models())
    t.add_argument("--dataset", default="fashion-mnist", choices=sorted(DATASETS))
    t.add_argument("--epochs", type=_positive("--epochs"), default=None)
    t.add_argument("--batch-size", type=_positive("--batch-size"), default=128)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--augment", default="flip,shift,rotate",
                   help=f"comma-separated, from: {', '.join(sorted(AUGMENTATIONS))} (or 'none')")
    t.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--limit", type=int, default=0, help="use only this many training images (quick runs)")
    t.add_argument("--out", default="runs/default", help="folder for the checkpoint, history and curves")
    t.add_argument("--resume", action="store_true", help="continue the run in --out")
    t.add_argument("--verbose", type=int, default=1)
    s = sub.add_parser("summary", help="print a model's summary")
    s.add_argument("model", choices=mdl.models.list_models())
    s.add_argument("--input-shape", default=None, help="C,H,W (default 1,28,28)")
    sub.add_parser("datasets", help="which datasets are available locally, and where")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            args.epochs_given = args.epochs is not None
            args.epochs = args.epochs or 2
            if args.device != "cpu":
                mdl.backend.parse_device(args.device)
            return cmd_train(args)
        if args.command == "summary":
            return cmd_summary(args)
        return cmd_datasets(args)
    except (UsageError, ValueError, RuntimeError) as error:
        if isinstance(error, UsageError) or "device must be" in str(error) or "CuPy" in str(error):
            parser.error(str(error))
        raise


if __name__ == "__main__":
    sys.exit(main())
