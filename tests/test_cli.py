"""The command line: the main job at its smallest, resume, and every bad argument.

The first tests run ``python -m minidl`` in a subprocess on Fashion-MNIST; the
rest call ``main()`` in this process on tiny synthetic images (``fake_datasets``),
which is quick and lets a test press Ctrl-C (``interrupt_at_step``).
"""
import dataclasses
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minidl as mdl
from minidl import __main__ as cli


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
    (["train", "--epochs", "0"], "argument --epochs: must be a positive integer, got 0"),
    (["train", "--epochs", "-3"], "argument --epochs: must be a positive integer"),
    (["train", "--augment", "flip,twirl"], "unknown augmentation 'twirl'; choose from"),
    (["train", "--device", "tpu"], "device must be"),
    (["summary", "alexnet"], "invalid choice: 'alexnet'"),
])
def test_bad_arguments_are_one_line_errors(args, message, tmp_path):
    r = minidl(*args, "--out", str(tmp_path / "x")) if args[0] == "train" else minidl(*args)
    assert r.returncode == 2
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stderr.startswith(f"python -m minidl {args[0]}: error:")


def test_resume_without_a_run_is_a_clear_error(tmp_path):
    r = minidl("train", "--resume", "--out", str(tmp_path / "none"))
    assert r.returncode == 2 and "start the run without --resume first" in r.stderr


def test_summary_and_datasets_commands():
    r = minidl("summary", "keras-mnist-convnet")
    assert r.returncode == 0 and "Total params: 34,826" in r.stdout and "(None, 64, 5, 5)" in r.stdout
    r = minidl("datasets")
    assert r.returncode == 0 and "fashion-mnist" in r.stdout and "cache:" in r.stdout


# ----------------------------------------------------------------- in this process, on tiny synthetic data


def synthetic(shape, n_train=80, n_test=40):
    """A stand-in for a dataset's make(): random images of ``shape`` whose class is a bright pixel (learnable)."""
    def make(train=True, download=False):
        rng = np.random.default_rng(0 if train else 1)
        n = n_train if train else n_test
        y = rng.integers(0, 10, n)
        x = (rng.random((n, *shape)) * 0.5).astype(np.float32)
        x[np.arange(n), 0, 1, 2 * y + 2] += 1.0
        return mdl.data.TensorDataset(x, y)

    return make


@pytest.fixture
def fake_datasets(monkeypatch):
    """Every --dataset reads tiny synthetic images of its own shape: quick runs here, no files needed."""
    for name, choice in list(cli.DATASETS.items()):
        monkeypatch.setitem(cli.DATASETS, name, dataclasses.replace(choice, make=synthetic(choice.image_shape)))


def main(*args):
    """cli.main's exit status; argparse's errors exit, which counts as returning the status."""
    try:
        return cli.main([str(a) for a in args])
    except SystemExit as stop:
        return stop.code


def train(out, *args):
    return main("train", "--out", out, "--verbose", 2, "--batch-size", 32, *args)


def interrupt_at_step(monkeypatch, n):
    """Ctrl-C at the n-th optimizer step (from 1); with 72 training images in batches of 32, an epoch is 3 steps."""
    real, calls = mdl.optim.Adam.step, []

    def step(self):
        calls.append(1)
        if len(calls) == n:
            raise KeyboardInterrupt
        return real(self)

    monkeypatch.setattr(mdl.optim.Adam, "step", step)


