"""Batch norm folded into the convolutions: eval forward speed, fused against unfused, side by side in one run.

    python benchmarks/fuse_bench.py [--batch 16] [--size 224] [--repeat 5] [--threads 2]

(The script re-runs itself without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE.)

The decks claim batch norm costs nothing at test time, because in eval mode
it is an affine map that folds into the convolution before it
(``nn.fuse_model``). This measures the claim on ResNet-18 and
EfficientNet-Lite0: float32, eval mode, no graph, random weights and batch
norm statistics, the fused and the unfused model timed in interleaved
repetitions; it also prints the largest difference between their outputs.
Appends the table to benchmarks/RESULTS.md.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import rerun_without_openblas_overrides  # noqa: E402

if __name__ == "__main__":
    rerun_without_openblas_overrides()  # before NumPy loads OpenBLAS

import argparse  # noqa: E402
import statistics  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # minidl, when not installed
import minidl as mdl  # noqa: E402
from minidl import nn  # noqa: E402
from common import append_results, interleaved, median_range, print_table  # noqa: E402

NETWORKS = ("resnet18", "efficientnet-lite0")


def with_random_statistics(model: nn.Module, seed: int = 0) -> nn.Module:
    """Batch norms with running statistics and affine weights that are not the identity."""
    rng = np.random.default_rng(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean[...] = rng.normal(0, 0.1, m.num_features)
            m.running_var[...] = rng.uniform(0.5, 1.5, m.num_features)
            m.weight.data[...] = rng.uniform(0.5, 1.5, m.num_features)
    return model


def row(name: str, batch: int, size: int, repeat: int) -> tuple:
    mdl.manual_seed(0)
    model = with_random_statistics(mdl.models.get_model(name)).eval()
    x = mdl.tensor(np.random.default_rng(1).standard_normal((batch, 3, size, size)).astype(np.float32))
    fused = nn.fuse_model(model, x[:2])
    with mdl.no_grad():
        difference = float(np.abs(model(x[:2]).numpy() - fused(x[:2]).numpy()).max())

    def forward(net):
        def run():
            with mdl.no_grad():
                net(x)
        return run

    times = interleaved({"unfused": forward(model), "fused": forward(fused)}, repeat=repeat, warmup=1)
    unfused, fused_t = statistics.median(times["unfused"]), statistics.median(times["fused"])
    batch_norms = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    return (f"{name} forward {size}x{size}, batch {batch}", f"{batch_norms} -> 0",
            median_range(times["unfused"]), median_range(times["fused"]),
            f"{(1 - fused_t / unfused) * 100:.1f}%", f"{difference:.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="BLAS threads (threadpoolctl)")
    parser.add_argument("--no-results", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    header = ("measure", "batch norms", "unfused (ms)", "fused (ms)", "time saved", "largest output difference")
    rows = []
    with threadpool_limits(args.threads):
        for name in NETWORKS:
            rows.append(row(name, args.batch, args.size, args.repeat))
            print_table(header, rows[-1:])
    print()
    print_table(header, rows)
    if not args.no_results:
        append_results("Batch norm folded into the convolutions: eval forward, fused vs unfused (CPU)", header,
                       rows, notes=f"{args.threads} BLAS threads; medians (min-max) of {args.repeat} interleaved "
                                   "repetitions; nn.fuse_model, random weights and statistics")


if __name__ == "__main__":
    main()
