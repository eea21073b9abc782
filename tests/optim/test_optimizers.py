"""Optimizers against values worked out by hand, two or three steps each."""
import math

import numpy as np
import pytest

import minidl as mdl
from minidl import optim

G1, G2, G3 = 0.5, -1.0, 2.0  # the gradients of three successive steps


def run(opt_factory, grads=(G1, G2, G3), p0=1.0, device="cpu"):
    p = mdl.tensor([p0], requires_grad=True, dtype=np.float64, device=device)
    opt = opt_factory([p])
    out = []
    for g in grads:
        p.grad = mdl.backend.namespace(device).asarray(np.array([g]))
        opt.step()
        out.append(float(p.data[0]))
    return out


def test_plain_sgd(device):
    assert run(lambda ps: optim.SGD(ps, lr=0.1), device=device) == pytest.approx([0.95, 1.05, 0.85])


def test_sgd_momentum_dampening_and_weight_decay():
    # momentum 0.9: b1 = g1 = .5 -> p = .95; b2 = .45 - 1 = -.55 -> p = 1.005; b3 = -.495 + 2 = 1.505 -> .8545
    assert run(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9)) == pytest.approx([0.95, 1.005, 0.8545])
    # dampening 0.5: b1 = .5; b2 = .45 + .5*(-1) = -.05 -> p = .955; b3 = -.045 + 1 = .955 -> .8595
    assert run(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.5)) == pytest.approx([0.95, 0.955, 0.8595])
    # weight decay 0.1: g = g + 0.1 p: 0.6 -> 0.94; -1 + .094 = -.906 -> 1.0306; 2 + .10306 -> 0.820294
    assert run(lambda ps: optim.SGD(ps, lr=0.1, weight_decay=0.1)) == pytest.approx([0.94, 1.0306, 0.820294])


def test_sgd_nesterov():
    # b1 = .5, g = .5 + .9*.5 = .95 -> .905; b2 = .45 - 1 = -.55, g = -1 - .495 = -1.495 -> 1.0545
    assert run(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True), grads=(G1, G2)) == pytest.approx([0.905, 1.0545])


def test_adam_two_steps_by_hand(device):
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    m1, v1 = (1 - b1) * G1, (1 - b2) * G1**2
    p1 = 1.0 - lr * (m1 / (1 - b1)) / (math.sqrt(v1 / (1 - b2)) + eps)  # = 1 - lr * sign(g1)
    m2, v2 = b1 * m1 + (1 - b1) * G2, b2 * v1 + (1 - b2) * G2**2
    p2 = p1 - lr * (m2 / (1 - b1**2)) / (math.sqrt(v2 / (1 - b2**2)) + eps)
    assert run(lambda ps: optim.Adam(ps, lr=lr), grads=(G1, G2), device=device) == pytest.approx([p1, p2], rel=1e-12)
    assert p1 == pytest.approx(0.9)


def test_adam_l2_versus_adamw_decoupled():
    lr, wd = 0.1, 0.5
    # Adam: g1 = .5 + .5*1 = 1.0 -> the first step is lr * sign = 0.1 whatever the size
    assert run(lambda ps: optim.Adam(ps, lr=lr, weight_decay=wd), grads=(G1,)) == pytest.approx([0.9])
    # AdamW: p *= 1 - lr*wd = .95 first, then the Adam step of 0.1
    assert run(lambda ps: optim.AdamW(ps, lr=lr, weight_decay=wd), grads=(G1,)) == pytest.approx([0.85])


def test_adam_amsgrad_keeps_the_max_second_moment():
    lr, b1, b2 = 0.1, 0.9, 0.5
    grads = (2.0, 0.1)
    m1, v1 = 0.2, 0.5 * 4.0
    p1 = 1 - lr * (m1 / 0.1) / (math.sqrt(v1 / 0.5) + 1e-8)
    m2, v2 = 0.9 * m1 + 0.01, 0.5 * v1 + 0.5 * 0.01
    vmax = max(v1, v2)
    p2 = p1 - lr * (m2 / (1 - b1**2)) / (math.sqrt(vmax / (1 - b2**2)) + 1e-8)
    got = run(lambda ps: optim.Adam(ps, lr=lr, betas=(b1, b2), amsgrad=True), grads=grads)
    assert got == pytest.approx([p1, p2])


