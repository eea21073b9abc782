"""SGD against trajectories worked out by hand, three steps each.

Every run starts from p = 1 with lr = 0.1 and the gradients 0.5, -1, 2 (in
that order), unless it says otherwise. The arithmetic is written next to
each expected value.
"""
import numpy as np
import pytest

import minidl as mdl
from minidl import backend, optim

GRADS = (0.5, -1.0, 2.0)


def test_plain_sgd(trajectory, device):
    # p <- p - lr g: 1 - .05 = .95; .95 + .1 = 1.05; 1.05 - .2 = .85
    assert trajectory(lambda ps: optim.SGD(ps, lr=0.1), device) == pytest.approx([0.95, 1.05, 0.85], rel=1e-12)


def test_momentum(trajectory, device):
    # b1 = g1 = .5 (the buffer starts as the gradient)        -> p = 1 - .05 = .95
    # b2 = .9 * .5 + (-1) = -.55                               -> p = .95 + .055 = 1.005
    # b3 = .9 * -.55 + 2 = 1.505                               -> p = 1.005 - .1505 = .8545
    got = trajectory(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), device)
    assert got == pytest.approx([0.95, 1.005, 0.8545], rel=1e-12)


def test_dampening(trajectory, device):
    # b1 = g1 = .5 (no dampening at the first step)            -> .95
    # b2 = .9 * .5 + (1 - .5) * (-1) = .45 - .5 = -.05         -> .95 + .005 = .955
    # b3 = .9 * -.05 + .5 * 2 = -.045 + 1 = .955               -> .955 - .0955 = .8595
    got = trajectory(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.5), device)
    assert got == pytest.approx([0.95, 0.955, 0.8595], rel=1e-12)


def test_nesterov(trajectory, device):
    # b1 = .5;   g = g1 + .9 b1 = .5 + .45 = .95                -> 1 - .095 = .905
    # b2 = .45 - 1 = -.55;  g = -1 + .9 * -.55 = -1.495          -> .905 + .1495 = 1.0545
    # b3 = -.495 + 2 = 1.505;  g = 2 + .9 * 1.505 = 3.3545       -> 1.0545 - .33545 = .71905
    got = trajectory(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True), device)
    assert got == pytest.approx([0.905, 1.0545, 0.71905], rel=1e-12)


def test_weight_decay_is_l2_added_to_the_gradient(trajectory, device):
    # g' = g + .1 p:  .5 + .1 = .6                      -> 1 - .06 = .94
    #                 -1 + .094 = -.906                 -> .94 + .0906 = 1.0306
    #                 2 + .10306 = 2.10306              -> 1.0306 - .210306 = .820294
    got = trajectory(lambda ps: optim.SGD(ps, lr=0.1, weight_decay=0.1), device)
    assert got == pytest.approx([0.94, 1.0306, 0.820294], rel=1e-12)


def test_weight_decay_goes_into_the_momentum_buffer(trajectory, device):
    # g1' = .5 + .1 * 1 = .6;        b1 = .6                         -> .94
    # g2' = -1 + .1 * .94 = -.906;   b2 = .54 - .906 = -.366         -> .94 + .0366 = .9766
    # g3' = 2 + .09766 = 2.09766;    b3 = -.3294 + 2.09766 = 1.76826 -> .9766 - .176826 = .799774
    got = trajectory(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1), device)
    assert got == pytest.approx([0.94, 0.9766, 0.799774], rel=1e-12)


def test_maximize_negates_the_gradient_before_weight_decay(trajectory, device):
    # maximize alone climbs: 1 + .05 = 1.05; 1.05 - .1 = .95; .95 + .2 = 1.15
    assert trajectory(lambda ps: optim.SGD(ps, lr=0.1, maximize=True), device) == pytest.approx([1.05, 0.95, 1.15])
    # with weight decay .1: g' = -g + .1 p (PyTorch's order)
    # -.5 + .1 = -.4 -> 1 + .04 = 1.04;   1 + .104 = 1.104 -> 1.04 - .1104 = .9296
    got = trajectory(lambda ps: optim.SGD(ps, lr=0.1, weight_decay=0.1, maximize=True), device, grads=GRADS[:2])
    assert got == pytest.approx([1.04, 0.9296], rel=1e-12)


