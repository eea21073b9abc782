"""Folding batch norms into convolutions: one pair (fuse_conv_bn) and whole models (fuse_model).

A fused model must compute what the original computes in eval mode, with no
batch norm left where a pair was folded, and leave the original untouched;
a pair that is not provably one computation (the conv's output also used
elsewhere, a layer called twice, a batch norm before its conv) stays unfused.
"""
from __future__ import annotations

import numpy as np
import pytest

import minidl as mdl
from minidl import models, nn

# name, builder options, the trace's input shape, the pairs to fold
ZOO = [
    ("resnet18", {}, (2, 3, 32, 32), 20),
    ("resnet34", {}, (2, 3, 32, 32), 36),
    ("resnet50", {}, (2, 3, 32, 32), 53),
    ("vgg11-bn", {"include_top": False}, (2, 3, 32, 32), 8),
    ("vgg16-bn", {"include_top": False}, (2, 3, 32, 32), 13),
    ("mobilenet-v2", {}, (2, 3, 32, 32), 52),
    ("efficientnet-lite0", {}, (2, 3, 32, 32), 49),
    ("resnet20-cifar", {}, (2, 3, 32, 32), 19),
    ("keras-mnist-convnet", {}, (2, 1, 28, 28), 0),  # the seed convnet has no batch norm: nothing to fold
]


def randomize_batch_norms(model: nn.Module, seed: int = 0) -> nn.Module:
    """Running statistics and affine weights away from 0 and 1, so that folding them is really tested."""
    rng = np.random.default_rng(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d) and m.track_running_stats:
            c = m.num_features
            m.running_mean[...] = rng.normal(0, 0.2, c)
            m.running_var[...] = rng.uniform(0.5, 2.0, c)
            m.weight.data[...] = rng.uniform(0.5, 1.5, c)
            m.bias.data[...] = rng.normal(0, 0.2, c)
    return model


def batch_norms(model: nn.Module) -> list:
    return [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]


def outputs(model: nn.Module, x: np.ndarray) -> np.ndarray:
    with mdl.no_grad():
        return model(x).numpy()


def as_tuple(out) -> tuple:
    return out if isinstance(out, tuple) else (out,)


def conv_bn_relu(c_in: int = 3, c_out: int = 4) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU())


# ------------------------------------------------------------------ one pair
def test_fuse_conv_bn_keeps_the_convs_class_and_padding_rule():
    conv = models.efficientnet_lite.SameConv2d(3, 4, 3, stride=2)  # TensorFlow's SAME padding, no bias
    bn = randomize_batch_norms(nn.Sequential(nn.BatchNorm2d(4)))[0].eval()
    fused = nn.fuse_conv_bn(conv, bn)
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 9)).astype(np.float32)
    assert type(fused) is models.efficientnet_lite.SameConv2d and fused.bias is not None
    np.testing.assert_allclose(outputs(fused, x), outputs(bn, conv(x)), rtol=1e-5, atol=1e-6)
    assert conv.bias is None  # the inputs are not changed


# ------------------------------------------------------------------ every architecture of the zoo
@pytest.mark.parametrize("name, options, shape, pairs", ZOO, ids=[z[0] for z in ZOO])
def test_every_zoo_model_fuses_to_the_same_function(name, options, shape, pairs):
    model = randomize_batch_norms(models.get_model(name, **options)).eval()
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    before = {k: v.copy() for k, v in model.state_dict().items()}
    fused = nn.fuse_model(model, x)
    expected = outputs(model, x)
    assert np.abs(outputs(fused, x) - expected).max() <= 1e-5 * np.abs(expected).max()
    assert len(nn.find_conv_bn_pairs(model, x)) == pairs == len(batch_norms(model))  # every batch norm folded
    assert batch_norms(fused) == []
    # The original is untouched: its weights, its batch norms, its layers.
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())
    assert len(batch_norms(model)) == pairs


@pytest.mark.parametrize("name", ["resnet18", "mobilenet-v2", "efficientnet-lite0"])
def test_fused_equals_unfused_to_1e_10_in_float64(name):
    model = randomize_batch_norms(models.get_model(name)).to(dtype=np.float64).eval()
    x = np.random.default_rng(2).standard_normal((2, 3, 32, 32))
    expected = outputs(model, x)
    got = outputs(nn.fuse_model(model, x), x)
    assert got.dtype == np.float64
    assert np.abs(got - expected).max() <= 1e-10 * np.abs(expected).max()


def test_resnet_downsample_pairs_are_found_by_name():
    model = models.get_model("resnet18")
    pairs = nn.find_conv_bn_pairs(model, np.zeros((1, 3, 32, 32), np.float32))
    assert ("conv1", "bn1") in pairs and ("layer1.0.conv2", "layer1.0.bn2") in pairs
    assert ("layer2.0.downsample.0", "layer2.0.downsample.1") in pairs