def test_rmsprop_plain_centered_and_momentum():
    lr, a, eps = 0.01, 0.99, 1e-8
    v1 = (1 - a) * G1**2
    p1 = 1 - lr * G1 / (math.sqrt(v1) + eps)
    v2 = a * v1 + (1 - a) * G2**2
    p2 = p1 - lr * G2 / (math.sqrt(v2) + eps)
    assert run(lambda ps: optim.RMSprop(ps, lr=lr), grads=(G1, G2)) == pytest.approx([p1, p2])
    ga1 = (1 - a) * G1
    c1 = 1 - lr * G1 / (math.sqrt(v1 - ga1**2) + eps)
    assert run(lambda ps: optim.RMSprop(ps, lr=lr, centered=True), grads=(G1,)) == pytest.approx([c1])
    b1 = G1 / (math.sqrt(v1) + eps)
    b2 = 0.9 * b1 + G2 / (math.sqrt(v2) + eps)
    assert run(lambda ps: optim.RMSprop(ps, lr=lr, momentum=0.9), grads=(G1, G2)) == pytest.approx([1 - lr * b1, 1 - lr * b1 - lr * b2])


def test_param_groups_have_their_own_lr():
    a = mdl.tensor([1.0], requires_grad=True)
    b = mdl.tensor([1.0], requires_grad=True)
    opt = optim.SGD([{"params": [a], "lr": 0.5}, {"params": [b]}], lr=0.1)
    a.grad = np.array([1.0], dtype=np.float32)
    b.grad = np.array([1.0], dtype=np.float32)
    opt.step()
    assert a.tolist() == [0.5] and b.tolist() == pytest.approx([0.9])


def test_frozen_and_unused_parameters_are_skipped():
    a = mdl.tensor([1.0], requires_grad=True)
    frozen = mdl.tensor([1.0], requires_grad=True)
    opt = optim.Adam([a, frozen], lr=0.1)
    frozen.requires_grad = False
    a.grad = np.array([1.0], dtype=np.float32)
    opt.step()  # frozen has no grad: no crash, no change
    assert frozen.tolist() == [1.0] and a.tolist() != [1.0]


def test_zero_grad():
    a = mdl.tensor([1.0], requires_grad=True)
    opt = optim.SGD([a], lr=0.1)
    a.grad = np.array([3.0], dtype=np.float32)
    opt.zero_grad(set_to_none=False)
    assert a.grad.tolist() == [0.0]
    opt.zero_grad()
    assert a.grad is None


def test_state_dict_round_trip_continues_identically(tmp_path):
    def make():
        p = mdl.tensor([1.0, -1.0], requires_grad=True, dtype=np.float64)
        return p, optim.Adam([p], lr=0.1, amsgrad=True)

    p1, o1 = make()
    for g in (G1, G2):
        p1.grad = np.array([g, -g])
        o1.step()
    mdl.save({"opt": o1.state_dict(), "p": p1.data}, tmp_path / "ckpt.npz")
    saved = mdl.load(tmp_path / "ckpt.npz")
    p2, o2 = make()
    p2.data[...] = saved["p"]
    o2.load_state_dict(saved["opt"])
    for p, o in ((p1, o1), (p2, o2)):
        p.grad = np.array([G3, -G3])
        o.step()
    assert np.array_equal(p1.data, p2.data)
    assert o2.param_groups[0]["betas"] == (0.9, 0.999)


@pytest.mark.parametrize("make, match", [
    (lambda ps: optim.SGD(ps, lr=-0.1), "invalid learning rate"),
    (lambda ps: optim.SGD(ps, lr=0.1, nesterov=True), "nesterov=True needs momentum"),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=-1), "invalid momentum"),
    (lambda ps: optim.SGD(ps, lr=0.1, weight_decay=-1), "invalid weight_decay"),
    (lambda ps: optim.Adam(ps, betas=(1.0, 0.999)), r"beta parameter at index 0: 1.0"),
    (lambda ps: optim.Adam(ps, betas=(0.9, -0.1)), r"beta parameter at index 1"),
    (lambda ps: optim.Adam(ps, eps=-1), "invalid eps"),
    (lambda ps: optim.RMSprop(ps, alpha=1.5), "invalid alpha"),
    (lambda ps: optim.SGD([], lr=0.1), "empty parameter list"),
    (lambda ps: optim.SGD([{"params": ps}, {"params": ps}], lr=0.1), "more than one param group"),
])
def test_bad_arguments(make, match):
    p = mdl.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=match):
        make([p])
