"""Verified downloads against a real HTTP server on 127.0.0.1, and safe archives."""
import hashlib
import http.server
import io
import tarfile
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from minidl.data import DownloadError, UnsafeArchiveError, download, extract, sources, write_idx
from minidl.data.datasets import CIFAR10, FashionMNIST

GOOD = b"the real dataset " * 1000
SHA = hashlib.sha256(GOOD).hexdigest()


FILES = {}  # extra paths the server serves: "/name" -> bytes (tests register theirs)
REQUESTS = []  # every path asked for, in order


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        REQUESTS.append(self.path)
        if self.path in FILES:
            body = FILES[self.path]
        elif self.path == "/good":
            body = GOOD
        elif self.path == "/corrupt":
            body = GOOD[:-1] + b"X"
        elif self.path == "/truncated":
            self.send_response(200)
            self.send_header("Content-Length", str(len(GOOD)))
            self.end_headers()
            self.wfile.write(GOOD[: len(GOOD) // 2])
            return
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def no_debris(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.startswith(".")]


def test_good_file(server, tmp_path):
    dest = download([f"{server}/good"], tmp_path / "data.bin", SHA, progress=False)
    assert dest.read_bytes() == GOOD and no_debris(tmp_path)


@pytest.mark.parametrize("bad", ["corrupt", "truncated", "missing"])
def test_bad_mirror_falls_through_to_the_next(bad, server, tmp_path):
    dest = download([f"{server}/{bad}", f"{server}/good"], tmp_path / "data.bin", SHA, progress=False)
    assert dest.read_bytes() == GOOD and no_debris(tmp_path)


@pytest.mark.parametrize("bad, why", [("corrupt", "checksum mismatch"), ("truncated", "truncated|IncompleteRead"),
                                      ("missing", "404")])
def test_only_bad_mirrors_leave_nothing(bad, why, server, tmp_path):
    with pytest.raises(DownloadError, match=why):
        download([f"{server}/{bad}"], tmp_path / "data.bin", SHA, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_unverified_download_is_refused(server, tmp_path):
    with pytest.raises(DownloadError, match="refusing"):
        download([f"{server}/good"], tmp_path / "x", None)
    with pytest.raises(ValueError, match="64 hex digits"):
        download([f"{server}/good"], tmp_path / "x", "abc")
    assert list(tmp_path.iterdir()) == []


def test_unreachable_mirror_falls_through(server, tmp_path):
    dest = download(["http://127.0.0.1:9/refused", f"{server}/good"], tmp_path / "d", SHA.upper(), progress=False)
    assert dest.read_bytes() == GOOD


def test_a_wrong_file_in_the_cache_is_replaced(server, tmp_path):
    (tmp_path / "data.bin").write_bytes(b"stale")
    assert download([f"{server}/good"], tmp_path / "data.bin", SHA, progress=False).read_bytes() == GOOD


def test_verified_file_already_there_is_kept(server, tmp_path):
    (tmp_path / "data.bin").write_bytes(GOOD)
    assert download(["http://127.0.0.1:9/unreachable"], tmp_path / "data.bin", SHA).read_bytes() == GOOD


def make_tar(path, members):
    with tarfile.open(path, "w:gz") as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))


def test_extract_tar_and_zip(tmp_path):
    make_tar(tmp_path / "a.tar.gz", [("d/x.txt", b"x"), ("d/y.txt", b"yy")])
    out = extract(tmp_path / "a.tar.gz", tmp_path / "out")
    assert (out / "d" / "y.txt").read_bytes() == b"yy"
    with zipfile.ZipFile(tmp_path / "b.zip", "w") as z:
        z.writestr("z/q.txt", "q")
    assert (extract(tmp_path / "b.zip", tmp_path / "zout") / "z" / "q.txt").read_text() == "q"


@pytest.mark.parametrize("name", ["../evil.txt", "/tmp/evil-abs.txt", "d/../../evil.txt"])
def test_archive_member_escaping_is_refused(name, tmp_path):
    make_tar(tmp_path / "bad.tar.gz", [("ok.txt", b"ok"), (name, b"evil")])
    with pytest.raises(UnsafeArchiveError, match="outside"):
        extract(tmp_path / "bad.tar.gz", tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path / "evil.txt").exists()
    with zipfile.ZipFile(tmp_path / "bad.zip", "w") as z:
        z.writestr(name, "evil")
    with pytest.raises(UnsafeArchiveError):
        extract(tmp_path / "bad.zip", tmp_path / "zout")


def test_symlink_member_is_refused(tmp_path):
    with tarfile.open(tmp_path / "link.tar", "w") as t:
        info = tarfile.TarInfo("link")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        t.addfile(info)
    with pytest.raises(UnsafeArchiveError, match="link"):
        extract(tmp_path / "link.tar", tmp_path / "out")


def test_hard_link_zip_symlink_and_existing_target_are_refused(tmp_path):
    with tarfile.open(tmp_path / "hard.tar", "w") as t:
        info = tarfile.TarInfo("hard")
        info.type = tarfile.LNKTYPE
        info.linkname = "../../etc/passwd"
        t.addfile(info)
    with pytest.raises(UnsafeArchiveError):
        extract(tmp_path / "hard.tar", tmp_path / "out")
    with zipfile.ZipFile(tmp_path / "link.zip", "w") as z:
        info = zipfile.ZipInfo("link")
        info.external_attr = (0o120777) << 16  # a symbolic link, as Info-ZIP stores one
        z.writestr(info, "/etc/passwd")
    with pytest.raises(UnsafeArchiveError, match="link"):
        extract(tmp_path / "link.zip", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging folder left
    make_tar(tmp_path / "ok.tar.gz", [("a.txt", b"a")])
    (tmp_path / "taken").mkdir()
    with pytest.raises(FileExistsError, match="already exists"):
        extract(tmp_path / "ok.tar.gz", tmp_path / "taken")
    (tmp_path / "junk.bin").write_bytes(b"not an archive")
    with pytest.raises(ValueError, match="not a tar or zip"):
        extract(tmp_path / "junk.bin", tmp_path / "j")


# ---------------------------------------------------- datasets end to end
def gz_idx(array, tmp_path):
    path = tmp_path / "one.gz"
    write_idx(array, path)
    return path.read_bytes()


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """The user's cache and data folders point into tmp_path; no system folders, no apt-get."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("MINIDL_DATA", raising=False)
    monkeypatch.setattr(sources.FASHION_MNIST, "system_dirs", [])

    def no_apt(source):
        raise RuntimeError("apt-get is not used in tests")

    monkeypatch.setattr(sources, "debian_package_dir", no_apt)
    return tmp_path / "cache" / "minidl"


def test_fashion_mnist_download_through_mirrors_into_the_cache(server, offline, tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    images = {p: rng.integers(0, 256, (n, 28, 28), dtype=np.uint8) for p, n in (("train", 6), ("t10k", 4))}
    labels = {p: (np.arange(len(images[p])) * 3 % 10).astype(np.uint8) for p in images}
    remote = []
    for prefix in images:
        for kind, array in (("images-idx3", images[prefix]), ("labels-idx1", labels[prefix])):
            name = f"{prefix}-{kind}-ubyte.gz"
            FILES[f"/fm/{name}"] = data = gz_idx(array, tmp_path)
            remote.append(sources.RemoteFile(name, hashlib.sha256(data).hexdigest(),
                                             [f"{server}/gone/{name}", f"{server}/fm/{name}"]))
    monkeypatch.setattr(sources.FASHION_MNIST, "remote", remote)
    with pytest.raises(FileNotFoundError, match="pass download=True"):
        FashionMNIST()
    REQUESTS.clear()
    train = FashionMNIST(download=True)
    assert len(REQUESTS) == 8  # four files, each a 404 first and then the mirror
    x, y = train.get_batch([5, 0])
    assert np.array_equal(x[:, 0], images["train"][[5, 0]] / np.float32(255)) and y.tolist() == [5, 0]
    folder = offline / "fashion-mnist"
    assert sorted(p.name for p in folder.iterdir() if p.name.endswith(".gz")) == sorted(r.name for r in remote)
    assert not [p for p in folder.rglob("*") if p.name.startswith(".")]  # nothing half-written
    REQUESTS.clear()
    assert len(FashionMNIST(train=False, download=True)) == 4 and REQUESTS == []  # served from the cache


def test_failed_download_lists_every_place_and_leaves_nothing(server, offline, tmp_path, monkeypatch):
    bad = [sources.RemoteFile("train-images-idx3-ubyte.gz", SHA, [f"{server}/corrupt", f"{server}/missing"])]
    monkeypatch.setattr(sources.FASHION_MNIST, "remote", bad)
    with pytest.raises(FileNotFoundError) as info:
        FashionMNIST(download=True)
    msg = str(info.value)
    for part in ("checksum mismatch", "404", "apt-get is not used in tests", "apt-get install dataset-fashion-mnist",
                 str(offline / "fashion-mnist")):
        assert part in msg
    folder = offline / "fashion-mnist"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_cifar10_archive_is_downloaded_verified_and_unpacked(server, offline, tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    records = {}
    members = []
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        rec = rng.integers(0, 256, (2, 3073), dtype=np.uint8)
        rec[:, 0] %= 10
        records[name] = rec
        members.append((f"cifar-10-batches-bin/{name}", rec.tobytes()))
    make_tar(tmp_path / "c.tar.gz", members)
    FILES["/cifar.tar.gz"] = data = (tmp_path / "c.tar.gz").read_bytes()
    remote = [sources.RemoteFile("cifar-10-binary.tar.gz", hashlib.sha256(data).hexdigest(),
                                 [f"{server}/cifar.tar.gz"], unpack=True)]
    monkeypatch.setattr(sources.CIFAR10, "remote", remote)
    test = CIFAR10(train=False, download=True)
    x, y = test.get_batch([1])
    assert y.tolist() == [records["test_batch.bin"][1, 0]]
    assert np.array_equal(x[0].ravel(), records["test_batch.bin"][1, 1:] / np.float32(255))
    folder = offline / "cifar-10"
    assert sorted(p.name for p in folder.iterdir()) == ["cifar-10-batches-bin"]  # the archive is gone after unpacking
    assert len(CIFAR10(train=True)) == 10
