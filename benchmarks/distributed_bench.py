"""Data parallel on this machine: 1 process x 2 threads against 2 MPI processes x 1 thread.

    python benchmarks/distributed_bench.py            (needs mpi4py + mpich: pip install 'minidl[distributed]')

The seed convnet (``keras_mnist_convnet``) trains on Fashion-MNIST images
(random images of that shape when the dataset is not installed) with a
global batch of 128: one process with 2 BLAS threads, then ``mpiexec -n 2``
with 1 thread and 64 images each, gradients averaged by DistributedDataParallel.
Each side runs in a fresh process (thread counts are fixed when NumPy loads),
and reports images per second over the same steps after a warm-up.

It also times the all-reduce of one step's gradients (the model's parameter
bytes in float32) between the two ranks, and works out on paper what a ring
all-reduce would cost on k machines: each rank sends and receives
2 (k - 1) / k of the gradient bytes, in 2 (k - 1) messages, so

    t_allreduce(k) = 2 (k - 1) / k * bytes / bandwidth + 2 (k - 1) * latency

with the bandwidth and latency of a network (assumed, named in the table),
against the measured compute time of one step at 64 images per rank.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import rerun_without_openblas_overrides  # noqa: E402

rerun_without_openblas_overrides()

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GLOBAL_BATCH = 128
NETWORKS = [("1 Gb/s Ethernet", 125e6, 50e-6), ("10 Gb/s Ethernet", 1.25e9, 20e-6), ("100 Gb/s InfiniBand", 12.5e9, 2e-6)]


def worker(steps: int, out: str) -> None:
    """One rank (or the single process): time ``steps`` training steps after 3 warm-up steps."""
    import numpy as np

    sys.path.insert(0, str(ROOT))
    import minidl as mdl
    from minidl import nn
    from minidl.distributed import DistributedDataParallel, init
    from minidl.models import keras_mnist_convnet

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from conv_bench import fashion_train

    comm = init()
    x, t, source = fashion_train()
    per_rank = GLOBAL_BATCH // comm.world_size
    mdl.manual_seed(0)
    model = keras_mnist_convnet()
    model = DistributedDataParallel(model, comm) if comm.world_size > 1 else model
    opt = mdl.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    order = np.random.default_rng(0).permutation(len(x))

    def step(i: int) -> None:
        idx = order[(i * GLOBAL_BATCH + comm.rank * per_rank) % len(x):][:per_rank]
        value = loss_fn(model(mdl.tensor(x[idx])), t[idx])
        opt.zero_grad()
        value.backward()
        if comm.world_size > 1:
            model.sync_gradients()
        opt.step()

    for i in range(3):
        step(i)
    comm.barrier()
    start = time.perf_counter()
    for i in range(steps):
        step(3 + i)
    comm.barrier()
    elapsed = time.perf_counter() - start
    grads = np.zeros(sum(p.size for p in model.parameters()), dtype=np.float32)
    reduce_times = []
    for _ in range(50 if comm.world_size > 1 else 0):
        comm.barrier()
        t0 = time.perf_counter()
        comm.all_reduce(grads)
        reduce_times.append(time.perf_counter() - t0)
    if comm.rank == 0:
        Path(out).write_text(json.dumps({"seconds": elapsed, "steps": steps, "source": source,
                                         "grad_bytes": int(grads.nbytes), "allreduce": reduce_times}))


def run(processes: int, threads: int, steps: int, out: Path) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    cmd = [sys.executable, __file__, "--worker", str(steps), str(out)]
    if processes > 1:
        mpiexec = shutil.which("mpiexec", path=str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""))
        if mpiexec is None:
            raise SystemExit("no mpiexec: pip install 'minidl[distributed]'")
        cmd = [mpiexec, "-n", str(processes)] + cmd
    subprocess.run(cmd, check=True, env=env, stdin=subprocess.DEVNULL)
    return json.loads(out.read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=40, help="timed steps of the global batch")
    ap.add_argument("--no-write", action="store_true", help="do not append to RESULTS.md")
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(int(args.worker[0]), args.worker[1])
    from common import append_results, print_table

    tmp = Path(os.environ.get("TMPDIR", "/tmp"))
    one = run(1, 2, args.steps, tmp / "minidl_dist_1.json")
    two = run(2, 1, args.steps, tmp / "minidl_dist_2.json")
    rate = lambda r: r["steps"] * GLOBAL_BATCH / r["seconds"]  # noqa: E731
    ar = statistics.median(two["allreduce"])
    step_2 = two["seconds"] / two["steps"]
    rows = [["1 process x 2 threads", f"{rate(one):.0f}", f"{one['seconds'] / one['steps'] * 1e3:.1f}", "-"],
            ["2 processes x 1 thread", f"{rate(two):.0f}", f"{step_2 * 1e3:.1f}",
             f"{ar * 1e3:.3f} ms for {two['grad_bytes']:,} B"]]
    header = ["setup (global batch 128)", "images/s", "ms per step", "all-reduce of the gradients"]
    print_table(header, rows)
    compute = step_2 - ar  # one rank's compute at 64 images (with 1 thread)
    paper = []
    for name, bandwidth, latency in NETWORKS:
        for k in (2, 4, 8, 16):
            t_ar = 2 * (k - 1) / k * two["grad_bytes"] / bandwidth + 2 * (k - 1) * latency
            paper.append([name, k, f"{t_ar * 1e3:.2f}", f"{k * 64 / (compute + t_ar):.0f}",
                          f"{(compute) / (compute + t_ar):.0%}"])
    paper_header = ["network (assumed)", "machines k", "ring all-reduce ms", "images/s (64 per machine)", "efficiency"]
    print()
    print_table(paper_header, paper)
    if not args.no_write:
        notes = (f"data: {one['source']}; {args.steps} timed steps after 3 warm-up; the all-reduce is the median of 50 "
                 f"on this machine (shared memory between the two ranks)")
        append_results("Data parallel: 1 process x 2 threads vs 2 MPI processes x 1 thread", header, rows, notes)
        append_results("Data parallel on paper: ring all-reduce of the seed convnet's gradients on k machines",
                       paper_header, paper,
                       f"compute per step measured here: {compute * 1e3:.1f} ms at 64 images on 1 thread; "
                       f"t(k) = 2(k-1)/k * {two['grad_bytes']:,} B / bandwidth + 2(k-1) * latency")
        print("\nappended to benchmarks/RESULTS.md")


if __name__ == "__main__":
    main()
