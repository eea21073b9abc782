"""layer_norm, group_norm, instance_norm: hand values, gradcheck on every option, errors."""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F
from minidl import backend


def _t(a, device, grad=True):
    return mdl.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad, device=device)


def test_layer_norm_by_hand(device):
    # row [1, 3]: mean 2, biased var 1 -> [-1, 1]; row [0, 4]: mean 2, var 4 -> [-1, 1]
    x = _t([[1.0, 3.0], [0.0, 4.0]], device, grad=False)
    np.testing.assert_allclose(F.layer_norm(x, 2, eps=0.0).numpy(), [[-1.0, 1.0], [-1.0, 1.0]])
    w, b = _t([2.0, 3.0], device), _t([0.5, -0.5], device)
    np.testing.assert_allclose(F.layer_norm(x, (2,), w, b, eps=0.0).numpy(), [[-1.5, 2.5], [-1.5, 2.5]])


def test_group_norm_by_hand(device):
    # one sample, 4 channels of 1 value, 2 groups: [1, 3 | 10, 14] -> [-1, 1 | -1, 1]
    x = _t(np.array([1.0, 3.0, 10.0, 14.0]).reshape(1, 4, 1), device, grad=False)
    np.testing.assert_allclose(F.group_norm(x, 2, eps=0.0).numpy().ravel(), [-1, 1, -1, 1])
    # one group: mean 7, var (36 + 16 + 9 + 49) / 4 = 27.5
    np.testing.assert_allclose(F.group_norm(x, 1, eps=0.0).numpy().ravel(),
                               (np.array([1, 3, 10, 14]) - 7) / np.sqrt(27.5))


def test_instance_norm_by_hand_and_running_stats(device):
    xp = backend.namespace(device)
    # (N=2, C=1, L=2): [1, 3] and [0, 4] -> each [-1, 1]; means 2, 2; biased vars 1, 4
    x = _t(np.array([[[1.0, 3.0]], [[0.0, 4.0]]]), device, grad=False)
    rm, rv = xp.zeros(1), xp.ones(1)
    y = F.instance_norm(x, rm, rv, momentum=0.5, eps=0.0)
    np.testing.assert_allclose(y.numpy().ravel(), [-1, 1, -1, 1])
    np.testing.assert_allclose(backend.to_numpy(rm), [1.0])  # .5 * 0 + .5 * mean(2, 2)
    np.testing.assert_allclose(backend.to_numpy(rv), [0.5 + 0.5 * 2.5 * 2])  # unbiased: mean(1, 4) * 2 / 1
    # use_input_stats=False: the running statistics normalise, (x - 1) / sqrt(3)
    y = F.instance_norm(x, rm, rv, use_input_stats=False, eps=0.0)
    np.testing.assert_allclose(y.numpy().ravel(), (np.array([1, 3, 0, 4]) - 1) / np.sqrt(3.0))


def test_group_norm_with_c_groups_is_instance_norm_and_one_group_is_layer_norm(device, rng):
    x = _t(rng.standard_normal((2, 3, 4, 5)), device, grad=False)
    np.testing.assert_allclose(F.group_norm(x, 3).numpy(), F.instance_norm(x).numpy(), atol=1e-12)
    np.testing.assert_allclose(F.group_norm(x, 1).numpy(), F.layer_norm(x, (3, 4, 5)).numpy(), atol=1e-12)


def test_a_sample_does_not_depend_on_its_batch(device, rng):
    x = rng.standard_normal((4, 4, 3, 3))
    for fn in (lambda t: F.layer_norm(t, (4, 3, 3)), lambda t: F.group_norm(t, 2), F.instance_norm):
        alone, batch = fn(_t(x[:1], device, False)).numpy(), fn(_t(x, device, False)).numpy()
        np.testing.assert_allclose(batch[:1], alone, atol=1e-12)


@pytest.mark.parametrize("shape, normalized_shape", [((3, 4), 4), ((2, 3, 4), (3, 4)), ((2, 3, 2, 2), (2,))])
@pytest.mark.parametrize("affine", ["none", "weight", "both"])
def test_layer_norm_gradcheck(shape, normalized_shape, affine, device, rng):
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
    x = _t(rng.standard_normal(shape), device)
    w = _t(rng.standard_normal(ns), device) if affine != "none" else None
    b = _t(rng.standard_normal(ns), device) if affine == "both" else None
    params = [p for p in (w, b) if p is not None]
    fn = lambda x, *p: F.layer_norm(x, normalized_shape, *p, eps=1e-3)  # noqa: E731
    assert mdl.gradcheck(fn, (x, *params))


