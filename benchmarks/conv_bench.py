"""The seed convnet, minidl against PyTorch's CPU build, side by side in one run.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/conv_bench.py [--quick]

(The script re-runs itself without those two variables when they are set:
they select an older OpenBLAS kernel that slows a current NumPy.)

Measures, on ``keras_mnist_convnet`` with float32 and the same thread count
for both frameworks:

* one training step at batch 128 (forward, cross-entropy, backward, Adam);
* the forward alone at batch 1000 (eval mode, no graph);
* each convolution's GFLOP/s (forward, batch 128) against NumPy's float32
  matrix-product peak on this machine;
* peak memory of training (RSS growth, each framework in a fresh process) and
  whether memory grows with the number of steps;
* unless ``--quick``: one epoch (60,000 samples of Fashion-MNIST when
  Debian's files are there, else random data of that size).

Repetitions are interleaved (minidl, PyTorch, minidl, ...) so that a slow
phase of a shared machine hits both; medians with their ranges are printed
and a row is appended to benchmarks/RESULTS.md. Without PyTorch the
comparison columns say so and minidl is measured alone.
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
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import minidl as mdl  # noqa: E402
import minidl.nn.functional as F  # noqa: E402
from common import append_results, blas_info, interleaved, machine, median_range, print_table  # noqa: E402
from minidl.models import keras_mnist_convnet  # noqa: E402

torch = None  # imported in load_torch(): the optional comparison


def load_torch() -> None:
    """Import PyTorch when installed (not in minidl's memory-measuring process)."""
    global torch
    try:
        import torch as _torch
    except ImportError:
        return
    torch = _torch

FASHION = Path("/usr/share/datasets/fashion-mnist")


def threads() -> int:
    try:
        from threadpoolctl import threadpool_info

        return max((i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"), default=1)
    except ImportError:
        return os.cpu_count() or 1


# ------------------------------------------------------------------ the two models
def minidl_setup(batch: int, seed: int = 0):
    mdl.manual_seed(seed)
    model = keras_mnist_convnet()
    opt = mdl.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(seed)
    x = mdl.tensor(rng.standard_normal((batch, 1, 28, 28)).astype(np.float32))
    t = rng.integers(0, 10, batch)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), t)
        loss.backward()
        opt.step()

    return model, step


def torch_model():
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(1600, 10),
    )


def torch_setup(batch: int, seed: int = 0):
    torch.manual_seed(seed)
    model = torch_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(seed)
    x = torch.tensor(rng.standard_normal((batch, 1, 28, 28)).astype(np.float32))
    t = torch.tensor(rng.integers(0, 10, batch))

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), t)
        loss.backward()
        opt.step()

    return model, step


def forward_fns(batch: int) -> dict:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)
    model = keras_mnist_convnet().eval()
    xm = mdl.tensor(x)

    def m_forward():
        with mdl.no_grad():
            model(xm)

    fns = {"minidl": m_forward}
    if torch is not None:
        tm = torch_model().eval()
        xt = torch.tensor(x)

        def t_forward():
            with torch.no_grad():
                tm(xt)

        fns["pytorch"] = t_forward
    return fns


# ------------------------------------------------------------------ conv GFLOP/s
def matmul_peak() -> float:
    """NumPy's float32 matrix-product GFLOP/s at a large square size (best of 5)."""
    a = np.random.default_rng(0).standard_normal((1024, 1024)).astype(np.float32)
    a @ a
    best = min(_time(lambda: a @ a) for _ in range(5))
    return 2 * 1024**3 / best / 1e9


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def conv_rates(batch: int) -> list:
    """(name, shape, GFLOP/s) of each conv of the seed net, forward at ``batch``."""
    rows = []
    rng = np.random.default_rng(2)
    for name, (c, h, o) in (("conv1 1->32 3x3 on 28x28", (1, 28, 32)), ("conv2 32->64 3x3 on 13x13", (32, 13, 64))):
        x = mdl.tensor(rng.standard_normal((batch, c, h, h)).astype(np.float32))
        w = mdl.tensor(rng.standard_normal((o, c, 3, 3)).astype(np.float32))
        flops = 2 * batch * o * (h - 2) ** 2 * c * 9
        with mdl.no_grad():
            F.conv2d(x, w)
            t = statistics.median(_time(lambda: F.conv2d(x, w)) for _ in range(7))
        rows.append((name, flops / t / 1e9))
    return rows


