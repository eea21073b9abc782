"""NAdam against trajectories worked out by hand, and against torch.optim.NAdam.

Runs use betas = (0.5, 0.5), lr = 0.1 and eps = 0 unless they say otherwise,
from p = 1 with gradients 1, -1: then d = 1 at both steps, which keeps the
arithmetic short,

    t=1: m = .5               v = .5             d = sqrt(.5 / (1 - .5)) = 1
    t=2: m = .25 - .5 = -.25  v = .25 + .5 = .75 d = sqrt(.75 / (1 - .25)) = 1

and the momentum schedule mu_t = .5 (1 - .5 * .96^(t psi)) with psi = momentum_decay.
"""

import numpy as np
import pytest

import minidl as mdl
from minidl import optim

GRADS = (1.0, -1.0)
SMALL = dict(lr=0.1, betas=(0.5, 0.5), eps=0.0)


def _mu(t, psi=4e-3, beta1=0.5):
    return beta1 * (1 - 0.5 * 0.96 ** (t * psi))


def _two_steps(psi=4e-3, g=(1.0, -1.0), m=(0.5, -0.25)):
    # p <- p - lr (1 - mu_t) / (1 - P_t) g_t / d - lr mu_{t+1} / (1 - P_t mu_{t+1}) m_t / d,   d = 1
    mu1, mu2, mu3 = _mu(1, psi), _mu(2, psi), _mu(3, psi)
    p1 = 1 - 0.1 * (1 - mu1) / (1 - mu1) * g[0] - 0.1 * mu2 / (1 - mu1 * mu2) * m[0]
    p2 = p1 - 0.1 * (1 - mu2) / (1 - mu1 * mu2) * g[1] - 0.1 * mu3 / (1 - mu1 * mu2 * mu3) * m[1]
    return [p1, p2]


def test_two_steps(trajectory, device):
    # mu1 = .250041, mu2 = .250082, mu3 = .250122 (psi = .004): 1 - mu1 mu2 = .937469,
    # p1 = 1 - .1 - .1 * .250082 / .937469 * .5 = .886662
    got = trajectory(lambda ps: optim.NAdam(ps, **SMALL), device)
    assert got == pytest.approx(_two_steps(), rel=1e-12)
    assert got[0] == pytest.approx(1 - 0.1 - 0.1 * 0.250082 / 0.937469 * 0.5, rel=1e-5)


def test_momentum_decay_sets_the_schedule(trajectory, device):
    got = trajectory(lambda ps: optim.NAdam(ps, momentum_decay=0.5, **SMALL), device)
    assert got == pytest.approx(_two_steps(psi=0.5), rel=1e-12)


def test_eps_is_added_after_the_bias_correction(trajectory, device):
    # d = sqrt(v / (1 - beta2^t)) + eps = 1.5 at both steps: every term of the step is divided by 1.5
    mu1, mu2 = _mu(1), _mu(2)
    p1 = 1 - (0.1 + 0.1 * mu2 / (1 - mu1 * mu2) * 0.5) / 1.5
    got = trajectory(lambda ps: optim.NAdam(ps, lr=0.1, betas=(0.5, 0.5), eps=0.5), device, grads=GRADS[:1])
    assert got == pytest.approx([p1], rel=1e-12)


def test_weight_decay_is_l2_added_to_the_gradient(trajectory, device):
    # g1' = 1 + 1 * 1 = 2: m = 1, v = 2, d = sqrt(2 / .5) = 2: p1 = 1 - .1 * 2 / 2 - .1 mu2 / (1 - mu1 mu2) * 1 / 2
    mu1, mu2 = _mu(1), _mu(2)
    p1 = 1 - 0.1 - 0.1 * mu2 / (1 - mu1 * mu2) * 0.5
    got = trajectory(lambda ps: optim.NAdam(ps, weight_decay=1.0, **SMALL), device, grads=GRADS[:1])
    assert got == pytest.approx([p1], rel=1e-12)


