"""Conv2d, pooling, batch norm and dropout layers; fuse_conv_bn; known anchor bugs."""
import math

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
import minidl.nn.functional as F
from minidl import backend


def test_conv2d_layer_shapes_and_init(device):
    conv = nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2, device=device)
    assert conv.weight.shape == (6, 2, 3, 2) and conv.bias.shape == (6,)
    bound = 1 / math.sqrt(2 * 3 * 2)  # fan_in = in/groups * kh * kw
    assert np.abs(conv.weight.numpy()).max() <= bound and np.abs(conv.bias.numpy()).max() <= bound
    y = conv(mdl.tensor(np.ones((2, 4, 5, 5), dtype=np.float32), device=device))
    assert y.shape == (2, 6, 3, 3) and y.dtype == np.float32
    assert nn.Conv2d(3, 8, 3, padding="same", bias=False)(mdl.tensor(np.ones((1, 3, 7, 7), dtype=np.float32))).shape == (1, 8, 7, 7)
    assert nn.Conv2d(3, 8, 3, bias=False).bias is None
    assert [n for n, _ in conv.named_parameters()] == ["weight", "bias"]


def test_conv2d_layer_errors():
    with pytest.raises(ValueError, match=r"in_channels \(3\) must be divisible by groups \(2\)"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match=r"stride must be >= 1"):
        nn.Conv2d(3, 4, 3, stride=0)
    with pytest.raises(ValueError, match=r"padding must be >= 0"):
        nn.Conv2d(3, 4, 3, padding=-1)
    conv = nn.Conv2d(3, 4, 3)
    with pytest.raises(ValueError, match=r"expects 3 input channels.*\(1, 2, 5, 5\) \(2 channels\)"):
        conv(mdl.tensor(np.ones((1, 2, 5, 5), dtype=np.float32)))
    with pytest.raises(ValueError, match=r"4-D \(N, C, H, W\), got shape \(3, 5, 5\)"):
        conv(mdl.tensor(np.ones((3, 5, 5), dtype=np.float32)))


def test_linear_after_flatten_names_both_numbers():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(100, 10))
    with pytest.raises(ValueError, match=r"expects 100 input features.*\(1, 50\) \(50 features\)"):
        model(mdl.tensor(np.ones((1, 1, 7, 7), dtype=np.float32)))


def test_pool_layers(device):
    x = mdl.tensor(np.arange(32.0, dtype=np.float32).reshape(1, 2, 4, 4), device=device)
    assert nn.MaxPool2d(2)(x).shape == (1, 2, 2, 2)
    np.testing.assert_array_equal(nn.MaxPool2d(2)(x).numpy()[0, 0], [[5, 7], [13, 15]])
    assert nn.AvgPool2d((2, 1), stride=(2, 1))(x).shape == (1, 2, 2, 4)  # non-square
    np.testing.assert_allclose(nn.AdaptiveAvgPool2d(1)(x).numpy().ravel(), [7.5, 23.5])


