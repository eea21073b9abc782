"""Augmentation properties for every op, on NumPy and on the strict CuPy stand-in."""
import math

import numpy as np
import pytest

import minidl as mdl
from minidl import augment as A
from minidl import backend
from minidl.augment import compose as compose_module
from minidl.augment.geometric import warp


def batch(xp, shape=(6, 3, 12, 10), seed=0, lo=0.0, hi=1.0):
    return xp.asarray(np.random.default_rng(seed).uniform(lo, hi, shape).astype(np.float32))


def host(a):
    return backend.to_numpy(a)


OPS = {
    "flip": lambda s: A.RandomFlip("both", p=0.5, seed=s),
    "crop": lambda s: A.RandomCrop((12, 10), padding=2, seed=s),
    "rotation": lambda s: A.RandomRotation(25, seed=s),
    "shift": lambda s: A.RandomShift(0.2, 0.1, fill_mode="constant", fill_value=0.5, seed=s),
    "zoom": lambda s: A.RandomZoom(0.2, fill_mode="nearest", seed=s),
    "shear": lambda s: A.RandomShear(15, fill_mode="wrap", seed=s),
    "affine": lambda s: A.RandomAffine(10, (0.1, 0.1), (0.9, 1.1), 5, seed=s),
    "affine_nearest": lambda s: A.RandomAffine(30, interpolation="nearest", seed=s),
    "jitter": lambda s: A.ColorJitter(0.3, 0.3, 0.3, 0.1, seed=s),
    "channel": lambda s: A.ChannelShift(0.1, seed=s),
    "blur": lambda s: A.GaussianBlur(5, sigma=(0.5, 1.5), seed=s),
    "sharpen": lambda s: A.Sharpen(1.0, seed=s),
    "erasing": lambda s: A.RandomErasing(p=0.7, seed=s),
    "erasing_random": lambda s: A.RandomErasing(p=0.7, value="random", seed=s),
    "noise": lambda s: A.GaussianNoise((0.01, 0.1), seed=s),
    "compose": lambda s: A.Compose([A.RandomFlip(), A.RandomRotation(10), A.RandomShift(0.1, 0.1),
                                    A.ColorJitter(0.2, 0.2), A.RandomErasing()], seed=s),
    "apply": lambda s: A.RandomApply(A.RandomRotation(30), p=0.5, seed=s),
    "apply_colour": lambda s: A.RandomApply(A.ColorJitter(0.5), p=0.5, seed=s),
    "oneof": lambda s: A.OneOf([A.RandomRotation(30), A.GaussianBlur(3), A.ChannelShift(0.2)], seed=s),
    "compose_nested": lambda s: A.Compose([A.RandomApply(A.RandomZoom(0.2), p=0.5),
                                           A.OneOf([A.RandomRotation(20), A.RandomShear(10)]),
                                           A.RandomFlip()], seed=s),
}

ZERO = {
    "flip": A.RandomFlip(p=0.0), "rotation": A.RandomRotation(0), "shift": A.RandomShift(0, 0),
    "zoom": A.RandomZoom(0), "shear": A.RandomShear(0), "affine": A.RandomAffine(0),
    "crop": A.RandomCrop((12, 10), padding=0), "jitter": A.ColorJitter(0, 0, 0, 0), "channel": A.ChannelShift(0),
    "sharpen": A.Sharpen(0), "erasing": A.RandomErasing(p=0.0), "noise": A.GaussianNoise(0.0),
    "blur1": A.GaussianBlur(1), "blur_tiny_sigma": A.GaussianBlur(5, sigma=1e-3),
    "apply": A.RandomApply(A.RandomRotation(30), p=0.0),
    "compose": A.Compose([A.RandomRotation(0), A.RandomShift(0, 0), A.RandomZoom(0), A.ColorJitter(0)]),
}