def test_decoupled_weight_decay_shrinks_the_weights_first(trajectory, device):
    # p <- 1 * (1 - .1 * .5) = .95, then the plain step of g = 1
    mu1, mu2 = _mu(1), _mu(2)
    p1 = 0.95 - 0.1 - 0.1 * mu2 / (1 - mu1 * mu2) * 0.5
    got = trajectory(lambda ps: optim.NAdam(ps, weight_decay=0.5, decoupled_weight_decay=True, **SMALL), device,
                     grads=GRADS[:1])
    assert got == pytest.approx([p1], rel=1e-12)


def test_maximize(trajectory, device):
    mu1, mu2 = _mu(1), _mu(2)
    got = trajectory(lambda ps: optim.NAdam(ps, maximize=True, **SMALL), device, grads=GRADS[:1])
    assert got == pytest.approx([1 + 0.1 + 0.1 * mu2 / (1 - mu1 * mu2) * 0.5], rel=1e-12)


def test_state_and_its_round_trip(device, xp, resumes_identically):
    p = mdl.tensor([1.0, 2.0], requires_grad=True, device=device)
    opt = optim.NAdam([p], lr=0.1)
    p.grad = xp.ones(2, dtype=np.float32)
    opt.step()
    assert set(opt.state[p]) == {"step", "mu_product", "exp_avg", "exp_avg_sq"}
    assert opt.state[p]["mu_product"] == pytest.approx(_mu(1, beta1=0.9), rel=1e-12)
    assert all(opt.state[p][k].dtype == np.float32 for k in ("exp_avg", "exp_avg_sq"))
    resumes_identically(opt, p, lambda params: optim.NAdam(params, lr=0.5), device)


def test_state_dict_survives_save_and_load(tmp_path):
    p = mdl.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.NAdam([p], betas=[0.8, 0.9])
    p.grad = np.ones(2, dtype=np.float32)
    opt.step()
    mdl.save(opt.state_dict(), tmp_path / "opt.npz")
    fresh = optim.NAdam([mdl.tensor([1.0, 2.0], requires_grad=True)])
    fresh.load_state_dict(mdl.load(tmp_path / "opt.npz"))
    assert fresh.param_groups[0]["betas"] == (0.8, 0.9)


def test_defaults_as_pytorch():
    d = optim.NAdam([mdl.tensor([1.0], requires_grad=True)]).defaults
    assert d == dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                     decoupled_weight_decay=False, maximize=False)


@pytest.fixture
def torch64():
    """torch with float64 as its default dtype: it keeps NAdam's mu_product in that dtype (float32 otherwise)."""
    torch = pytest.importorskip("torch")
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(previous)


@pytest.mark.parametrize("kwargs", [
    dict(), dict(lr=0.05, betas=(0.8, 0.99)), dict(weight_decay=0.1), dict(momentum_decay=0.1, eps=1e-4),
    dict(weight_decay=0.1, decoupled_weight_decay=True), dict(maximize=True),
])
def test_ten_steps_match_torch(kwargs, rng, follows_torch, torch64):
    torch = torch64
    follows_torch(optim.NAdam, torch.optim.NAdam, kwargs, rng)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(lr=-0.01), ValueError, r"NAdam: invalid learning rate lr=-0.01"),
    (dict(betas=(1.0, 0.9)), ValueError, r"NAdam: invalid beta parameter at index 0: 1.0"),
    (dict(betas=(0.9,)), TypeError, r"NAdam: betas must be a pair \(beta1, beta2\), got \(0.9,\)"),
    (dict(momentum_decay=-1.0), ValueError, r"NAdam: invalid momentum_decay=-1.0: must be >= 0"),
    (dict(eps=-1.0), ValueError, r"invalid eps=-1.0"),
    (dict(weight_decay=-1.0), ValueError, r"invalid weight_decay=-1.0"),
])
def test_bad_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        optim.NAdam([mdl.tensor([1.0], requires_grad=True)], **kwargs)
