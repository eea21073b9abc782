"""File formats and datasets on disk: IDX, ImageFolder, CSV, CIFAR-10 binary, the real Fashion-MNIST."""
import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from minidl.data import DataLoader, IDXError, read_idx, sources, write_idx
from minidl.data.datasets import CIFAR10, MNIST, CSVDataset, FashionMNIST, ImageFolder
from minidl.data.datasets.mnist import memory_mapped_idx


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


def test_idx_details(tmp_path):
    a = np.arange(24, dtype=np.int16).reshape(2, 3, 4) - 7
    write_idx(a, tmp_path / "plain.idx")
    mapped = read_idx(tmp_path / "plain.idx", mmap=True)
    assert isinstance(mapped, np.memmap) and mapped.dtype == np.dtype(">i2")  # the file's own byte order, lazily
    assert np.array_equal(mapped[1], a[1])
    loaded = read_idx(tmp_path / "plain.idx")
    assert loaded.dtype == np.int16 and loaded.flags.writeable
    write_idx(a, tmp_path / "no-suffix", compress=True)  # gzip is recognised by its content, not its name
    assert np.array_equal(read_idx(tmp_path / "no-suffix"), a)
    with pytest.raises(ValueError, match="gzipped: it cannot be memory-mapped"):
        read_idx(tmp_path / "no-suffix", mmap=True)
    head = bytes([0, 0, 8, 3]) + (5).to_bytes(4, "big")  # says 3 sizes, holds 1
    (tmp_path / "header").write_bytes(head)
    with pytest.raises(IDXError, match="3 dimensions .16 header bytes. but the file ends after 8 bytes"):
        read_idx(tmp_path / "header")
    gz = (tmp_path / "x.gz")
    write_idx(np.zeros((50, 50), np.uint8) + 7, gz)
    (tmp_path / "cut-stream.gz").write_bytes(gz.read_bytes()[:-20])  # the compressed stream itself is cut
    with pytest.raises(IDXError, match="cut-stream.gz: truncated"):
        read_idx(tmp_path / "cut-stream.gz")
    with gzip.open(tmp_path / "liar.gz", "wb") as f:  # a header promising 16 EB must not be allocated
        f.write(bytes([0, 0, 8, 2]) + (2**32 - 1).to_bytes(4, "big") * 2 + b"tiny")
    with pytest.raises(IDXError, match="liar.gz: truncated: the header promises 18446744065119617025 data bytes, "
                                       "the file has 4"):
        read_idx(tmp_path / "liar.gz")
    (tmp_path / "damaged.gz").write_bytes(gz.read_bytes()[:10] + b"\xff" * 30)
    with pytest.raises(IDXError, match="damaged.gz"):
        read_idx(tmp_path / "damaged.gz")


def test_gzipped_idx_is_decompressed_once_into_the_cache(tmp_path):
    images = np.arange(5 * 28 * 28, dtype=np.uint64).reshape(5, 28, 28).astype(np.uint8)
    write_idx(images, tmp_path / "imgs.gz")
    cache = tmp_path / "cache"
    first = memory_mapped_idx(tmp_path / "imgs.gz", cache)
    assert isinstance(first, np.memmap) and np.array_equal(first, images)
    [copy] = list(cache.iterdir())  # one file, complete, no ".part" beside it
    assert copy.name.startswith("imgs.") and not copy.name.endswith(".part")
    stamp = copy.stat().st_mtime_ns
    assert np.array_equal(memory_mapped_idx(tmp_path / "imgs.gz", cache), images)
    assert copy.stat().st_mtime_ns == stamp  # reused, not written again
    other = images[::-1].copy()
    (tmp_path / "other").mkdir()
    write_idx(other, tmp_path / "other" / "imgs.gz")
    assert np.array_equal(memory_mapped_idx(tmp_path / "other" / "imgs.gz", cache), other)  # a different file
    assert len(list(cache.iterdir())) == 2
    copy.write_bytes(copy.read_bytes()[:100])  # damage the cached copy: it is made again
    assert np.array_equal(memory_mapped_idx(tmp_path / "imgs.gz", cache), images)
    (tmp_path / "not-a-folder").write_text("x")  # a cache that cannot be written: read into memory instead
    in_memory = memory_mapped_idx(tmp_path / "imgs.gz", tmp_path / "not-a-folder" / "cache")
    assert not isinstance(in_memory, np.memmap) and np.array_equal(in_memory, images)


