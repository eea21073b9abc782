"""The GPU check's CPU rehearsal (issue 15): the script that a lent GPU machine will run, end to end.

``benchmarks/gpu_check.sh OUT --cpu-rehearsal`` runs every step of the GPU
check here, with the strict CuPy stand-in in place of the GPU, so that a
broken step shows up in CI and not in the few minutes of a lent GPU. The
test suite's own strict variant already runs in CI, so the rehearsal here
leaves that step out (``--skip-tests``) and leaves the environment alone
(``--no-install``).
"""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("bash") is None, reason="the GPU check is a bash script")
def test_the_gpu_check_rehearses_every_step_on_the_cpu(tmp_path):
    out = tmp_path / "gpu"
    run = subprocess.run(["bash", "benchmarks/gpu_check.sh", str(out), "--cpu-rehearsal", "--skip-tests",
                          "--no-install"], cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable, "HOME": str(tmp_path)})
    assert run.returncode == 0, run.stdout + run.stderr
    steps = (out / "steps.log").read_text()
    for step in ("1. install", "2. test suite, device variant: strict", "3. benchmark", "4. summary", "done"):
        assert step in steps
    assert "gpu_bench exit status: 0" in (out / "bench.log").read_text()
    summary = (out / "summary.md").read_text()
    assert "# GPU check (strict)" in summary and "minidl 0.1.0" in summary
    table = (out / "bench.md").read_text()
    for row in ("seed convnet train step, batch 128", "one epoch, 2048 images on the device",
                "augmentation 1x28x28", "augmentation 3x32x32", "resnet18 forward 224x224, batch 2",
                "efficientnet-lite0 forward 224x224, batch 2"):
        line = next((line for line in table.splitlines() if row in line), None)
        assert line is not None, f"no row {row!r} in\n{table}"
        minidl_cell = line.split("|")[2].strip()
        assert float(minidl_cell.replace(",", "")) > 0, line  # a measured number, not a placeholder
