"""Shared fixtures.

``device`` runs a test on every backend this machine has: "cpu" (NumPy),
"strict" (the CuPy stand-in that refuses implicit NumPy conversion, so a
NumPy-only code path fails here just as it would on a GPU) and, when CuPy and
a GPU are present, "cuda".
"""
import numpy as np
import pytest

import minidl as mdl
from minidl import backend

DEVICES = ["cpu", "strict"] + (["cuda"] if backend.cuda_is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param


@pytest.fixture
def xp(device):
    """The array namespace of ``device``."""
    return backend.namespace(device)


@pytest.fixture(autouse=True)
def _fresh_state():
    """Every test starts from seed 0 on the CPU, with gradients enabled."""
    mdl.manual_seed(0)
    previous = backend.get_default_device()
    yield
    backend.set_backend(previous)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
