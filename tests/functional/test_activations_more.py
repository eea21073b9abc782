"""The activations added for issue 10: ELU, SELU, CELU, SiLU, GELU, Mish, Softplus, Softsign,
Hardswish, Hardsigmoid, Hardtanh, LogSigmoid, PReLU. Gradchecks for every option, hand values,
PyTorch's gradient at each kink (values read from torch 2.13), stability, integer promotion, errors."""
import math

import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F
from minidl import backend

KINKS = (0.0, 1.0, -1.0, 3.0, -3.0, 0.5, -2.0)


def away_from_kinks(rng, shape, scale=4.0):
    """Draws over (-scale, scale), none within 0.05 of a kink (0, +-1, +-3, and hardtanh's -2, 0.5)."""
    a = rng.uniform(-scale, scale, shape)
    for kink in KINKS:
        a = np.where(np.abs(a - kink) < 0.05, kink + 0.17, a)
    return a


ACTIVATIONS = {
    "elu": F.elu, "elu(alpha=0.5)": lambda x: F.elu(x, alpha=0.5), "elu(2.0)": lambda x: F.elu(x, 2.0),
    "selu": F.selu,
    "celu": F.celu, "celu(alpha=0.5)": lambda x: F.celu(x, alpha=0.5), "celu(2.0)": lambda x: F.celu(x, 2.0),
    "silu": F.silu,
    "gelu": F.gelu, "gelu(approximate='tanh')": lambda x: F.gelu(x, approximate="tanh"),
    "mish": F.mish,
    "softplus": F.softplus, "softplus(beta=2)": lambda x: F.softplus(x, beta=2.0),
    "softplus(beta=0.5, threshold=1)": lambda x: F.softplus(x, 0.5, 1.0),  # past the threshold: the line
    "softplus(threshold=2)": lambda x: F.softplus(x, threshold=2.0),
    "softsign": F.softsign,
    "hardswish": F.hardswish, "hardsigmoid": F.hardsigmoid,
    "hardtanh": F.hardtanh, "hardtanh(-2, 0.5)": lambda x: F.hardtanh(x, min_val=-2.0, max_val=0.5),
    "logsigmoid": F.logsigmoid,
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("shape", [(3, 5), (2, 3, 4)])
def test_gradcheck(name, shape, device, rng):
    x = mdl.tensor(away_from_kinks(rng, shape), requires_grad=True, device=device)
    assert mdl.gradcheck(ACTIVATIONS[name], (x,))


@pytest.mark.parametrize("shape, weight", [((2, 3, 4), (1,)), ((2, 3, 4, 2), (3,)), ((5, 3), (3,)), ((6,), (1,))])
def test_prelu_gradcheck_input_and_weight(shape, weight, device, rng):
    x = mdl.tensor(away_from_kinks(rng, shape), requires_grad=True, device=device)
    w = mdl.tensor(rng.uniform(0.1, 0.6, weight), requires_grad=True, device=device)
    assert mdl.gradcheck(F.prelu, (x, w))
    assert mdl.gradcheck(lambda x, w: x.prelu(w), (x, w))  # the Tensor method


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_keep_float32_shape_and_device_and_promote_integers(name, device, rng):
    x = mdl.tensor(away_from_kinks(rng, (2, 3)).astype(np.float32), requires_grad=True, device=device)
    y = ACTIVATIONS[name](x)
    assert y.dtype == np.float32 and y.shape == (2, 3)
    assert backend.device_of(y.data) == backend.parse_device(device)
    y.sum().backward()
    assert x.grad.dtype == np.float32 and backend.device_of(x.grad) == backend.parse_device(device)
    assert ACTIVATIONS[name](mdl.tensor([-2, 0, 2], device=device)).dtype == np.float32  # int -> float32


def test_hand_values(device):
    x = mdl.tensor([-2.0, 0.0, 1.0], device=device)
    e2 = math.exp(-2)
    assert np.allclose(F.elu(x).numpy(), [e2 - 1, 0, 1])
    assert np.allclose(F.elu(x, 0.5).numpy(), [0.5 * (e2 - 1), 0, 1])
    assert np.allclose(F.selu(x).numpy(), [1.0507009873554805 * 1.6732632423543772 * (e2 - 1), 0, 1.0507009873554805])
    assert np.allclose(F.celu(x, 2.0).numpy(), [2 * (math.exp(-1) - 1), 0, 1])
    assert np.allclose(F.silu(x).numpy(), [-2 / (1 + math.exp(2)), 0, 1 / (1 + math.exp(-1))])
    assert np.allclose(F.gelu(x).numpy(), [-2 * 0.5 * (1 + math.erf(-2 / math.sqrt(2))), 0, 0.8413447460685429])
    u = math.sqrt(2 / math.pi) * (1 + 0.044715)
    assert np.allclose(F.gelu(x, approximate="tanh").numpy(), [-0.04540230591222, 0, 0.5 * (1 + math.tanh(u))])
    sp1 = math.log1p(math.e)
    assert np.allclose(F.mish(x).numpy(), [-2 * math.tanh(math.log1p(e2)), 0, math.tanh(sp1)])
    assert np.allclose(F.softplus(x).numpy(), [math.log1p(e2), math.log(2), sp1])
    assert np.allclose(F.softplus(x, beta=2.0).numpy(), [math.log1p(math.exp(-4)) / 2, math.log(2) / 2,
                                                          math.log1p(math.exp(2)) / 2])
    assert np.allclose(F.softplus(x, threshold=0.5).numpy(), [math.log1p(e2), math.log(2), 1.0])  # 1 > 0.5: x
    assert np.allclose(F.softsign(x).numpy(), [-2 / 3, 0, 0.5])
    assert np.allclose(F.hardswish(x).numpy(), [-2 * 1 / 6, 0, 4 / 6])
    assert np.allclose(F.hardsigmoid(x).numpy(), [1 / 6, 0.5, 4 / 6])
    assert np.allclose(F.hardtanh(x).numpy(), [-1, 0, 1])
    assert np.allclose(F.hardtanh(x, -0.5, 2.0).numpy(), [-0.5, 0, 1])
    assert np.allclose(F.logsigmoid(x).numpy(), [-math.log1p(math.exp(2)), -math.log(2), -math.log1p(math.exp(-1))])


# PyTorch 2.13's gradient of each activation (its sum) at x = -3, 0, 3, 1, -1: kinks and the sides of them.
AT_KINKS = np.array([-3.0, 0.0, 3.0, 1.0, -1.0])
TORCH_KINK_GRADIENTS = {
    "elu": (F.elu, [0.049787068367863944, 1.0, 1.0, 1.0, 0.36787944117144233]),
    "selu": (F.selu, [0.08753061208026487, 1.7580993408473766, 1.0507009873554805, 1.0507009873554805,
                      0.646768603034814]),  # at 0: the negative side, scale * alpha
    "celu": (F.celu, [0.049787068367863944, 1.0, 1.0, 1.0, 0.36787944117144233]),
    "hardswish": (F.hardswish, [0.0, 0.5, 1.0, 0.8333333333333333, 0.16666666666666669]),
    "hardsigmoid": (F.hardsigmoid, [0.0, 1 / 6, 0.0, 1 / 6, 1 / 6]),
    "hardtanh": (F.hardtanh, [0.0, 1.0, 0.0, 0.0, 0.0]),
    "softplus(threshold=1)": (lambda x: F.softplus(x, 1.0, 1.0),
                              [0.04742587317756679, 0.5, 1.0, 0.7310585786300049, 0.2689414213699951]),
}


@pytest.mark.parametrize("name", sorted(TORCH_KINK_GRADIENTS))
def test_gradient_at_kinks_is_pytorchs(name, device):
    fn, expected = TORCH_KINK_GRADIENTS[name]
    x = mdl.tensor(AT_KINKS, requires_grad=True, device=device)
    fn(x).sum().backward()
    assert np.allclose(backend.to_numpy(x.grad), expected, rtol=1e-12, atol=1e-12)


def test_prelu_hand_values_and_gradients(device, xp):
    x = mdl.tensor([[1.0, -2.0, 0.0], [-1.0, 3.0, -4.0]], requires_grad=True, device=device)  # (N=2, C=3)
    w = mdl.tensor([0.1, 0.2, 0.3], requires_grad=True, device=device)
    y = F.prelu(x, w)
    assert np.allclose(y.numpy(), [[1.0, -0.4, 0.0], [-0.1, 3.0, -1.2]])
    y.backward(xp.ones((2, 3)))
    assert np.allclose(backend.to_numpy(x.grad), [[1.0, 0.2, 0.3], [0.1, 1.0, 0.3]])  # at 0: the slope, as torch
    assert np.allclose(backend.to_numpy(w.grad), [-1.0, -2.0, -4.0])  # sum of x where x <= 0, per channel
    one = mdl.tensor([0.25], requires_grad=True, device=device)
    F.prelu(x.detach(), one).sum().backward()
    assert np.allclose(backend.to_numpy(one.grad), [-7.0])  # one slope: every negative x


def test_stable_for_large_inputs(device):
    big = mdl.tensor([-1000.0, -50.0, 50.0, 1000.0], requires_grad=True, device=device)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert np.allclose(F.logsigmoid(big).numpy(), [-1000.0, -50.0, -math.exp(-50), 0.0])
        assert np.allclose(F.softplus(big).numpy(), [0.0, math.exp(-50), 50.0, 1000.0])
        assert np.allclose(F.elu(big).numpy(), [-1.0, -1.0, 50.0, 1000.0])
        assert np.allclose(F.mish(big).numpy(), [0.0, -50 * math.exp(-50), 50.0, 1000.0])
        assert np.allclose(F.silu(big).numpy(), [0.0, -50 * math.exp(-50), 50.0, 1000.0])
        assert np.allclose(F.gelu(big).numpy(), [0.0, 0.0, 50.0, 1000.0])
        F.logsigmoid(big).sum().backward()
    assert np.allclose(backend.to_numpy(big.grad), [1.0, 1.0, math.exp(-50), 0.0])
    assert F.logsigmoid(mdl.tensor([-100.0], dtype="float32")).item() == pytest.approx(-100.0)  # log(sigmoid) = -inf


def test_errors():
    x = mdl.tensor([[1.0, -1.0, 0.5]])
    with pytest.raises(ValueError, match="celu: alpha must not be 0"):
        F.celu(x, alpha=0.0)
    with pytest.raises(ValueError, match="elu: alpha must be a finite real number, got 'a'"):
        F.elu(x, alpha="a")
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh', got 'erf'"):
        F.gelu(x, approximate="erf")
    with pytest.raises(ValueError, match="softplus: beta must be > 0, got 0.0"):
        F.softplus(x, beta=0)
    with pytest.raises(ValueError, match="softplus: threshold must be a finite real number, got nan"):
        F.softplus(x, threshold=float("nan"))
    with pytest.raises(ValueError, match="hardtanh: min_val must be <= max_val, got min_val=1.0, max_val=-1.0"):
        F.hardtanh(x, 1.0, -1.0)
    with pytest.raises(ValueError, match=r"prelu: weight must have shape \(1,\) or \(3,\).*got \(2,\)"):
        F.prelu(x, mdl.tensor([0.1, 0.2]))
    with pytest.raises(ValueError, match=r"prelu: weight must have shape \(1,\) or \(3,\).*got \(1, 3\)"):
        F.prelu(x, mdl.tensor([[0.1, 0.2, 0.3]]))
    with pytest.raises(ValueError, match=r"prelu: weight must have shape \(1,\) or \(1,\).*input of shape \(3,\)"):
        F.prelu(mdl.tensor([1.0, 2.0, 3.0]), mdl.tensor([0.1, 0.2, 0.3]))  # 1-D input: one channel, as torch
    with pytest.raises(TypeError, match="prelu: input dtype float64 does not match weight dtype float32"):
        F.prelu(mdl.tensor([[1.0, -1.0]], dtype="float64"), mdl.tensor([0.25], dtype="float32"))
