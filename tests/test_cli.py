"""The command line: the main job at its smallest, resume, and every bad argument."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parent.parent


def minidl(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "minidl", *args], capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, MPLBACKEND="Agg"))


@pytest.mark.needs_fashion_mnist
def test_train_writes_the_run_and_resumes(tmp_path):
    out = tmp_path / "run"
    r = minidl("train", "--epochs", "1", "--limit", "400", "--augment", "flip,shift", "--out", str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Total params: 34,826" in r.stdout and "Epoch 1/1" in r.stdout
    assert "test accuracy:" in r.stdout and "test-time augmentation" in r.stdout
    for name in ("checkpoint.npz", "model.npz", "history.csv", "settings.json"):
        assert (out / name).exists(), name
    r = minidl("train", "--out", str(out), "--resume", "--epochs", "2")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Epoch 2/2" in r.stdout and "Epoch 1/2" not in r.stdout
    assert len((out / "history.csv").read_text().splitlines()) == 3  # header + 2 epochs


@pytest.mark.needs_fashion_mnist
@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "python").exists() or shutil.which("make") is None,
                    reason="make demo is checked where the Makefile's .venv exists (make test)")
def test_make_demo_at_its_smallest(tmp_path):
    r = subprocess.run(["make", "-s", "demo", f"DEMO_ARGS=--epochs 1 --limit 300 --out {tmp_path / 'demo'}"],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "test accuracy:" in r.stdout


@pytest.mark.parametrize("args, message", [
    (["train", "--model", "resnet"], "invalid choice: 'resnet'"),
    (["train", "--dataset", "imagenet"], "invalid choice: 'imagenet'"),
    (["train", "--epochs", "0"], "--epochs must be a positive integer, got 0"),
    (["train", "--epochs", "-3"], "--epochs must be a positive integer"),
    (["train", "--augment", "flip,twirl"], "unknown augmentation 'twirl'; choose from"),
    (["train", "--device", "tpu"], "device must be"),
    (["summary", "alexnet"], "invalid choice: 'alexnet'"),
])
def test_bad_arguments_are_one_line_errors(args, message, tmp_path):
    r = minidl(*args, "--out", str(tmp_path / "x")) if args[0] == "train" else minidl(*args)
    assert r.returncode == 2
    lines = [l for l in r.stderr.strip().splitlines() if l.startswith("python -m minidl") or "error:" in l]
    assert message in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert any("error:" in l for l in lines)


def test_resume_without_a_run_is_a_clear_error(tmp_path):
    r = minidl("train", "--resume", "--out", str(tmp_path / "none"))
    assert r.returncode == 2 and "start the run without --resume first" in r.stderr


def test_summary_and_datasets_commands():
    r = minidl("summary", "keras-mnist-convnet")
    assert r.returncode == 0 and "Total params: 34,826" in r.stdout and "(None, 64, 5, 5)" in r.stdout
    r = minidl("datasets")
    assert r.returncode == 0 and "fashion-mnist" in r.stdout and "cache:" in r.stdout
