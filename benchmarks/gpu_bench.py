"""minidl on a GPU (CuPy) against PyTorch CUDA, side by side in one process.

    python benchmarks/gpu_bench.py --device cuda --out OUT      # on a GPU machine
    python benchmarks/gpu_bench.py --device strict --out OUT    # the CPU rehearsal

``benchmarks/gpu_check.sh`` runs it after the test suite; read that script's
header first. Measures, float32 throughout:

* the seed convnet's training step at batch 128 (forward, cross-entropy,
  backward, Adam), data already on the device;
* one epoch of 60,000 28x28 images at batch 128 with the whole data set on
  the device (Fashion-MNIST when its files are here, else random data of that
  size: the time does not depend on the pixels);
* the augmentation pipeline of ``augment_bench.py`` (flip, affine, colour,
  erasing, with per-image parameters) in images/s at 28x28x1 and 32x32x3;
* the forward pass of ResNet-18 and EfficientNet-Lite0 at 224x224, batch 16,
  when the model zoo has them (skipped with a line otherwise).

PyTorch runs on the same device when it can (``cuda``), else on the CPU, and
is skipped with a line when it is not installed. With ``--device strict`` the
same steps run on the strict CuPy stand-in (NumPy underneath): the figures
mean nothing, the point is that every step runs and the table comes out.
Writes OUT/bench.md (the table) and appends it to benchmarks/RESULTS.md with
``--append-results``.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Optional

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import minidl as mdl  # noqa: E402
import minidl.nn.functional as F  # noqa: E402
from minidl import backend  # noqa: E402
from minidl.models import keras_mnist_convnet  # noqa: E402

from common import append_results, machine, print_table  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

# ------------------------------------------------------------------ timing on a device
def synchronize(device: str) -> None:
    """Wait for the device's queued kernels (a GPU runs them asynchronously)."""
    if device.startswith("cuda"):
        backend.namespace(device).cuda.Device().synchronize()


def torch_device(device: str) -> str:
    return "cuda" if device.startswith("cuda") and torch is not None and torch.cuda.is_available() else "cpu"


def torch_synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def median_seconds(fn: Callable[[], object], sync: Callable[[], None], repeat: int, warmup: int = 2) -> float:
    """Median seconds of ``fn`` with the device drained before and after each call."""
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# ------------------------------------------------------------------ the seed convnet
def minidl_step(device: str, x: np.ndarray, t: np.ndarray) -> Callable[[], None]:
    mdl.manual_seed(0)
    model = keras_mnist_convnet().to(device)
    opt = mdl.optim.Adam(model.parameters(), lr=1e-3)
    xd, td = mdl.tensor(x, device=device), backend.to_device(t, device)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(xd), td).backward()
        opt.step()

    return step


def torch_seed_convnet():
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(1600, 10),
    )


def torch_step(device: str, x: np.ndarray, t: np.ndarray) -> Callable[[], None]:
    torch.manual_seed(0)
    model = torch_seed_convnet().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xd, td = torch.tensor(x, device=device), torch.tensor(t, device=device)

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(xd), td).backward()
        opt.step()

    return step


def epoch_data(limit: int) -> tuple:
    """(images (N,1,28,28) float32 in [0, 1], labels (N,)): Fashion-MNIST if present, else random."""
    try:
        train = mdl.data.datasets.FashionMNIST(train=True, download=False)
        x, y = train.get_batch(np.arange(min(limit, len(train))))
        return np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.int64)
    except (FileNotFoundError, ValueError, AttributeError):
        rng = np.random.default_rng(0)
        return rng.random((limit, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, limit)


def minidl_epoch(device: str, x: np.ndarray, y: np.ndarray, batch: int = 128) -> Callable[[], None]:
    """One shuffled pass over data that already lives on ``device``."""
    mdl.manual_seed(0)
    model = keras_mnist_convnet().to(device)
    opt = mdl.optim.Adam(model.parameters(), lr=1e-3)
    xd, yd = backend.to_device(x, device), backend.to_device(y, device)
    xp = backend.namespace(device)
    rng = np.random.default_rng(0)

    def epoch():
        order = xp.asarray(rng.permutation(len(x)))
        for start in range(0, len(x), batch):
            idx = order[start:start + batch]
            opt.zero_grad()
            F.cross_entropy(model(mdl.tensor(xd[idx])), yd[idx]).backward()
            opt.step()

    return epoch


def torch_epoch(device: str, x: np.ndarray, y: np.ndarray, batch: int = 128) -> Callable[[], None]:
    torch.manual_seed(0)
    model = torch_seed_convnet().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xd, yd = torch.tensor(x, device=device), torch.tensor(y, device=device)
    rng = np.random.default_rng(0)

    def epoch():
        order = torch.tensor(rng.permutation(len(x)), device=device)
        for start in range(0, len(x), batch):
            idx = order[start:start + batch]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xd[idx]), yd[idx]).backward()
            opt.step()

    return epoch


