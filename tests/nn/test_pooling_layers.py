"""Pooling, unpooling and upsampling layers: PyTorch's reprs, no parameters, output shapes, round trips."""
import numpy as np
import pytest

import minidl as mdl
from minidl import nn


def _x(shape, device, rng):
    return mdl.tensor(rng.permutation(int(np.prod(shape))).reshape(shape).astype(np.float32), device=device)


@pytest.mark.parametrize("layer, text", [
    (nn.MaxPool2d(2), "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"),
    (nn.MaxPool2d(3, 2, 1, dilation=2, return_indices=True, ceil_mode=True),
     "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)"),
    (nn.AvgPool2d(2), "AvgPool2d(kernel_size=2, stride=2, padding=0)"),
    (nn.AvgPool2d((3, 2), 1, (1, 0), ceil_mode=True, divisor_override=4),
     "AvgPool2d(kernel_size=(3, 2), stride=1, padding=(1, 0))"),
    (nn.MaxUnpool2d(2), "MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"),
    (nn.MaxUnpool2d(3, 2, 1), "MaxUnpool2d(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))"),
    (nn.Upsample(scale_factor=2), "Upsample(scale_factor=2.0, mode='nearest')"),
    (nn.Upsample(scale_factor=(2, 1.5)), "Upsample(scale_factor=(2.0, 1.5), mode='nearest')"),
    (nn.Upsample(size=3, mode="bilinear", align_corners=True), "Upsample(size=3, mode='bilinear')"),
], ids=lambda v: v if isinstance(v, str) else type(v).__name__)
def test_reprs_are_pytorchs_and_there_are_no_parameters(layer, text):
    assert repr(layer) == text
    assert list(layer.parameters()) == [] and len(layer.state_dict()) == 0


def test_max_pool_layer_options(device, rng):
    x = _x((2, 3, 7, 7), device, rng)
    assert nn.MaxPool2d(2)(x).shape == (2, 3, 3, 3)
    assert nn.MaxPool2d(2, ceil_mode=True)(x).shape == (2, 3, 4, 4)
    assert nn.MaxPool2d(3, 1, 1, dilation=2)(x).shape == (2, 3, 5, 5)
    y, i = nn.MaxPool2d(2, return_indices=True)(x)
    assert y.shape == i.shape == (2, 3, 3, 3) and i.dtype == np.int64


def test_avg_pool_layer_options(device, rng):
    x = mdl.tensor(np.ones((1, 2, 5, 5), dtype=np.float32), device=device)
    assert nn.AvgPool2d(2, ceil_mode=True)(x).shape == (1, 2, 3, 3)
    np.testing.assert_allclose(nn.AvgPool2d(2, ceil_mode=True)(x).numpy(), 1)  # only real pixels counted
    np.testing.assert_allclose(nn.AvgPool2d(2, divisor_override=2)(x).numpy(), 2)
    y = nn.AvgPool2d(3, 1, 1, count_include_pad=False)(x)
    np.testing.assert_allclose(y.numpy(), 1, rtol=1e-6)


def test_unpool_layer_undoes_the_pool_layer(device, rng):
    x = _x((2, 3, 7, 8), device, rng)
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    y, i = pool(x)
    u = unpool(y, i, output_size=x.shape)
    assert u.shape == x.shape
    np.testing.assert_array_equal(pool(u)[0].numpy(), y.numpy())  # the same maxima, from the same places
    kept = u.numpy() != 0
    assert kept.sum() == 2 * 3 * 3 * 4  # one pixel a window (x has distinct values, the maxima are not 0)
    np.testing.assert_array_equal(u.numpy()[kept], x.numpy()[kept])


def test_upsample_layer_shapes(device, rng):
    x = _x((1, 2, 3, 4), device, rng)
    assert nn.Upsample(scale_factor=2)(x).shape == (1, 2, 6, 8)
    assert nn.Upsample(size=(5, 7), mode="bilinear")(x).shape == (1, 2, 5, 7)
    assert nn.Upsample(scale_factor=(0.5, 1.5), mode="bilinear", align_corners=True)(x).shape == (1, 2, 1, 6)
    assert nn.Upsample(size=2)(x).dtype == np.float32


def test_a_small_encoder_decoder_trains_through_the_new_layers(device, rng):
    """Conv -> pool (indices) -> unpool -> upsample -> conv: every layer passes a gradient back."""
    conv = nn.Conv2d(1, 2, 3, padding=1).to(device)
    pool, unpool, up = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2), nn.Upsample(scale_factor=0.5,
                                                                                           mode="bilinear")
    x = mdl.tensor(rng.standard_normal((2, 1, 8, 8)).astype(np.float32), device=device)
    y, i = pool(conv(x))
    out = up(unpool(y, i))
    assert out.shape == (2, 2, 4, 4)
    out.sum().backward()
    assert conv.weight.grad is not None and np.abs(mdl.tensor(conv.weight.grad).numpy()).sum() > 0