def fake_mnist(folder, n_train=7, n_test=3, gz=True, label_offset=0):
    """Tiny MNIST-format files; image i is filled with the value i, label (i + offset) % 10."""
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = np.broadcast_to(np.arange(n, dtype=np.uint8)[:, None, None], (n, 28, 28))
        write_idx(images, folder / f"{prefix}-images-idx3-ubyte{suffix}")
        write_idx(((np.arange(n) + label_offset) % 10).astype(np.uint8), folder / f"{prefix}-labels-idx1-ubyte{suffix}")
    return folder


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_format_dataset(gz, tmp_path, no_system):
    root = fake_mnist(tmp_path / "digits", gz=gz)
    train, test = MNIST(root=root), MNIST(root=root, train=False)
    assert len(train) == 7 and len(test) == 3 and isinstance(train.images, np.memmap)
    x, y = train.get_batch([2, 3, 4])  # consecutive: one slice
    xs, ys = train.get_batch([4, 0, 2])  # shuffled: a gather
    assert x.shape == (3, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    assert np.allclose(x[:, 0, 5, 5], np.array([2, 3, 4]) / 255) and ys.tolist() == [4, 0, 2]
    assert np.allclose(xs[:, 0, 0, 0], np.array([4, 0, 2]) / 255)
    one, label = train[4]
    assert one.shape == (1, 28, 28) and label == 4 and np.array_equal(one, xs[0])
    assert [b[1].tolist() for b in DataLoader(test, batch_size=2)] == [[0, 1], [2]]


def test_mnist_bad_files(tmp_path, no_system):
    root = fake_mnist(tmp_path / "a", gz=False)
    write_idx(np.array([0, 1, 12], np.uint8), root / "t10k-labels-idx1-ubyte")
    with pytest.raises(IDXError, match=r"labels must lie in 0..9, got 0..12"):
        MNIST(root=root, train=False)
    write_idx(np.array([0, 1], np.uint8), root / "t10k-labels-idx1-ubyte")
    with pytest.raises(IDXError, match="labels for 3 images"):
        MNIST(root=root, train=False)


def test_sources_are_searched_in_order(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("MINIDL_DATA", str(tmp_path / "env"))
    places = {"root": tmp_path / "root", "env": tmp_path / "env" / "fashion-mnist",
              "cache": tmp_path / "cache" / "minidl" / "fashion-mnist", "system": tmp_path / "system"}
    monkeypatch.setattr(sources.FASHION_MNIST, "system_dirs", [str(places["system"])])
    for k, (name, folder) in enumerate(places.items()):
        fake_mnist(folder, gz=k % 2 == 0, label_offset=k)  # each place's labels start at k
    for k, name in enumerate(places):
        data = FashionMNIST(root=places["root"] if name == "root" else None, train=False)
        assert data.folder == places[name] and data.labels[0] == k
        shutil.rmtree(places[name])
    assert FashionMNIST(root=fake_mnist(tmp_path / "r2" / "fashion-mnist"), train=False).labels[0] == 0  # root/<name>


def test_image_folder_details(tmp_path):
    from PIL import Image

    (tmp_path / "b_red").mkdir()
    (tmp_path / "a_grey").mkdir()
    (tmp_path / ".ipynb_checkpoints").mkdir()  # hidden: not a class
    Image.new("RGB", (4, 4), (255, 0, 0)).save(tmp_path / "b_red" / "r.png")
    Image.new("L", (2, 2), 128).save(tmp_path / "a_grey" / "g.png")
    (tmp_path / "a_grey" / "notes.txt").write_text("not an image")
    data = ImageFolder(tmp_path, size=(3, 5), grayscale=True)
    assert data.classes == ["a_grey", "b_red"] and len(data) == 2
    x, y = data.get_batch([1, 0])
    assert x.shape == (2, 1, 3, 5) and y.tolist() == [1, 0]
    assert np.allclose(x[0], 76 / 255) and np.allclose(x[1], 128 / 255)  # L = 0.299 R (+ ...), Pillow rounds to 76
    rgb = ImageFolder(tmp_path, size=(2, 2))
    assert np.allclose(rgb[0][0], 128 / 255) and rgb[0][0].shape == (3, 2, 2)  # grey -> three equal channels
    with pytest.raises(ValueError, match=r"size must be \(H, W\) with positive sides"):
        ImageFolder(tmp_path, size=(0, 3))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no class sub-folders"):
        ImageFolder(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="not a folder"):
        ImageFolder(tmp_path / "nowhere")


@pytest.mark.parametrize("chunk_size", [1, 5, 1 << 20])
def test_csv_blank_lines_crlf_and_chunk_borders(chunk_size, tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b"label,a,b\r\n3,0,255\r\n\r\n\n1,51,102\r\n7,1,2")
    data = CSVDataset(path, chunk_size=chunk_size)
    assert len(data) == 3
    x, y = data.get_batch([1, 0, 2])
    assert y.tolist() == [1, 3, 7] and np.allclose(x, [[0.2, 0.4], [0, 1], [1 / 255, 2 / 255]])
    last = CSVDataset(path, label_column=-1, scale=1.0)
    assert last[0][1] == 255 and last[0][0].tolist() == [3, 0]


def test_csv_errors_name_the_file_and_row(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("1,2,3\n4,x,6\n")
    with pytest.raises(ValueError, match=r"bad.csv: data row 1 is not a row of numbers"):
        CSVDataset(path).get_batch([1])
    with pytest.raises(ValueError, match=r"row 0 has 2 pixel values, image_shape \(1, 2, 2\) needs 4"):
        CSVDataset(path, image_shape=(1, 2, 2))[0]
    (tmp_path / "empty.csv").write_text("a,b\n\n")
    with pytest.raises(ValueError, match="no data rows"):
        CSVDataset(tmp_path / "empty.csv")


def test_cifar10_damaged_files(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    (folder / "test_batch.bin").write_bytes(b"\0" * 3073 * 2 + b"\0" * 10)
    with pytest.raises(ValueError, match="not a whole number of 3073-byte records"):
        CIFAR10(root=tmp_path, train=False)
    with pytest.raises(FileNotFoundError, match="data_batch_1.bin is missing"):
        CIFAR10(root=tmp_path, train=True)


DEBIAN = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not DEBIAN.is_dir(), reason="Debian's dataset-fashion-mnist is not installed "
                                                "(apt-get install dataset-fashion-mnist)")
def test_real_fashion_mnist(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # the decompressed copies go here, not to the user's cache
    monkeypatch.delenv("MINIDL_DATA", raising=False)
    train, test = FashionMNIST(train=True), FashionMNIST(train=False)
    assert train.folder == DEBIAN
    assert len(train) == 60000 and len(test) == 10000
    assert np.bincount(train.labels).tolist() == [6000] * 10 and np.bincount(test.labels).tolist() == [1000] * 10
    assert isinstance(train.images, np.memmap) and train.images.shape == (60000, 28, 28)
    counts = sum(np.bincount(train.images[i : i + 10000].ravel(), minlength=256) for i in range(0, 60000, 10000))
    values = np.arange(256) / 255
    mean = (counts * values).sum() / counts.sum()
    std = np.sqrt((counts * (values - mean) ** 2).sum() / counts.sum())
    assert mean == pytest.approx(0.2860, abs=5e-4) and std == pytest.approx(0.3530, abs=5e-4)  # as published
    cache = tmp_path / "minidl" / "fashion-mnist"
    assert sorted(p.name.split(".")[0] for p in cache.iterdir()) == ["t10k-images-idx3-ubyte", "train-images-idx3-ubyte"]
    x, y = next(iter(DataLoader(train, batch_size=64, shuffle=True, seed=0, prefetch=1)))
    assert x.shape == (64, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    assert 0 <= x.min() and x.max() <= 1
    assert test.classes[int(test.labels[0])] == "Ankle boot"  # the first test image, as every tutorial shows
