"""How fast the loader delivers batches, and how long training waits for them.

    python benchmarks/loader_bench.py

For Fashion-MNIST (memory-mapped IDX) and an ImageFolder of 28x28 PNGs written
by the benchmark, with and without prefetch: batches of 128 per second when
reading alone, and the time a real training loop (the seed convnet, Adam)
spends *waiting* for each batch. Target: that wait under 10% of the step, so
training never waits on data. With prefetch the next batches are read in a
thread while the step computes (NumPy's matrix products release the GIL).
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # common.py
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # minidl, when not installed
import minidl as mdl  # noqa: E402
import minidl.nn as nn  # noqa: E402
from common import append_results, interleaved, print_table  # noqa: E402
from minidl.data import DataLoader, Subset  # noqa: E402
from minidl.data.datasets import FashionMNIST, ImageFolder  # noqa: E402

BATCH = 128


def per_batch(loader, batches: int) -> float:
    """Seconds per batch over the first ``batches`` batches of an epoch."""
    start = time.perf_counter()
    for i, _ in enumerate(loader):
        if i + 1 == batches:
            break
    return (time.perf_counter() - start) / batches


def png_folder(root: Path, dataset, count: int) -> Path:
    from PIL import Image

    x, y = dataset.get_batch(np.arange(count))
    for i, (img, label) in enumerate(zip(x, y)):
        folder = root / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray((img[0] * 255).astype(np.uint8)).save(folder / f"{i}.png")
    return root


def make_step():
    """One training step of the seed convnet on a given batch."""
    mdl.manual_seed(0)
    model = mdl.models.keras_mnist_convnet()
    opt = mdl.optim.Adam(model.parameters())
    loss = nn.CrossEntropyLoss()

    def step(x, y):
        out = loss(model(x), y)
        opt.zero_grad()
        out.backward()
        opt.step()

    return step


def step_time(repeat: int = 7) -> list:
    step = make_step()
    x = np.random.default_rng(0).random((BATCH, 1, 28, 28)).astype(np.float32)
    y = np.random.default_rng(0).integers(0, 10, BATCH)
    return interleaved({"step": lambda: step(x, y)}, repeat=repeat)["step"]


def wait_in_training(loader, batches: int) -> float:
    """Seconds per batch the training loop spends waiting for the loader."""
    step, waited = make_step(), 0.0
    it = iter(loader)
    for _ in range(batches):
        start = time.perf_counter()
        x, y = next(it)
        waited += time.perf_counter() - start
        step(x, y)
    it.close()
    return waited / batches


def main() -> None:
    train = FashionMNIST(train=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = ImageFolder(png_folder(Path(tmp), train, 4000), grayscale=True)
        cases = {
            "Fashion-MNIST (IDX, memory map)": (train, 100),
            "ImageFolder of PNGs (decoded per batch)": (folder, 25),
        }
        for name, (dataset, batches) in cases.items():
            for prefetch in (0, 2):
                times = [per_batch(DataLoader(dataset, BATCH, shuffle=True, seed=s, prefetch=prefetch), batches)
                         for s in range(5)]
                wait = wait_in_training(DataLoader(dataset, BATCH, shuffle=True, seed=0, prefetch=prefetch), 20)
                rows.append([name, prefetch, f"{1 / statistics.median(times):.0f}", f"{statistics.median(times) * 1e3:.2f}",
                             f"{wait * 1e3:.2f}"])
    step = statistics.median(step_time())
    for row in rows:
        row.append(f"{float(row[4]) / (step * 1e3):.1%}")
    header = ["dataset", "prefetch", "batches/s alone", "ms/batch alone", "ms waited per step", "wait / step"]
    print_table(header, rows)
    print(f"seed convnet training step (batch {BATCH}): {step * 1e3:.1f} ms")
    append_results("Loader throughput (batch 128)", header, rows,
                   notes=f"seed convnet training step beside it: {step * 1e3:.1f} ms (target: loader < 10% of it)")


if __name__ == "__main__":
    main()
