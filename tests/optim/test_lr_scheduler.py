"""Learning-rate schedules against values worked out by hand."""
import math

import numpy as np
import pytest

import minidl as mdl
from minidl import optim
from minidl.optim import lr_scheduler as S


def make(lr=1.0, groups=1):
    return optim.SGD([{"params": [mdl.tensor([1.0], requires_grad=True)]} for _ in range(groups)], lr=lr)


def lrs(sched, epochs):
    """The first group's lr at epochs 0, 1, ..., epochs - 1 (one optimizer step each)."""
    out = []
    for _ in range(epochs):
        out.append(sched.optimizer.param_groups[0]["lr"])
        assert sched.get_last_lr()[0] == out[-1]
        sched.optimizer.step()
        sched.step()
    return out


def test_step_lr():
    # 1 * .5 ** (e // 2)
    assert lrs(S.StepLR(make(), step_size=2, gamma=0.5), 6) == pytest.approx([1, 1, 0.5, 0.5, 0.25, 0.25])


def test_multistep_lr_counts_repeated_milestones_twice():
    # milestones 1, 3, 3: gamma ** (milestones <= e): e0: 0, e1: 1, e2: 1, e3: 3, e4: 3
    got = lrs(S.MultiStepLR(make(), [3, 1, 3], gamma=0.1), 5)
    assert got == pytest.approx([1, 0.1, 0.1, 1e-3, 1e-3])


def test_exponential_lr():
    assert lrs(S.ExponentialLR(make(2.0), gamma=0.5), 4) == pytest.approx([2, 1, 0.5, 0.25])


def test_cosine_annealing_closed_form():
    # eta_min + (.1 - eta_min) (1 + cos(pi e / 4)) / 2 with eta_min = .01, cos(pi/4) = .7071068:
    # e0: .1   e1: .01 + .09 * 1.7071068 / 2 = .0868198   e2: .01 + .09 * .5 = .055
    # e3: .01 + .09 * .2928932 / 2 = .0231802   e4: .01 (= eta_min)   e5: back up to .0231802
    got = lrs(S.CosineAnnealingLR(make(0.1), T_max=4, eta_min=0.01), 6)
    assert got == pytest.approx([0.1, 0.0868198, 0.055, 0.0231802, 0.01, 0.0231802], abs=1e-7)


def test_lambda_lr_one_function_or_one_per_group():
    sched = S.LambdaLR(make(2.0, groups=2), lambda e: 1 / (e + 1))
    sched.step()
    sched.step()
    assert sched.get_last_lr() == pytest.approx([2 / 3, 2 / 3])  # epoch 2: 2 * 1/3
    sched = S.LambdaLR(make(2.0, groups=2), [lambda e: 0.5**e, lambda e: e + 1])
    assert sched.get_last_lr() == pytest.approx([2.0, 2.0])  # epoch 0: 2 * 1 and 2 * 1
    sched.step()
    assert sched.get_last_lr() == pytest.approx([1.0, 4.0])  # epoch 1: 2 * .5 and 2 * 2


def test_groups_keep_their_own_base_lr():
    opt = optim.SGD([{"params": [mdl.tensor([1.0], requires_grad=True)], "lr": 1.0},
                     {"params": [mdl.tensor([1.0], requires_grad=True)]}], lr=0.1)
    sched = S.StepLR(opt, step_size=1, gamma=0.5)
    sched.step()
    assert sched.get_last_lr() == pytest.approx([0.5, 0.05])
    assert sched.base_lrs == [1.0, 0.1] and [g["initial_lr"] for g in opt.param_groups] == [1.0, 0.1]


def test_the_optimizer_steps_with_the_scheduled_lr(device, xp):
    p = mdl.tensor([1.0], requires_grad=True, dtype=np.float64, device=device)
    opt = optim.SGD([p], lr=0.1)
    sched = S.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):  # lrs .1, .05, .025 with gradient 1: 1 - .175 = .825
        p.grad = xp.ones(1)
        opt.step()
        sched.step()
    assert p.tolist() == pytest.approx([0.825])


def test_state_dict_round_trip_through_npz(tmp_path):
    a = S.CosineAnnealingLR(make(0.1), T_max=10, eta_min=0.001)
    for _ in range(3):
        a.step()
    mdl.save({"sched": a.state_dict(), "opt": a.optimizer.state_dict()}, tmp_path / "s.npz")
    saved = mdl.load(tmp_path / "s.npz")
    opt = make(0.1)
    opt.load_state_dict(saved["opt"])
    b = S.CosineAnnealingLR(opt, T_max=99)  # the settings come back from the state too
    b.load_state_dict(saved["sched"])
    assert (b.last_epoch, b.T_max, b.eta_min) == (3, 10, 0.001)
    assert b.get_last_lr() == a.get_last_lr()
    for _ in range(4):
        a.step()
        b.step()
        assert b.get_last_lr() == a.get_last_lr()


def test_resuming_with_last_epoch_needs_initial_lr():
    with pytest.raises(KeyError, match=r"param group 0 has no 'initial_lr'.*last_epoch=4"):
        S.StepLR(make(), step_size=2, last_epoch=4)
    opt = make()
    S.StepLR(opt, step_size=2, gamma=0.5)  # records initial_lr = 1 in the group
    resumed = S.StepLR(opt, step_size=2, gamma=0.5, last_epoch=4)
    assert resumed.last_epoch == 5 and resumed.get_last_lr() == pytest.approx([0.25])  # .5 ** (5 // 2)


