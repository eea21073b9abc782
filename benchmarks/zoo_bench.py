"""The model zoo at ImageNet size: minidl against PyTorch's CPU build, side by side in one run.

    python benchmarks/zoo_bench.py [--batch 32] [--repeat 3] [--extract 1000]

(The script re-runs itself without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE.)

Measures, float32, eval mode, no graph, the same thread count for both:

* the forward pass of EfficientNet-Lite0 and ResNet-18 at 224x224, batch
  ``--batch``, in images/s (each framework timed in fresh processes of its
  own, alternating for 3 rounds: in one process, each one's idle threads
  spin after its calls and slow the other);
* each framework's peak memory over that forward (RSS growth, measured in a
  fresh process per framework, so neither pays for the other);
* feature extraction of ``--extract`` images with EfficientNet-Lite0
  (``include_top=False``), end to end through ``transfer.extract_features``.

Prints a table and appends it to benchmarks/RESULTS.md. Without PyTorch
(or torchvision / efficientnet-lite-pytorch) the comparison columns say so.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import rerun_without_openblas_overrides  # noqa: E402

if __name__ == "__main__":
    rerun_without_openblas_overrides()  # before NumPy loads OpenBLAS

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "models"))

import minidl as mdl  # noqa: E402
from common import append_results, print_table, timeit  # noqa: E402

NETWORKS = ("efficientnet-lite0", "resnet18")


def minidl_model(name: str):
    mdl.manual_seed(0)
    return mdl.models.get_model(name).eval()


def torch_model(name: str):
    """The PyTorch reference of ``name`` with minidl's weights copied in, or None when not installed."""
    try:
        import torch  # noqa: F401
        if name == "resnet18":
            from torch_reference import torchvision_models

            return torchvision_models().resnet18().eval()
        from efficientnet_lite_pytorch import EfficientNet

        return EfficientNet.from_name("efficientnet-lite0").eval()
    except Exception as error:  # noqa: BLE001 - any missing piece means: no comparison
        print(f"(PyTorch reference of {name} unavailable: {type(error).__name__}: {error})")
        return None


def forward_fns(name: str, batch: int, frameworks=("minidl", "pytorch")) -> dict:
    """{framework: one forward pass of ``name`` on a fixed batch}; PyTorch's only where it is installed."""
    x = np.random.default_rng(0).standard_normal((batch, 3, 224, 224)).astype(np.float32)
    fns = {}
    if "minidl" in frameworks:
        model = minidl_model(name)
        xm = mdl.tensor(x)

        def m_forward():
            with mdl.no_grad():
                model(xm)

        fns["minidl"] = m_forward
    reference = torch_model(name) if "pytorch" in frameworks else None
    if reference is not None:
        import torch

        xt = torch.tensor(x)

        def t_forward():
            with torch.no_grad():
                reference(xt)

        fns["pytorch"] = t_forward
    return fns


# ------------------------------------------------------------------ timing, in fresh processes
def time_child(framework: str, name: str, batch: int, repeat: int) -> None:
    """Run in a fresh process: seconds of ``repeat`` forwards after one warm-up, as JSON."""
    fn = forward_fns(name, batch, (framework,))[framework]
    print(json.dumps(timeit(fn, repeat=repeat, warmup=1)))


def forward_times(name: str, batch: int, repeat: int, rounds: int = 3) -> dict:
    """{framework: seconds per forward}, each framework in fresh processes of its own, alternating for
    ``rounds`` rounds: in one process each framework's idle threads (OpenBLAS's, OpenMP's) spin
    after its calls and slow the other's."""
    times = {}
    for _ in range(rounds):
        for framework in ("minidl", "pytorch"):
            out = subprocess.run([sys.executable, __file__, "--time-child", framework, name, "--batch", str(batch),
                                  "--repeat", str(max(1, -(-repeat // rounds)))],
                                 capture_output=True, text=True, timeout=1800)
            lines = out.stdout.strip().splitlines()
            if out.returncode == 0 and lines and lines[-1].startswith("["):
                times.setdefault(framework, []).extend(json.loads(lines[-1]))
            elif framework == "minidl":
                raise RuntimeError(f"minidl's timing failed:\n{out.stderr[-2000:]}")
    return times


# ------------------------------------------------------------------ memory, in a fresh process
def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))


def memory_child(framework: str, name: str, batch: int) -> None:
    fn = forward_fns(name, batch)[framework]
    base = rss()
    fn()
    print(json.dumps({"peak_mb": (peak_rss() - base) / 2**20}))


def memory(framework: str, name: str, batch: int) -> str:
    out = subprocess.run([sys.executable, __file__, "--memory-child", framework, name, "--batch", str(batch)],
                         capture_output=True, text=True, timeout=900)
    try:
        return f"{json.loads(out.stdout.strip().splitlines()[-1])['peak_mb']:.0f} MB"
    except (IndexError, ValueError, KeyError):
        return "-"


# ------------------------------------------------------------------ feature extraction
def extraction_seconds(n: int, batch: int) -> float:
    model = mdl.models.get_model("efficientnet-lite0", include_top=False)
    images = np.random.default_rng(1).random((n, 3, 224, 224), dtype=np.float32)
    loader = mdl.data.DataLoader(mdl.data.TensorDataset(images, np.zeros(n, dtype=np.int64)), batch_size=batch)
    start = time.perf_counter()
    features, _ = mdl.transfer.extract_features(model, loader)
    assert features.shape == (n, 1280)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--extract", type=int, default=1000, help="images in the feature-extraction run (0: skip)")
    parser.add_argument("--memory-child", nargs=2, metavar=("FRAMEWORK", "NETWORK"), help=argparse.SUPPRESS)
    parser.add_argument("--time-child", nargs=2, metavar=("FRAMEWORK", "NETWORK"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(*args.memory_child, args.batch)
        return
    if args.time_child:
        time_child(*args.time_child, args.batch, args.repeat)
        return
    rows = []
    for name in NETWORKS:
        times = forward_times(name, args.batch, args.repeat)
        rate = {k: args.batch / statistics.median(v) for k, v in times.items()}
        ratio = f"{statistics.median(times['minidl']) / statistics.median(times['pytorch']):.2f}x" \
            if "pytorch" in times else "-"
        rows.append((f"{name} forward 224x224, batch {args.batch}", f"{rate['minidl']:.1f} img/s",
                     f"{rate['pytorch']:.1f} img/s" if "pytorch" in rate else "-", ratio,
                     memory("minidl", name, args.batch),
                     memory("pytorch", name, args.batch) if "pytorch" in times else "-"))
        print_table(("measure", "minidl", "pytorch", "time ratio", "minidl peak", "pytorch peak"), rows[-1:])
    if args.extract:
        seconds = extraction_seconds(args.extract, args.batch)
        rows.append((f"efficientnet-lite0 features of {args.extract} images", f"{seconds:.1f} s "
                     f"({args.extract / seconds:.1f} img/s)", "-", "-", "-", "-"))
    header = ("measure", "minidl", "pytorch", "minidl / pytorch (time)", "minidl peak memory", "pytorch peak memory")
    print()
    print_table(header, rows)
    append_results("Model zoo forward at 224x224 (eval, CPU)", header, rows,
                   notes="medians of forwards timed in fresh processes, one framework each, alternating "
                         "(3 rounds); peak memory = RSS growth over one forward, each framework in a fresh process")


if __name__ == "__main__":
    main()