def files(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def weights(path):
    return mdl.load(path)


def one_line(text):
    assert len(text.strip().splitlines()) == 1, text
    return text.strip()


def test_fresh_run_refuses_used_out(tmp_path, fake_datasets, capsys):
    out = tmp_path / "run"
    assert train(out, "--epochs", 1) == 0
    before = files(out)
    capsys.readouterr()
    assert train(out, "--epochs", 2, "--seed", 1) == 2  # a new run, other settings, same folder
    err = one_line(capsys.readouterr().err)
    assert f"--out {out} is not empty" in err and "--resume" in err and "--overwrite" in err
    assert files(out) == before  # nothing of the old run was touched, nothing was trained
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes")
    assert train(mine, "--epochs", 1) == 2 and "is not empty (notes.txt)" in capsys.readouterr().err
    assert files(mine) == {"notes.txt": b"my notes"}


def test_overwrite_clears_old_state(tmp_path, fake_datasets, capsys, monkeypatch):
    out = tmp_path / "run"
    assert train(out, "--epochs", 2) == 0
    old_id = json.loads((out / "settings.json").read_text())["run_id"]
    (out / "notes.txt").write_text("not minidl's")
    (out / ".checkpoint.npz.k3j2x9.tmp").write_bytes(b"left by a killed save")
    with monkeypatch.context() as m:
        interrupt_at_step(m, 1)  # the new run stops in its first epoch, before its first checkpoint
        assert train(out, "--epochs", 3, "--seed", 1, "--overwrite") == 130
    assert "--overwrite: removed the old run's settings.json, checkpoint.npz" in capsys.readouterr().out
    # the old run's state is gone before the new run trains: nothing of it is left to adopt
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "settings.json"]
    settings = json.loads((out / "settings.json").read_text())
    assert settings["seed"] == 1 and settings["epochs"] == 3 and settings["run_id"] != old_id
    assert train(out, "--resume") == 0
    console = capsys.readouterr().out
    assert "Epoch 1/3" in console and "Epoch 3/3" in console
    assert [r.split(",")[0] for r in (out / "history.csv").read_text().splitlines()] == ["epoch", "1", "2", "3"]


def test_overwrite_changes_nothing_when_a_check_fails(tmp_path, fake_datasets, capsys):
    out = tmp_path / "run"
    assert train(out, "--epochs", 1) == 0
    before = files(out)
    capsys.readouterr()
    assert train(out, "--overwrite", "--limit", 5) == 2  # 10% of 5 images holds out none: found after loading data
    assert "--val-split: validation_split=0.1 of 5 samples holds out none" in one_line(capsys.readouterr().err)
    assert files(out) == before  # the old run is still whole


def test_resume_refuses_foreign_checkpoint(tmp_path, fake_datasets, capsys, monkeypatch):
    # The scenario at tiny size: run A finishes; run B, other settings, is stopped after
    # its first checkpoint; --resume must continue B exactly, and never adopt A's checkpoint.
    out = tmp_path / "run"
    assert train(out, "--epochs", 1, "--seed", 0) == 0
    a_checkpoint = (out / "checkpoint.npz").read_bytes()
    b = ("--epochs", 3, "--seed", 1)
    with monkeypatch.context() as m:
        interrupt_at_step(m, 4)  # the first step of epoch 2: epoch 1's checkpoint is saved
        assert train(out, *b, "--overwrite") == 130
    capsys.readouterr()
    assert train(out, "--resume") == 0
    console = capsys.readouterr().out
    assert "Epoch 2/3" in console and "Epoch 1/3" not in console
    assert train(tmp_path / "b_straight", *b) == 0  # B without the interruption
    straight, resumed = weights(tmp_path / "b_straight" / "model.npz"), weights(out / "model.npz")
    assert all(np.array_equal(straight[k], resumed[k]) for k in straight)  # B continued, to the last bit
    # A's checkpoint put back into B's folder: refused, naming it, before anything changes
    (out / "checkpoint.npz").write_bytes(a_checkpoint)
    before = files(out)
    capsys.readouterr()
    assert train(out, "--resume", "--epochs", 4) == 2
    err = one_line(capsys.readouterr().err)
    assert "checkpoint.npz belongs to another run" in err and "--overwrite" in err
    assert files(out) == before


def test_ctrl_c_says_where_the_checkpoint_is_and_how_to_resume(tmp_path, fake_datasets, capsys, monkeypatch):
    out = tmp_path / "my run"  # a space: the printed command quotes it
    with monkeypatch.context() as m:
        interrupt_at_step(m, 7)  # in epoch 3: epochs 1 and 2 are saved
        assert train(out, "--epochs", 3) == 130
    err = one_line(capsys.readouterr().err)
    command = f"python -m minidl train --out {shlex.quote(str(out))} --resume"
    assert err == f"interrupted: the last checkpoint is {out / 'checkpoint.npz'} (after epoch 2/3); resume with: {command}"
    assert main(*shlex.split(command)[3:]) == 0  # the printed command, as it is, resumes the run
    assert "Epoch 3/3" in capsys.readouterr().out
    with monkeypatch.context() as m:
        interrupt_at_step(m, 1)
        assert train(tmp_path / "early", "--epochs", 3) == 130
    assert "interrupted before the first checkpoint" in one_line(capsys.readouterr().err)


