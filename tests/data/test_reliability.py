"""Bad data files and bad servers: bounded work, and clear errors that name the file (issue 11)."""
import gzip
import http.server
import io
import re
import tarfile
import threading
import time
import zipfile

import numpy as np
import pytest

from minidl.data import DownloadError, IDXError, download, extract, read_idx, write_idx
from minidl.data import archive as archive_module
from minidl.data.datasets import CIFAR10, CSVDataset, FashionMNIST, ImageFolder
from minidl.data.datasets.mnist import memory_mapped_idx


# --------------------------------------------------------------------- IDX
def idx_bomb(path, body_bytes=2 << 20):
    """A .gz whose IDX header says one uint8 value, followed by megabytes of zeros: ~2 kB compressed."""
    header = bytes([0, 0, 0x08, 1]) + (1).to_bytes(4, "big")
    path.write_bytes(gzip.compress(header + b"\0" * body_bytes))
    return path


@pytest.fixture
def inflated(monkeypatch):
    """Counts the bytes gzip hands out while the test runs."""
    count = [0]
    real_read = gzip.GzipFile.read

    def counting_read(self, size=-1):
        data = real_read(self, size)
        count[0] += len(data)
        return data

    monkeypatch.setattr(gzip.GzipFile, "read", counting_read)
    return count


def test_read_idx_stops_at_the_size_the_header_declares(tmp_path, inflated):
    path = idx_bomb(tmp_path / "bomb-idx1-ubyte.gz")
    assert path.stat().st_size < 10_000
    with pytest.raises(IDXError, match=re.escape(str(path)) + ": more unexpected bytes after the 1 data bytes"):
        read_idx(path)
    assert inflated[0] <= 8 + 2  # the header, the one byte it promises and one more: not 2 MiB


def test_the_cache_copy_stops_at_the_size_the_header_declares(tmp_path, inflated):
    path = idx_bomb(tmp_path / "bomb-idx1-ubyte.gz")
    with pytest.raises(IDXError, match="more unexpected bytes after the 1 data bytes"):
        memory_mapped_idx(path, tmp_path / "cache")
    assert inflated[0] <= 8 + 2
    assert not any((tmp_path / "cache").iterdir())  # no partial copy left in the cache


def test_gzipped_idx_of_the_right_size_still_reads(tmp_path):
    a = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    write_idx(a, tmp_path / "a.gz")
    assert np.array_equal(read_idx(tmp_path / "a.gz"), a)
    assert np.array_equal(memory_mapped_idx(tmp_path / "a.gz", tmp_path / "cache"), a)


@pytest.mark.parametrize("size", [2, 5, 7, 17])
def test_a_gz_too_short_to_be_one_names_the_file(size, tmp_path, no_system):
    root = tmp_path / "fashion"
    root.mkdir()
    for prefix in ("train", "t10k"):
        write_idx(np.zeros((2, 28, 28), np.uint8), root / f"{prefix}-images-idx3-ubyte.gz")
        write_idx(np.zeros(2, np.uint8), root / f"{prefix}-labels-idx1-ubyte.gz")
    short = root / "train-images-idx3-ubyte.gz"
    short.write_bytes(gzip.compress(b"\0" * 100)[:size])  # starts as gzip does, ends far too soon
    with pytest.raises(IDXError, match=re.escape(str(short)) + f": truncated: {size} bytes is too short for a gzip"):
        FashionMNIST(root=root)
    with pytest.raises(IDXError, match=re.escape(str(short))):
        read_idx(short)


# ----------------------------------------------------------------- archives
def tar_gz(path, members: dict):
    with tarfile.open(path, "w:gz") as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return path


def test_extract_refuses_more_than_max_bytes_before_writing(tmp_path):
    archive = tar_gz(tmp_path / "bomb.tar.gz", {"a.bin": b"\0" * (3 << 20), "b.bin": b"\0" * (3 << 20)})
    assert archive.stat().st_size < 100_000  # 6 MiB of zeros in a few kB
    with pytest.raises(ValueError, match=re.escape(str(archive)) + r": its members would unpack to 6291456 bytes, "
                                         r"more than max_bytes=4194304; pass a larger max_bytes"):
        extract(archive, tmp_path / "out", max_bytes=4 << 20)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.tar.gz"]  # nothing written, no staging folder
    assert (extract(archive, tmp_path / "out", max_bytes=None) / "a.bin").stat().st_size == 3 << 20


