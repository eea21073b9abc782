"""How fast the loader delivers batches, beside the training step it feeds.

    python benchmarks/loader_bench.py [--batches 60] [--device cpu] [--no-save]

For Fashion-MNIST (memory-mapped IDX) and for an ImageFolder of 28x28 PNGs
that the benchmark writes, with and without prefetch:

* batches/s and ms/batch when the loader runs alone (shuffled, batch 128);
* the time the seed convnet's training loop *waits* for each batch (the
  loader running beside real training steps: with prefetch, the next batch
  is prepared while the step computes);
* the seed convnet's training step time, and the loader's time per batch as a
  share of it. The target: under 10%, so training never waits on data.

The step columns need ``minidl.models.keras_mnist_convnet`` and
``minidl.optim.Adam``; without them they are left out, with a message.
Appends a table to benchmarks/RESULTS.md (machine, date, command).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import minidl as mdl  # noqa: E402
from common import append_results, print_table  # noqa: E402
from minidl.data import DataLoader  # noqa: E402
from minidl.data.datasets import FashionMNIST, ImageFolder  # noqa: E402

BATCH = 128


def loader_alone(loader: DataLoader, batches: int) -> float:
    """Seconds per batch over the first ``batches`` batches of an epoch, nothing else running."""
    start = time.perf_counter()
    for i, _ in enumerate(loader):
        if i + 1 == batches:
            break
    return (time.perf_counter() - start) / batches


def waiting_in_training(loader: DataLoader, step, batches: int) -> float:
    """Seconds per batch the training loop spends waiting for the loader (``next()``), steps between."""
    waited = 0.0
    it = iter(loader)
    for _ in range(batches):
        start = time.perf_counter()
        x, y = next(it)
        waited += time.perf_counter() - start
        step(x, y)
    it.close()
    return waited / batches


def png_folder(root: Path, dataset, count: int) -> Path:
    """Write ``count`` Fashion-MNIST images as PNGs, one folder per label."""
    from PIL import Image

    x, y = dataset.get_batch(np.arange(count))
    for i, (img, label) in enumerate(zip(x, y)):
        folder = root / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray((img[0] * 255).round().astype(np.uint8)).save(folder / f"{i}.png")
    return root


def training_step(device: str):
    """The seed convnet's training step on a batch, or None (with a message) when it is not built yet."""
    models, optim = getattr(mdl, "models", None), getattr(mdl, "optim", None)
    if not hasattr(models, "keras_mnist_convnet") or not hasattr(optim, "Adam"):
        print("minidl.models.keras_mnist_convnet or minidl.optim.Adam is missing: "
              "the training-step columns are left out")
        return None
    mdl.manual_seed(0)
    model = models.keras_mnist_convnet().to(device)
    opt = optim.Adam(model.parameters())
    loss = mdl.nn.CrossEntropyLoss()

    def step(x, y):
        out = loss(model(x), y)
        opt.zero_grad()
        out.backward()
        opt.step()
        float(out.item())  # wait for the device to finish

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=60, help="batches timed per measurement")
    parser.add_argument("--device", default="cpu", help="where batches go and the model trains")
    parser.add_argument("--no-save", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()
    try:
        train = FashionMNIST(train=True)
    except FileNotFoundError as error:
        print(f"Fashion-MNIST is not available, nothing to measure:\n{error}")
        return
    step = training_step(args.device)
    step_s = None
    if step is not None:
        x, y = train.get_batch(np.arange(BATCH))
        x, y = mdl.backend.to_device(x, args.device), mdl.backend.to_device(y, args.device)
        for _ in range(2):
            step(x, y)  # warm up
        times = []
        for _ in range(7):
            start = time.perf_counter()
            step(x, y)
            times.append(time.perf_counter() - start)
        step_s = statistics.median(times)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = ImageFolder(png_folder(Path(tmp), train, 30 * BATCH), grayscale=True)
        cases = {"Fashion-MNIST (IDX, memory map)": (train, args.batches),
                 "ImageFolder of PNGs (decoded per batch)": (folder, min(args.batches, 25))}
        for name, (dataset, batches) in cases.items():
            for prefetch in (0, 2):
                def make(seed):
                    return DataLoader(dataset, BATCH, shuffle=True, seed=seed, prefetch=prefetch, device=args.device)

                alone = statistics.median(loader_alone(make(s), batches) for s in range(5))
                row = [name, prefetch, f"{1 / alone:.0f}", f"{alone * 1e3:.2f}"]
                if step is not None:
                    waited = statistics.median(waiting_in_training(make(s), step, min(batches, 15)) for s in range(3))
                    row += [f"{waited * 1e3:.2f}", f"{alone / step_s:.1%}", f"{waited / step_s:.1%}"]
                rows.append(row)
    header = ["dataset", "prefetch", "batches/s", "ms/batch alone"]
    if step is not None:
        header += ["ms waited per step", "alone / step", "waited / step"]
    print_table(header, rows)
    notes = f"batch {BATCH}, shuffled, device {args.device}"
    if step_s is not None:
        notes += (f"; seed convnet training step: {step_s * 1e3:.1f} ms (target: the loader under 10% of it). "
                  f"'waited' is the time the training loop spends in next() with real steps between batches")
        print(f"seed convnet training step (batch {BATCH}): {step_s * 1e3:.1f} ms")
    if not args.no_save:
        append_results("Loader throughput", header, rows, notes=notes)


if __name__ == "__main__":
    main()
