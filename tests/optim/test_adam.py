"""Adam and AdamW against trajectories worked out by hand.

Most runs use betas = (0.5, 0.75) and eps = 0, which keep the arithmetic
short: from p = 1 with lr = 0.1 and gradients 1, -1, 2,

    t=1: m = .5 * 1 = .5                 v = .25 * 1 = .25
         m_hat = .5 / (1 - .5) = 1       v_hat = .25 / (1 - .75) = 1      step = .1 * 1 / 1
    t=2: m = .25 - .5 = -.25             v = .1875 + .25 = .4375
         m_hat = -.25 / .75 = -1/3       v_hat = .4375 / (1 - .5625) = 1  step = -.1 / 3
    t=3: m = -.125 + 1 = .875            v = .328125 + 1 = 1.328125 = 85/64
         m_hat = .875 / .875 = 1         v_hat = (85/64) / (37/64) = 85/37 step = .1 / sqrt(85/37)
"""
import math

import numpy as np
import pytest

import minidl as mdl
from minidl import optim

GRADS = (1.0, -1.0, 2.0)
SMALL = dict(betas=(0.5, 0.75), eps=0.0)


def test_adam_three_steps(trajectory, device):
    p1 = 1 - 0.1                           # .9
    p2 = p1 + 0.1 / 3                      # .93333
    p3 = p2 - 0.1 / math.sqrt(85 / 37)     # .86736
    got = trajectory(lambda ps: optim.Adam(ps, lr=0.1, **SMALL), device)
    assert got == pytest.approx([p1, p2, p3], rel=1e-12)


def test_eps_is_added_after_the_bias_correction_of_sqrt_v(trajectory, device):
    # denom = sqrt(v) / sqrt(1 - beta2^t) + eps = 1 + .5 at t = 1 and t = 2 (v_hat = 1 both times)
    # t=1: p = 1 - .1 * 1 / 1.5 = .93333      (eps inside the sqrt would give 1 - .1/sqrt(1.5),
    # t=2: p = .93333 + .1 * (1/3) / 1.5       (sqrt(v) + eps) / sqrt(1 - beta2) would give .95)
    got = trajectory(lambda ps: optim.Adam(ps, lr=0.1, betas=(0.5, 0.75), eps=0.5), device, grads=GRADS[:2])
    assert got == pytest.approx([1 - 0.1 / 1.5, 1 - 0.1 / 1.5 + 0.1 / 3 / 1.5], rel=1e-12)


def test_default_adam_first_step_is_lr_against_the_sign(device, xp):
    # t=1: m_hat = g, v_hat = g^2, so the step is lr * g / (|g| + 1e-8), whatever |g| is
    p = mdl.tensor([1.0, -2.0, 3.0], requires_grad=True, dtype=np.float64, device=device)
    opt = optim.Adam([p], lr=0.1)
    p.grad = xp.asarray(np.array([0.3, -5.0, 1e-3]))
    opt.step()
    np.testing.assert_allclose(p.numpy(), [0.9, -1.9, 2.9], rtol=1e-6)


def test_adam_weight_decay_is_l2_through_the_moments(trajectory, device):
    # g1' = 1 + .5 * 1 = 1.5: m = .75, v = .25 * 2.25 = .5625 -> m_hat = 1.5, sqrt(v_hat) = 1.5 -> p = .9
    # g2' = -1 + .5 * .9 = -.55: m = .375 - .275 = .1, v = .421875 + .25 * .3025 = .4975
    #      m_hat = .1 / .75, v_hat = .4975 / .4375                      -> p = .9 - .1 m_hat / sqrt(v_hat)
    p2 = 0.9 - 0.1 * (0.1 / 0.75) / math.sqrt(0.4975 / 0.4375)
    got = trajectory(lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.5, **SMALL), device, grads=GRADS[:2])
    assert got == pytest.approx([0.9, p2], rel=1e-12)


def test_adamw_decays_the_weights_directly(trajectory, device):
    # each step: p *= 1 - lr * wd = .95 first, then the plain Adam step of the module docstring
    p1 = 1 * 0.95 - 0.1                          # .85
    p2 = p1 * 0.95 + 0.1 / 3                     # .8075 + .03333
    p3 = p2 * 0.95 - 0.1 / math.sqrt(85 / 37)
    got = trajectory(lambda ps: optim.AdamW(ps, lr=0.1, weight_decay=0.5, **SMALL), device)
    assert got == pytest.approx([p1, p2, p3], rel=1e-12)


def test_adamw_default_weight_decay_shrinks_an_idle_weight(trajectory):
    # g = 0: m = v = 0, Adam's step is 0 / (0 + eps) = 0; only the decay acts: p *= 1 - .1 * 1e-2
    got = trajectory(lambda ps: optim.AdamW(ps, lr=0.1), grads=(0.0, 0.0))
    assert got == pytest.approx([0.999, 0.999**2], rel=1e-12)
    # Adam's default weight_decay is 0: nothing moves
    assert trajectory(lambda ps: optim.Adam(ps, lr=0.1), grads=(0.0, 0.0)) == [1.0, 1.0]


