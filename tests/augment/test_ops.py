"""Augmentation properties for every op, on NumPy and on the strict CuPy stand-in."""
import numpy as np
import pytest

import minidl as mdl
from minidl import augment as A
from minidl import backend


def batch(xp, shape=(6, 3, 12, 10), seed=0):
    return xp.asarray(np.random.default_rng(seed).random(shape).astype(np.float32))


OPS = {
    "flip": lambda s: A.RandomFlip("both", p=0.5, seed=s),
    "crop": lambda s: A.RandomCrop((12, 10), padding=2, seed=s),
    "rotation": lambda s: A.RandomRotation(25, seed=s),
    "shift": lambda s: A.RandomShift(0.2, 0.1, fill_mode="reflect", seed=s),
    "zoom": lambda s: A.RandomZoom(0.2, fill_mode="nearest", seed=s),
    "shear": lambda s: A.RandomShear(15, fill_mode="wrap", seed=s),
    "affine": lambda s: A.RandomAffine(10, (0.1, 0.1), (0.9, 1.1), 5, seed=s),
    "jitter": lambda s: A.ColorJitter(0.3, 0.3, 0.3, 0.1, seed=s),
    "channel": lambda s: A.ChannelShift(0.1, seed=s),
    "blur": lambda s: A.GaussianBlur(5, sigma=(0.5, 1.5), seed=s),
    "sharpen": lambda s: A.Sharpen(1.0, seed=s),
    "erasing": lambda s: A.RandomErasing(p=0.7, seed=s),
    "noise": lambda s: A.GaussianNoise(0.05, seed=s),
    "compose": lambda s: A.Compose([A.RandomFlip(seed=s), A.RandomRotation(10, seed=s), A.RandomShift(0.1, 0.1, seed=s),
                                    A.ColorJitter(0.2, 0.2, seed=s), A.RandomErasing(seed=s)]),
    "apply": lambda s: A.RandomApply(A.RandomRotation(30, seed=s), p=0.5, seed=s),
    "oneof": lambda s: A.OneOf([A.RandomRotation(30, seed=s), A.GaussianBlur(3, seed=s)], seed=s),
}

