"""The geometric sampler's fast path (augment/fast.py) against the readable reference (geometric.sample)."""
import numpy as np
import pytest

import minidl as mdl
from minidl import backend
from minidl.augment import fast, geometric
from minidl.augment.geometric import FILL_MODES, INTERPOLATIONS, about_center, rotation_matrix, sample


def matrices(n, shape, rng, reach=1.0):
    """Rotations, zooms and shifts; ``reach`` scales how far outside the image samples fall."""
    linear = rotation_matrix(rng.uniform(-180, 180, n)) * rng.uniform(0.4, 1.6, (n, 1, 1))
    shift = rng.uniform(-reach, reach, (n, 2)) * np.array(shape[-1:] + shape[-2:-1])
    return about_center(linear, shift, shape)


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("fill_mode", FILL_MODES)
@pytest.mark.parametrize("reach", [0.2, 3.0])  # near the image, and samples two images' widths away
def test_fast_sampler_equals_the_reference(device, xp, fill_mode, interpolation, reach):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3, 7, 9))
    inv = np.linalg.inv(matrices(5, x.shape, rng, reach))
    on = backend.to_device(x, device)
    expected = backend.to_numpy(sample(on, inv, fill_mode, 0.7, interpolation))
    got = backend.to_numpy(fast.warp_fast(on, inv, fill_mode, 0.7, interpolation))
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_float32_and_threads_agree_with_the_reference():
    rng = np.random.default_rng(1)
    x = rng.random((64, 1, 28, 28), dtype=np.float32)  # large enough to be cut over threads
    inv = np.linalg.inv(matrices(64, x.shape, rng))
    fast.set_num_threads(2)
    np.testing.assert_allclose(fast.warp_fast(x, inv, "reflect", 0.0, "bilinear"),
                               sample(x, inv, "reflect", 0.0, "bilinear"), rtol=1e-5, atol=1e-5)


def test_warp_takes_the_reference_when_fast_paths_are_off(monkeypatch):
    calls = []
    monkeypatch.setattr(geometric, "sample", lambda *a: calls.append("reference") or a[0])
    x = np.zeros((2, 1, 4, 4))
    with mdl.functional.fast.disabled():
        geometric.warp(x, np.broadcast_to(np.eye(3), (2, 3, 3)))
    assert calls == ["reference"]
    geometric.warp(x, np.broadcast_to(np.eye(3), (2, 3, 3)))
    assert calls == ["reference"]  # fast paths on: the fast sampler


def test_identity_and_a_hand_computed_half_pixel_shift():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    eye = np.eye(3)[None]
    assert np.array_equal(sample(x, eye, "reflect", 0.0, "bilinear"), x)
    half = np.array([[[1, 0, 0.5], [0, 1, 0], [0, 0, 1]]])  # read half a pixel to the right
    got = sample(x, half, "nearest", 0.0, "bilinear")[0, 0, 0]
    assert np.allclose(got, [0.5, 1.5, 2.5, 3.0])  # the last blends the edge with itself ("nearest")
    got = sample(x, half, "constant", 10.0, "bilinear")[0, 0, 0]
    assert np.allclose(got, [0.5, 1.5, 2.5, 6.5])  # ... or with the fill value
