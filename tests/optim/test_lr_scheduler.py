"""Learning-rate schedules, in closed form."""
import math

import pytest

import minidl as mdl
from minidl import optim
from minidl.optim import lr_scheduler as S


def make(lr=1.0):
    return optim.SGD([mdl.tensor([1.0], requires_grad=True)], lr=lr)


def lrs(sched, epochs):
    out = []
    for _ in range(epochs):
        out.append(sched.get_last_lr()[0])
        sched.step()
    return out


def test_step_lr():
    assert lrs(S.StepLR(make(), step_size=2, gamma=0.5), 6) == pytest.approx([1, 1, 0.5, 0.5, 0.25, 0.25])
    with pytest.raises(ValueError, match="step_size"):
        S.StepLR(make(), step_size=0)


def test_multistep_and_exponential():
    assert lrs(S.MultiStepLR(make(), [1, 3], gamma=0.1), 4) == pytest.approx([1, 0.1, 0.1, 0.01])
    assert lrs(S.ExponentialLR(make(), gamma=0.5), 3) == pytest.approx([1, 0.5, 0.25])


def test_cosine_annealing():
    got = lrs(S.CosineAnnealingLR(make(0.1), T_max=4, eta_min=0.01), 5)
    expected = [0.01 + 0.09 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(5)]
    assert got == pytest.approx(expected)
    assert got[-1] == pytest.approx(0.01)


def test_lambda_and_groups():
    opt = optim.SGD([{"params": [mdl.tensor([1.0], requires_grad=True)], "lr": 2.0},
                     {"params": [mdl.tensor([1.0], requires_grad=True)]}], lr=1.0)
    sched = S.LambdaLR(opt, lambda e: 1 / (e + 1))
    sched.step()
    assert sched.get_last_lr() == pytest.approx([1.0, 0.5])


def test_state_dict_resume():
    a = S.StepLR(make(), step_size=1, gamma=0.5)
    a.step()
    a.step()
    b = S.StepLR(make(), step_size=1, gamma=0.5)
    b.load_state_dict(a.state_dict())
    assert b.get_last_lr() == a.get_last_lr() == pytest.approx([0.25])


def test_needs_an_optimizer():
    with pytest.raises(TypeError, match="needs an Optimizer"):
        S.StepLR("sgd", step_size=1)
