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
