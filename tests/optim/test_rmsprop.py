"""RMSprop against trajectories worked out by hand.

Runs use alpha = 0.5, lr = 0.1 and eps = 0 unless they say otherwise, from
p = 1 with gradients 1, -1, 2:

    v1 = .5 * 1 = .5          v2 = .25 + .5 * 1 = .75          v3 = .375 + .5 * 4 = 2.375
"""
import math

import numpy as np
import pytest

import minidl as mdl
from minidl import optim

GRADS = (1.0, -1.0, 2.0)
SMALL = dict(lr=0.1, alpha=0.5, eps=0.0)


def test_plain(trajectory, device):
    # p <- p - lr g / sqrt(v)
    p1 = 1 - 0.1 * 1 / math.sqrt(0.5)       # .858579
    p2 = p1 + 0.1 * 1 / math.sqrt(0.75)     # .974049
    p3 = p2 - 0.1 * 2 / math.sqrt(2.375)    # .844272
    assert trajectory(lambda ps: optim.RMSprop(ps, **SMALL), device) == pytest.approx([p1, p2, p3], rel=1e-12)


def test_eps_is_added_outside_the_sqrt(trajectory, device):
    # d = sqrt(.5) + .5 = 1.2071 -> p = 1 - .1 / 1.2071 = .917157
    got = trajectory(lambda ps: optim.RMSprop(ps, lr=0.1, alpha=0.5, eps=0.5), device, grads=GRADS[:1])
    assert got == pytest.approx([1 - 0.1 / (math.sqrt(0.5) + 0.5)], rel=1e-12)


def test_default_first_step_is_ten_lr(trajectory):
    # alpha .99: v1 = .01 g^2, so g / sqrt(v1) = 10 (no bias correction): p = 1 - .01 * 10 = .9
    assert trajectory(lambda ps: optim.RMSprop(ps), grads=(0.3,)) == pytest.approx([0.9], rel=1e-6)


def test_centered(trajectory, device):
    # g_avg1 = .5                    d1 = sqrt(.5 - .25) = .5           -> p = 1 - .1 / .5 = .8
    # g_avg2 = .25 - .5 = -.25       d2 = sqrt(.75 - .0625) = sqrt(.6875)
    # g_avg3 = -.125 + 1 = .875      d3 = sqrt(2.375 - .765625) = sqrt(1.609375)
    p2 = 0.8 + 0.1 / math.sqrt(0.6875)
    p3 = p2 - 0.1 * 2 / math.sqrt(1.609375)
    got = trajectory(lambda ps: optim.RMSprop(ps, centered=True, **SMALL), device)
    assert got == pytest.approx([0.8, p2, p3], rel=1e-12)


def test_momentum(trajectory, device):
    # b <- .5 b + g / sqrt(v); p <- p - lr b
    b1 = 1 / math.sqrt(0.5)                  # 1.414214
    b2 = 0.5 * b1 - 1 / math.sqrt(0.75)      # .707107 - 1.154701 = -.447594
    b3 = 0.5 * b2 + 2 / math.sqrt(2.375)
    p1 = 1 - 0.1 * b1
    p2 = p1 - 0.1 * b2
    p3 = p2 - 0.1 * b3
    got = trajectory(lambda ps: optim.RMSprop(ps, momentum=0.5, **SMALL), device)
    assert got == pytest.approx([p1, p2, p3], rel=1e-12)


def test_centered_with_momentum_and_eps(trajectory, device):
    # eps .25:  d1 = .5 + .25 = .75;  b1 = 1 / .75            -> p1 = 1 - .1 b1
    #           d2 = sqrt(.6875) + .25;  b2 = .5 b1 - 1 / d2  -> p2 = p1 - .1 b2
    b1 = 1 / 0.75
    b2 = 0.5 * b1 - 1 / (math.sqrt(0.6875) + 0.25)
    got = trajectory(lambda ps: optim.RMSprop(ps, lr=0.1, alpha=0.5, eps=0.25, momentum=0.5, centered=True),
                     device, grads=GRADS[:2])
    assert got == pytest.approx([1 - 0.1 * b1, 1 - 0.1 * b1 - 0.1 * b2], rel=1e-12)


def test_weight_decay_is_l2_added_to_the_gradient(trajectory, device):
    # g1' = 1 + .5 * 1 = 1.5:  v1 = .5 * 2.25 = 1.125           -> p1 = 1 - .1 * 1.5 / sqrt(1.125)
    # g2' = -1 + .5 p1:        v2 = .5 * 1.125 + .5 g2'^2       -> p2 = p1 - .1 g2' / sqrt(v2)
    p1 = 1 - 0.1 * 1.5 / math.sqrt(1.125)
    g2 = -1 + 0.5 * p1
    p2 = p1 - 0.1 * g2 / math.sqrt(0.5625 + 0.5 * g2**2)
    got = trajectory(lambda ps: optim.RMSprop(ps, weight_decay=0.5, **SMALL), device, grads=GRADS[:2])
    assert got == pytest.approx([p1, p2], rel=1e-12)


def test_maximize(trajectory, device):
    p1 = 1 + 0.1 / math.sqrt(0.5)
    got = trajectory(lambda ps: optim.RMSprop(ps, maximize=True, **SMALL), device, grads=GRADS[:1])
    assert got == pytest.approx([p1], rel=1e-12)


def test_state_holds_what_the_options_need(device, xp):
    p = mdl.tensor([1.0, 2.0], requires_grad=True, device=device)
    plain = optim.RMSprop([p])
    p.grad = xp.ones(2, dtype=np.float32)
    plain.step()
    assert set(plain.state[p]) == {"step", "square_avg"}
    full = optim.RMSprop([p], momentum=0.9, centered=True)
    full.step()
    assert set(full.state[p]) == {"step", "square_avg", "momentum_buffer", "grad_avg"}
    assert all(v.dtype == np.float32 for k, v in full.state[p].items() if k != "step")


def test_defaults_as_pytorch():
    d = optim.RMSprop([mdl.tensor([1.0], requires_grad=True)]).defaults
    assert d == dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, maximize=False)


@pytest.mark.parametrize("kwargs, match", [
    (dict(lr=-0.01), r"invalid learning rate lr=-0.01"),
    (dict(alpha=1.5), r"invalid alpha=1.5: must be in \[0, 1\]"),
    (dict(alpha=-0.1), r"invalid alpha=-0.1"),
    (dict(eps=-1.0), r"invalid eps=-1.0"),
    (dict(momentum=-0.9), r"invalid momentum=-0.9"),
    (dict(weight_decay=-1.0), r"invalid weight_decay=-1.0"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        optim.RMSprop([mdl.tensor([1.0], requires_grad=True)], **kwargs)
