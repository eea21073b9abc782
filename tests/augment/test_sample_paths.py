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


def small_moves(n, shape, rng):
    """Turns of a few degrees and sub-pixel shifts: samples stay within a pixel or two of the image."""
    linear = rotation_matrix(rng.uniform(-3, 3, n)) * rng.uniform(0.97, 1.03, (n, 1, 1))
    return about_center(linear, rng.uniform(-0.4, 0.4, (n, 2)), shape)


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 2 images and a second thread for anything: every boundary the fast path has."""
    monkeypatch.setattr(fast, "CHUNK_PIXELS", 2 * 7 * 9)
    monkeypatch.setattr(fast, "MIN_VALUES_PER_THREAD", 1)
    fast.set_num_threads(2, choose=False)  # always 2, not the faster measured
    yield
    fast.set_num_threads(1)


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("fill_mode", FILL_MODES)
# near the image (no clamping needed), around it, and samples two images' widths away
@pytest.mark.parametrize("reach", ["small", 0.2, 3.0])
@pytest.mark.parametrize("chunks", ["one", "many"])
def test_fast_sampler_equals_the_reference(device, xp, fill_mode, interpolation, reach, chunks, request):
    if chunks == "many":
        request.getfixturevalue("small_chunks")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3, 7, 9))
    m = small_moves(5, x.shape, rng) if reach == "small" else matrices(5, x.shape, rng, reach)
    inv = np.linalg.inv(m)
    on = backend.to_device(x, device)
    expected = backend.to_numpy(sample(on, inv, fill_mode, 0.7, interpolation))
    got = backend.to_numpy(fast.warp_fast(on, inv, fill_mode, 0.7, interpolation))
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("fill_mode", FILL_MODES)
def test_margins_pad_as_far_as_the_samples_reach(fill_mode):
    rng = np.random.default_rng(3)
    for m in (small_moves(6, (6, 1, 7, 9), rng), matrices(6, (6, 1, 7, 9), rng, 0.2)):
        inv = np.linalg.inv(m)
        (x_lo, x_hi), (y_lo, y_hi) = fast._reach(inv, 7, 9, 0.0)
        grid = np.stack(list(np.meshgrid(np.arange(9), np.arange(7))) + [np.ones((7, 9))]).reshape(3, -1)
        s = inv[:, :2] @ grid  # (N, 2, H W)
        assert x_lo <= np.floor(s[:, 0]).min() and np.floor(s[:, 0]).max() <= x_hi
        assert y_lo <= np.floor(s[:, 1]).min() and np.floor(s[:, 1]).max() <= y_hi
        before, after, clamp = fast._margins(x_lo, x_hi, 9, fill_mode)
        if not clamp:  # floor(s) and floor(s) + 1 lie inside the padded image
            assert before >= -x_lo and 9 + after >= x_hi + 2


def test_the_constant_frame_is_refilled_for_another_fill_or_shape():
    x = np.ones((2, 1, 3, 3))
    eye = np.broadcast_to(np.eye(3), (2, 3, 3)).copy()
    eye[:, 0, 2] = 2.5  # read 2.5 pixels to the left: the left columns come from the fill
    for fill in (0.0, 5.0, 0.0):
        for n in (2, 1):
            got = fast.warp_fast(x[:n], np.linalg.inv(eye[:n]), "constant", fill, "bilinear")
            np.testing.assert_allclose(got, sample(x[:n], np.linalg.inv(eye[:n]), "constant", fill, "bilinear"))


def test_threads_for_follows_its_rule(monkeypatch):
    big = np.zeros((256, 1, 28, 28), dtype=np.float32)
    fast.set_num_threads(2)
    try:
        assert fast.threads_for(big, chunks=7) == 2
        assert fast.threads_for(big, chunks=1) == 1  # no more threads than chunks
        assert fast.threads_for(big[:8], chunks=7) == 1  # too little work for a second thread
        assert fast.threads_for(backend.to_device(big, "strict"), chunks=7) == 1  # only NumPy batches
        fast.set_num_threads(1)
        assert fast.threads_for(big, chunks=7) == 1
    finally:
        fast.set_num_threads(1)
    with pytest.raises(ValueError, match="count must be an int >= 1"):
        fast.set_num_threads(0)
    assert fast._threads["choose"] is True


def test_thread_choice_takes_the_faster_and_looks_at_the_other_again():
    choice = fast.ThreadChoice()
    shape, seconds = (256, 1, 28, 28), {1: 2e-3, 2: 5e-3}  # a busy machine: 2 threads are slower
    picks = []
    for _ in range(4 * choice.EXPLORE):
        k = choice.choose(shape, (1, 2))
        picks.append(k)
        choice.record(shape, k, seconds[k])
    assert picks[:2] == [1, 2]  # each timed once, then the faster
    assert picks.count(2) == 1 + 4  # and the other again every EXPLORE-th call
    seconds = {1: 2e-3, 2: 1e-3}  # the other core is free now
    for _ in range(2 * choice.EXPLORE):
        k = choice.choose(shape, (1, 2))
        choice.record(shape, k, seconds[k])
    assert choice.choose(shape, (1, 2)) == 2
    assert choice.choose((8, 3, 32, 32), (1, 2)) == 1  # another shape has its own record


def test_warp_fast_chooses_between_one_and_two_threads(monkeypatch):
    choice = fast.ThreadChoice()
    monkeypatch.setattr(fast, "_choice", choice)
    x = np.random.default_rng(2).random((200, 1, 28, 28), dtype=np.float32)
    inv = np.linalg.inv(matrices(200, x.shape, np.random.default_rng(3)))
    fast.set_num_threads(2)
    try:
        first, second = (fast.warp_fast(x, inv, "constant", 0.0, "bilinear") for _ in range(2))
    finally:
        fast.set_num_threads(1)
    assert set(k for _, k in choice.seconds) == {1, 2}  # one call each way, both timed
    np.testing.assert_array_equal(first, second)  # the same numbers either way


def test_affine_inverse_equals_numpy_linalg_inv():
    rng = np.random.default_rng(4)
    m = matrices(50, (50, 1, 8, 8), rng, 1.0)
    np.testing.assert_allclose(geometric.affine_inverse(m), np.linalg.inv(m), rtol=1e-12, atol=1e-12)
    projective = m.copy()
    projective[:, 2, 0] = 0.01  # not affine: numpy.linalg.inv's answer
    np.testing.assert_allclose(geometric.affine_inverse(projective), np.linalg.inv(projective))
    m[3, :2, :2] = [[1.0, 2.0], [2.0, 4.0]]
    with pytest.raises(np.linalg.LinAlgError, match="singular matrix: image 3"):
        geometric.affine_inverse(m)


@pytest.mark.parametrize("fill_mode", FILL_MODES)
@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
def test_float32_and_threads_agree_with_the_reference(fill_mode, shape):
    rng = np.random.default_rng(1)
    x = rng.random((200,) + shape, dtype=np.float32)  # large enough to be cut in chunks over threads
    inv = np.linalg.inv(matrices(200, x.shape, rng))
    fast.set_num_threads(2, choose=False)
    try:
        assert fast.threads_for(x, chunks=4) == 2
        # float32 coordinates: |s| reaches ~100 pixels here (zoom 0.4, any turn, the padding), where
        # float32 steps by 8e-6; the reference rounds s once, the fast path's product three times
        # (both miss the float64 answer by < 2e-5 and < 7e-6 in value)
        np.testing.assert_allclose(fast.warp_fast(x, inv, fill_mode, 0.3, "bilinear"),
                                   sample(x, inv, fill_mode, 0.3, "bilinear"), rtol=1e-5, atol=3e-5)
    finally:
        fast.set_num_threads(1)


def test_warp_takes_the_reference_when_fast_paths_are_off(monkeypatch):
    calls = []
    monkeypatch.setattr(geometric, "sample", lambda *a: calls.append("reference") or a[0])
    monkeypatch.setattr(mdl.functional.fast, "_enabled", True)  # on, even under MINIDL_REFERENCE=1
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
