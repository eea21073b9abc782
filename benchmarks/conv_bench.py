"""Convolutions, minidl against PyTorch's CPU build, side by side in one run.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/conv_bench.py [--quick]
        [--only seed,memory,epoch,resnet,depthwise,pointwise] [--in-process]

(The script re-runs itself without those two variables when they are set:
they select an older OpenBLAS kernel that slows a current NumPy.)

Measures, on ``keras_mnist_convnet`` with float32 and the same thread count
for both frameworks:

* one training step at batch 128 (forward, cross-entropy, backward, Adam);
* the forward alone at batch 1000 (eval mode, no graph);
* each convolution's GFLOP/s (forward, batch 128) against NumPy's float32
  matrix-product peak on this machine;
* peak memory of training (RSS growth over 5 steps, each framework in a fresh
  process) and its growth over the 100 steps after those;
* unless ``--quick``: one epoch (60,000 samples of Fashion-MNIST when
  Debian's files are there, else random data of that size), with a plain
  hand-written loop and with ``minidl.train.fit``.

and, against torchvision's definitions (issue 13's targets in brackets):

* ResNet-18 (``minidl.models.resnet18``, torchvision's layout) training step
  at CIFAR size: batch 64 of 3x32x32, 10 classes, cross-entropy, SGD with
  momentum 0.9 [<= 1.3x PyTorch];
* ResNet-18 forward at 224x224, batch 16, eval mode, no graph [<= 1.2x];
* depthwise 3x3 convolution, forward + backward, batch 32 of 144x56x56,
  padding 1, stride 1 and 2 [<= 1.5x];
* 1x1 convolution 144 -> 24, forward + backward, batch 32 of 56x56 [<= 1.5x].

``--only`` runs some of the parts (seed: the seed convnet's step, forward and
GFLOP/s; memory; epoch; resnet; depthwise; pointwise).

Every timing runs each framework in fresh processes of its own, alternating
(minidl, PyTorch, minidl, ...) for three rounds, so that a slow phase of a
shared machine hits both: in one process the two disturb each other
(OpenBLAS's and PyTorch's OpenMP threads keep spinning for a while after
their work; PyTorch's seed-convnet step took four times its time alone).
``--in-process`` interleaves them in this process instead. Each epoch (a
plain minidl loop, PyTorch's, minidl's ``fit``) runs in a fresh process, two
rounds, the second in reverse order; the table shows the means. Medians with their ranges are
printed and a row is appended to benchmarks/RESULTS.md; its notes say which
way it was made. Without PyTorch the comparison columns say so and minidl is
measured alone.
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
from common import append_results, blas_info, interleaved, machine, median_range, print_table, timeit  # noqa: E402
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
    """NumPy's float32 matrix-product GFLOP/s at a large square size (best of 5), the BLAS on all
    its threads (minidl's pool, once used, keeps it to one: minidl/functional/fast/threads.py)."""
    a = np.random.default_rng(0).standard_normal((1024, 1024)).astype(np.float32)
    mdl.set_num_threads(1)  # the BLAS's threads given back
    try:
        a @ a
        best = min(_time(lambda: a @ a) for _ in range(5))
    finally:
        mdl.set_num_threads(None)
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


GROWTH_STEPS = 100  # steps after the first 5 over which memory must not grow


def memory_child(framework: str) -> None:
    """Run in a fresh process: peak RSS growth over training steps, and drift."""
    _, step = (minidl_setup if framework == "minidl" else torch_setup)(128)
    base = rss_bytes()
    for _ in range(5):
        step()
    peak = peak_rss_bytes() - base
    after5 = rss_bytes()
    for _ in range(GROWTH_STEPS):
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


def fit_epoch_seconds(x, t) -> float:
    """One epoch through ``minidl.train.fit``, as users run it: a shuffling DataLoader, batch 128, no output."""
    from minidl.data import DataLoader, TensorDataset
    from minidl.train import fit

    mdl.manual_seed(0)
    model = keras_mnist_convnet()
    opt = mdl.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(x, t), batch_size=128, shuffle=True, seed=0)
    start = time.perf_counter()
    fit(model, loader, mdl.nn.CrossEntropyLoss(), opt, 1, verbose=0)
    return time.perf_counter() - start


def loop_epoch_seconds(x, t) -> float:
    """One epoch of a plain hand-written minidl loop, batch 128, the same order as PyTorch's."""
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
    return time.perf_counter() - start


