"""save/load: round trips, atomic writes, no pickle, clear errors."""
import os
import re
import zipfile

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
from minidl import backend, serialization


def test_round_trip_nested(tmp_path):
    state = {"model": {"w": np.arange(6.0).reshape(2, 3), "b": np.zeros(2, dtype=np.float32)},
             "epoch": 3, "lr": 0.5, "name": "run", "flag": True, "none": None,
             "groups": [{"lr": 0.1, "params": [0, 1]}], "state": {0: {"step": 2}},
             "scalar": np.float32(0.25), "zero_d": np.array(7, dtype=np.int16), "text": "héllo ✓"}
    mdl.save(state, tmp_path / "s.npz")
    back = mdl.load(tmp_path / "s.npz")
    assert np.array_equal(back["model"]["w"], state["model"]["w"]) and back["model"]["b"].dtype == np.float32
    assert back["epoch"] == 3 and type(back["epoch"]) is int
    assert back["lr"] == 0.5 and back["name"] == "run" and back["flag"] is True and back["none"] is None
    assert back["groups"] == [{"lr": 0.1, "params": [0, 1]}]
    assert back["state"] == {0: {"step": 2}}  # int keys stay ints (optimizer state)
    assert back["scalar"] == 0.25 and back["text"] == "héllo ✓"
    assert back["zero_d"].shape == () and back["zero_d"].dtype == np.int16 and int(back["zero_d"]) == 7
    assert list(back) == list(state)  # order kept
    with np.load(tmp_path / "s.npz", allow_pickle=False) as raw:  # readable by plain NumPy, no pickle
        assert sorted(raw.files) == ["__structure__", "model/b", "model/w", "zero_d"]
        assert raw["__structure__"].dtype.kind == "U"  # text, never an object array


def test_colliding_paths_keep_both_arrays(tmp_path):
    state = {"a/b": np.ones(2), "a": {"b": np.zeros(2)}}
    mdl.save(state, tmp_path / "c.npz")
    back = mdl.load(tmp_path / "c.npz")
    assert back["a/b"].tolist() == [1, 1] and back["a"]["b"].tolist() == [0, 0]


def test_top_level_array_and_list(tmp_path):
    mdl.save(np.arange(3), tmp_path / "a.npz")
    assert mdl.load(tmp_path / "a.npz").tolist() == [0, 1, 2]
    mdl.save([np.ones(1), 2, "x"], tmp_path / "l.npz")
    back = mdl.load(tmp_path / "l.npz")
    assert back[0].tolist() == [1.0] and back[1:] == [2, "x"]


def test_device_arrays_and_tensors_are_saved_as_numpy(tmp_path, device):
    net = nn.Linear(3, 2).to(device)
    mdl.save({"model": net.state_dict(), "t": mdl.tensor([1.0, 2.0], device=device), "p": net.weight},
             tmp_path / "w.npz")
    back = mdl.load(tmp_path / "w.npz")
    assert isinstance(back["model"]["weight"], np.ndarray) and back["model"]["weight"].shape == (2, 3)
    assert back["t"].tolist() == [1.0, 2.0] and back["p"].shape == (2, 3)


def test_state_dict_round_trip_into_a_fresh_model(tmp_path, device):
    mdl.manual_seed(1)
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).to(device)
    mdl.save(net.state_dict(), tmp_path / "model.npz")
    mdl.manual_seed(2)
    fresh = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).to(device)
    fresh.load_state_dict(mdl.load(tmp_path / "model.npz"))
    x = mdl.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3), device=device)
    assert np.array_equal(fresh(x).numpy(), net(x).numpy())
    assert backend.device_of(fresh[0].weight.data) == backend.parse_device(device)