def test_amsgrad_uses_the_largest_second_moment(trajectory, device):
    # betas (.5, .5), eps 0, gradients 2, .1, 0
    # t=1: m = 1, v = 2, v_max = 2: m_hat = 2, sqrt(v_hat) = sqrt(4) = 2        -> p = 1 - .1 = .9
    # t=2: m = .5 + .05 = .55, v = 1 + .005 = 1.005, v_max = 2 (v went down)
    #      m_hat = .55 / .75, v_hat = 2 / .75                                   -> p = .9 - .1 m_hat / sqrt(v_hat)
    # t=3: m = .275, v = .5025, v_max = 2: m_hat = .275 / .875, v_hat = 2 / .875
    p2 = 0.9 - 0.1 * (0.55 / 0.75) / math.sqrt(2 / 0.75)
    p3 = p2 - 0.1 * (0.275 / 0.875) / math.sqrt(2 / 0.875)
    got = trajectory(lambda ps: optim.Adam(ps, lr=0.1, betas=(0.5, 0.5), eps=0.0, amsgrad=True), device,
                     grads=(2.0, 0.1, 0.0))
    assert got == pytest.approx([0.9, p2, p3], rel=1e-12)
    # without amsgrad step 2 divides by sqrt(1.005 / .75) instead: a different point
    plain = trajectory(lambda ps: optim.Adam(ps, lr=0.1, betas=(0.5, 0.5), eps=0.0), grads=(2.0, 0.1))
    assert plain[1] == pytest.approx(0.9 - 0.1 * (0.55 / 0.75) / math.sqrt(1.005 / 0.75), rel=1e-12)


def test_adamw_with_amsgrad(trajectory, device):
    # as above, with p *= 1 - .1 * .5 = .95 before each step
    p1 = 0.95 - 0.1
    p2 = p1 * 0.95 - 0.1 * (0.55 / 0.75) / math.sqrt(2 / 0.75)
    got = trajectory(lambda ps: optim.AdamW(ps, lr=0.1, betas=(0.5, 0.5), eps=0.0, weight_decay=0.5, amsgrad=True),
                     device, grads=(2.0, 0.1))
    assert got == pytest.approx([p1, p2], rel=1e-12)


def test_maximize(trajectory, device):
    # the gradients' signs flip: 1 + .1 = 1.1, then 1.1 - .1/3
    got = trajectory(lambda ps: optim.Adam(ps, lr=0.1, maximize=True, **SMALL), device, grads=GRADS[:2])
    assert got == pytest.approx([1.1, 1.1 - 0.1 / 3], rel=1e-12)


def test_state_and_step_counts_are_per_parameter(xp, device):
    """A parameter skipped at one step keeps its own count, so its bias correction is its own."""
    a = mdl.tensor([1.0], requires_grad=True, dtype=np.float64, device=device)
    b = mdl.tensor([1.0], requires_grad=True, dtype=np.float64, device=device)
    opt = optim.Adam([a, b], lr=0.1, amsgrad=True, **SMALL)
    a.grad = xp.asarray(np.array([1.0]))
    opt.step()  # b has no gradient: no state at all
    assert b not in opt.state and opt.state[a]["step"] == 1
    assert set(opt.state[a]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    b.grad = xp.asarray(np.array([1.0]))
    opt.step()
    assert opt.state[a]["step"] == 2 and opt.state[b]["step"] == 1
    # b's first step is its t=1 step (lr against the sign): 1 - .1
    assert float(b.data[0]) == pytest.approx(0.9)


def test_defaults_as_pytorch():
    p = mdl.tensor([1.0], requires_grad=True)
    adam, adamw = optim.Adam([p]).defaults, optim.AdamW([p]).defaults
    assert adam == dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False)
    assert adamw == dict(adam, weight_decay=1e-2)


@pytest.mark.parametrize("cls", [optim.Adam, optim.AdamW])
@pytest.mark.parametrize("kwargs, error, match", [
    (dict(lr=-1e-3), ValueError, r"invalid learning rate lr=-0.001"),
    (dict(betas=(1.0, 0.999)), ValueError, r"invalid beta parameter at index 0: 1.0 .*\[0, 1\)"),
    (dict(betas=(0.9, -0.1)), ValueError, r"invalid beta parameter at index 1: -0.1"),
    (dict(betas=(0.9, 1.5)), ValueError, r"invalid beta parameter at index 1: 1.5"),
    (dict(betas=(0.9,)), TypeError, r"betas must be a pair"),
    (dict(betas=(0.9, "x")), TypeError, r"betas\[1\] must be a number"),
    (dict(eps=-1e-8), ValueError, r"invalid eps=-1e-08: must be >= 0"),
    (dict(weight_decay=-0.1), ValueError, r"invalid weight_decay=-0.1"),
])
def test_bad_arguments_are_named(cls, kwargs, error, match):
    with pytest.raises(error, match=match):
        cls([mdl.tensor([1.0], requires_grad=True)], **kwargs)
