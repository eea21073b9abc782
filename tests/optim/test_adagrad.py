"""Adagrad against trajectories worked out by hand, and against torch.optim.Adagrad.

Runs use lr = 0.1 and eps = 0 unless they say otherwise, from p = 1 with
gradients 1, -1, 2: the sum of squares is s1 = 1, s2 = 2, s3 = 6.
"""
import math

import numpy as np
import pytest

import minidl as mdl
from minidl import optim

GRADS = (1.0, -1.0, 2.0)
SMALL = dict(lr=0.1, eps=0.0)


def test_plain(trajectory, device):
    # p <- p - lr g / sqrt(s)
    p1 = 1 - 0.1 * 1 / 1                  # .9
    p2 = p1 + 0.1 * 1 / math.sqrt(2)      # .970711
    p3 = p2 - 0.1 * 2 / math.sqrt(6)      # .889062
    assert trajectory(lambda ps: optim.Adagrad(ps, **SMALL), device) == pytest.approx([p1, p2, p3], rel=1e-12)


def test_lr_decay(trajectory, device):
    # lr_t = .1 / (1 + (t - 1) * .5): .1, .1 / 1.5, .1 / 2
    p1 = 1 - 0.1
    p2 = p1 + 0.1 / 1.5 / math.sqrt(2)
    p3 = p2 - 0.1 / 2 * 2 / math.sqrt(6)
    got = trajectory(lambda ps: optim.Adagrad(ps, lr_decay=0.5, **SMALL), device)
    assert got == pytest.approx([p1, p2, p3], rel=1e-12)


def test_initial_accumulator_value(trajectory, device):
    # s starts at 3: s1 = 4, s2 = 5
    p1 = 1 - 0.1 * 1 / 2                  # .95
    p2 = p1 + 0.1 / math.sqrt(5)
    got = trajectory(lambda ps: optim.Adagrad(ps, initial_accumulator_value=3.0, **SMALL), device, grads=GRADS[:2])
    assert got == pytest.approx([p1, p2], rel=1e-12)


def test_weight_decay_is_l2_added_to_the_gradient(trajectory, device):
    # g1' = 1 + .5 * 1 = 1.5:   s1 = 2.25           -> p1 = 1 - .1 * 1.5 / 1.5 = .9
    # g2' = -1 + .5 * .9 = -.55: s2 = 2.25 + .3025  -> p2 = .9 + .1 * .55 / sqrt(2.5525)
    p2 = 0.9 + 0.1 * 0.55 / math.sqrt(2.5525)
    got = trajectory(lambda ps: optim.Adagrad(ps, weight_decay=0.5, **SMALL), device, grads=GRADS[:2])
    assert got == pytest.approx([0.9, p2], rel=1e-12)


def test_eps_is_added_outside_the_sqrt(trajectory, device):
    # d1 = sqrt(1) + .5 = 1.5; d2 = sqrt(2) + .5
    p1 = 1 - 0.1 / 1.5
    p2 = p1 + 0.1 / (math.sqrt(2) + 0.5)
    got = trajectory(lambda ps: optim.Adagrad(ps, lr=0.1, eps=0.5), device, grads=GRADS[:2])
    assert got == pytest.approx([p1, p2], rel=1e-12)


def test_maximize(trajectory, device):
    got = trajectory(lambda ps: optim.Adagrad(ps, maximize=True, **SMALL), device, grads=GRADS[:2])
    assert got == pytest.approx([1.1, 1.1 - 0.1 / math.sqrt(2)], rel=1e-12)


def test_state_and_its_round_trip(device, xp, resumes_identically):
    p = mdl.tensor([1.0, 2.0], requires_grad=True, device=device)
    opt = optim.Adagrad([p], lr=0.1, initial_accumulator_value=0.5)
    p.grad = xp.ones(2, dtype=np.float32)
    opt.step()
    assert set(opt.state[p]) == {"step", "sum"} and opt.state[p]["sum"].dtype == np.float32
    np.testing.assert_allclose(mdl.tensor(opt.state[p]["sum"]).numpy(), [1.5, 1.5])
    resumes_identically(opt, p, lambda params: optim.Adagrad(params, lr=0.5), device)


def test_param_groups_keep_their_own_lr(device, xp):
    a = mdl.tensor([1.0], requires_grad=True, device=device)
    b = mdl.tensor([1.0], requires_grad=True, device=device)
    opt = optim.Adagrad([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, eps=0.0)
    a.grad = b.grad = xp.ones(1, dtype=np.float32)
    opt.step()
    np.testing.assert_allclose([a.numpy()[0], b.numpy()[0]], [0.9, 0.5], rtol=1e-6)


def test_defaults_as_pytorch():
    d = optim.Adagrad([mdl.tensor([1.0], requires_grad=True)]).defaults
    assert d == dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                     maximize=False)


@pytest.mark.parametrize("kwargs", [
    dict(), dict(lr=0.05, lr_decay=0.1), dict(weight_decay=0.1, initial_accumulator_value=0.3), dict(eps=1e-3),
    dict(maximize=True, lr_decay=0.01),
])
def test_ten_steps_match_torch(kwargs, rng, follows_torch):
    torch = pytest.importorskip("torch")
    follows_torch(optim.Adagrad, torch.optim.Adagrad, kwargs, rng)


@pytest.mark.parametrize("kwargs, match", [
    (dict(lr=-0.01), r"Adagrad: invalid learning rate lr=-0.01"),
    (dict(lr_decay=-1.0), r"Adagrad: invalid lr_decay=-1.0: must be >= 0"),
    (dict(initial_accumulator_value=-0.1), r"Adagrad: invalid initial_accumulator_value=-0.1: must be >= 0"),
    (dict(eps=-1.0), r"invalid eps=-1.0"),
    (dict(weight_decay=-1.0), r"invalid weight_decay=-1.0"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        optim.Adagrad([mdl.tensor([1.0], requires_grad=True)], **kwargs)