def test_each_element_has_its_own_buffer(device, xp):
    # p = [1, -2], momentum .5, lr .1
    # b1 = [1, 2]                       -> p = [.9, -2.2]
    # b2 = [.5 + 3, 1 - 1] = [3.5, 0]   -> p = [.55, -2.2]
    p = mdl.tensor([1.0, -2.0], requires_grad=True, dtype=np.float64, device=device)
    opt = optim.SGD([p], lr=0.1, momentum=0.5)
    for g in ([1.0, 2.0], [3.0, -1.0]):
        p.grad = xp.asarray(np.array(g))
        opt.step()
    np.testing.assert_allclose(p.numpy(), [0.55, -2.2], rtol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(opt.state[p]["momentum_buffer"]), [3.5, 0.0])


@pytest.mark.parametrize("options", [dict(), dict(weight_decay=0.1, maximize=True)])
def test_the_gradient_array_is_never_changed(options, device, xp):
    """The buffer starts as a *copy* of g; weight decay and maximize make new arrays."""
    p = mdl.tensor([1.0, 2.0], requires_grad=True, dtype=np.float64, device=device)
    opt = optim.SGD([p], lr=0.1, momentum=0.9, **options)
    first = xp.asarray(np.array([0.5, -1.0]))
    p.grad = first
    opt.step()
    p.grad = xp.asarray(np.array([2.0, 3.0]))
    opt.step()  # buf *= momentum would scale ``first`` had the buffer aliased it
    np.testing.assert_array_equal(backend.to_numpy(first), [0.5, -1.0])


def test_float32_parameters_stay_float32(device, xp):
    p = mdl.tensor([1.0, 2.0], requires_grad=True, device=device)  # float32
    opt = optim.SGD([p], lr=0.5, momentum=0.9)
    p.grad = xp.asarray(np.array([1.0, 1.0]))  # a float64 gradient
    opt.step()
    assert p.dtype == np.float32 and opt.state[p]["momentum_buffer"].dtype == np.float32
    np.testing.assert_allclose(p.numpy(), [0.5, 1.5])


def test_defaults_as_pytorch():
    p = mdl.tensor([1.0], requires_grad=True)
    d = optim.SGD([p]).defaults
    assert d == dict(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(lr=-0.1), ValueError, r"invalid learning rate lr=-0.1"),
    (dict(lr="0.1"), TypeError, r"lr must be a number, got str"),
    (dict(lr=0.1, momentum=-0.5), ValueError, r"invalid momentum=-0.5: must be >= 0"),
    (dict(lr=0.1, weight_decay=-1e-4), ValueError, r"invalid weight_decay=-0.0001: must be >= 0"),
    (dict(lr=0.1, nesterov=True), ValueError, r"nesterov=True needs momentum > 0 and dampening = 0.*momentum=0"),
    (dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), ValueError,
     r"nesterov=True needs momentum > 0 and dampening = 0.*dampening=0.1"),
])
def test_bad_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        optim.SGD([mdl.tensor([1.0], requires_grad=True)], **kwargs)


def test_a_bad_group_names_the_group():
    a, b = (mdl.tensor([1.0], requires_grad=True) for _ in range(2))
    with pytest.raises(ValueError, match=r"invalid momentum=-1 in param group 1"):
        optim.SGD([{"params": [a]}, {"params": [b], "momentum": -1}], lr=0.1)
    with pytest.raises(ValueError, match=r"nesterov=True needs momentum > 0.* in param group 1"):
        optim.SGD([{"params": [a]}, {"params": [b], "momentum": 0}], lr=0.1, momentum=0.9, nesterov=True)