def test_a_plain_sequential_on_every_device(device):
    model = randomize_batch_norms(nn.Sequential(conv_bn_relu(), conv_bn_relu(4, 5))).to(device).eval()
    x = mdl.tensor(np.random.default_rng(3).standard_normal((2, 3, 6, 6)).astype(np.float32), device=device)
    fused = nn.fuse_model(model, x)
    assert nn.find_conv_bn_pairs(model, x) == [("0.0", "0.1"), ("1.0", "1.1")]
    assert [type(m).__name__ for m in fused[0]] == ["Conv2d", "Identity", "ReLU"]
    with mdl.no_grad():
        np.testing.assert_allclose(mdl.backend.to_numpy(fused(x).data), mdl.backend.to_numpy(model(x).data),
                                   rtol=1e-5, atol=1e-6)


def test_the_original_keeps_its_mode_and_the_copy_is_in_eval_mode():
    model = nn.Sequential(conv_bn_relu())
    x = np.random.default_rng(4).standard_normal((2, 3, 5, 5)).astype(np.float32)
    fused = nn.fuse_model(model, x)
    assert model.training and model[0][1].training and not fused.training
    assert float(model[0][1].num_batches_tracked) == 0  # the trace ran in eval mode: no statistics updated


# ------------------------------------------------------------------ what must not be folded
class ConvThenBN(nn.Module):
    """A conv and a batch norm of 3 channels, called in some hand-written way by each subclass's forward."""

    def __init__(self):
        super().__init__()
        self.conv, self.bn = nn.Conv2d(3, 3, 3, padding=1), nn.BatchNorm2d(3)


class Tapped(ConvThenBN):
    """bn(conv(x)) + conv(x): the conv's output also feeds the sum, so bn cannot be folded into conv."""

    def forward(self, x):
        z = self.conv(x)
        return self.bn(z) + z


class CalledTwice(ConvThenBN):
    """One conv used twice, with a batch norm after its second call only."""

    def forward(self, x):
        return self.bn(self.conv(self.conv(x)))


class ReturnsBoth(ConvThenBN):
    """Returns the conv's output beside the batch norm's: folding would change the first."""

    def forward(self, x):
        z = self.conv(x)
        return self.bn(z), z


@pytest.mark.parametrize("model", [
    Tapped(),
    CalledTwice(),
    ReturnsBoth(),
    nn.Sequential(nn.BatchNorm2d(3), nn.Conv2d(3, 4, 3)),       # the batch norm comes before the conv
    nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.BatchNorm2d(4)),  # something between them
    nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4, track_running_stats=False)),  # no running statistics
    nn.Sequential(nn.Flatten(), nn.Linear(75, 4), nn.BatchNorm1d(4)),  # not a conv
], ids=["tapped", "called-twice", "returns-both", "bn-first", "relu-between", "no-running-stats", "linear-bn1d"])
def test_what_cannot_be_proved_safe_is_left_unfused(model):
    model = randomize_batch_norms(model).eval()
    x = np.random.default_rng(5).standard_normal((2, 3, 5, 5)).astype(np.float32)
    assert nn.find_conv_bn_pairs(model, x) == []
    fused = nn.fuse_model(model, x)
    with mdl.no_grad():
        expected, got = model(x), fused(x)
    for a, b in zip(as_tuple(expected), as_tuple(got)):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-6)
    kinds = lambda m: [type(k).__name__ for k in m.modules()]  # noqa: E731
    assert kinds(fused) == kinds(model)


def test_tapped_conv_inside_a_bigger_model_leaves_the_other_pairs_folded():
    model = randomize_batch_norms(nn.Sequential(conv_bn_relu(3, 3), Tapped())).eval()
    x = np.random.default_rng(6).standard_normal((2, 3, 5, 5)).astype(np.float32)
    fused = nn.fuse_model(model, x)
    assert nn.find_conv_bn_pairs(model, x) == [("0.0", "0.1")]
    assert isinstance(fused[1].bn, nn.BatchNorm2d)  # the tapped pair is still there
    np.testing.assert_allclose(outputs(fused, x), outputs(model, x), rtol=1e-5, atol=1e-6)


class BiasIgnoringConv(nn.Conv2d):
    """A Conv2d subclass that forgets its bias: folding would silently drop the batch norm's shift."""

    def forward(self, x):
        return mdl.nn.functional.conv2d(x, self.weight, None, self.stride, self.padding)


def test_a_fused_model_that_computes_something_else_is_refused():
    model = randomize_batch_norms(nn.Sequential(BiasIgnoringConv(3, 4, 3, bias=False), nn.BatchNorm2d(4))).eval()
    x = np.random.default_rng(7).standard_normal((2, 3, 5, 5)).astype(np.float32)
    with pytest.raises(RuntimeError, match=r"differs from the original.*\('0', '1'\)"):
        nn.fuse_model(model, x)