@pytest.mark.parametrize("args, message", [
    (["train", "--lr", "-1"], "argument --lr: must be a positive number, got -1"),
    (["train", "--lr", "nan"], "argument --lr: must be a positive number, got nan"),
    (["train", "--seed", "-1"], "argument --seed: must be an integer >= 0, got -1"),
    (["train", "--limit", "-5"], "argument --limit: must be a positive integer, got -5"),
    (["train", "--val-split", "1"], "argument --val-split: must be a fraction in [0, 1)"),
    (["train", "--resume", "--overwrite"], "give --resume (continue the run in --out) or --overwrite"),
    (["train", "--recipe", "keras-mnist", "--lr", "0.01"], "leave out --lr (the recipe uses 0.001)"),
    (["train", "--patience", "2", "--val-split", "0"], "--patience needs validation data"),
    (["train", "--dataset", "cifar-10"], "invalid choice: 'cifar-10'"),
    (["summary", "mlp", "--input-shape", "a,b"], "argument --input-shape: must be C,H,W"),
    (["summary", "keras-mnist-convnet", "--input-shape", "1,8,8"], "input_size must be at least 10x10"),
    (["summary", "mlp", "--input-shape", "0,28,28"], "argument --input-shape: must be C,H,W"),
])
def test_bad_values_are_one_line_usage_errors(args, message, tmp_path, capsys):
    out = tmp_path / "never"
    assert main(*args, *(["--out", out] if args[0] == "train" else [])) == 2
    err = one_line(capsys.readouterr().err)
    assert err.startswith(f"python -m minidl {args[0]}: error:") and message in err
    assert not out.exists()  # refused before anything was written


