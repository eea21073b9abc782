"""nn.LayerNorm, nn.GroupNorm, nn.InstanceNorm2d, and BatchNorm2d's affine=False / track_running_stats=False."""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
from minidl import backend


def _x(rng, shape, device):
    return mdl.tensor(rng.standard_normal(shape), device=device)


def test_parameters_buffers_and_state_dict_names_as_pytorch():
    assert list(nn.LayerNorm((3, 4)).state_dict()) == ["weight", "bias"]
    assert nn.LayerNorm((3, 4)).weight.shape == (3, 4)
    assert list(nn.LayerNorm(4, elementwise_affine=False).state_dict()) == []
    assert list(nn.LayerNorm(4, bias=False).state_dict()) == ["weight"]
    assert list(nn.GroupNorm(2, 6).state_dict()) == ["weight", "bias"]
    assert nn.GroupNorm(2, 6).bias.shape == (6,)
    assert list(nn.GroupNorm(2, 6, affine=False).state_dict()) == []
    assert list(nn.InstanceNorm2d(3).state_dict()) == []  # PyTorch's defaults: nothing to learn or keep
    assert list(nn.InstanceNorm2d(3, affine=True, track_running_stats=True).state_dict()) == [
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    ln = nn.LayerNorm(4)
    assert ln.weight.dtype == np.float32 and np.all(ln.weight.numpy() == 1) and np.all(ln.bias.numpy() == 0)


def test_layers_compute_their_functional_op(device, rng):
    import minidl.nn.functional as F
    x = _x(rng, (2, 4, 3, 3), device).to(dtype="float32")
    np.testing.assert_allclose(nn.LayerNorm((3, 3)).to(device)(x).numpy(), F.layer_norm(x, (3, 3)).numpy())
    np.testing.assert_allclose(nn.GroupNorm(2, 4).to(device)(x).numpy(), F.group_norm(x, 2).numpy())
    np.testing.assert_allclose(nn.InstanceNorm2d(4).to(device)(x).numpy(), F.instance_norm(x).numpy())


def test_instance_norm_running_stats_train_then_eval(device, rng):
    m = nn.InstanceNorm2d(2, momentum=1.0, track_running_stats=True).to(device, dtype="float64")
    x = _x(rng, (3, 2, 4, 4), device)
    m(x)
    per_instance = x.numpy().reshape(3, 2, 16)
    np.testing.assert_allclose(backend.to_numpy(m.running_mean), per_instance.mean(axis=2).mean(axis=0))
    np.testing.assert_allclose(backend.to_numpy(m.running_var), per_instance.var(axis=2, ddof=1).mean(axis=0))
    assert int(m.num_batches_tracked) == 1
    m.eval()
    expect = (x.numpy() - backend.to_numpy(m.running_mean).reshape(1, 2, 1, 1)) / np.sqrt(
        backend.to_numpy(m.running_var).reshape(1, 2, 1, 1) + 1e-5)
    np.testing.assert_allclose(m(x).numpy(), expect, rtol=1e-10)


def test_parameters_get_gradients(device, rng):
    for layer, shape in ((nn.LayerNorm(3), (2, 3)), (nn.GroupNorm(1, 2), (2, 2, 3)),
                         (nn.InstanceNorm2d(2, affine=True), (2, 2, 2, 2))):
        layer.to(device, dtype="float64")
        (layer(_x(rng, shape, device)) * _x(rng, shape, device)).sum().backward()
        assert all(p.grad is not None and p.grad.shape == p.shape for p in layer.parameters())


@pytest.mark.parametrize("make, match", [
    (lambda: nn.GroupNorm(4, 6), r"GroupNorm: num_channels=6 must be divisible by num_groups=4"),
    (lambda: nn.GroupNorm(0, 6), r"GroupNorm: num_groups must be a positive integer, got 0"),
    (lambda: nn.LayerNorm(0), r"LayerNorm: normalized_shape must be a positive integer, got 0"),
    (lambda: nn.LayerNorm(3, eps=-1), r"LayerNorm: eps must be >= 0, got -1"),
    (lambda: nn.InstanceNorm2d(1.5), r"InstanceNorm2d: num_features must be a positive integer, got 1.5"),
    (lambda: nn.InstanceNorm2d(2, momentum=1.5), r"InstanceNorm2d: momentum must be a probability in \[0, 1\], got 1.5"),
])
def test_bad_arguments_are_named(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_input_shapes_are_named():
    with pytest.raises(ValueError, match=r"GroupNorm: expected input \(N, 4, \*\) \(num_channels\), got shape \(2, 3\)"):
        nn.GroupNorm(2, 4)(mdl.tensor(np.ones((2, 3), np.float32)))
    with pytest.raises(ValueError, match=r"InstanceNorm2d: expected input \(N, 3, H, W\) \(num_features\), "
                                         r"got shape \(2, 3, 4\)"):
        nn.InstanceNorm2d(3)(mdl.tensor(np.ones((2, 3, 4), np.float32)))
    with pytest.raises(TypeError, match=r"layer_norm: input dtype float64 does not match weight dtype float32"):
        nn.LayerNorm(4)(mdl.tensor(np.ones((2, 4))))


# ------------------------------------------------ BatchNorm2d's options against PyTorch's own layer
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("track_running_stats", [True, False])
def test_batch_norm_options_match_torch_in_train_and_eval(affine, track_running_stats, rng):
    torch = pytest.importorskip("torch")
    ours = nn.BatchNorm2d(3, affine=affine, track_running_stats=track_running_stats).to(dtype="float64")
    theirs = torch.nn.BatchNorm2d(3, affine=affine, track_running_stats=track_running_stats).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if affine:
        w, b = rng.standard_normal(3), rng.standard_normal(3)
        ours.load_state_dict({**ours.state_dict(), "weight": w, "bias": b})
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(w))
            theirs.bias.copy_(torch.tensor(b))
    for mode in ("train", "train", "eval"):
        ours.train(mode == "train")
        theirs.train(mode == "train")
        x = rng.standard_normal((4, 3, 3, 3)) * 2 + 1
        upstream = rng.standard_normal(x.shape)
        xo, xt = mdl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yo, yt = ours(xo), theirs(xt)
        np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=mode)
        yo.backward(upstream)
        yt.backward(torch.tensor(upstream))
        np.testing.assert_allclose(xo.grad, xt.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=mode)
        if affine:
            np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(ours.bias.grad, theirs.bias.grad.numpy(), rtol=1e-9, atol=1e-12)
            ours.zero_grad()
            theirs.zero_grad()
        for name, value in theirs.state_dict().items():
            np.testing.assert_allclose(backend.to_numpy(ours.state_dict()[name]), value.numpy(), rtol=1e-12)


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("track_running_stats", [True, False])
def test_group_layer_instance_layers_match_torch(affine, track_running_stats, rng):
    torch = pytest.importorskip("torch")
    pairs = [
        (nn.InstanceNorm2d(3, affine=affine, track_running_stats=track_running_stats),
         torch.nn.InstanceNorm2d(3, affine=affine, track_running_stats=track_running_stats)),
        (nn.GroupNorm(3, 6, affine=affine), torch.nn.GroupNorm(3, 6, affine=affine)),
        (nn.LayerNorm((6, 2, 2), elementwise_affine=affine), torch.nn.LayerNorm((6, 2, 2), elementwise_affine=affine)),
    ]
    for ours, theirs in pairs:
        ours.to(dtype="float64")
        theirs.double()
        assert list(ours.state_dict()) == list(theirs.state_dict())
        c = 3 if isinstance(ours, nn.InstanceNorm2d) else 6
        for mode in ("train", "eval"):
            ours.train(mode == "train")
            theirs.train(mode == "train")
            x = rng.standard_normal((2, c, 2, 2))
            yo, yt = ours(mdl.tensor(x)), theirs(torch.tensor(x))
            np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=f"{type(ours).__name__} {mode}")
