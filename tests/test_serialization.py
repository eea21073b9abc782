"""save/load: round trips, atomic writes, no pickle, clear errors."""
import os

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn


def test_round_trip_nested(tmp_path):
    state = {"model": {"w": np.arange(6.0).reshape(2, 3), "b": np.zeros(2, dtype=np.float32)},
             "epoch": 3, "lr": 0.5, "name": "run", "flag": True, "none": None,
             "groups": [{"lr": 0.1, "params": [0, 1]}], "state": {0: {"step": 2}}}
    mdl.save(state, tmp_path / "s.npz")
    back = mdl.load(tmp_path / "s.npz")
    assert np.array_equal(back["model"]["w"], state["model"]["w"]) and back["model"]["b"].dtype == np.float32
    assert back["epoch"] == 3 and back["lr"] == 0.5 and back["name"] == "run" and back["flag"] is True
    assert back["none"] is None and back["groups"] == [{"lr": 0.1, "params": [0, 1]}]
    assert back["state"] == {0: {"step": 2}}
    assert "model/w" in np.load(tmp_path / "s.npz").files  # arrays are stored by name


def test_device_arrays_and_tensors_are_saved_as_numpy(tmp_path):
    net = nn.Linear(3, 2).to("strict")
    mdl.save(net.state_dict(), tmp_path / "w.npz")
    back = mdl.load(tmp_path / "w.npz")
    assert isinstance(back["weight"], np.ndarray) and back["weight"].shape == (2, 3)
    fresh = nn.Linear(3, 2)
    fresh.load_state_dict(back)
    assert np.array_equal(fresh.weight.numpy(), net.weight.numpy())


def test_failed_save_keeps_old_file_and_leaves_no_debris(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    mdl.save({"a": np.ones(3)}, path)

    def broken_savez(f, **arrays):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        mdl.save({"a": np.zeros(3)}, path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["ckpt.npz"]
    assert mdl.load(path)["a"].tolist() == [1.0, 1.0, 1.0]


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, payload=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError, match="pickled Python objects"):
        mdl.load(path)


def test_truncated_and_foreign_files(tmp_path):
    path = tmp_path / "t.npz"
    mdl.save({"a": np.arange(1000.0)}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a complete .npz"):
        mdl.load(path)
    (tmp_path / "x.npz").write_text("hello")
    with pytest.raises(ValueError, match=str(tmp_path / "x.npz").replace("\\", "\\\\")):
        mdl.load(tmp_path / "x.npz")
    with pytest.raises(FileNotFoundError, match="no such file"):
        mdl.load(tmp_path / "missing.npz")


def test_unsupported_values_are_refused(tmp_path):
    with pytest.raises(TypeError, match="cannot save 'f'"):
        mdl.save({"f": lambda: 0}, tmp_path / "f.npz")
    assert not any(tmp_path.iterdir())


def test_plain_numpy_savez_loads_as_dict(tmp_path):
    np.savez(tmp_path / "p.npz", a=np.ones(2))
    assert mdl.load(tmp_path / "p.npz")["a"].tolist() == [1.0, 1.0]