@pytest.mark.parametrize("shape, groups", [((2, 4), 2), ((2, 6, 3), 3), ((2, 4, 2, 3), 1), ((2, 4, 2, 2), 4)])
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_gradcheck(shape, groups, affine, device, rng):
    c = shape[1]
    x = _t(rng.standard_normal(shape), device)
    params = (_t(rng.standard_normal(c), device), _t(rng.standard_normal(c), device)) if affine else ()
    assert mdl.gradcheck(lambda x, *p: F.group_norm(x, groups, *p), (x, *params))


@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 3, 3, 2)])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("use_input_stats", [True, False])
def test_instance_norm_gradcheck(shape, affine, use_input_stats, device, rng):
    xp = backend.namespace(device)
    c = shape[1]
    x = _t(rng.standard_normal(shape), device)
    params = (_t(rng.standard_normal(c), device), _t(rng.standard_normal(c), device)) if affine else ()
    rm, rv = xp.asarray(rng.standard_normal(c)), xp.asarray(rng.random(c) + 0.5)

    def fn(x, *p):
        w, b = p if p else (None, None)
        return F.instance_norm(x, rm.copy(), rv.copy(), w, b, use_input_stats=use_input_stats)

    assert mdl.gradcheck(fn, (x, *params))


def test_integer_input_promotes_to_the_default_float():
    y = F.layer_norm(mdl.tensor([[1, 2, 3]]), 3)
    assert y.dtype == np.float32


@pytest.mark.parametrize("call, error, match", [
    (lambda x: F.layer_norm(x, (3, 4)), ValueError, r"layer_norm: normalized_shape \(3, 4\) must match the last 2 "
                                                     r"dimension\(s\) of the input, got input of shape \(2, 3, 5\)"),
    (lambda x: F.layer_norm(x, 0), ValueError, r"layer_norm: normalized_shape must be a positive integer, got 0"),
    (lambda x: F.layer_norm(x, ()), ValueError, r"normalized_shape must name at least one axis"),
    (lambda x: F.layer_norm(x, 5, mdl.tensor(np.ones(4))), ValueError,
     r"layer_norm: weight must have shape \(5,\) \(normalized_shape\), got \(4,\)"),
    (lambda x: F.layer_norm(x, 5, eps=-1.0), ValueError, r"layer_norm: eps must be >= 0, got -1.0"),
    (lambda x: F.layer_norm(x, 5, mdl.tensor(np.ones(5, np.float32))), TypeError,
     r"layer_norm: input dtype float64 does not match weight dtype float32"),
    (lambda x: F.group_norm(x, 2), ValueError, r"group_norm: the 3 channels of the input must divide into "
                                               r"num_groups=2 groups"),
    (lambda x: F.group_norm(x, 0), ValueError, r"group_norm: num_groups must be a positive integer, got 0"),
    (lambda x: F.group_norm(x[0, 0], 1), ValueError, r"group_norm: input must be \(N, C, \*\), got shape \(5,\)"),
    (lambda x: F.group_norm(x, 3, None, mdl.tensor(np.ones(2))), ValueError,
     r"group_norm: bias must have shape \(3,\) \(one value per channel, 3\), got \(2,\)"),
    (lambda x: F.instance_norm(x[0]), ValueError, r"instance_norm: input must be \(N, C, \*\) with at least one "
                                                  r"spatial axis, got shape \(3, 5\)"),
    (lambda x: F.instance_norm(x[:, :, :1]), ValueError, r"more than 1 spatial element per channel"),
    (lambda x: F.instance_norm(x, np.zeros(3)), ValueError, r"give both running_mean and running_var"),
    (lambda x: F.instance_norm(x, use_input_stats=False), ValueError,
     r"use_input_stats=False needs running_mean and running_var"),
    (lambda x: F.instance_norm(x, np.zeros(3), np.ones(3), momentum=2.0), ValueError,
     r"instance_norm: momentum must be a probability in \[0, 1\], got 2.0"),
])
def test_bad_input_is_named(call, error, match):
    x = mdl.tensor(np.ones((2, 3, 5)))
    with pytest.raises(error, match=match):
        call(x)


def test_an_empty_batch_gives_an_empty_output(device):
    x = mdl.tensor(np.ones((0, 4, 2, 2)), device=device)
    assert F.layer_norm(x, (4, 2, 2)).shape == (0, 4, 2, 2)
    assert F.group_norm(x, 2).shape == (0, 4, 2, 2)
    assert F.instance_norm(x).shape == (0, 4, 2, 2)