# ------------------------------------------------------------------ augmentation
def augment_rate(device: str, shape: tuple, batch: int, repeat: int) -> float:
    """Images per second of augment_bench's pipeline on a batch that lives on ``device``."""
    from augment_bench import minidl_pipeline

    pipeline = minidl_pipeline()
    x = backend.to_device(np.random.default_rng(0).random((batch,) + shape, dtype=np.float32), device)
    seconds = median_seconds(lambda: pipeline(x), lambda: synchronize(device), repeat)
    return batch / seconds


# ------------------------------------------------------------------ model zoo
def zoo_forward(device: str, name: str, batch: int, repeat: int) -> Optional[float]:
    """Seconds of one eval forward at 224x224, or None when the zoo has no such model."""
    if name not in mdl.models.list_models():
        return None
    model = mdl.models.get_model(name).to(device).eval()
    x = mdl.tensor(np.random.default_rng(0).standard_normal((batch, 3, 224, 224)).astype(np.float32), device=device)

    def forward():
        with mdl.no_grad():
            model(x)

    return median_seconds(forward, lambda: synchronize(device), repeat)


# ------------------------------------------------------------------ the table
def ratio(a: Optional[float], b: Optional[float]) -> str:
    return f"{a / b:.2f}x" if a is not None and b is not None else "-"


def ms(seconds: Optional[float]) -> str:
    return f"{seconds * 1e3:.1f}" if seconds is not None else "-"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda", help="cuda, cuda:N, or strict (the CPU rehearsal)")
    parser.add_argument("--out", required=True, help="folder for bench.md")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--epoch-images", type=int, default=60000, help="images in the timed epoch")
    parser.add_argument("--zoo-batch", type=int, default=16, help="batch of the 224x224 forward passes")
    parser.add_argument("--append-results", action="store_true", help="also append the table to RESULTS.md")
    args = parser.parse_args(argv)
    device = backend.parse_device(args.device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tdev = torch_device(device) if torch is not None else None
    print(f"minidl on {device}; PyTorch {'on ' + tdev if tdev else 'not installed'}", flush=True)

    rows = []
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((128, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 128)
    m = median_seconds(minidl_step(device, x, t), lambda: synchronize(device), args.repeat)
    p = median_seconds(torch_step(tdev, x, t), lambda: torch_synchronize(tdev), args.repeat) if tdev else None
    rows.append(("seed convnet train step, batch 128 (ms)", ms(m), ms(p), ratio(m, p)))
    print_table(("measure", "minidl", "pytorch", "ratio"), rows[-1:])

    ex, ey = epoch_data(args.epoch_images)
    m = median_seconds(minidl_epoch(device, ex, ey), lambda: synchronize(device), repeat=1, warmup=0)
    p = median_seconds(torch_epoch(tdev, ex, ey), lambda: torch_synchronize(tdev), repeat=1, warmup=0) if tdev else None
    rows.append((f"one epoch, {len(ex)} images on the device (s)", f"{m:.2f}", f"{p:.2f}" if p else "-", ratio(m, p)))
    print_table(("measure", "minidl", "pytorch", "ratio"), rows[-1:])

    for shape in ((1, 28, 28), (3, 32, 32)):
        rate = augment_rate(device, shape, batch=1024, repeat=args.repeat)
        rows.append((f"augmentation {'x'.join(map(str, shape))}, batch 1024 (img/s)", f"{rate:,.0f}", "-", "-"))
    for name in ("resnet18", "efficientnet-lite0"):
        seconds = zoo_forward(device, name, batch=args.zoo_batch, repeat=args.repeat)
        label = f"{name} forward 224x224, batch {args.zoo_batch} (ms)"
        rows.append((label, ms(seconds), "-", "-") if seconds is not None else (label, "not in the zoo yet", "-", "-"))

    header = ("measure", f"minidl ({device})", f"pytorch ({tdev or 'absent'})", "minidl / pytorch")
    print()
    print_table(header, rows)
    lines = [f"- machine: {machine()}", f"- minidl device: {device}; PyTorch: {tdev or 'not installed'}", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(str, r)) + " |" for r in rows]
    (out / "bench.md").write_text("\n".join(lines) + "\n")
    if args.append_results:
        title = "GPU check (CuPy vs PyTorch CUDA)" if device.startswith("cuda") else \
            "GPU check, CPU rehearsal on the strict stand-in (figures not meaningful)"
        append_results(title, header, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
