"""Conv1d, ConvTranspose2d, and Conv2d with a (left, right, top, bottom) padding; the same numbers as torch."""
import math

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
from minidl import backend


def _x(shape, device, rng, dtype=np.float32):
    return mdl.tensor(rng.standard_normal(shape).astype(dtype), device=device)


def _assert_pytorch_init(layer, fan_in):
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias: kaiming_uniform_(a=sqrt(5)) and PyTorch's bias."""
    bound = 1 / math.sqrt(fan_in)
    for p in (layer.weight, layer.bias):
        values = np.abs(backend.to_numpy(p.data))
        assert values.max() <= bound and values.max() > 0.5 * bound


# ------------------------------------------------------------------ Conv1d
def test_conv1d_layer_shapes_init_and_names(device, rng):
    conv = nn.Conv1d(4, 6, 5, stride=2, padding=2, groups=2, device=device)
    assert conv.weight.shape == (6, 2, 5) and conv.bias.shape == (6,)
    assert conv.kernel_size == (5,) and conv.stride == (2,) and conv.padding == (2,) and conv.dilation == (1,)
    assert list(conv.state_dict()) == ["weight", "bias"]
    _assert_pytorch_init(conv, fan_in=2 * 5)
    y = conv(_x((3, 4, 11), device, rng))
    assert y.shape == (3, 6, 6) and y.dtype == np.float32
    assert nn.Conv1d(3, 8, 4, padding="same", bias=False, device=device)(_x((1, 3, 9), device, rng)).shape == (1, 8, 9)
    assert nn.Conv1d(3, 8, 3, bias=False).bias is None
    assert repr(nn.Conv1d(2, 4, 3, padding=(1, 2), dilation=2)) == (
        "Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding=(1, 2), dilation=(2,))")


def test_conv1d_layer_trains(rng):
    conv = nn.Conv1d(2, 3, 3, padding=1, dtype=np.float64)
    x = mdl.tensor(rng.standard_normal((4, 2, 7)))
    (conv(x) ** 2).sum().backward()
    assert conv.weight.grad.shape == (3, 2, 3) and conv.bias.grad.shape == (3,)
    assert mdl.gradcheck(lambda u: conv(u), (mdl.tensor(rng.standard_normal((2, 2, 5)), requires_grad=True),))


def test_conv1d_layer_errors(rng):
    with pytest.raises(ValueError, match=r"Conv1d: in_channels \(3\) must be divisible by groups \(2\)"):
        nn.Conv1d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match=r"Conv1d: out_channels \(3\) must be divisible by groups \(2\)"):
        nn.Conv1d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match=r"Conv1d: padding='same' needs stride 1, got stride 2"):
        nn.Conv1d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"Conv1d: kernel_size must be a positive integer, got 0"):
        nn.Conv1d(3, 4, 0)
    with pytest.raises(ValueError, match=r"only padding_mode='zeros'"):
        nn.Conv1d(3, 4, 3, padding_mode="reflect")
    conv = nn.Conv1d(3, 4, 3)
    with pytest.raises(ValueError, match=r"Conv1d expects 3 input channels.*\(1, 2, 8\) \(2 channels\)"):
        conv(_x((1, 2, 8), "cpu", rng))
    with pytest.raises(ValueError, match=r"Conv1d: input must be 3-D \(N, C, L\), got shape \(1, 3, 8, 8\)"):
        conv(_x((1, 3, 8, 8), "cpu", rng))


