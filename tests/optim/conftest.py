"""The optimizer tests' shared helper."""
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