def test_failed_save_keeps_old_file_and_leaves_no_debris(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    mdl.save({"a": np.ones(3)}, path)
    real_write = np.lib.format.write_array
    calls = []

    def write_then_fail(member, array, **kwargs):  # the second array's write breaks midway
        calls.append(1)
        if len(calls) == 2:
            member.write(b"partial bytes")
            raise OSError("disk full")
        return real_write(member, array, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", write_then_fail)
    with pytest.raises(OSError, match="disk full"):
        mdl.save({"a": np.zeros(3), "b": np.zeros(2)}, path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["ckpt.npz"]  # no temporary file left behind
    assert mdl.load(path)["a"].tolist() == [1.0, 1.0, 1.0]  # the old checkpoint is intact


def test_failed_rename_leaves_no_debris(tmp_path, monkeypatch):
    def broken_replace(src, dst):
        raise PermissionError("read-only target")

    monkeypatch.setattr(serialization.os, "replace", broken_replace)
    with pytest.raises(PermissionError):
        mdl.save({"a": np.ones(1)}, tmp_path / "x.npz")
    monkeypatch.undo()
    assert os.listdir(tmp_path) == []


def test_save_is_fsynced_and_creates_folders(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(serialization.os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    mdl.save({"a": np.ones(1)}, tmp_path / "deep" / "er" / "x.npz")
    assert synced and (tmp_path / "deep" / "er" / "x.npz").exists()


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, payload=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError, match="holds pickled Python objects"):
        mdl.load(path)


def test_object_arrays_and_unsupported_values_are_refused_before_writing(tmp_path):
    with pytest.raises(TypeError, match="cannot save 'x': object arrays"):
        mdl.save({"x": np.array([None, 1], dtype=object)}, tmp_path / "o.npz")
    with pytest.raises(TypeError, match="cannot save 'f' of type function"):
        mdl.save({"f": lambda: 0}, tmp_path / "f.npz")
    with pytest.raises(TypeError, match=r"cannot save key \(1, 2\)"):
        mdl.save({(1, 2): 1}, tmp_path / "k.npz")
    assert not any(tmp_path.iterdir())


def test_truncated_file_is_a_clear_error_naming_the_path(tmp_path):
    path = tmp_path / "t.npz"
    mdl.save({"a": np.arange(1000.0)}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=re.escape(str(path)) + ".*not a complete .npz"):
        mdl.load(path)


def test_damaged_member_is_a_clear_error(tmp_path):
    path = tmp_path / "d.npz"
    mdl.save({"a": np.arange(100.0)}, path)
    data = bytearray(path.read_bytes())
    data[200:210] = b"\xff" * 10  # inside the array's bytes: the CRC no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=re.escape(str(path))):
        mdl.load(path)


def test_foreign_and_missing_files(tmp_path):
    (tmp_path / "x.npz").write_text("hello")
    with pytest.raises(ValueError, match=re.escape(str(tmp_path / "x.npz")) + " is not an .npz file"):
        mdl.load(tmp_path / "x.npz")
    np.save(tmp_path / "plain.npy", np.ones(2))
    with pytest.raises(ValueError, match="is not an .npz file"):
        mdl.load(tmp_path / "plain.npy")
    with pytest.raises(FileNotFoundError, match="no such file"):
        mdl.load(tmp_path / "missing.npz")


def test_plain_numpy_savez_loads_as_dict(tmp_path):
    np.savez(tmp_path / "p.npz", a=np.ones(2), b=np.arange(3))
    back = mdl.load(tmp_path / "p.npz")
    assert back["a"].tolist() == [1.0, 1.0] and back["b"].tolist() == [0, 1, 2]


def test_written_file_is_a_plain_zip_of_npy(tmp_path):
    mdl.save({"w": np.ones((2, 2), dtype=np.float32)}, tmp_path / "z.npz")
    with zipfile.ZipFile(tmp_path / "z.npz") as archive:
        assert sorted(archive.namelist()) == ["__structure__.npy", "w.npy"]
    mask = os.umask(0)
    os.umask(mask)
    assert os.stat(tmp_path / "z.npz").st_mode & 0o777 == 0o666 & ~mask  # not mkstemp's private 0600


# ------------------------------------------------------ crafted and damaged files
def npy_bytes(header: bytes, body: bytes = b"") -> bytes:
    """An .npy member by hand: magic, version 1.0, header length, header, body."""
    header = header + b" " * (-(len(header) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + body


def write_zip(path, members: dict, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def structure_member(text: str) -> bytes:
    import io
    buffer = io.BytesIO()
    np.save(buffer, np.array(text))
    return buffer.getvalue()


def test_unbalanced_npy_header_names_the_path(tmp_path):
    path = write_zip(tmp_path / "h.npz", {"a.npy": npy_bytes(b"{'descr': '<f8', 'fortran_order': False, 'shape': (3,")})
    with pytest.raises(ValueError, match=re.escape(str(path)) + r": member 'a.npy' has a damaged .npy header"):
        mdl.load(path)


def test_negative_shape_is_a_damaged_header(tmp_path):
    path = write_zip(tmp_path / "n.npz",
                     {"a.npy": npy_bytes(b"{'descr': '<f8', 'fortran_order': False, 'shape': (-1, -1), }", b"\0" * 8)})
    with pytest.raises(ValueError, match=re.escape(str(path)) + r".*damaged .npy header \(shape \(-1, -1\)\)"):
        mdl.load(path)


def test_an_array_far_bigger_than_the_file_is_refused_before_allocating(tmp_path):
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }"  # 8 TiB declared
    path = write_zip(tmp_path / "big.npz", {"a.npy": npy_bytes(header, b"\0" * 64)})
    with pytest.raises(ValueError, match=re.escape(str(path)) + r" is damaged: member 'a.npy' declares a float64 "
                                         r"array of shape \(1099511627776,\) \(8796093022208 bytes\), but holds 64"):
        mdl.load(path)


def test_a_zip_entry_declaring_more_bytes_than_the_file_is_refused(tmp_path):
    path = tmp_path / "lying.npz"
    mdl.save({"a": np.arange(4.0)}, path)
    data = bytearray(path.read_bytes())
    central = data.index(b"PK\x01\x02")  # the first central directory entry: sizes at +20 (compressed), +24
    size = int.from_bytes(data[central + 24:central + 28], "little")
    if size == 0xFFFFFFFF:
        pytest.skip("sizes in a zip64 extra field")
    data[central + 20:central + 28] = (2**31).to_bytes(4, "little") * 2
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=re.escape(str(path)) + " is"):
        mdl.load(path)


def test_unknown_zip_compression_is_a_clear_error(tmp_path):
    path = tmp_path / "u.npz"
    np.savez(path, a=np.arange(3))
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):  # local header, central directory
        at = data.index(signature)
        data[at + offset:at + offset + 2] = (99).to_bytes(2, "little")  # no such method
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=re.escape(str(path)) + r": member 'a.npy' is compressed \(method 99\)"):
        mdl.load(path)


def test_compressed_members_are_refused_without_inflating_them(tmp_path):
    """minidl writes none; a deflated member's true size is known only by inflating it (a zip bomb)."""
    path = tmp_path / "c.npz"
    np.savez_compressed(path, a=np.zeros(2**20))  # 8 MiB of zeros in a few KiB
    assert path.stat().st_size < 2**16
    with pytest.raises(ValueError, match=r"c\.npz: member 'a.npy' is compressed \(deflate\).*numpy\.savez \(not"):
        mdl.load(path)


def test_a_flipped_byte_in_a_compressed_member_is_a_valueerror(tmp_path):
    path = tmp_path / "z.npz"
    np.savez_compressed(path, a=np.arange(1000.0))
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF  # inside the deflated stream
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=re.escape(str(path))):
        mdl.load(path)


@pytest.mark.parametrize("text, message", [
    ('{"$dict": 5}', "holds"),
    ('{"$dict": [[1.5, 2]]}', "should be a \\[key, value\\] pair with a str or int key"),
    ('{"$dict": [[true, 2]]}', "should be a \\[key, value\\] pair"),
    ('{"$dict": [["a"]]}', "should be a \\[key, value\\] pair"),
    ('{"$array": 3}', "names an array 3 it lacks"),
    ('{"$array": ["a"]}', "names an array \\['a'\\] it lacks"),
    ('{"other": 1}', "expected \\{'\\$array': name\\}"),
    ("[" * 200 + "]" * 200, "nests deeper than 100 levels"),
    ("[" * 100000 + "]" * 100000, "not valid JSON \\(or nests too deep\\)"),
], ids=["dict-not-list", "float-key", "bool-key", "short-pair", "array-not-str", "array-list", "unknown-object",
        "deep", "very-deep"])
def test_crafted_structure_is_a_valueerror_naming_the_path(tmp_path, text, message):
    path = write_zip(tmp_path / "s.npz", {"__structure__.npy": structure_member(text)})
    with pytest.raises(ValueError, match=re.escape(str(path)) + ".*" + message):
        mdl.load(path)


def test_structure_that_is_not_a_string_is_refused(tmp_path):
    import io
    buffer = io.BytesIO()
    np.save(buffer, np.arange(3))
    path = write_zip(tmp_path / "s.npz", {"__structure__.npy": buffer.getvalue()})
    with pytest.raises(ValueError, match=r"s\.npz is damaged: its __structure__ entry should be a 0-d unicode"):
        mdl.load(path)


def test_torch_save_zip_is_refused_with_how_to_import(tmp_path):
    """The layout torch.save writes (a zip of data.pkl, version, data/0...), made without torch."""
    path = write_zip(tmp_path / "model.pt", {"model/data.pkl": b"\x80\x02}q\x00.", "model/version": b"3\n",
                                             "model/data/0": b"\0" * 16, "model/byteorder": b"little"})
    with pytest.raises(ValueError, match=re.escape(str(path)) + r" is a PyTorch file \(torch.save\).*"
                                         r"mdl.load_pytorch\(path\)"):
        mdl.load(path)


def test_a_pickle_file_is_refused_with_how_to_import(tmp_path):
    import pickle
    path = tmp_path / "legacy.pt"
    path.write_bytes(pickle.dumps({"w": [1.0, 2.0]}, protocol=2))  # what torch.save's legacy format starts as
    with pytest.raises(ValueError, match=re.escape(str(path)) + r" is a Python pickle \(a legacy torch.save file\?\)"
                                         r".*mdl.load_pytorch\(path\)"):
        mdl.load(path)


def test_members_that_are_not_npy_are_refused(tmp_path):
    path = write_zip(tmp_path / "m.npz", {"a.npy": structure_member("x"), "notes.txt": b"hello"})
    with pytest.raises(ValueError, match=r"m\.npz holds a member 'notes.txt' that is not an .npy array"):
        mdl.load(path)


def test_fortran_order_and_big_endian_arrays_load(tmp_path):
    a = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    b = np.arange(4, dtype=">i4")
    np.savez(tmp_path / "f.npz", a=a, b=b, e=np.zeros((0, 3)))
    back = mdl.load(tmp_path / "f.npz")
    assert np.array_equal(back["a"], a) and np.array_equal(back["b"], b) and back["e"].shape == (0, 3)
    back["a"][0, 0] = 7.0  # writable, as numpy.load's arrays are


def test_nul_in_a_key_is_refused_at_save_time(tmp_path):
    with pytest.raises(ValueError, match=r"cannot save key 'a\\x00b' under 'model': keys must not contain NUL"):
        mdl.save({"model": {"a\x00b": np.ones(2)}}, tmp_path / "k.npz")
    assert not any(tmp_path.iterdir())


def test_too_deep_a_state_is_refused_at_save_time(tmp_path):
    deep = 1
    for _ in range(serialization.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(ValueError, match="nested deeper than 100"):
        mdl.save(deep, tmp_path / "d.npz")
    ok = 1
    for _ in range(serialization.MAX_DEPTH - 1):
        ok = [ok]
    mdl.save(ok, tmp_path / "ok.npz")
    assert mdl.load(tmp_path / "ok.npz") == ok


# --------------------------------------------------- temporaries of killed saves
_KILLED_SAVE = """
import sys, time
import numpy as np
import minidl as mdl
real = np.lib.format.write_array
def write_then_hang(member, array, **kwargs):
    real(member, array, **kwargs)
    print("writing", flush=True)
    time.sleep(120)
np.lib.format.write_array = write_then_hang
mdl.save({"a": np.zeros(1000)}, sys.argv[1])
"""


def killed_save(path):
    """Start a save of ``path`` in another process and kill -9 it mid-write, as a crash would."""
    import subprocess
    import sys
    process = subprocess.Popen([sys.executable, "-c", _KILLED_SAVE, str(path)], stdout=subprocess.PIPE)
    try:
        assert process.stdout.readline() == b"writing\n"
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
    return process.pid


def test_a_killed_save_leaves_a_temporary_the_next_save_removes(tmp_path):
    path = tmp_path / "w.npz"
    mdl.save({"a": np.ones(3)}, path)
    pid = killed_save(path)
    stale = [n for n in os.listdir(tmp_path) if n != "w.npz"]
    assert len(stale) == 1 and re.fullmatch(rf"\.w\.npz\.[0-9a-f]{{8}}-{pid}-\w+\.tmp", stale[0])
    assert mdl.load(path)["a"].tolist() == [1.0] * 3  # the old file is whole
    assert os.listdir(tmp_path) == ["w.npz"]  # ... and loading it removed the stale temporary
    killed_save(path)
    assert len(os.listdir(tmp_path)) == 2
    mdl.save({"a": np.zeros(2)}, path)
    assert os.listdir(tmp_path) == ["w.npz"]


def test_only_this_targets_dead_temporaries_are_removed(tmp_path):
    import subprocess
    import sys
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        host = serialization._host_tag()
        other_host = "0" * 8 if host != "0" * 8 else "1" * 8
        keep = [f".w.npz.{host}-{alive.pid}-abc123.tmp",  # a save in progress in another process
                f".w.npz.{other_host}-{dead.pid}-abc123.tmp",  # another machine's save in a shared folder
                f".v.npz.{host}-{dead.pid}-abc123.tmp",  # another target's
                f".w.npz.{host}-{dead.pid}-abc123.tmp.bak", "w.npz.tmp", ".w.npz.tmp", "notes.txt"]
        removed = f".w.npz.{host}-{dead.pid}-abc123.tmp"
        for name in keep + [removed]:
            (tmp_path / name).write_bytes(b"x")
        mdl.save({"a": np.ones(1)}, tmp_path / "w.npz")
        assert sorted(os.listdir(tmp_path)) == sorted(keep + ["w.npz"])
    finally:
        alive.kill()
        alive.wait()
