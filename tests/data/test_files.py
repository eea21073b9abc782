"""File formats and datasets on disk: IDX, ImageFolder, CSV, CIFAR-10 binary, the real Fashion-MNIST."""
import gzip
import os
from pathlib import Path

import numpy as np
import pytest

import minidl as mdl
from minidl.data import DataLoader, IDXError, read_idx, write_idx
from minidl.data.datasets import CIFAR10, CSVDataset, FashionMNIST, ImageFolder


@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(dtype, suffix, tmp_path, rng):
    a = (rng.standard_normal((4, 3, 2)) * 50).astype(dtype)
    path = tmp_path / f"a.idx{suffix}"
    write_idx(a, path)
    back = read_idx(path)
    assert back.dtype == a.dtype and np.array_equal(back, a)
    if not suffix:
        assert np.array_equal(read_idx(path, mmap=True), a)


def test_idx_errors(tmp_path):
    path = tmp_path / "x.idx"
    write_idx(np.arange(12, dtype=np.uint8).reshape(3, 4), path)
    data = path.read_bytes()
    (tmp_path / "magic").write_bytes(b"\x01" + data[1:])
    with pytest.raises(IDXError, match="bad magic number"):
        read_idx(tmp_path / "magic")
    (tmp_path / "code").write_bytes(data[:2] + b"\x07" + data[3:])
    with pytest.raises(IDXError, match="unknown IDX type code 0x07"):
        read_idx(tmp_path / "code")
    (tmp_path / "short").write_bytes(data[:-5])
    with pytest.raises(IDXError, match=r"short: truncated: the header promises 12 data bytes, the file has 7"):
        read_idx(tmp_path / "short")
    with pytest.raises(IDXError, match="truncated"):
        read_idx(tmp_path / "short", mmap=True)
    (tmp_path / "long").write_bytes(data + b"xx")
    with pytest.raises(IDXError, match="2 unexpected bytes"):
        read_idx(tmp_path / "long")
    (tmp_path / "tiny").write_bytes(b"\x00\x00")
    with pytest.raises(IDXError, match="too short"):
        read_idx(tmp_path / "tiny")
    with gzip.open(tmp_path / "cut.gz", "wb") as f:
        f.write(data[:-3])
    with pytest.raises(IDXError, match="cut.gz: truncated"):
        read_idx(tmp_path / "cut.gz")
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "none")
    with pytest.raises(TypeError, match="IDX cannot store"):
        write_idx(np.zeros(2, dtype=np.complex64), tmp_path / "c")


def test_image_folder_decodes_lazily(tmp_path):
    from PIL import Image

    colours = {"cat": (255, 0, 0), "dog": (0, 0, 255)}
    for name, rgb in colours.items():
        (tmp_path / name).mkdir()
        for i in range(3):
            Image.new("RGB", (8 + i, 6), rgb).save(tmp_path / name / f"{i}.png")
    data = ImageFolder(tmp_path, size=(6, 8))
    assert data.classes == ["cat", "dog"] and len(data) == 6
    x, y = data.get_batch([0, 4])
    assert x.shape == (2, 3, 6, 8) and y.tolist() == [0, 1]
    assert np.allclose(x[0, :, 0, 0], [1, 0, 0]) and np.allclose(x[1, :, 0, 0], [0, 0, 1])
    grey = ImageFolder(tmp_path, size=(6, 8), grayscale=True)
    assert grey[0][0].shape == (1, 6, 8)
    with pytest.raises(ValueError, match="pass size"):
        ImageFolder(tmp_path).get_batch([0, 1])
    batches = list(DataLoader(data, batch_size=4, shuffle=True, seed=0))
    assert sum(len(b[1]) for b in batches) == 6


def test_csv_dataset_streams_rows(tmp_path, rng):
    pixels = rng.integers(0, 256, (7, 4))
    labels = np.arange(7) % 3
    lines = ["label,p0,p1,p2,p3"] + [",".join(map(str, [l, *p])) for l, p in zip(labels, pixels)]
    path = tmp_path / "d.csv"
    path.write_text("\n".join(lines) + "\n")
    data = CSVDataset(path, image_shape=(1, 2, 2), chunk_size=16)  # tiny chunks: rows span chunk borders
    assert len(data) == 7
    x, y = data.get_batch([6, 0, 3])
    assert y.tolist() == [0, 0, 0] and x.shape == (3, 1, 2, 2)
    assert np.allclose(x[0].ravel(), pixels[6] / 255)
    no_header = tmp_path / "n.csv"
    no_header.write_text("\n".join(lines[1:]))  # no trailing newline either
    assert len(CSVDataset(no_header)) == 7 and CSVDataset(no_header)[6][1] == 0


def test_cifar10_binary_records(tmp_path, rng):
    folder = tmp_path / "cifar-10" / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    records = {}
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        rec = rng.integers(0, 256, (3, 3073), dtype=np.uint8)
        rec[:, 0] %= 10
        rec.tofile(folder / name)
        records[name] = rec
    train = CIFAR10(root=tmp_path / "cifar-10", train=True)
    assert len(train) == 15
    x, y = train.get_batch([0, 4, 14])
    assert x.shape == (3, 3, 32, 32) and y.tolist() == [records["data_batch_1.bin"][0, 0],
                                                       records["data_batch_2.bin"][1, 0],
                                                       records["data_batch_5.bin"][2, 0]]
    assert np.allclose(x[1, 0].ravel(), records["data_batch_2.bin"][1, 1:1025] / 255)
    assert len(CIFAR10(root=tmp_path / "cifar-10", train=False)) == 3


def test_missing_dataset_lists_every_place_tried(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("MINIDL_DATA", str(tmp_path / "data"))
    from minidl.data import sources

    monkeypatch.setattr(sources.FASHION_MNIST, "system_dirs", [str(tmp_path / "system")])
    with pytest.raises(FileNotFoundError) as info:
        FashionMNIST(root=tmp_path / "root")
    msg = str(info.value)
    for place in ("root", "data/fashion-mnist", "cache/minidl/fashion-mnist", "system", "download=True",
                  "apt-get install dataset-fashion-mnist"):
        assert place in msg


DEBIAN = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not DEBIAN.exists(), reason="Debian's dataset-fashion-mnist is not installed")
def test_real_fashion_mnist(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # the decompressed copies go here
    monkeypatch.delenv("MINIDL_DATA", raising=False)
    train, test = FashionMNIST(train=True), FashionMNIST(train=False)
    assert len(train) == 60000 and len(test) == 10000
    assert sorted(np.unique(train.labels).tolist()) == list(range(10))
    pixels = np.asarray(train.images, dtype=np.float64) / 255
    assert pixels.mean() == pytest.approx(0.2860, abs=1e-3)  # the published statistics
    assert pixels.std() == pytest.approx(0.3530, abs=1e-3)
    assert isinstance(train.images, np.memmap)  # read lazily from the decompressed cache
    assert (tmp_path / "minidl" / "fashion-mnist" / "train-images-idx3-ubyte").exists()
    assert not [p for p in (tmp_path / "minidl" / "fashion-mnist").iterdir() if p.name.endswith(".part")]
    x, y = train.get_batch([0, 1])
    assert x.shape == (2, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