@pytest.mark.parametrize("build, error, match", [
    (lambda o: S.StepLR("sgd", step_size=1), TypeError, r"StepLR needs an Optimizer, got str"),
    (lambda o: S.StepLR(o, step_size=0), ValueError, r"step_size must be a positive integer, got 0"),
    (lambda o: S.StepLR(o, step_size=1.5), ValueError, r"step_size must be a positive integer, got 1.5"),
    (lambda o: S.StepLR(o, step_size=1, gamma=-0.1), ValueError, r"gamma must be a number > 0, got -0.1"),
    (lambda o: S.MultiStepLR(o, [2, -1]), ValueError, r"milestones must be integers >= 0"),
    (lambda o: S.ExponentialLR(o, gamma=0), ValueError, r"gamma must be a number > 0"),
    (lambda o: S.CosineAnnealingLR(o, T_max=0), ValueError, r"T_max must be a positive integer, got 0"),
    (lambda o: S.CosineAnnealingLR(o, T_max=5, eta_min=-1), ValueError, r"eta_min must be a number >= 0"),
    (lambda o: S.LambdaLR(o, [lambda e: 1.0, lambda e: 1.0]), ValueError, r"expected 1 lr_lambdas.*got 2"),
    (lambda o: S.LambdaLR(o, 0.5), TypeError, r"lr_lambda must be a function of the epoch"),
    (lambda o: S.StepLR(o, step_size=1, last_epoch=-2), ValueError, r"last_epoch must be an integer >= -1"),
    (lambda o: S.ReduceLROnPlateau(o, mode="up"), ValueError, r"mode must be 'min' or 'max', got 'up'"),
    (lambda o: S.ReduceLROnPlateau(o, factor=1.0), ValueError, r"factor must be in \[0, 1\), got 1.0"),
    (lambda o: S.ReduceLROnPlateau(o, threshold_mode="x"), ValueError, r"threshold_mode must be 'rel' or 'abs'"),
    (lambda o: S.ReduceLROnPlateau(o, patience=-1), ValueError, r"patience must be an integer >= 0"),
    (lambda o: S.ReduceLROnPlateau(o, min_lr=[0, 0]), ValueError, r"expected 1 min_lrs"),
])
def test_bad_arguments_are_named(build, error, match):
    with pytest.raises(error, match=match):
        build(make())


# ------------------------------------------------------- ReduceLROnPlateau
def plateau(metrics, **kwargs):
    sched = S.ReduceLROnPlateau(make(1.0), **kwargs)
    out = []
    for m in metrics:
        sched.step(m)
        out.append(sched.get_last_lr()[0])
    return out


def test_plateau_cuts_after_more_than_patience_bad_epochs():
    # patience 1: best 5, 4 (better), 4 (bad 1), 4 (bad 2 > 1: cut to .5), 3 (better),
    # 3 (bad 1), 3 (bad 2: cut to .25), 3 (bad 1)
    got = plateau([5, 4, 4, 4, 3, 3, 3, 3], factor=0.5, patience=1)
    assert got == [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25]


def test_plateau_cooldown_and_min_lr():
    # patience 0, cooldown 1: e1 best; e2 bad -> cut; e3 bad but cooling down; e4 cut; e5 cooling down
    assert plateau([1, 1, 1, 1, 1], factor=0.5, patience=0, cooldown=1) == [1, 0.5, 0.5, 0.25, 0.25]
    # min_lr .3 stops the second cut at .3; after that the lr no longer changes
    assert plateau([1, 1, 1, 1, 1, 1], factor=0.5, patience=0, min_lr=0.3) == [1, 0.5, 0.3, 0.3, 0.3, 0.3]


def test_plateau_mode_max_with_an_absolute_threshold():
    # better means > best + .5: 1 (best), 1.4 (not > 1.5: cut), 2 (better), 2.3 (not > 2.5: cut)
    got = plateau([1, 1.4, 2, 2.3], mode="max", threshold_mode="abs", threshold=0.5, factor=0.5, patience=0)
    assert got == [1, 0.5, 0.5, 0.25]


def test_plateau_relative_threshold():
    # better means < best * (1 - .1): 10 (best), 9.5 (not < 9: bad, cut), 8.9 (better)
    assert plateau([10, 9.5, 8.9], threshold=0.1, factor=0.5, patience=0) == [1, 0.5, 0.5]


def test_plateau_accepts_a_tensor_and_resumes_from_its_state(tmp_path):
    fresh = S.ReduceLROnPlateau(make(1.0))
    mdl.save(fresh.state_dict(), tmp_path / "fresh.npz")  # best = inf survives the file
    assert mdl.load(tmp_path / "fresh.npz")["best"] == math.inf
    a = S.ReduceLROnPlateau(make(1.0), factor=0.5, patience=1)
    for m in [5, 4, 4]:  # one bad epoch so far
        a.step(mdl.tensor(m))
    mdl.save(a.state_dict(), tmp_path / "p.npz")
    b = S.ReduceLROnPlateau(make(1.0))
    b.load_state_dict(mdl.load(tmp_path / "p.npz"))
    assert (b.best, b.num_bad_epochs, b.patience, b.factor) == (4.0, 1, 1, 0.5)
    b.step(4)  # the second bad epoch: cut
    assert b.get_last_lr() == [0.5]