# ------------------------------------------------------------------ memory (subprocess)
def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    """This process's peak RSS (VmHWM). Not getrusage's ru_maxrss: Linux carries
    that over from the parent through fork and exec, so a child started by a
    big parent would report the parent's size."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def memory_child(framework: str) -> None:
    """Run in a fresh process: peak RSS growth over training steps, and drift."""
    _, step = (minidl_setup if framework == "minidl" else torch_setup)(128)
    base = rss_bytes()
    for _ in range(5):
        step()
    peak = peak_rss_bytes() - base
    after5 = rss_bytes()
    for _ in range(25):
        step()
    print(json.dumps({"peak": peak, "drift": rss_bytes() - after5}))


def memory(framework: str, runs: int = 3) -> dict:
    """Median over ``runs`` fresh processes: the peak depends on when the allocator
    returns freed blocks to the system, and varies from process to process."""
    results = []
    for _ in range(runs):
        flags = ["--default-allocator"] if "--default-allocator" in sys.argv else []
        out = subprocess.run([sys.executable, __file__, "--memory-child", framework, *flags], capture_output=True,
                             text=True, check=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(r[key] for r in results) for key in results[0]}


# ------------------------------------------------------------------ one epoch
def fashion_train():
    """(images float32 (60000, 1, 28, 28) in [0, 1], labels) or random data of that size."""
    try:
        from minidl.data.idx import read_idx

        x = read_idx(FASHION / "train-images-idx3-ubyte.gz").astype(np.float32)[:, None] / 255.0
        t = read_idx(FASHION / "train-labels-idx1-ubyte.gz").astype(np.int64)
        return x, t, "Fashion-MNIST"
    except Exception:
        rng = np.random.default_rng(0)
        return rng.random((60000, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 60000), "random data"


def epoch_times(x, t) -> dict:
    times = {}
    mdl.manual_seed(0)
    model = keras_mnist_convnet()
    opt = mdl.optim.Adam(model.parameters(), lr=1e-3)
    perm = np.random.default_rng(0).permutation(len(x))
    start = time.perf_counter()
    for i in range(0, len(x), 128):
        idx = perm[i : i + 128]
        opt.zero_grad()
        F.cross_entropy(model(mdl.tensor(x[idx])), t[idx]).backward()
        opt.step()
    times["minidl"] = time.perf_counter() - start
    if torch is not None:
        torch.manual_seed(0)
        tm = torch_model()
        topt = torch.optim.Adam(tm.parameters(), lr=1e-3)
        xt, tt = torch.tensor(x), torch.tensor(t)
        start = time.perf_counter()
        for i in range(0, len(x), 128):
            idx = torch.tensor(perm[i : i + 128])
            topt.zero_grad()
            torch.nn.functional.cross_entropy(tm(xt[idx]), tt[idx]).backward()
            topt.step()
        times["pytorch"] = time.perf_counter() - start
    return times


# ------------------------------------------------------------------ main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the one-epoch timing")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--default-allocator", action="store_true",
                        help="leave glibc's allocator as it is (else keep_freed_memory() for both frameworks)")
    parser.add_argument("--memory-child", choices=["minidl", "pytorch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.default_allocator:
        import minidl

        minidl.backend.keep_freed_memory()  # process-wide: PyTorch in this process gets it too
    if args.memory_child:
        if args.memory_child == "pytorch":
            load_torch()
        if torch is not None:
            torch.set_num_threads(threads())
        memory_child(args.memory_child)
        return

    load_torch()
    n_threads = threads()
    print(f"machine: {machine()}\nBLAS: {blas_info()}")
    if torch is None:
        print("PyTorch is not installed: measuring minidl alone (pip install torch for the comparison)")
    else:
        torch.set_num_threads(n_threads)
        print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads")

    steps = {"minidl": minidl_setup(128)[1]}
    if torch is not None:
        steps["pytorch"] = torch_setup(128)[1]
    train = interleaved(steps, repeat=args.repeat, warmup=3)
    fwd = interleaved(forward_fns(1000), repeat=max(5, args.repeat // 2), warmup=2)

    peak = matmul_peak()
    rates = conv_rates(128)
    mem = {"minidl": memory("minidl")}
    if torch is not None:
        mem["pytorch"] = memory("pytorch")
    epochs = {}
    source = ""
    if not args.quick:
        x, t, source = fashion_train()
        epochs = epoch_times(x, t)

    def ratio(times: dict) -> str:
        if "pytorch" not in times:
            return "n/a (no PyTorch)"
        return f"{statistics.median(times['minidl']) / statistics.median(times['pytorch']):.2f}x"

    mb = lambda n: f"{n / 2**20:.1f}"  # noqa: E731
    header = ["measure", "minidl", "pytorch", "minidl / pytorch"]
    rows = [
        ["train step, batch 128 (ms)", median_range(train["minidl"]),
         median_range(train["pytorch"]) if "pytorch" in train else "-", ratio(train)],
        ["forward, batch 1000 (ms)", median_range(fwd["minidl"]),
         median_range(fwd["pytorch"]) if "pytorch" in fwd else "-", ratio(fwd)],
        ["peak training memory (MB, RSS growth)", mb(mem["minidl"]["peak"]),
         mb(mem["pytorch"]["peak"]) if "pytorch" in mem else "-",
         f"{mem['minidl']['peak'] / max(mem['pytorch']['peak'], 1):.2f}x" if "pytorch" in mem else "-"],
        ["memory drift over 25 steps (MB)", mb(mem["minidl"]["drift"]),
         mb(mem["pytorch"]["drift"]) if "pytorch" in mem else "-", ""],
    ]
    if epochs:
        rows.append([f"one epoch, {source} (s)", f"{epochs['minidl']:.1f}",
                     f"{epochs['pytorch']:.1f}" if "pytorch" in epochs else "-",
                     f"{epochs['minidl'] / epochs['pytorch']:.2f}x" if "pytorch" in epochs else "-"])
    for name, rate in rates:
        rows.append([f"{name}, fwd b128 (GFLOP/s)", f"{rate:.0f}", "", f"{rate / peak:.0%} of matmul peak"])
    rows.append(["NumPy float32 matmul peak (GFLOP/s)", f"{peak:.0f}", "", ""])
    print()
    print_table(header, rows)
    append_results(
        "conv_bench: keras_mnist_convnet, minidl vs PyTorch CPU",
        header, rows, notes=f"{n_threads} threads for both; medians (min-max) of interleaved repetitions; "
        "run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (the script re-executes itself without them); "
        + ("glibc's default allocator" if args.default_allocator
           else "allocator tuned by minidl.backend.keep_freed_memory(), for both frameworks (one process)"),
    )


if __name__ == "__main__":
    main()
