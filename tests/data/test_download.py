"""Verified downloads against a real HTTP server on 127.0.0.1, and safe archives."""
import hashlib
import http.server
import io
import os
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest

from minidl.data import DownloadError, UnsafeArchiveError, download, extract

GOOD = b"the real dataset " * 1000
SHA = hashlib.sha256(GOOD).hexdigest()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        if self.path == "/good":
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
