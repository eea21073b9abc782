"""What every benchmark shares: timing with medians, the machine's description,
and appending a row to ``benchmarks/RESULTS.md``.

Timings on these machines are noisy (other processes, allocator behaviour),
so benchmarks compare frameworks side by side in one run, interleaving their
repetitions, and report medians with their range.
"""
from __future__ import annotations

import datetime
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def rerun_without_openblas_overrides() -> None:
    """Restart this script without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE when they are set.

    Some machines here set them for old OpenBLAS builds; they slow a current
    NumPy down. They must be gone before NumPy loads OpenBLAS, hence a restart
    (call this before importing numpy). Tests and CI leave them alone.
    """
    if any(v in os.environ for v in OPENBLAS_OVERRIDES):
        env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_OVERRIDES}
        os.execve(sys.executable, [sys.executable] + sys.argv, env)


def timeit(fn: Callable[[], object], repeat: int = 7, warmup: int = 2) -> list[float]:
    """Seconds per call of ``fn``, ``repeat`` times after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def interleaved(fns: dict, repeat: int = 7, warmup: int = 2, clock: Callable[[], float] = time.perf_counter) -> dict:
    """Time several callables round-robin, so slow phases of the machine hit all alike.

    ``clock``: the wall clock by default; ``time.thread_time`` counts the calling
    thread's CPU seconds instead (for one-thread contestants on a busy machine).
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = clock()
            fn()
            times[name].append(clock() - start)
    return times


def median_range(times: Sequence[float], scale: float = 1e3) -> str:
    """'12.3 (11.9-13.0)' in milliseconds by default."""
    return f"{statistics.median(times) * scale:.1f} ({min(times) * scale:.1f}-{max(times) * scale:.1f})"


def blas_info() -> str:
    """Which BLAS library, kernel and thread count NumPy uses (threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    return "; ".join(
        f"{i.get('internal_api')} {i.get('version')} {i.get('architecture', '')} threads={i.get('num_threads')}"
        for i in infos
    ) or "unknown"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def command() -> str:
    return "python " + " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:])


def append_results(title: str, header: Sequence[str], rows: Sequence[Sequence[object]], notes: str = "") -> None:
    """Append a dated table with the machine, BLAS and command to RESULTS.md."""
    lines = [
        f"\n## {title} - {datetime.datetime.now():%Y-%m-%d %H:%M}",
        "",
        f"- machine: {machine()}",
        f"- BLAS: {blas_info()}",
        f"- command: `{command()}`",
    ]
    if notes:
        lines.append(f"- {notes}")
    lines += ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n\nEach section was appended by a benchmark run.\n")
    with RESULTS.open("a") as f:
        f.write("\n".join(lines) + "\n")


def print_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [list(map(str, header))] + [list(map(str, r)) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for k, row in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
        if k == 0:
            print("  ".join("-" * w for w in widths))
