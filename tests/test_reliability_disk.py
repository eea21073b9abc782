"""Full and read-only disks, made real with a small tmpfs mount (issue 11).

Mounting needs root (CI runs as root); without it, or where the container
forbids mounts, these tests skip and say why. A full disk must leave the old
file whole and no debris; a read-only one must fail clearly and change nothing.
"""
import errno
import os
import subprocess

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
from minidl.data import extract, write_idx
from minidl.data.datasets.mnist import memory_mapped_idx
from minidl.train import load_checkpoint, save_checkpoint


def _mount(folder, size: str) -> None:
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs (CI runs as root)")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB file system at tmp_path/disk, unmounted afterwards."""
    folder = tmp_path / "disk"
    _mount(folder, "256k")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def remount_read_only(folder) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True, capture_output=True)


def test_save_on_a_full_disk_keeps_the_old_file_and_leaves_no_debris(small_disk):
    path = small_disk / "w.npz"
    mdl.save({"a": np.arange(10.0)}, path)
    with pytest.raises(OSError) as caught:
        mdl.save({"a": np.zeros(1 << 17)}, path)  # 1 MiB: four times the disk
    assert caught.value.errno == errno.ENOSPC
    assert os.listdir(small_disk) == ["w.npz"]
    assert mdl.load(path)["a"].tolist() == list(np.arange(10.0))


def test_checkpoint_on_a_full_disk_keeps_the_old_one_loadable(small_disk):
    mdl.manual_seed(0)
    small = nn.Sequential(nn.Linear(4, 3))
    opt = mdl.optim.Adam(small.parameters())
    path = small_disk / "ckpt.npz"
    save_checkpoint(path, small, opt, epoch=3, run_id="r")
    big = nn.Sequential(nn.Linear(256, 256))  # 256 KiB of weights alone
    with pytest.raises(OSError):
        save_checkpoint(path, big, mdl.optim.Adam(big.parameters()), epoch=4, run_id="r")
    assert os.listdir(small_disk) == ["ckpt.npz"]
    fresh = nn.Sequential(nn.Linear(4, 3))
    assert load_checkpoint(path, fresh, mdl.optim.Adam(fresh.parameters()), run_id="r") == 3
    assert np.array_equal(fresh[0].weight.data, small[0].weight.data)


def test_save_on_a_read_only_disk_fails_clearly_and_the_old_file_still_loads(small_disk):
    path = small_disk / "w.npz"
    mdl.save({"a": np.ones(3)}, path)
    remount_read_only(small_disk)
    with pytest.raises(OSError) as caught:
        mdl.save({"a": np.zeros(3)}, path)
    assert caught.value.errno == errno.EROFS
    assert mdl.load(path)["a"].tolist() == [1.0, 1.0, 1.0]  # tidying stale temporaries must not fail a load
    assert os.listdir(small_disk) == ["w.npz"]


def test_idx_cache_on_a_full_disk_falls_back_to_memory_and_leaves_no_debris(tmp_path, small_disk):
    images = np.random.default_rng(0).integers(0, 256, (600, 28, 28), dtype=np.uint8)  # 470 KB: more than the disk
    write_idx(images, tmp_path / "train-images-idx3-ubyte.gz")
    assert np.array_equal(memory_mapped_idx(tmp_path / "train-images-idx3-ubyte.gz", small_disk / "cache"), images)
    assert list((small_disk / "cache").iterdir()) == []


def test_extract_on_a_full_disk_leaves_nothing(tmp_path, small_disk):
    import io
    import tarfile

    archive = tmp_path / "a.tar.gz"
    with tarfile.open(archive, "w:gz") as t:
        data = os.urandom(400_000)  # incompressible: really needs 400 KB of disk
        info = tarfile.TarInfo("big.bin")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    with pytest.raises(OSError) as caught:
        extract(archive, small_disk / "out")
    assert caught.value.errno == errno.ENOSPC
    assert os.listdir(small_disk) == []