def test_batchnorm_layers_train_eval_and_buffers(device, rng):
    bn = nn.BatchNorm2d(3, momentum=0.1, device=device)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert set(bn.state_dict()) == {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}
    x = rng.standard_normal((4, 3, 2, 2)).astype(np.float32) + 5
    bn(mdl.tensor(x, device=device))
    np.testing.assert_allclose(backend.to_numpy(bn.running_mean), 0.1 * x.mean(axis=(0, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(backend.to_numpy(bn.running_var), 0.9 + 0.1 * x.var(axis=(0, 2, 3), ddof=1), rtol=1e-5)
    assert int(backend.to_numpy(bn.num_batches_tracked)) == 1
    bn.eval()
    one = bn(mdl.tensor(x[:1], device=device)).numpy()
    np.testing.assert_allclose(bn(mdl.tensor(x, device=device)).numpy()[:1], one, rtol=1e-6)
    bn1 = nn.BatchNorm1d(5, affine=False, track_running_stats=False)
    assert list(bn1.parameters()) == [] and bn1.running_mean is None
    assert bn1(mdl.tensor(rng.standard_normal((3, 5)))).shape == (3, 5)
    with pytest.raises(ValueError, match=r"more than 1 value per channel"):
        nn.BatchNorm1d(5)(mdl.tensor(np.ones((1, 5), dtype=np.float32)))
    with pytest.raises(ValueError, match=r"expected 3 channels.*\(2 channels\)"):
        nn.BatchNorm2d(3)(mdl.tensor(np.ones((2, 2, 2, 2), dtype=np.float32)))
    with pytest.raises(ValueError, match=r"expected input 4-D"):
        nn.BatchNorm2d(3)(mdl.tensor(np.ones((2, 3), dtype=np.float32)))


def test_batchnorm_momentum_none_is_a_cumulative_average(rng):
    bn = nn.BatchNorm1d(2, momentum=None)
    a, b = rng.standard_normal((4, 2)), rng.standard_normal((4, 2)) + 3
    bn(mdl.tensor(a, dtype=np.float32)), bn(mdl.tensor(b, dtype=np.float32))
    np.testing.assert_allclose(bn.running_mean, (a.mean(0) + b.mean(0)) / 2, rtol=1e-5)


def test_dropout_layers(device):
    x = mdl.tensor(np.ones((4, 6, 2, 2), dtype=np.float32), device=device)
    d = nn.Dropout(0.5, seed=3)
    y = d(x).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0}
    d.eval()
    assert d(x) is x
    y2 = nn.Dropout2d(0.5, seed=1)(x).numpy().reshape(4, 6, 4)
    assert np.all(y2.min(axis=2) == y2.max(axis=2))
    with pytest.raises(ValueError, match=r"Dropout: p must be a probability in \[0, 1\], got 1.2"):
        nn.Dropout(1.2)


@pytest.mark.parametrize("affine,bias,groups", [(True, True, 1), (False, False, 1), (True, False, 2)])
def test_fuse_conv_bn_equals_conv_then_bn_in_eval(affine, bias, groups, rng):
    conv = nn.Conv2d(4, 6, 3, padding=1, groups=groups, bias=bias, dtype=np.float64)
    bn = nn.BatchNorm2d(6, affine=affine, dtype=np.float64)
    for _ in range(3):  # give the running statistics something to hold
        bn(conv(mdl.tensor(rng.standard_normal((5, 4, 6, 6)) * 2 + 1)))
    if affine:
        bn.weight.data[...] = rng.standard_normal(6)
        bn.bias.data[...] = rng.standard_normal(6)
    bn.eval()
    fused = nn.fuse_conv_bn(conv, bn)
    x = mdl.tensor(rng.standard_normal((2, 4, 6, 6)))
    np.testing.assert_allclose(fused(x).numpy(), bn(conv(x)).numpy(), rtol=1e-10, atol=1e-12)
    assert isinstance(fused, nn.Conv2d) and fused.bias is not None
    with pytest.raises(ValueError, match=r"6 features but the convolution 4 output channels"):
        nn.fuse_conv_bn(nn.Conv2d(2, 4, 1), bn)


def test_frozen_conv_parameter_does_not_crash_the_optimizer(rng):
    """A known anchor bug: a frozen parameter (no .grad) in the optimizer."""
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2))
    model[0].weight.requires_grad_(False)
    opt = mdl.optim.Adam(model.parameters(), lr=0.1)
    before = model[0].weight.numpy().copy()
    loss = F.cross_entropy(model(mdl.tensor(rng.standard_normal((3, 1, 4, 4)).astype(np.float32))), np.array([0, 1, 1]))
    loss.backward()
    opt.step()
    assert model[0].weight.grad is None
    np.testing.assert_array_equal(model[0].weight.numpy(), before)


def test_layers_move_between_devices(rng):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.MaxPool2d(2), nn.Dropout2d(0.1))
    model.to("strict")
    y = model(mdl.tensor(rng.standard_normal((2, 1, 6, 6)).astype(np.float32), device="strict"))
    assert backend.device_of(y.data) == "strict" and backend.device_of(model[1].running_mean) == "strict"
