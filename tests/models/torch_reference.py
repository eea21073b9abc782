"""The PyTorch references of the model zoo, for the tests that compare against them.

``torchvision_models()`` returns ``torchvision.models`` when it imports. The
wheel that pip installs next to PyTorch's CPU build is often linked against
CUDA libraries, and then ``import torchvision`` fails in its C extension
(used for detection ops and image decoding, not by the classification
models). In that case this loads torchvision's pure-Python model
definitions without running its package ``__init__``, which is enough to
build ResNet, VGG and MobileNetV2 as torchvision defines them.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
import types

import numpy as np
import pytest


def torch_or_skip():
    return pytest.importorskip("torch")


def torchvision_models():
    """``torchvision.models`` (see the module docstring); the test skips without torch or torchvision."""
    torch_or_skip()
    models = load_torchvision_models()
    if models is None:
        pytest.skip("torchvision is not installed")
    return models


def load_torchvision_models():
    """``torchvision.models``, or its pure-Python model definitions when the C extension does not
    load; None without torchvision (the benchmarks use this one: it never skips)."""
    try:
        import torchvision.models as models

        return models
    except ImportError:
        return None
    except (OSError, RuntimeError):  # the C extension does not load: the models do not need it
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]
        spec = importlib.util.find_spec("torchvision")
        stub = types.ModuleType("torchvision")
        stub.__path__ = list(spec.submodule_search_locations)
        stub._is_tracing = lambda: False
        sys.modules["torchvision"] = stub
        return importlib.import_module("torchvision.models")


def copy_weights(torch_model, minidl_model) -> None:
    """Load the PyTorch model's state dict into the minidl model (names must match exactly)."""
    minidl_model.load_state_dict({k: v.detach().numpy() for k, v in torch_model.state_dict().items()})


def randomize_batch_norm(torch_model, seed: int = 0) -> None:
    """Give every batch norm non-trivial running statistics and affine weights (eval mode then tests them)."""
    import torch

    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in torch_model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                if m.weight is not None:
                    m.weight.copy_(torch.rand(m.num_features, generator=g) * 0.4 + 0.2)  # keeps activations O(1)
                    m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.1)


def compare_forward(torch_model, minidl_model, shape, atol: float = 1e-4, seed: int = 0):
    """Both in eval mode on the same random float32 input: the largest absolute difference."""
    import torch

    import minidl as mdl

    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    torch_model.eval()
    minidl_model.eval()
    with torch.no_grad():
        expected = torch_model(torch.tensor(x)).numpy()
    with mdl.no_grad():
        got = minidl_model(mdl.tensor(x)).numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=atol, rtol=1e-4)
    return float(np.abs(got - expected).max())