# ------------------------------------------------------------------ Conv2d with a 4-tuple
def test_conv2d_layer_with_a_4_tuple_padding(device, rng):
    conv = nn.Conv2d(3, 4, 3, padding=(0, 1, 2, 0), device=device)
    assert conv.padding == (0, 1, 2, 0)
    assert repr(conv) == "Conv2d(3, 4, kernel_size=(3, 3), stride=(1, 1), padding=(0, 1, 2, 0))"
    assert conv(_x((2, 3, 6, 6), device, rng)).shape == (2, 4, 6, 5)
    assert "padding" not in repr(nn.Conv2d(3, 4, 3, padding=(0, 0, 0, 0)))
    with pytest.raises(TypeError, match=r"Conv2d: padding must be an int, a pair \(h, w\), a 4-tuple"):
        nn.Conv2d(3, 4, 3, padding=(1, 2, 3))
    with pytest.raises(ValueError, match=r"Conv2d: padding must be >= 0, got \(0, 0, -1, 0\)"):
        nn.Conv2d(3, 4, 3, padding=(0, 0, -1, 0))


def test_fuse_and_summary_take_the_4_tuple(rng):
    conv = nn.Conv2d(2, 3, 3, padding=(1, 0, 0, 2), dtype=np.float64)
    bn = nn.BatchNorm2d(3, dtype=np.float64)
    bn(conv(mdl.tensor(rng.standard_normal((4, 2, 5, 5)))))
    bn.eval()
    fused = nn.fuse_conv_bn(conv, bn)
    assert fused.padding == (1, 0, 0, 2)
    x = mdl.tensor(rng.standard_normal((2, 2, 5, 5)))
    np.testing.assert_allclose(fused(x).numpy(), bn(conv(x)).numpy(), rtol=1e-10, atol=1e-12)
    model = nn.Sequential(conv, nn.ConvTranspose2d(3, 2, 3, stride=2, output_padding=1, dtype=np.float64))
    table = nn.summary(model, (2, 5, 5), print_fn=None)
    assert "(None, 3, 5, 4)" in table and "(None, 2, 12, 10)" in table
    assert "Total params: 113 " in table  # Conv2d 2*3*9 + 3, ConvTranspose2d weight (3, 2, 3, 3) + bias (2,)


# ------------------------------------------------------------------ ConvTranspose2d
def test_conv_transpose2d_layer_shapes_init_and_names(device, rng):
    up = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, device=device)
    assert up.weight.shape == (4, 3, 3, 3) and up.bias.shape == (6,)  # (in, out/groups, kh, kw), as PyTorch
    assert up.output_padding == (1, 1) and up.kernel_size == (3, 3)
    assert list(up.state_dict()) == ["weight", "bias"]
    _assert_pytorch_init(up, fan_in=3 * 9)  # PyTorch's fan_in is weight.shape[1] * kh * kw
    y = up(_x((2, 4, 5, 5), device, rng))
    assert y.shape == (2, 6, 10, 10) and y.dtype == np.float32
    assert repr(up) == ("ConvTranspose2d(4, 6, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), "
                        "output_padding=(1, 1), groups=2)")
    assert nn.ConvTranspose2d(2, 2, 2, bias=False).bias is None


@pytest.mark.parametrize("size", [7, 8, 15, 16])
def test_a_stride_2_conv_and_a_stride_2_transposed_conv_give_the_shape_back(size, device, rng):
    """The up-sampling block of an auto-encoder or a U-Net."""
    down = nn.Conv2d(3, 8, 3, stride=2, padding=1, device=device)
    up = nn.ConvTranspose2d(8, 3, 3, stride=2, padding=1, output_padding=1, device=device)
    x = _x((2, 3, size, size), device, rng)
    h = down(x)
    assert h.shape == (2, 8, (size + 1) // 2, (size + 1) // 2)
    if size % 2 == 0:  # even sizes: output_padding=1 restores them
        assert up(h).shape == x.shape
    assert up(h, output_size=x.shape).shape == x.shape  # any size: ask for it
    assert up(h, output_size=(size, size)).shape == x.shape
    loss = ((up(h, output_size=x.shape) - x) ** 2).mean()
    loss.backward()
    assert down.weight.grad.shape == down.weight.shape and up.weight.grad.shape == up.weight.shape


def test_conv_transpose2d_layer_errors(rng):
    with pytest.raises(ValueError, match=r"ConvTranspose2d: out_channels \(3\) must be divisible by groups \(2\)"):
        nn.ConvTranspose2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match=r"ConvTranspose2d: output_padding must be smaller than the stride or the "
                                         r"dilation.*got output_padding \(1, 1\), stride \(1, 1\)"):
        nn.ConvTranspose2d(4, 4, 3, output_padding=1)
    with pytest.raises(ValueError, match=r"ConvTranspose2d: padding must be.*got 'same'"):
        nn.ConvTranspose2d(4, 4, 3, padding="same")
    up = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    with pytest.raises(ValueError, match=r"ConvTranspose2d expects 4 input channels.*\(2 channels\)"):
        up(_x((1, 2, 4, 4), "cpu", rng))
    with pytest.raises(ValueError, match=r"ConvTranspose2d: input must be 4-D"):
        up(_x((4, 4, 4), "cpu", rng))
    with pytest.raises(ValueError, match=r"requested an output size of \(9, 9\), but for an input of \(4, 4\) the "
                                         r"sizes range from \(7, 7\) to \(8, 8\)"):
        up(_x((1, 4, 4, 4), "cpu", rng), output_size=(9, 9))