def torch_epoch_seconds(x, t) -> float:
    torch.manual_seed(0)
    tm = torch_model()
    topt = torch.optim.Adam(tm.parameters(), lr=1e-3)
    perm = np.random.default_rng(0).permutation(len(x))
    xt, tt = torch.tensor(x), torch.tensor(t)
    start = time.perf_counter()
    for i in range(0, len(x), 128):
        idx = torch.tensor(perm[i : i + 128])
        topt.zero_grad()
        torch.nn.functional.cross_entropy(tm(xt[idx]), tt[idx]).backward()
        topt.step()
    return time.perf_counter() - start


EPOCHS = {"minidl": loop_epoch_seconds, "fit": fit_epoch_seconds, "pytorch": torch_epoch_seconds}


def epoch_child(kind: str) -> None:
    """Run in a fresh process: one epoch of ``kind`` (a key of EPOCHS), as JSON."""
    x, t, source = fashion_train()
    print(json.dumps({"seconds": EPOCHS[kind](x, t), "source": source}))


def epoch_times(kinds: list, rounds: int = 2) -> tuple:
    """({kind: mean seconds of one epoch}, the data's name), each epoch in a fresh process of its own
    (after PyTorch in the same process minidl's fit took 24 s where it takes 19.5 alone), the order
    reversed every other round so that a slow phase of the machine hits every kind alike."""
    times, source = {kind: [] for kind in kinds}, ""
    flags = ["--default-allocator"] if "--default-allocator" in sys.argv else []
    for r in range(rounds):
        for kind in (kinds if r % 2 == 0 else kinds[::-1]):
            out = subprocess.run([sys.executable, __file__, "--epoch-child", kind, *flags],
                                 capture_output=True, text=True, check=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            times[kind].append(result["seconds"])
            source = result["source"]
    return {kind: sum(v) / len(v) for kind, v in times.items()}, source


# ------------------------------------------------------------------ ResNet-18, depthwise, 1x1
def torchvision_models():
    """``torchvision.models`` (its pure-Python definitions when the C extension does not load,
    see tests/models/torch_reference.py); None without torchvision."""
    sys.path.insert(0, str(ROOT / "tests" / "models"))
    from torch_reference import load_torchvision_models

    return load_torchvision_models()


def resnet_train_setup(framework: str, batch: int = 64, seed: int = 0):
    """One SGD-with-momentum step of ResNet-18 (10 classes) on a batch of 3x32x32."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, 3, 32, 32)).astype(np.float32)
    t = rng.integers(0, 10, batch)
    if framework == "minidl":
        mdl.manual_seed(seed)
        model = mdl.models.resnet18(num_classes=10).train()
        opt = mdl.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        xm = mdl.tensor(x)

        def step():
            opt.zero_grad()
            F.cross_entropy(model(xm), t).backward()
            opt.step()

        return step
    torch.manual_seed(seed)
    model = torchvision_models().resnet18(num_classes=10).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    xt, tt = torch.tensor(x), torch.tensor(t)

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(xt), tt).backward()
        opt.step()

    return step


def resnet_forward_setup(framework: str, batch: int = 16, seed: int = 0):
    """ResNet-18's forward at 224x224 (1000 classes), eval mode, no graph."""
    x = np.random.default_rng(seed).standard_normal((batch, 3, 224, 224)).astype(np.float32)
    if framework == "minidl":
        mdl.manual_seed(seed)
        model = mdl.models.resnet18().eval()
        xm = mdl.tensor(x)

        def forward():
            with mdl.no_grad():
                model(xm)

        return forward
    torch.manual_seed(seed)
    model = torchvision_models().resnet18().eval()
    xt = torch.tensor(x)

    def forward():
        with torch.no_grad():
            model(xt)

    return forward


def conv_setup(framework: str, x_shape, w_shape, seed: int = 0, **options):
    """conv2d forward + backward (to the input and the weight) with a fixed upstream gradient."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = (rng.standard_normal(w_shape) * 0.1).astype(np.float32)
    if framework == "minidl":
        xm, wm = mdl.tensor(x, requires_grad=True), mdl.tensor(w, requires_grad=True)
        with mdl.no_grad():
            out_shape = F.conv2d(xm, wm, **options).shape
        gy = mdl.tensor(rng.standard_normal(out_shape).astype(np.float32))

        def step():
            xm.grad = wm.grad = None
            F.conv2d(xm, wm, **options).backward(gy)

        return step
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    with torch.no_grad():
        out_shape = torch.nn.functional.conv2d(xt, wt, **options).shape
    gy = torch.tensor(rng.standard_normal(tuple(out_shape)).astype(np.float32))

    def step():
        xt.grad = wt.grad = None
        torch.nn.functional.conv2d(xt, wt, **options).backward(gy)

    return step


DEPTHWISE = dict(x_shape=(32, 144, 56, 56), w_shape=(144, 1, 3, 3), padding=1, groups=144)
# name -> (part of --only, the table's label, setup(framework), repetitions as a fraction of --repeat, target)
FIGURES = {
    "seed-train": ("seed", "seed convnet train step, batch 128 (ms)",
                   lambda fw: (minidl_setup if fw == "minidl" else torch_setup)(128)[1], 1.0, None),
    "seed-forward": ("seed", "seed convnet forward, batch 1000 (ms)", lambda fw: forward_fns(1000)[fw], 0.5, None),
    "resnet-train": ("resnet", "ResNet-18 train step, batch 64 of 3x32x32, SGD momentum (ms)",
                     resnet_train_setup, 0.5, 1.3),
    "resnet-forward": ("resnet", "ResNet-18 forward 224x224, batch 16, eval (ms)", resnet_forward_setup, 0.34, 1.2),
    "depthwise-1": ("depthwise", "depthwise 3x3 fwd+bwd, batch 32, 144x56x56, stride 1 (ms)",
                    lambda fw: conv_setup(fw, stride=1, **DEPTHWISE), 1.0, 1.5),
    "depthwise-2": ("depthwise", "depthwise 3x3 fwd+bwd, batch 32, 144x56x56, stride 2 (ms)",
                    lambda fw: conv_setup(fw, stride=2, **DEPTHWISE), 1.0, 1.5),
    "pointwise": ("pointwise", "1x1 conv 144->24 fwd+bwd, batch 32, 56x56 (ms)",
                  lambda fw: conv_setup(fw, (32, 144, 56, 56), (24, 144, 1, 1)), 1.0, 1.5),
}


def figure_child(name: str, framework: str, repeat: int) -> None:
    """Run in a fresh process: one framework's times of one figure, as JSON on the last line."""
    fn = FIGURES[name][2](framework)
    print(json.dumps(timeit(fn, repeat=repeat, warmup=2)))


def figure_times(name: str, frameworks: list, repeat: int, processes: bool, rounds: int = 3) -> dict:
    """{framework: seconds per call} of one figure: interleaved in this process, or with
    ``processes`` in fresh processes, one framework each, alternating for ``rounds`` rounds."""
    reps = max(3, round(repeat * FIGURES[name][3]))
    if not processes:
        return interleaved({fw: FIGURES[name][2](fw) for fw in frameworks}, repeat=reps, warmup=2)
    times = {fw: [] for fw in frameworks}
    flags = ["--default-allocator"] if "--default-allocator" in sys.argv else []
    for _ in range(rounds):
        for fw in frameworks:
            out = subprocess.run([sys.executable, __file__, "--figure-child", name, fw,
                                  "--repeat", str(max(2, reps // rounds)), *flags],
                                 capture_output=True, text=True, check=True)
            times[fw] += json.loads(out.stdout.strip().splitlines()[-1])
    return times


# ------------------------------------------------------------------ main
PARTS = ("seed", "memory", "epoch", "resnet", "depthwise", "pointwise")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the one-epoch timing")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--only", default=",".join(PARTS),
                        help=f"comma-separated parts to run, of {', '.join(PARTS)} (default: all)")
    parser.add_argument("--in-process", action="store_true",
                        help="time the figures interleaved in this process (by default each framework runs in "
                             "fresh processes, alternating: in one process PyTorch's seed-convnet step took 4x "
                             "its time alone)")
    parser.add_argument("--default-allocator", action="store_true",
                        help="leave glibc's allocator as it is (else keep_freed_memory() for both frameworks)")
    parser.add_argument("--memory-child", choices=["minidl", "pytorch"], help=argparse.SUPPRESS)
    parser.add_argument("--figure-child", nargs=2, metavar=("FIGURE", "FRAMEWORK"), help=argparse.SUPPRESS)
    parser.add_argument("--epoch-child", choices=sorted(EPOCHS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    only = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = sorted(set(only) - set(PARTS))
    if unknown:
        parser.error(f"--only: unknown part(s) {unknown}; the parts are {', '.join(PARTS)}")
    if args.quick and "epoch" in only:
        only.remove("epoch")
    if not args.default_allocator:
        import minidl

        minidl.backend.keep_freed_memory()  # process-wide: PyTorch in this process gets it too
    if args.memory_child or args.figure_child or args.epoch_child:
        framework = args.memory_child or (args.figure_child[1] if args.figure_child else args.epoch_child)
        if framework == "pytorch":
            load_torch()
        if torch is not None:
            torch.set_num_threads(threads())
        if args.memory_child:
            memory_child(framework)
        elif args.epoch_child:
            epoch_child(args.epoch_child)
        else:
            figure_child(args.figure_child[0], framework, args.repeat)
        return

    load_torch()
    n_threads = threads()
    print(f"machine: {machine()}\nBLAS: {blas_info()}")
    if torch is None:
        print("PyTorch is not installed: measuring minidl alone (pip install torch for the comparison)")
    else:
        torch.set_num_threads(n_threads)
        print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads")

    def ratio(times: dict) -> str:
        if "pytorch" not in times:
            return "n/a (no PyTorch)"
        return f"{statistics.median(times['minidl']) / statistics.median(times['pytorch']):.2f}x"

    def timing_row(label: str, times: dict, target: str = "") -> list:
        return [label, median_range(times["minidl"]), median_range(times["pytorch"]) if "pytorch" in times else "-",
                ratio(times), target]

    mb = lambda n: f"{n / 2**20:.1f}"  # noqa: E731
    header = ["measure", "minidl", "pytorch", "minidl / pytorch", "target"]
    rows = []
    if "memory" in only:
        mem = {"minidl": memory("minidl")}
        if torch is not None:
            mem["pytorch"] = memory("pytorch")
        rows += [
            ["seed convnet peak training memory (MB, RSS growth over 5 steps)", mb(mem["minidl"]["peak"]),
             mb(mem["pytorch"]["peak"]) if "pytorch" in mem else "-",
             f"{mem['minidl']['peak'] / max(mem['pytorch']['peak'], 1):.2f}x" if "pytorch" in mem else "-", ""],
            [f"seed convnet memory growth over the next {GROWTH_STEPS} steps (MB)", mb(mem["minidl"]["drift"]),
             mb(mem["pytorch"]["drift"]) if "pytorch" in mem else "-", "", ""],
        ]
    if "epoch" in only:
        epochs, source = epoch_times(["minidl", "pytorch", "fit"] if torch is not None else ["minidl", "fit"])
        with_fit = epochs["fit"]
        rows.append([f"seed convnet one epoch, {source}, a plain loop (s)", f"{epochs['minidl']:.1f}",
                     f"{epochs['pytorch']:.1f}" if "pytorch" in epochs else "-",
                     f"{epochs['minidl'] / epochs['pytorch']:.2f}x" if "pytorch" in epochs else "-", "<= 1.0x"])
        rows.append([f"seed convnet one epoch, {source}, minidl's fit (s)", f"{with_fit:.1f}",
                     f"{epochs['pytorch']:.1f} (plain loop)" if "pytorch" in epochs else "-",
                     f"{with_fit / epochs['pytorch']:.2f}x" if "pytorch" in epochs else "-", "<= 1.0x"])
    frameworks = ["minidl"] + (["pytorch"] if torch is not None else [])
    if "pytorch" in frameworks and any(FIGURES[k][0] == "resnet" and FIGURES[k][0] in only for k in FIGURES) \
            and torchvision_models() is None:
        print("torchvision is not installed: ResNet-18 measured for minidl alone")
        resnet_frameworks = ["minidl"]
    else:
        resnet_frameworks = frameworks
    for name, (part, label, _, _, target) in FIGURES.items():
        if part in only:
            fws = resnet_frameworks if part == "resnet" else frameworks
            times = figure_times(name, fws, args.repeat, not args.in_process)
            if part == "seed":  # the seed convnet's rows first
                rows.insert(sum(row[0].startswith("seed convnet") and "(ms)" in row[0] for row in rows),
                            timing_row(label, times))
            else:
                rows.append(timing_row(label, times, f"<= {target}x"))
    if "seed" in only:
        peak = matmul_peak()
        for name, rate in conv_rates(128):
            rows.append([f"seed convnet {name}, fwd b128 (GFLOP/s)", f"{rate:.0f}", "", f"{rate / peak:.0%} of matmul peak",
                         ""])
        rows.append(["NumPy float32 matmul peak (GFLOP/s)", f"{peak:.0f}", "", "", ""])
    print()
    print_table(header, rows)
    figures_made = ("timings interleaved in one process" if args.in_process else
                    "each timing's frameworks in fresh processes of their own, alternating (3 rounds); "
                    "each epoch in a fresh process, 2 rounds in alternating order, means")
    append_results(
        "conv_bench: seed convnet, ResNet-18, depthwise and 1x1 convolutions, minidl vs PyTorch CPU",
        header, rows, notes=f"{n_threads} threads for both"
        + (f" (OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']})" if "OPENBLAS_NUM_THREADS" in os.environ else "")
        + "; medians (min-max); "
        f"{figures_made}; "
        "run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (the script re-executes itself without them); "
        + ("glibc's default allocator" if args.default_allocator
           else "allocator tuned by minidl.backend.keep_freed_memory(), for both frameworks (one process)"),
    )


if __name__ == "__main__":
    main()
