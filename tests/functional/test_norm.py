"""batch_norm: hand values, running statistics, train/eval gradcheck, errors."""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F
from minidl import backend


def _t(a, device, grad=True):
    return mdl.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad, device=device)


def test_batch_norm_by_hand_and_running_stats(device):
    xp = backend.namespace(device)
    x = _t([[1.0, 10.0], [3.0, 10.0], [5.0, 16.0]], device, grad=False)  # (N=3, C=2)
    rm, rv = xp.zeros(2), xp.ones(2)
    y = F.batch_norm(x, rm, rv, training=True, momentum=0.5, eps=0.0)
    # channel 0: mean 3, biased var 8/3; channel 1: mean 12, biased var 8
    np.testing.assert_allclose(y.numpy()[:, 0], np.array([-2.0, 0.0, 2.0]) / np.sqrt(8 / 3))
    np.testing.assert_allclose(y.numpy()[:, 1], np.array([-2.0, -2.0, 4.0]) / np.sqrt(8))
    np.testing.assert_allclose(backend.to_numpy(rm), [1.5, 6.0])  # 0.5 * 0 + 0.5 * mean
    np.testing.assert_allclose(backend.to_numpy(rv), [0.5 + 0.5 * 4.0, 0.5 + 0.5 * 12.0])  # unbiased: 8/2, 24/2


def test_batch_norm_4d_statistics_over_n_h_w(device, rng):
    x = _t(rng.standard_normal((4, 3, 2, 5)) * 3 + 2, device, grad=False)
    y = F.batch_norm(x, None, None, training=True).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, atol=1e-4)


def test_eval_uses_running_stats_and_ignores_the_batch(device, rng):
    xp = backend.namespace(device)
    rm, rv = xp.asarray(np.array([1.0, -1.0])), xp.asarray(np.array([4.0, 0.25]))
    w, b = _t([2.0, 1.0], device), _t([0.0, 3.0], device)
    x = rng.standard_normal((5, 2, 3, 3))
    alone = F.batch_norm(_t(x[:1], device), rm, rv, w, b, training=False, eps=0.0).numpy()
    batch = F.batch_norm(_t(x, device), rm, rv, w, b, training=False, eps=0.0).numpy()
    np.testing.assert_allclose(batch[:1], alone)
    expect = (x[:1] - np.array([1, -1]).reshape(1, 2, 1, 1)) / np.array([2.0, 0.5]).reshape(1, 2, 1, 1)
    np.testing.assert_allclose(alone, expect * np.array([2, 1]).reshape(1, 2, 1, 1) + np.array([0, 3]).reshape(1, 2, 1, 1))
    np.testing.assert_allclose(backend.to_numpy(rm), [1.0, -1.0])  # eval leaves them alone


@pytest.mark.parametrize("shape", [(4, 3), (3, 2, 4), (2, 3, 3, 2)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_gradcheck(shape, training, affine, device, rng):
    xp = backend.namespace(device)
    c = shape[1]
    x = _t(rng.standard_normal(shape), device)
    w = _t(rng.standard_normal(c), device) if affine else None
    b = _t(rng.standard_normal(c), device) if affine else None
    rm, rv = xp.asarray(rng.standard_normal(c)), xp.asarray(rng.random(c) + 0.5)

    def fn(*args):
        # fresh copies: gradcheck calls fn many times and training updates the running stats
        return F.batch_norm(args[0], rm.copy(), rv.copy(), *args[1:], training=training)

    assert mdl.gradcheck(fn, (x, w, b) if affine else (x,))


def test_batch_norm_backward_in_eval_mode(device, rng):
    """A known bug of the anchors: backward through batch norm in eval mode."""
    xp = backend.namespace(device)
    x = _t(rng.standard_normal((2, 3, 2, 2)), device)
    w = _t(np.ones(3), device)
    F.batch_norm(x, xp.zeros(3), xp.full(3, 4.0), w, _t(np.zeros(3), device), training=False, eps=0.0).sum().backward()
    np.testing.assert_allclose(mdl.tensor(x.grad).numpy(), np.full((2, 3, 2, 2), 0.5))


def test_batch_norm_bad_input():
    x = mdl.tensor(np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"more than 1 value per channel when training.*\(1, 3\)"):
        F.batch_norm(x, np.zeros(3), np.ones(3), training=True)
    with pytest.raises(ValueError, match=r"more than 1 value per channel"):
        F.batch_norm(mdl.tensor(np.ones((1, 3, 1, 1))), None, None, training=False)
    F.batch_norm(x, np.zeros(3), np.ones(3), training=False)  # eval with one sample is fine
    with pytest.raises(ValueError, match=r"running_mean must have shape \(3,\)"):
        F.batch_norm(mdl.tensor(np.ones((2, 3))), np.zeros(2), np.ones(3), training=True)
    with pytest.raises(ValueError, match=r"momentum must be a number in \[0, 1\]"):
        F.batch_norm(mdl.tensor(np.ones((2, 3))), np.zeros(3), np.ones(3), training=True, momentum=2)