# ---------------------------------------------------------------- properties
@pytest.mark.parametrize("name", sorted(OPS))
def test_shape_dtype_device_kept_input_untouched_output_finite(name, xp):
    x = batch(xp)
    before = host(x).copy()
    out = OPS[name](0)(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert backend.get_array_module(out) is xp
    assert np.array_equal(host(x), before)
    assert np.all(np.isfinite(host(out)))
    assert not np.array_equal(host(out), before)  # it did something


def test_float64_kept(xp):
    x = xp.asarray(np.random.default_rng(0).random((3, 1, 8, 8)))
    assert OPS["compose"](0)(x).dtype == np.float64


@pytest.mark.parametrize("name", sorted(ZERO))
def test_zero_strength_is_the_identity(name, xp):
    x = batch(xp)
    out = ZERO[name](x)
    assert np.array_equal(host(out), host(x))
    assert out is not x


@pytest.mark.parametrize("name", sorted(OPS))
def test_seeded_replay_and_params_replay(name, xp):
    x = batch(xp)
    a = host(OPS[name](7)(x))
    assert np.array_equal(a, host(OPS[name](7)(x)))
    assert not np.array_equal(a, host(OPS[name](8)(x)))
    op = OPS[name](8)
    out, params = op(x, return_params=True)
    assert np.array_equal(host(out), host(op(x, params=params)))


def test_manual_seed_governs_unseeded_ops():
    x = batch(np)
    mdl.manual_seed(3)
    a = A.RandomRotation(20)(x)
    mdl.manual_seed(3)
    assert np.array_equal(a, A.RandomRotation(20)(x))


@pytest.mark.parametrize("name", sorted(OPS))
def test_batch_equals_each_image_alone_with_the_same_params(name, xp):
    x = batch(xp)
    op = OPS[name](3)
    out, params = op(x, return_params=True)
    for i in range(x.shape[0]):
        alone = op(x[i:i + 1], params=A.select(params, i))
        assert np.allclose(host(alone)[0], host(out)[i], atol=1e-6), i


def test_replayed_params_must_fit_the_batch():
    x = batch(np)
    op = A.RandomRotation(10)
    _, params = op(x, return_params=True)
    with pytest.raises(ValueError, match="drawn for 6 images, the batch has 2"):
        op(x[:2], params=params)


# ------------------------------------------------------------------- geometry
def test_flip_twice_is_the_identity(xp):
    x = batch(xp)
    op = A.RandomFlip("both", p=0.5, seed=1)
    once, params = op(x, return_params=True)
    assert params["horizontal"].any() and params["vertical"].any()
    assert np.array_equal(host(op(once, params=params)), host(x))
    both = A.Compose([A.RandomFlip("horizontal", p=1.0), A.RandomRotation(0), A.RandomFlip("horizontal", p=1.0)])
    assert np.array_equal(host(both(x)), host(x))  # fused: one sampling of the product


def test_flip_alone_matches_its_matrix(xp):
    x = batch(xp)
    op = A.RandomFlip("both", p=0.5, seed=2)
    out, params = op(x, return_params=True)
    assert np.array_equal(host(out), host(warp(x, op.matrices(params, x.shape))))
    flipped = host(A.RandomFlip("horizontal", p=1.0)(x))
    assert np.array_equal(flipped, host(x)[..., ::-1])


def test_rotation_by_90_equals_rot90_away_from_the_border(xp):
    x = batch(xp, (3, 2, 9, 7))  # not square: the border differs
    out = host(A.RandomRotation((90, 90))(x))
    xs = host(x)
    square = host(A.RandomRotation((90, 90))(x[:, :, :7, :]))
    assert np.allclose(square, np.rot90(xs[:, :, :7, :], k=1, axes=(2, 3)), atol=1e-6)
    # 9x7 turned about the centre: the central 7x7 of the output is the input's central 7 columns turned
    expected = np.rot90(xs[:, :, 1:8, :], k=1, axes=(2, 3))
    assert np.allclose(out[:, :, 1:8, :], expected, atol=1e-6)


def test_shift_by_whole_pixels_moves_the_content(xp):
    x = np.zeros((1, 1, 5, 5), dtype=np.float32)
    x[0, 0, 2, 1] = 1
    out = host(A.RandomShift((0.4, 0.4), (0.2, 0.2), fill_mode="constant")(xp.asarray(x)))  # +2 cols, +1 row
    assert out[0, 0, 3, 3] == pytest.approx(1) and out.sum() == pytest.approx(1)


def test_fill_modes_and_bilinear_by_hand(xp):
    row = xp.asarray(np.arange(1, 5, dtype=np.float32).reshape(1, 1, 1, 4))  # a b c d = 1 2 3 4

    def shift(mode, fraction):
        op = A.RandomShift((fraction, fraction), 0, fill_mode=mode, fill_value=9)
        return host(op(row))[0, 0, 0].tolist()

    assert shift("constant", 0.5) == [9, 9, 1, 2]
    assert shift("nearest", 0.5) == [1, 1, 1, 2]
    assert shift("reflect", 0.5) == [2, 1, 1, 2]
    assert shift("wrap", 0.5) == [3, 4, 1, 2]
    assert shift("reflect", -1.5) == [2, 1, 1, 2]  # 6 pixels: far outside, reflected twice
    assert shift("wrap", -1.5) == [3, 4, 1, 2]
    assert shift("nearest", -1.5) == [4, 4, 4, 4]
    assert shift("constant", -1.5) == [9, 9, 9, 9]
    # half a pixel: each output is the mean of two neighbours; outside, the fill takes part
    assert shift("constant", 0.125) == [5, 1.5, 2.5, 3.5]
    assert shift("nearest", 0.125) == [1, 1.5, 2.5, 3.5]
    assert shift("wrap", 0.125) == [2.5, 1.5, 2.5, 3.5]


def test_zoom_and_shear_by_hand():
    x = np.zeros((1, 1, 5, 5), dtype=np.float32)
    x[0, 0, 2, 3] = 1.0  # one pixel right of the centre (2, 2)
    out = A.RandomZoom((2.0, 2.0), fill_mode="constant")(x)  # lands 2 right: column 4
    assert out[0, 0, 2, 4] == pytest.approx(1.0)
    y = np.zeros((1, 1, 5, 5), dtype=np.float32)
    y[0, 0, 3, 2] = 1.0  # one row below the centre
    out = A.RandomShear((45, 45), fill_mode="constant")(y)  # x' = x + tan(45) dy: one column right
    assert out[0, 0, 3, 3] == pytest.approx(1.0) and out.sum() == pytest.approx(1.0)


def test_compose_fuses_geometric_runs_into_one_sampling(monkeypatch):
    calls = []
    monkeypatch.setattr(compose_module, "warp", lambda *a, **k: calls.append(1) or warp(*a, **k))
    x = batch(np, (4, 1, 8, 8))
    pipeline = A.Compose([A.RandomFlip(), A.RandomRotation(10), A.RandomShift(0.1, 0.1), A.RandomZoom(0.1),
                          A.ColorJitter(0.1), A.RandomShear(5), A.RandomShear(5, fill_mode="wrap")])
    assert pipeline.groups == [[0, 1, 2, 3], [4], [5], [6]]  # a different fill mode starts a new run
    pipeline(x)
    assert len(calls) == 1


def test_fused_compose_is_one_matrix_product(xp):
    x = batch(xp, (5, 3, 11, 13))
    rot, shift = A.RandomRotation(30, seed=0), A.RandomShift(0.2, 0.2, seed=1)
    out, params = A.Compose([rot, shift])(x, return_params=True)
    p_rot, p_shift = params["ops"]
    m = shift.matrices(p_shift, x.shape) @ rot.matrices(p_rot, x.shape)
    assert np.allclose(host(out), host(warp(x, m)), atol=1e-6)
    # RandomAffine with the same angle and shift is the same transform
    affine = A.RandomAffine(30, (0.2, 0.2))
    p = {"angle": p_rot["angle"], "dx": p_shift["dx"], "dy": p_shift["dy"], "scale": np.ones(5), "shear": np.zeros(5)}
    assert np.allclose(host(affine(x, params=p)), host(out), atol=1e-5)
    # turning back and forth in one sampling loses nothing, not even at the corners
    there_and_back = A.Compose([A.RandomRotation((37, 37)), A.RandomRotation((-37, -37))], seed=0)
    assert np.allclose(host(there_and_back(x)), host(x), atol=1e-5)


def test_compose_equals_the_ops_one_by_one_and_leaves_the_input_alone(xp):
    # after the first op the pipeline owns its batch and the later ops work in place
    x = batch(xp, (6, 3, 8, 8))
    before = host(x).copy()
    ops = [A.ColorJitter(0.3, 0.3, seed=0), A.ChannelShift(0.1, seed=1), A.RandomErasing(p=0.8, seed=2),
           A.GaussianNoise(0.05, seed=3), A.Sharpen(0.5, seed=4), A.ColorJitter(0.2, 0.2, 0.2, 0.05, seed=5)]
    out, params = A.Compose(ops)(x, return_params=True)
    assert np.array_equal(host(x), before)
    step = x
    for op, p in zip(ops, params["ops"]):
        step = op(step, params=p)
    assert np.allclose(host(out), host(step), atol=1e-6)


def test_random_apply_and_one_of_fuse_as_identity_where_skipped():
    x = batch(np, (8, 1, 9, 9))
    op = A.RandomApply(A.RandomRotation(40), p=0.5, seed=0)
    out, params = op(x, return_params=True)
    skipped = ~params["apply"]
    assert skipped.any() and params["apply"].any()
    assert np.array_equal(out[skipped], x[skipped])
    fused = A.Compose([op, A.RandomRotation(0)])
    assert np.allclose(fused(x, params={"ops": [params, {"angle": np.zeros(8)}]}), out, atol=1e-6)
    one = A.OneOf([A.RandomRotation((90, 90)), A.RandomFlip(p=1.0)], seed=0)
    out, params = one(x, return_params=True)
    for i, k in enumerate(params["choice"]):
        expected = np.rot90(x[i], 1, axes=(1, 2)) if k == 0 else x[i][..., ::-1]
        assert np.allclose(out[i], expected, atol=1e-6)


def test_crop_with_padding_by_hand(xp):
    x = xp.asarray(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
    op = A.RandomCrop(3, padding=1)
    out = host(op(x, params={"top": np.array([0]), "left": np.array([2])}))
    expected = np.pad(np.arange(16, dtype=np.float32).reshape(4, 4), 1)[0:3, 2:5]
    assert out.shape == (1, 1, 3, 3) and np.array_equal(out[0, 0], expected)


# ----------------------------------------------------------------------- colour
def test_color_jitter_fused_equals_the_steps_one_by_one(xp):
    x = batch(xp, (5, 3, 6, 7), lo=0.4, hi=0.6)  # mid-grey: no clipping on the way
    op = A.ColorJitter(0.2, 0.3, 0.4, 0.1, seed=0)
    out, p = op(x, return_params=True)
    luma = np.array([0.299, 0.587, 0.114])
    yiq = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
    for i, img in enumerate(host(x).astype(np.float64)):
        v = img * p["brightness"][i]
        m = np.tensordot(luma, v, 1).mean()
        v = m + p["contrast"][i] * (v - m)
        g = np.tensordot(luma, v, 1)
        v = g + p["saturation"][i] * (v - g)
        t = 2 * math.pi * p["hue"][i]
        turn = np.array([[1, 0, 0], [0, math.cos(t), -math.sin(t)], [0, math.sin(t), math.cos(t)]])
        v = np.tensordot(np.linalg.inv(yiq) @ turn @ yiq, v, 1)
        assert np.allclose(host(out)[i], np.clip(v, 0, 1), atol=1e-5), i


def test_color_extremes_by_hand(xp):
    x = batch(xp, (2, 3, 4, 4), lo=0.2, hi=0.4)
    xs = host(x)
    assert np.allclose(host(A.ColorJitter(brightness=(2, 2))(x)), xs * 2, atol=1e-6)
    flat = host(A.ColorJitter(contrast=(0, 0))(x))  # every pixel becomes the mean grey
    grey_mean = np.tensordot([0.299, 0.587, 0.114], xs, axes=([0], [1])).mean(axis=(1, 2))
    assert np.allclose(flat, grey_mean[:, None, None, None], atol=1e-6)
    grey = host(A.ColorJitter(saturation=(0, 0))(x))
    assert np.allclose(grey[:, 0], grey[:, 1], atol=1e-6) and np.allclose(grey[:, 1], grey[:, 2], atol=1e-6)
    # a hue turn keeps grey pixels and every pixel's luma
    turned = host(A.ColorJitter(hue=(0.3, 0.3))(x))
    luma = lambda a: np.tensordot([0.299, 0.587, 0.114], a, axes=([0], [1]))  # noqa: E731
    assert np.allclose(luma(turned), luma(xs), atol=1e-5)
    g = xp.asarray(np.full((1, 3, 2, 2), 0.5, dtype=np.float32))
    assert np.allclose(host(A.ColorJitter(hue=0.5)(g)), 0.5, atol=1e-6)
    # clipping into [0, 1]
    assert host(A.ColorJitter(brightness=(5, 5))(x)).max() == 1.0


def test_grey_images_brightness_contrast(xp):
    x = batch(xp, (3, 1, 5, 5), lo=0.3, hi=0.5)
    out, p = A.ColorJitter(0.2, 0.5, saturation=0.5, seed=1)(x, return_params=True)
    xs = host(x).astype(np.float64)
    v = xs * p["brightness"][:, None, None, None]
    m = v.mean(axis=(1, 2, 3), keepdims=True)
    assert np.allclose(host(out), np.clip(m + p["contrast"][:, None, None, None] * (v - m), 0, 1), atol=1e-6)


def test_channel_shift_adds_one_offset_per_channel(xp):
    x = batch(xp, (4, 3, 5, 5), lo=0.3, hi=0.6)
    out, p = A.ChannelShift(0.1, seed=0)(x, return_params=True)
    diff = host(out) - host(x)
    assert np.allclose(diff, p["shift"][:, :, None, None], atol=1e-6)
    assert np.abs(p["shift"]).max() <= 0.1 and p["shift"].shape == (4, 3)


# ---------------------------------------------------------------------- filters
def test_gaussian_blur_equals_a_direct_2d_convolution(xp):
    x = batch(xp, (2, 2, 7, 8))
    out, p = A.GaussianBlur(5, sigma=(0.5, 2.0), seed=0)(x, return_params=True)
    xs = np.pad(host(x).astype(np.float64), ((0, 0), (0, 0), (2, 2), (2, 2)), mode="reflect")
    for i in range(2):
        t = np.arange(5) - 2
        g = np.exp(-t ** 2 / (2 * p["sigma"][i] ** 2))
        k = np.outer(g, g) / g.sum() ** 2
        expected = sum(k[a, b] * xs[i, :, a:a + 7, b:b + 8] for a in range(5) for b in range(5))
        assert np.allclose(host(out)[i], expected, atol=1e-5)


def test_filters_keep_constant_images_and_sharpen_by_hand(xp):
    c = xp.asarray(np.full((2, 1, 6, 6), 0.25, dtype=np.float32))
    assert np.allclose(host(A.GaussianBlur(3, seed=0)(c)), 0.25, atol=1e-6)
    assert np.allclose(host(A.Sharpen(2.0, seed=0)(c)), 0.25, atol=1e-6)
    d = np.full((1, 1, 5, 5), 0.5, dtype=np.float32)
    d[0, 0, 2, 2] = 0.6
    out = host(A.Sharpen((1.0, 1.0))(xp.asarray(d)))  # x + (x - box3x3(x))
    assert out[0, 0, 2, 2] == pytest.approx(0.6 + (0.6 - (0.5 * 8 + 0.6) / 9), abs=1e-6)
    assert out[0, 0, 2, 1] == pytest.approx(0.5 + (0.5 - (0.5 * 8 + 0.6) / 9), abs=1e-6)


# ------------------------------------------------------------ erasing, noise
def test_erased_area_within_the_asked_range(xp):
    op = A.RandomErasing(p=1.0, scale=(0.1, 0.2), ratio=(0.5, 2.0), value=-1.0, seed=0)
    x = batch(xp, (200, 1, 20, 20))
    out, p = op(x, return_params=True)
    area = (host(out) == -1).reshape(200, -1).mean(axis=1)
    erased = area > 0
    assert erased.all()  # p = 1 and every draw fits a 20x20 image
    h, w = p["height"], p["width"]
    # each side is a rounded sqrt(A r) or sqrt(A / r) with A in scale: A lies in [(h-.5)(w-.5), (h+.5)(w+.5)]
    assert ((h - 0.5) * (w - 0.5) <= 0.2 * 400).all() and ((h + 0.5) * (w + 0.5) >= 0.1 * 400).all()
    assert np.array_equal(area, p["height"] * p["width"] / 400)
    ratio = p["height"][erased] / p["width"][erased]
    assert ratio.min() >= 0.5 / 1.5 and ratio.max() <= 2.0 * 1.5  # up to the rounding of the sides


def test_erasing_with_p1_erases_every_image_for_a_fixed_scale(xp):
    # before: a draw was kept only if its *rounded* area was exactly in scale, which a
    # fixed scale rarely allows: about one image in five was left untouched
    op = A.RandomErasing(p=1.0, scale=(0.1, 0.1), value=-1.0, seed=3)
    out, p = op(batch(xp, (300, 2, 40, 40)), return_params=True)
    erased = (host(out) == -1).reshape(300, -1).sum(axis=1) / 2  # pixels per channel
    assert (erased > 0).all() and np.array_equal(erased, p["height"] * p["width"])
    assert (p["height"] < 40).all() and (p["width"] < 40).all()
    assert abs(erased.mean() - 160) < 8  # 0.1 of 1600 pixels, up to the rounding of the sides


def test_erasing_leaves_the_image_when_no_draw_fits(xp):
    # torchvision's fallback: after 10 draws that do not fit (h < H, w < W), the image is returned as it is
    x = batch(xp, (20, 1, 10, 10))
    out, p = A.RandomErasing(p=1.0, scale=(1.0, 1.0), ratio=(1.0, 1.0), seed=0)(x, return_params=True)
    assert np.array_equal(host(out), host(x)) and not p["height"].any()


def test_erasing_probability_and_values(xp):
    x = batch(xp, (400, 3, 8, 8), lo=0.1, hi=0.9)
    out = host(A.RandomErasing(p=0.25, value=(2.0, 3.0, 4.0), seed=1)(x))
    touched = (out != host(x)).reshape(400, -1).any(axis=1)
    assert 0.15 < touched.mean() < 0.35
    changed = out != host(x)
    for ch, v in enumerate((2.0, 3.0, 4.0)):
        assert np.all(out[:, ch][changed[:, ch]] == v)


def test_gaussian_noise_statistics(xp):
    x = xp.asarray(np.full((50, 1, 16, 16), 0.5, dtype=np.float32))
    out, p = A.GaussianNoise(0.05, clip=False, seed=0)(x, return_params=True)
    d = host(out) - 0.5
    assert abs(d.mean()) < 0.002 and d.std() == pytest.approx(0.05, rel=0.03)
    assert np.all(p["std"] == 0.05)
    clipped = host(A.GaussianNoise(1.0, seed=0)(x))
    assert clipped.min() == 0.0 and clipped.max() == 1.0


# --------------------------------------------------------------------- mixing
def test_mixup_by_hand_and_labels_sum_to_one(xp):
    x = batch(xp, (8, 1, 5, 5))
    y = np.arange(8) % 4
    (mx, my), p = A.MixUp(0.4, num_classes=4, seed=0)(x, y, return_params=True)
    assert backend.get_array_module(my) is xp and my.dtype == np.float32
    my, xs, lam, j = host(my), host(x), p["lam"], p["partner"]
    assert np.allclose(my.sum(axis=1), 1)
    assert np.allclose(host(mx), lam[:, None, None, None] * xs + (1 - lam[:, None, None, None]) * xs[j], atol=1e-6)
    onehot = np.eye(4)[y]
    assert np.allclose(my, lam[:, None] * onehot + (1 - lam[:, None]) * onehot[j], atol=1e-6)


def test_cutmix_weight_is_the_pasted_area(xp):
    x = batch(xp, (64, 1, 10, 10))
    y = np.arange(64) % 5
    (cx, cy), p = A.CutMix(1.0, num_classes=5, seed=1)(x, y, return_params=True)
    cy, cxs, xs = host(cy), host(cx), host(x)
    assert np.allclose(cy.sum(axis=1), 1)
    clipped = 0
    for i, j in enumerate(p["partner"]):
        box = np.zeros((10, 10), bool)
        box[p["top"][i]:p["bottom"][i], p["left"][i]:p["right"][i]] = True
        assert np.array_equal(cxs[i, 0][box], xs[j, 0][box]) and np.array_equal(cxs[i, 0][~box], xs[i, 0][~box])
        assert p["area"][i] == pytest.approx(box.mean())
        expected = (1 - box.mean()) * np.eye(5)[y[i]] + box.mean() * np.eye(5)[y[j]]
        assert np.allclose(cy[i], expected, atol=1e-6)
        clipped += box.mean() < 1 - p["lam"][i] - 0.05
    assert clipped > 0  # some boxes were cut by the border: the weight followed the real area


def test_mixing_with_soft_targets_and_soft_cross_entropy():
    x = batch(np, (4, 1, 6, 6))
    soft = np.full((4, 3), 1 / 3, dtype=np.float32)
    _, y = A.MixUp(1.0, num_classes=3, seed=0)(x, soft)
    assert np.allclose(y, 1 / 3)
    logits = mdl.tensor(np.zeros((4, 3), dtype=np.float32), requires_grad=True)
    loss = mdl.nn.functional.cross_entropy(logits, mdl.tensor(y))
    assert loss.item() == pytest.approx(np.log(3), rel=1e-5)


def test_mixing_inside_pipelines(xp):
    x = batch(xp, (10, 1, 6, 6))
    y = np.arange(10) % 3
    xo, yo = A.Compose([A.RandomFlip(), A.CutMix(1.0, 3)], seed=0)(x, y)
    assert yo.shape == (10, 3) and np.allclose(host(yo).sum(axis=1), 1)
    (xo, yo), p = A.RandomApply(A.MixUp(1.0, 3), p=0.5, seed=0)(x, y, return_params=True)
    skipped = ~p["apply"]
    assert np.allclose(host(yo)[skipped], np.eye(3)[y[skipped]]) and np.allclose(host(yo).sum(axis=1), 1)
    assert np.array_equal(host(xo)[skipped], host(x)[skipped])
    xo, yo = A.OneOf([A.MixUp(1.0, 3), A.CutMix(1.0, 3), A.RandomRotation(10)], seed=0)(x, y)
    assert np.allclose(host(yo).sum(axis=1), 1)


# ---------------------------------------------------------- parameter bounds
def test_sampled_parameters_stay_within_bounds():
    n, shape = 500, (500, 3, 20, 30)
    assert np.abs(A.RandomRotation(15, seed=0).sample(n, shape)["angle"]).max() <= 15
    lo_hi = A.RandomRotation((10, 20), seed=0).sample(n, shape)["angle"]
    assert lo_hi.min() >= 10 and lo_hi.max() <= 20
    p = A.RandomShift(0.1, 0.2, seed=0).sample(n, shape)
    assert np.abs(p["dx"]).max() <= 0.1 and np.abs(p["dy"]).max() <= 0.2
    z = A.RandomZoom((0.8, 1.25), seed=0).sample(n, shape)["factor"]
    assert z.min() >= 0.8 and z.max() <= 1.25
    assert np.abs(A.RandomShear(12, seed=0).sample(n, shape)["shear"]).max() <= 12
    a = A.RandomAffine(5, (0.1, 0.2), (0.9, 1.1), 3, seed=0).sample(n, shape)
    assert np.abs(a["angle"]).max() <= 5 and np.abs(a["dx"]).max() <= 0.1 and np.abs(a["dy"]).max() <= 0.2
    assert a["scale"].min() >= 0.9 and a["scale"].max() <= 1.1 and np.abs(a["shear"]).max() <= 3
    j = A.ColorJitter(brightness=0.3, contrast=1.5, hue=0.1, seed=0).sample(n, shape)
    assert j["brightness"].min() >= 0.7 and j["brightness"].max() <= 1.3
    assert j["contrast"].min() >= 0.0 and j["contrast"].max() <= 2.5  # 1 - 1.5 clipped at 0
    assert np.abs(j["hue"]).max() <= 0.1
    c = A.RandomCrop(16, padding=2, seed=0).sample(n, shape)
    assert c["top"].min() >= 0 and c["top"].max() <= 24 - 16 and c["left"].max() <= 34 - 16
    flips = A.RandomFlip(p=0.3, seed=0).sample(n, shape)
    assert 0.2 < flips["horizontal"].mean() < 0.4 and not flips["vertical"].any()
    s = A.GaussianBlur(3, sigma=(0.2, 0.9), seed=0).sample(n, shape)["sigma"]
    assert s.min() >= 0.2 and s.max() <= 0.9
    al = A.Sharpen(0.7, seed=0).sample(n, shape)["alpha"]
    assert al.min() >= 0 and al.max() <= 0.7
    lam = A.MixUp(0.3, 10, seed=0).sample(n, shape)["lam"]
    assert lam.min() >= 0 and lam.max() <= 1
    choice = A.OneOf([A.RandomFlip(), A.RandomRotation(3)], weights=[1, 3], seed=0).sample(n, shape)["choice"]
    assert 0.2 < (choice == 0).mean() < 0.3


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize("make, match", [
    (lambda: A.RandomRotation(-5), "degrees must be >= 0"),
    (lambda: A.RandomRotation((10, 5)), "degrees must have lo <= hi"),
    (lambda: A.RandomFlip(p=1.5), "p must be a probability"),
    (lambda: A.RandomErasing(p=-0.1), "p must be a probability"),
    (lambda: A.RandomErasing(scale=(0.5, 0.2)), "scale must be"),
    (lambda: A.RandomErasing(ratio=(0, 1)), "ratio must be"),
    (lambda: A.RandomApply(A.RandomFlip(), p=2), "p must be a probability"),
    (lambda: A.ColorJitter(brightness=-0.1), "brightness must be >= 0"),
    (lambda: A.ColorJitter(hue=0.7), "hue must be within"),
    (lambda: A.ChannelShift(-0.1), "intensity must be >= 0"),
    (lambda: A.GaussianNoise(-1.0), "std must be >= 0"),
    (lambda: A.MixUp(0.0, 10), "alpha must be a number > 0"),
    (lambda: A.CutMix(-1.0, 10), "alpha must be a number > 0"),
    (lambda: A.MixUp(1.0, 0), "num_classes must be an int >= 1"),
    (lambda: A.RandomZoom(1.5), "amount must keep the zoom factor > 0"),
    (lambda: A.RandomShear(95), "degrees must stay within"),
    (lambda: A.RandomAffine(translate=(0.1, 2)), "translate must be"),
    (lambda: A.RandomAffine(scale=(-1, 2)), "scale must be"),
    (lambda: A.GaussianBlur(4), "positive odd int"),
    (lambda: A.Sharpen(-1), "alpha must be >= 0"),
    (lambda: A.RandomShift(0.1, fill_mode="mirror"), "fill_mode must be one of"),
    (lambda: A.RandomRotation(5, interpolation="cubic"), "interpolation must be one of"),
    (lambda: A.RandomFlip(mode="diagonal"), "mode must be"),
    (lambda: A.RandomCrop(0), "RandomCrop: size must be >= 1, got 0"),
    (lambda: A.RandomCrop(5, padding=-1), "RandomCrop: padding must be >= 0, got -1"),
    (lambda: A.OneOf([]), "needs at least one op"),
    (lambda: A.OneOf([A.RandomFlip()], weights=[-1]), "weights must be"),
])
def test_bad_arguments_name_themselves(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_inputs_are_explained():
    with pytest.raises(ValueError, match=r"larger than the padded image \(14, 14\)"):
        A.RandomCrop(20, padding=2)(np.zeros((1, 1, 10, 10), dtype=np.float32))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        A.RandomFlip()(np.zeros((10, 10), dtype=np.float32))
    with pytest.raises(TypeError, match="floating images"):
        A.RandomFlip()(np.zeros((1, 1, 4, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match="call it as mixup"):
        A.MixUp(1.0, 3)(np.zeros((2, 1, 4, 4), dtype=np.float32))
    with pytest.raises(ValueError, match=r"labels y must lie in \[0, 3\)"):
        A.MixUp(1.0, 3)(np.zeros((2, 1, 4, 4), dtype=np.float32), np.array([0, 3]))
    with pytest.raises(ValueError, match="saturation and hue need RGB"):
        A.ColorJitter(saturation=0.5)(np.zeros((2, 4, 4, 4), dtype=np.float32))
    with pytest.raises(TypeError, match="takes augmentation ops"):
        A.Compose([lambda x: x])
    with pytest.raises(ValueError, match="changes the image size"):
        A.RandomApply(A.RandomCrop(3), p=0.5, seed=1)(np.zeros((8, 1, 5, 5), dtype=np.float32))


# ------------------------------------------------------------------ tta, show
class _Model:
    """Logits (mean, -mean) of the left half of each image; records its mode when called."""

    def __init__(self):
        self.training = True
        self.modes = []

    def eval(self):
        self.training = False

    def train(self, mode=True):
        self.training = mode

    def __call__(self, x):
        self.modes.append(self.training)
        left = x[..., : x.shape[-1] // 2].mean(axis=(1, 2, 3))
        xp = backend.get_array_module(x)
        return mdl.Tensor(xp.stack([left, -left], axis=1))


def test_tta_averages_softmax_over_copies_in_eval_mode(xp):
    m = _Model()
    x = batch(xp, (3, 1, 4, 4))
    probs = A.tta_predict(m, x, A.RandomFlip(p=1.0), n=2)
    assert probs.shape == (3, 2) and np.allclose(probs.sum(axis=1), 1)
    assert m.training and m.modes == [False, False]  # eval inside, restored after
    soft = lambda z: np.exp(np.stack([z, -z], 1)) / np.exp(np.stack([z, -z], 1)).sum(1, keepdims=True)  # noqa
    xs = host(x)
    expected = (soft(xs[..., :2].mean(axis=(1, 2, 3))) + soft(xs[..., 2:].mean(axis=(1, 2, 3)))) / 2
    assert np.allclose(probs, expected, atol=1e-6)
    assert np.allclose(A.tta_predict(m, x, [A.RandomFlip(p=1.0)], n=3, include_original=False),
                       soft(xs[..., 2:].mean(axis=(1, 2, 3))), atol=1e-6)
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        A.tta_predict(m, x, A.RandomFlip(), n=0)


def test_show_writes_a_png(tmp_path, xp):
    from PIL import Image

    path = A.show(A.RandomRotation(30, seed=0), batch(xp, (4, 3, 8, 8)), tmp_path / "grid.png", rows=2, scale=2)
    with Image.open(path) as im:
        assert im.size == (4 * (16 + 2) + 2, 3 * (16 + 2) + 2)
    A.show(A.MixUp(1.0, 2), batch(xp, (3, 1, 8, 8)), tmp_path / "mix.png")
