"""dtype rules (minidl/functional/_dtypes.py): integer promotion and the layer dtype check."""
import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F
from minidl import backend, nn


@pytest.fixture
def float64_default():
    previous = backend.get_default_dtype()
    mdl.set_default_dtype(np.float64)
    yield
    mdl.set_default_dtype(previous)


def _int(values, device):
    return mdl.tensor(np.asarray(values, dtype=np.int64), device=device)


# ------------------------------------------------------------------ promotion
def test_integers_meeting_float_math_become_float32(device):
    i = _int([1, 2], device)
    cases = {
        "i / 2": i / 2, "i / i": i / i, "2 / i": 2 / i, "i + 0.5": i + 0.5, "0.5 * i": 0.5 * i,
        "i - 0.5": i - 0.5, "i ** 0.5": i ** 0.5, "0.7 ** i": 0.7 ** i,
        "exp": i.exp(), "log": i.log(), "sqrt": i.sqrt(), "mean": i.mean(),
        "sigmoid": i.sigmoid(), "tanh": i.tanh(), "softmax": F.softmax(i), "log_softmax": F.log_softmax(i),
        "i + float32": i + mdl.tensor([0.5, 0.5], device=device),
        "i @ float32": i @ mdl.tensor([0.5, 0.5], device=device),
    }
    wrong = {k: v.dtype for k, v in cases.items() if v.dtype != np.float32}
    assert not wrong  # before: all float64
    assert (i / 2).tolist() == [0.5, 1.0] and (i + 0.5).tolist() == [1.5, 2.5]
    assert np.allclose((0.7 ** i).numpy(), [0.7, 0.49]) and np.isclose(i.mean().item(), 1.5)


def test_integer_arithmetic_stays_integer_and_float64_wins(device):
    i = _int([1, 2], device)
    assert (i + 1).dtype == np.int64 and (i * i).dtype == np.int64 and (i ** 2).dtype == np.int64
    assert (2 ** i).tolist() == [2, 4] and i.sum().dtype == np.int64
    d = mdl.tensor([0.5, 0.5], dtype=np.float64, device=device)
    assert (i * d).dtype == np.float64 and (d - i).dtype == np.float64
    f = mdl.tensor([0.5, 0.5], device=device)
    assert (f * 2).dtype == np.float32 and (f + 0.25).dtype == np.float32


def test_promotion_follows_set_default_dtype(device, float64_default):
    i = _int([1, 2], device)
    assert (i / 2).dtype == np.float64 and (i + 0.5).dtype == np.float64 and i.exp().dtype == np.float64


def test_a_float_tensor_still_gets_its_gradient_through_promotion(device):
    w = mdl.tensor([2.0, 3.0], requires_grad=True, device=device)
    (w * _int([1, 2], device) / _int([2, 2], device)).sum().backward()
    assert w.grad.dtype == np.float32 and w.grad.tolist() == [0.5, 1.0]


# ------------------------------------------------------- layers and dtypes
def _layers():
    return {
        "linear": (nn.Linear(3, 2), (4, 3)),
        "conv2d": (nn.Conv2d(3, 2, 3), (2, 3, 5, 5)),
        "batch_norm": (nn.BatchNorm1d(3), (4, 3)),
        "batch_norm ": (nn.BatchNorm2d(3, affine=False), (2, 3, 4, 4)),  # buffers only
    }


@pytest.mark.parametrize("dtype", [np.float64, np.int64])
@pytest.mark.parametrize("name", list(_layers()))
def test_float32_layers_refuse_other_dtypes_naming_both(name, dtype, device):
    layer, shape = _layers()[name]
    layer.to(device)
    x = mdl.tensor(np.ones(shape, dtype=dtype), device=device)
    with pytest.raises(TypeError, match=rf"{name.strip()}: input dtype {np.dtype(dtype)} does not match "
                                        rf"\w+ dtype float32; cast the input"):
        layer(x)  # before: Linear and BatchNorm silently returned float64
    assert layer(mdl.tensor(np.ones(shape, dtype=np.float32), device=device)).dtype == np.float32
    assert layer.double()(mdl.tensor(np.ones(shape), device=device)).dtype == np.float64


def test_functional_forms_check_bias_too():
    x, w = mdl.tensor(np.ones((2, 3))), mdl.tensor(np.ones((4, 3)))
    with pytest.raises(TypeError, match="linear: input dtype float64 does not match bias dtype float32"):
        F.linear(x, w, mdl.tensor(np.ones(4, dtype=np.float32)))