def test_extract_bounds_zip_archives_too_and_the_default_is_one_gib(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("zeros", b"\0" * (2 << 20))
    assert archive_module.MAX_EXTRACT_BYTES == 1 << 30
    with pytest.raises(ValueError, match="would unpack to 2097152 bytes, more than max_bytes=1048576"):
        extract(path, tmp_path / "out", max_bytes=1 << 20)
    with pytest.raises(ValueError, match=r"max_bytes must be an int >= 0 or None, got -1"):
        extract(path, tmp_path / "out", max_bytes=-1)


def test_a_truncated_tar_gz_names_the_archive(tmp_path):
    rng = np.random.default_rng(0)
    whole = tar_gz(tmp_path / "whole.tar.gz", {"x.bin": rng.bytes(200_000)})
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(ValueError, match=re.escape(str(cut)) + ": truncated or damaged archive"):
        extract(cut, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.tar.gz", "whole.tar.gz"]


# ----------------------------------------------------------------- datasets
def test_cifar10_label_out_of_range_names_file_and_record(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    records = np.zeros((3, 3073), np.uint8)
    records[:, 0] = [1, 200, 9]
    records.tofile(folder / "test_batch.bin")
    data = CIFAR10(root=tmp_path, train=False)
    assert data.get_batch([0, 2])[1].tolist() == [1, 9]
    with pytest.raises(ValueError, match=r"test_batch.bin: record 1 has label 200; CIFAR-10 labels must lie in 0..9"):
        data.get_batch([2, 1])
    with pytest.raises(ValueError, match="record 1 has label 200"):
        data[1]


@pytest.mark.parametrize("label", ["3.7", "-1", "inf", "1e30", "nan", "-0.5"])
def test_csv_label_that_is_no_class_index_is_refused(label, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(f"label,a\n2,10\n{label},20\n")
    data = CSVDataset(path)
    assert data[0][1] == 2
    with pytest.raises(ValueError, match=re.escape(f"{path}: data row 1: the label must be a whole number >= 0 "
                                                   f"(a class index), got {label!r}")):
        data.get_batch([0, 1])


def test_csv_whole_labels_written_as_floats_are_accepted(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("3.0,1\n0,2\n")
    assert CSVDataset(path).get_batch([0, 1])[1].tolist() == [3, 0]


def test_csv_non_utf8_bytes_name_the_file_and_row(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"label,a\n1,2\n2,\xe93\n")
    data = CSVDataset(path)
    with pytest.raises(ValueError, match=re.escape(str(path)) + r": data row 1 is not UTF-8 text \(byte 0xe9"):
        data.get_batch([1])
    header = tmp_path / "header.csv"
    header.write_bytes(b"l\xe9bel,a\n1,2\n")  # the header line is decoded to see whether it is one
    with pytest.raises(ValueError, match=re.escape(str(header)) + r": the line at byte 0 is not UTF-8"):
        CSVDataset(header)


def test_image_folder_scales_16_bit_png(tmp_path):
    from PIL import Image

    (tmp_path / "grey").mkdir()
    Image.fromarray(np.full((4, 6), 32768, np.uint16)).save(tmp_path / "grey" / "half.png")
    Image.new("L", (6, 4), 255).save(tmp_path / "grey" / "white.png")
    assert Image.open(tmp_path / "grey" / "half.png").mode == "I;16"
    grey = ImageFolder(tmp_path, grayscale=True)
    x, _ = grey.get_batch([0, 1])  # a 16-bit and an 8-bit image in one batch
    assert x.dtype == np.float32 and x.shape == (2, 1, 4, 6)
    assert np.allclose(x[0], 32768 / 65535) and np.allclose(x[1], 1.0)
    rgb, _ = ImageFolder(tmp_path, size=(2, 3))[0]
    assert rgb.shape == (3, 2, 3) and np.allclose(rgb, 32768 / 65535, atol=1e-6)


def test_image_folder_truncated_image_names_the_file(tmp_path):
    from PIL import Image

    (tmp_path / "c").mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(tmp_path / "c" / "a.png")
    cut = tmp_path / "c" / "a.png"
    cut.write_bytes(cut.read_bytes()[:-2000])
    (tmp_path / "c" / "b.png").write_bytes(b"not an image at all")
    data = ImageFolder(tmp_path)
    with pytest.raises(ValueError, match=re.escape(str(cut)) + ": cannot decode this image"):
        data.get_batch([0])
    with pytest.raises(ValueError, match=re.escape(str(tmp_path / "c" / "b.png")) + ": cannot decode"):
        data[1]


# ---------------------------------------------------------------- downloads
class Trickle(http.server.BaseHTTPRequestHandler):
    """Announces 1000 bytes, then sends one every 0.05 s: every read gets data, the whole never ends in time."""

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        try:
            for _ in range(1000):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up: as it should

    def log_message(self, *args):
        pass


@pytest.fixture
def trickle_server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/slow"
    httpd.shutdown()
    httpd.server_close()


def test_a_trickling_server_is_cut_off_at_the_deadline(trickle_server, tmp_path):
    with pytest.raises(DownloadError, match=r"slow: DownloadError: deadline passed: \d+ bytes in 1 s and still going"):
        download([trickle_server], tmp_path / "f.bin", "0" * 64, progress=False, timeout=5, deadline=1.0)
    assert list(tmp_path.iterdir()) == []  # the partial file is gone


def test_the_deadline_is_a_setting(trickle_server, tmp_path, monkeypatch):
    monkeypatch.setenv("MINIDL_DOWNLOAD_DEADLINE", "0.5")
    with pytest.raises(DownloadError, match=r"deadline passed: \d+ bytes in 0.5 s.*MINIDL_DOWNLOAD_DEADLINE"):
        download([trickle_server], tmp_path / "f.bin", "0" * 64, progress=False, timeout=5)
    monkeypatch.setenv("MINIDL_DOWNLOAD_DEADLINE", "soon")
    with pytest.raises(ValueError, match="MINIDL_DOWNLOAD_DEADLINE must be a number of seconds > 0, got 'soon'"):
        download([trickle_server], tmp_path / "f.bin", "0" * 64, progress=False)
    with pytest.raises(ValueError, match="deadline must be a number of seconds > 0, got 0"):
        download([trickle_server], tmp_path / "f.bin", "0" * 64, progress=False, deadline=0)