ZERO = {
    "flip": A.RandomFlip(p=0.0), "rotation": A.RandomRotation(0), "shift": A.RandomShift(0, 0),
    "zoom": A.RandomZoom(0), "shear": A.RandomShear(0), "affine": A.RandomAffine(0),
    "crop": A.RandomCrop((12, 10), padding=0), "jitter": A.ColorJitter(0, 0, 0, 0), "channel": A.ChannelShift(0),
    "sharpen": A.Sharpen(0), "erasing": A.RandomErasing(p=0.0), "noise": A.GaussianNoise(0.0),
    "blur1": A.GaussianBlur(1), "apply": A.RandomApply(A.RandomRotation(30), p=0.0),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_shape_dtype_kept_input_untouched_output_finite(name, xp):
    x = batch(xp)
    before = backend.to_numpy(x).copy()
    out = OPS[name](0)(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert backend.get_array_module(out) is xp
    assert np.array_equal(backend.to_numpy(x), before)
    assert np.all(np.isfinite(backend.to_numpy(out)))


@pytest.mark.parametrize("name", sorted(ZERO))
def test_zero_strength_is_the_identity(name, xp):
    x = batch(xp)
    out = ZERO[name](x)
    assert np.allclose(backend.to_numpy(out), backend.to_numpy(x), atol=1e-5)


@pytest.mark.parametrize("name", sorted(OPS))
def test_seeded_replay_and_params_replay(name, xp):
    x = batch(xp)
    a = backend.to_numpy(OPS[name](7)(x))
    b = backend.to_numpy(OPS[name](7)(x))
    assert np.array_equal(a, b)
    op = OPS[name](8)
    out, params = op(x, return_params=True)
    again = op(x, params=params)
    assert np.array_equal(backend.to_numpy(out), backend.to_numpy(again))


@pytest.mark.parametrize("name", ["rotation", "shift", "zoom", "shear", "affine", "jitter", "channel", "blur",
                                  "sharpen", "erasing", "noise", "flip", "crop"])
def test_batch_equals_each_image_alone_with_the_same_params(name, xp):
    x = batch(xp)
    op = OPS[name](3)
    out, params = op(x, return_params=True)
    for i in range(x.shape[0]):
        one = {k: (v[i:i + 1] if isinstance(v, np.ndarray) and v.shape[:1] == (x.shape[0],) else v)
               for k, v in params.items()}
        alone = op(x[i:i + 1], params=one)
        assert np.allclose(backend.to_numpy(alone)[0], backend.to_numpy(out)[i], atol=1e-5), i


def test_flip_twice_is_the_identity(xp):
    x = batch(xp)
    op = A.RandomFlip("both", p=0.5, seed=1)
    once, params = op(x, return_params=True)
    assert np.array_equal(backend.to_numpy(op(once, params=params)), backend.to_numpy(x))


def test_rotation_by_90_equals_rot90_away_from_the_border(xp):
    x = batch(xp, (3, 2, 9, 9))
    out = A.RandomRotation((90, 90))(x)
    expected = np.rot90(backend.to_numpy(x), k=1, axes=(2, 3))
    assert np.allclose(backend.to_numpy(out)[:, :, 1:-1, 1:-1], expected[:, :, 1:-1, 1:-1], atol=1e-5)


def test_shift_by_whole_pixels_moves_the_content():
    x = np.zeros((1, 1, 5, 5), dtype=np.float32)
    x[0, 0, 2, 1] = 1
    out = A.RandomShift((0.4, 0.4), (0.2, 0.2))(x)  # +2 columns, +1 row
    assert out[0, 0, 3, 3] == pytest.approx(1) and out.sum() == pytest.approx(1)


def test_fill_modes_on_a_shifted_row():
    x = np.arange(1, 5, dtype=np.float32).reshape(1, 1, 1, 4)  # a b c d = 1 2 3 4
    shift = lambda mode: A.RandomShift((0.5, 0.5), 0, fill_mode=mode, fill_value=9)(x)[0, 0, 0].tolist()  # noqa
    assert shift("constant") == [9, 9, 1, 2]
    assert shift("nearest") == [1, 1, 1, 2]
    assert shift("reflect") == [2, 1, 1, 2]
    assert shift("wrap") == [3, 4, 1, 2]


def test_sampled_parameters_stay_within_bounds():
    n, shape = 500, (500, 1, 20, 30)
    assert np.abs(A.RandomRotation(15, seed=0).sample(n, shape)["angle"]).max() <= 15
    p = A.RandomShift(0.1, 0.2, seed=0).sample(n, shape)
    assert np.abs(p["dx"]).max() <= 3 and np.abs(p["dy"]).max() <= 4
    z = A.RandomZoom((0.8, 1.25), seed=0).sample(n, shape)["zoom"]
    assert z.min() >= 0.8 and z.max() <= 1.25
    j = A.ColorJitter(brightness=0.3, seed=0).sample(n, shape)["brightness"]
    assert j.min() >= 0.7 and j.max() <= 1.3
    c = A.RandomCrop(16, padding=2, seed=0).sample(n, shape)
    assert c["top"].max() <= 24 - 16 and c["left"].max() <= 34 - 16
    flips = A.RandomFlip(p=0.3, seed=0).sample(n, shape)["horizontal"]
    assert 0.2 < flips.mean() < 0.4


def test_erased_area_within_the_asked_range(xp):
    op = A.RandomErasing(p=1.0, scale=(0.1, 0.2), ratio=(0.5, 2.0), value=-1.0, seed=0)
    x = batch(xp, (200, 1, 20, 20))
    out = backend.to_numpy(op(x))
    area = (out == -1).reshape(200, -1).mean(axis=1)
    assert area.min() >= 0.1 * 0.75 and area.max() <= 0.2 * 1.3  # rounding of the sides


def test_mixing_labels_sum_to_one_and_cutmix_weight_is_the_pasted_area(xp):
    x = batch(xp, (8, 1, 10, 10))
    y = np.arange(8) % 4
    mx, my = A.MixUp(0.4, num_classes=4, seed=0)(x, y)
    assert np.allclose(backend.to_numpy(my).sum(axis=1), 1)
    op = A.CutMix(1.0, num_classes=4, seed=1)
    (cx, cy), params = op(x, y, return_params=True)
    cy = backend.to_numpy(cy)
    assert np.allclose(cy.sum(axis=1), 1)
    xs, cxs = backend.to_numpy(x), backend.to_numpy(cx)
    for i, j in enumerate(params["partner"]):
        if j == i:
            continue
        pasted = (cxs[i] != xs[i]).mean()
        assert pasted <= params["area"][i] + 1e-6  # equal where partner pixels differ
        assert cy[i, y[j]] >= params["area"][i] - 1e-6 or y[j] == y[i]


def test_mixing_with_soft_targets_and_soft_cross_entropy():
    x = batch(np, (4, 1, 6, 6))
    soft = np.full((4, 3), 1 / 3, dtype=np.float32)
    _, y = A.MixUp(1.0, num_classes=3, seed=0)(x, soft)
    logits = mdl.tensor(np.zeros((4, 3), dtype=np.float32), requires_grad=True)
    loss = mdl.nn.functional.cross_entropy(logits, y)
    assert loss.item() == pytest.approx(np.log(3), rel=1e-5)


@pytest.mark.parametrize("make, match", [
    (lambda: A.RandomRotation(-5), "degrees must be >= 0"),
    (lambda: A.RandomFlip(p=1.5), "p must be a probability"),
    (lambda: A.RandomErasing(p=-0.1), "p must be a probability"),
    (lambda: A.RandomApply(A.RandomFlip(), p=2), "p must be a probability"),
    (lambda: A.ColorJitter(brightness=-0.1), "brightness must be >= 0"),
    (lambda: A.GaussianNoise(-1.0), "std must be >= 0"),
    (lambda: A.MixUp(0.0, 10), "alpha must be > 0"),
    (lambda: A.CutMix(-1.0, 10), "alpha must be > 0"),
    (lambda: A.RandomZoom(1.5), "zoom factors must stay above 0"),
    (lambda: A.GaussianBlur(4), "positive odd int"),
    (lambda: A.RandomShift(0.1, fill_mode="mirror"), "fill_mode must be one of"),
    (lambda: A.RandomFlip(mode="diagonal"), "mode must be"),
])
def test_bad_arguments_name_themselves(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_crop_larger_than_padded_image_and_bad_input():
    with pytest.raises(ValueError, match=r"larger than the padded image \(14, 14\)"):
        A.RandomCrop(20, padding=2)(np.zeros((1, 1, 10, 10), dtype=np.float32))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        A.RandomFlip()(np.zeros((10, 10), dtype=np.float32))
    with pytest.raises(TypeError, match="labels"):
        A.MixUp(1.0, 3)(np.zeros((2, 1, 4, 4), dtype=np.float32))


def test_compose_fuses_geometric_ops_into_one_sampling(monkeypatch):
    from minidl.augment import compose

    calls = []
    real = compose.affine_sample
    monkeypatch.setattr(compose, "affine_sample", lambda *a, **k: calls.append(1) or real(*a, **k))
    x = batch(np, (4, 1, 8, 8))
    A.Compose([A.RandomRotation(10), A.RandomShift(0.1, 0.1), A.RandomZoom(0.1), A.ColorJitter(0.1)])(x)
    assert len(calls) == 1


def test_tta_averages_softmax_over_copies():
    class Model:
        training = True

        def eval(self):
            self.training = False

        def train(self, mode=True):
            self.training = mode

        def __call__(self, x):
            return mdl.tensor(np.stack([x.mean(axis=(1, 2, 3)), -x.mean(axis=(1, 2, 3))], axis=1))

    m = Model()
    x = batch(np, (3, 1, 4, 4))
    probs = A.tta_predict(m, x, A.RandomFlip(p=1.0), n=2)
    assert probs.shape == (3, 2) and np.allclose(probs.sum(axis=1), 1) and m.training
    z = x.mean(axis=(1, 2, 3))
    p = np.exp(z) / (np.exp(z) + np.exp(-z))
    assert np.allclose(probs[:, 0], p, atol=1e-6)  # flipping keeps the mean: both copies agree


def test_show_writes_a_png(tmp_path):
    path = A.show(A.RandomRotation(30, seed=0), batch(np, (4, 3, 8, 8)), tmp_path / "grid.png")
    from PIL import Image

    with Image.open(path) as im:
        assert im.size[0] > 4 * 8 and im.size[1] > 4 * 8