@pytest.fixture
def read_only_folder(tmp_path):
    """An empty folder nobody can write in: a read-only tmpfs as root (who ignores permissions), else chmod."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    if os.geteuid() == 0:
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)], capture_output=True,
                           text=True)
        if r.returncode != 0:
            pytest.skip(f"cannot mount a read-only tmpfs here: {r.stderr.strip()}")
        yield folder
        subprocess.run(["umount", str(folder)], check=True)
    else:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)


def test_out_at_a_file_or_a_read_only_folder(tmp_path, read_only_folder, capsys):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    assert train(a_file) == 2
    assert f"--out {a_file} is a file; expected a folder" in one_line(capsys.readouterr().err)
    for out in (read_only_folder, read_only_folder / "sub"):
        assert train(out) == 2
        assert f"--out {out} is not writable" in one_line(capsys.readouterr().err)


def test_resume_checks_its_settings_file(tmp_path, fake_datasets, capsys):
    out = tmp_path / "run"
    assert train(out, "--epochs", 1) == 0
    capsys.readouterr()
    assert train(out, "--resume", "--lr", "0.01") == 2  # a setting of the run cannot change on resume
    assert "cannot change --lr (the run has 0.001)" in one_line(capsys.readouterr().err)
    for damage in ('{"model": "mlp", ', "{}", "[1, 2]"):
        (out / "settings.json").write_text(damage)
        assert train(out, "--resume", "--epochs", 2) == 2
        err = one_line(capsys.readouterr().err)
        assert f"{out / 'settings.json'} is damaged" in err and "--overwrite" in err
    assert not list(out.glob(".settings.json.*"))  # no temporary left by the atomic writes


def test_cifar10_trains_with_the_default_model(tmp_path, fake_datasets, capsys):
    assert train(tmp_path / "c", "--dataset", "cifar10", "--epochs", 1) == 0
    console = capsys.readouterr().out
    assert "(None, 64, 6, 6)" in console and "(None, 2304)" in console and "test accuracy:" in console
    for shape, flat in (("1,28,28", 1600), ("3,40,24", 64 * 8 * 4)):  # the default model fits any image size
        assert main("summary", "keras-mnist-convnet", "--input-shape", shape) == 0
        assert f"(None, {flat})" in capsys.readouterr().out


# vgg11-bn, vgg16 and vgg16-bn are built by vgg11's function (_vgg); each costs ~10 s of CPU (130M parameters).
@pytest.mark.parametrize("name", [m for m in mdl.models.list_models() if m not in ("vgg11-bn", "vgg16", "vgg16-bn")])
def test_summary_at_cifar_size_works_for_every_model(name, capsys):
    assert main("summary", name, "--input-shape", "3,32,32") == 0
    table = capsys.readouterr().out
    assert "Total params" in table and "(None, 10)" in table  # 10 classes, as train builds it


def test_default_augmentation_per_dataset():
    parser = cli.build_parser()

    def augment(*args):
        return cli._new_settings(parser.parse_args(["train", *args]))["augment"]

    assert "flip" not in augment("--dataset", "mnist")  # a flipped digit is another digit
    assert "flip" in augment("--dataset", "fashion-mnist") and "flip" in augment("--dataset", "cifar10")
    assert augment("--dataset", "mnist", "--augment", "flip") == "flip"  # asked for: given
    assert augment("--recipe", "keras-mnist") == "none"


def test_help_shows_defaults(capsys):
    assert main("train", "--help") == 0
    text = " ".join(capsys.readouterr().out.split())
    for default in ("(default: keras-mnist-convnet)", "(default: fashion-mnist)", "(default: 2)", "(default: 128)",
                    "(default: 0.001)", "(default: 0.1)", "(default: 0)", "(default: runs/default)",
                    "mnist shift,rotate"):
        assert default in text, default
    assert "removing the old run's files first (settings.json, checkpoint.npz, model.npz, history.csv, " \
           "curves.png)" in text


def test_datasets_and_dataset_use_the_same_names(capsys):
    assert main("datasets") == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines() if line.startswith("  ")]
    assert listed == list(cli.DATASETS) == ["fashion-mnist", "mnist", "cifar10"]
    for name in listed:
        assert cli.build_parser().parse_args(["train", "--dataset", name]).dataset == name


def test_history_csv_numbers_epochs_as_the_console(tmp_path, fake_datasets, capsys):
    assert train(tmp_path / "r", "--epochs", 2) == 0
    console = capsys.readouterr().out
    assert "Epoch 1/2" in console and "Epoch 2/2" in console and "Epoch 0/" not in console
    rows = (tmp_path / "r" / "history.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows] == ["epoch", "1", "2"]


class _Seen(Exception):
    pass


def test_recipe_keras_mnist_runs_the_recipe_as_written(tmp_path, fake_datasets, capsys, monkeypatch):
    seen = {}

    def spy(model, train_loader, loss, optimizer, epochs, **kwargs):
        seen.update(train_loader=train_loader, optimizer=optimizer, epochs=epochs, **kwargs)
        raise _Seen  # what fit was given is all this test needs

    monkeypatch.setattr(mdl.train, "fit", spy)
    with pytest.raises(_Seen):
        cli.main(["train", "--recipe", "keras-mnist", "--dataset", "mnist", "--limit", "50",
                  "--out", str(tmp_path / "k")])
    assert "Total params: 34,826" in capsys.readouterr().out  # the Keras example's network
    loader, val = seen["train_loader"], seen["val_loader"]
    assert seen["epochs"] == 15 and loader.batch_size == 128 and loader.shuffle and loader.transform is None
    assert isinstance(seen["optimizer"], mdl.optim.Adam) and seen["optimizer"].param_groups[0]["lr"] == 1e-3
    assert list(loader.dataset.indices) == list(range(45)) and list(val.dataset.indices) == list(range(45, 50))
    settings = json.loads((tmp_path / "k" / "settings.json").read_text())
    assert settings["recipe"] == "keras-mnist" and settings["val_split"] == 0.1 and settings["augment"] == "none"


def test_settings_are_written_atomically(tmp_path, monkeypatch):
    path = tmp_path / "settings.json"
    cli._write_json_atomically(path, {"epochs": 1})

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli.os, "fsync", disk_full)  # the new contents never reach the disk
    with pytest.raises(OSError, match="No space left"):
        cli._write_json_atomically(path, {"epochs": 2})
    assert json.loads(path.read_text()) == {"epochs": 1} and os.listdir(tmp_path) == ["settings.json"]
