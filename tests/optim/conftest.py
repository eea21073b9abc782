"""The optimizer tests' shared helpers."""
import numpy as np
import pytest

import minidl as mdl
from minidl import backend


@pytest.fixture
def trajectory(request):
    """``trajectory(make, device, grads, p0)``: p after each step of ``make([p])``.

    p starts as [p0] in float64 on ``device``; the steps are fed the gradients
    ``grads`` (default: the test module's GRADS). p must stay on its device.
    """

    def run(make, device="cpu", grads=None, p0=1.0):
        xp = backend.namespace(device)
        p = mdl.tensor([p0], requires_grad=True, dtype=np.float64, device=device)
        opt = make([p])
        out = []
        for g in request.module.GRADS if grads is None else grads:
            p.grad = xp.asarray(np.array([g]))
            opt.step()
            assert backend.device_of(p.data) == backend.device_of(xp.zeros(1))
            out.append(float(p.data[0]))
        return out

    return run


@pytest.fixture
def follows_torch():
    """``follows_torch(ours_class, torch_class, kwargs, rng)``: asserts the two optimizers stay equal."""
    return _assert_follows_torch


def _assert_follows_torch(ours_class, torch_class, kwargs: dict, rng, steps: int = 10) -> None:
    """minidl's optimizer and PyTorch's, fed the same float64 gradients, stay equal step by step (1e-12)."""
    torch = pytest.importorskip("torch")
    p0, grads = rng.standard_normal(4), rng.standard_normal((steps, 4))
    ours = mdl.tensor(p0.copy(), requires_grad=True)
    theirs = torch.tensor(p0.copy(), requires_grad=True)
    a, b = ours_class([ours], **kwargs), torch_class([theirs], **kwargs)
    for g in grads:
        ours.grad, theirs.grad = g.copy(), torch.tensor(g)
        a.step()
        b.step()
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.fixture
def resumes_identically():
    """``resumes_identically(opt, p, make, device)``: after one step of ``opt`` (lr 0.1) on p (2 values),
    a fresh ``make([q])`` loaded with opt's state_dict takes the very same next step."""
    return _assert_resumes_identically


def _assert_resumes_identically(opt, p, make, device) -> None:
    xp = backend.namespace(device)
    saved = opt.state_dict()
    q = mdl.tensor(p.numpy(), requires_grad=True, device=device)
    fresh = make([q])
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == 0.1 and fresh.state[q]["step"] == 1
    p.grad = q.grad = xp.ones(2, dtype=np.float32)
    opt.step()
    fresh.step()
    np.testing.assert_array_equal(p.numpy(), q.numpy())
