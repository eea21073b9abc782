"""Shared fixtures.

``device`` runs a test on every backend this machine has: "cpu" (NumPy),
"strict" (the CuPy stand-in that refuses implicit NumPy conversion, so a
NumPy-only code path fails here just as it would on a GPU) and, when CuPy and
a GPU are present, "cuda". ``MINIDL_TEST_DEVICES=cuda`` (a comma-separated
list) keeps only those variants: the GPU check runs the suite that way, since
CI already covers "cpu" and "strict".
"""
import os

import numpy as np
import pytest

import minidl as mdl
from minidl import backend
from minidl.data import sources

DEVICES = ["cpu", "strict"] + (["cuda"] if backend.cuda_is_available() else [])
if os.environ.get("MINIDL_TEST_DEVICES"):
    _wanted = [d.strip() for d in os.environ["MINIDL_TEST_DEVICES"].split(",") if d.strip()]
    _unknown = sorted(set(_wanted) - set(DEVICES))
    if _unknown:
        raise RuntimeError(f"MINIDL_TEST_DEVICES names {_unknown}, but this machine has only {DEVICES}")
    DEVICES = _wanted


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
    previous, fast_paths = backend.get_default_device(), mdl.functional.fast.enabled()
    yield
    backend.set_backend(previous)
    mdl.functional.fast.set_enabled(fast_paths)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def _have_fashion_mnist() -> bool:
    return any(sources.present(d, sources.FASHION_MNIST) for d in sources.candidate_dirs(sources.FASHION_MNIST))


def pytest_runtest_setup(item):
    """``@pytest.mark.needs_fashion_mnist`` tests skip, saying how to get the data, when it is absent."""
    if item.get_closest_marker("needs_fashion_mnist") and not _have_fashion_mnist():
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