def test_new_layers_move_between_devices(rng):
    model = nn.Sequential(nn.ConvTranspose2d(2, 3, 2, stride=2), nn.Conv2d(3, 2, 3, padding=(1, 1, 0, 2)))
    model.to("strict")
    y = model(mdl.tensor(rng.standard_normal((2, 2, 3, 3)).astype(np.float32), device="strict"))
    assert backend.device_of(y.data) == "strict" and y.shape == (2, 2, 6, 6)
    conv1 = nn.Conv1d(2, 2, 3).to("strict")
    assert backend.device_of(conv1(mdl.tensor(np.ones((1, 2, 5), dtype=np.float32), device="strict")).data) == "strict"


# ------------------------------------------------------------------ the same numbers as torch's layers
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # torch's note on its own speed
@pytest.mark.parametrize("make", [
    lambda nn_: nn_.Conv1d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2),
    lambda nn_: nn_.Conv1d(3, 2, 4, padding="same", bias=False),
    lambda nn_: nn_.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
    lambda nn_: nn_.ConvTranspose2d(3, 2, (2, 3), stride=(2, 1), dilation=(1, 2), bias=False),
], ids=["conv1d", "conv1d-same", "convtranspose2d", "convtranspose2d-dilated"])
def test_layers_hold_torch_layers_weights_and_compute_the_same(make, rng):
    torch = pytest.importorskip("torch")
    theirs = make(torch.nn).double()
    ours = make(nn).to(dtype=np.float64)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    shape = (2, theirs.in_channels, 9) if isinstance(theirs, torch.nn.Conv1d) else (2, theirs.in_channels, 5, 4)
    x = rng.standard_normal(shape)
    np.testing.assert_allclose(ours(mdl.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-12, atol=1e-12)


def test_conv_transpose2d_output_size_as_torch(rng):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.ConvTranspose2d(2, 3, 3, stride=3, padding=1).double()
    ours = nn.ConvTranspose2d(2, 3, 3, stride=3, padding=1, dtype=np.float64)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((1, 2, 4, 4))
    for size in ((10, 10), (11, 12), (12, 11)):
        expected = theirs(torch.tensor(x), output_size=size).detach().numpy()
        np.testing.assert_allclose(ours(mdl.tensor(x), output_size=size).numpy(), expected, rtol=1e-12, atol=1e-12)


def test_conv2d_4_tuple_is_torch_zero_pad_then_conv(rng):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Conv2d(3, 4, 3).double()
    ours = nn.Conv2d(3, 4, 3, padding=(2, 0, 1, 1), dtype=np.float64)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((2, 3, 5, 6))
    expected = theirs(torch.nn.ZeroPad2d((2, 0, 1, 1))(torch.tensor(x))).detach().numpy()
    np.testing.assert_allclose(ours(mdl.tensor(x)).numpy(), expected, rtol=1e-12, atol=1e-12)
