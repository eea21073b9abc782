"""Initialisation schemes: gains, fans, bounds and the statistics of each distribution."""
import math

import numpy as np
import pytest

import minidl as mdl
from minidl import backend
from minidl.nn import init


def zeros(shape, device="cpu", dtype=np.float32):
    return mdl.tensor(np.zeros(shape, dtype=dtype), device=device)


# Large enough that sample statistics sit within ~1% of the truth.
BIG = (256, 128, 3, 3)  # fan_in = 128*9 = 1152, fan_out = 256*9 = 2304
FAN_IN, FAN_OUT = 1152, 2304


def test_fans_for_linear_and_conv_weights():
    assert init._calculate_fan_in_and_fan_out(zeros((10, 20))) == (20, 10)  # Linear (out, in)
    assert init._calculate_fan_in_and_fan_out(zeros((64, 32, 3, 3))) == (288, 576)  # Conv2d
    assert init._calculate_fan_in_and_fan_out(zeros((8, 4, 5))) == (20, 40)  # Conv1d
    assert init._calculate_fan_in_and_fan_out(np.zeros((3, 7))) == (7, 3)  # raw arrays too
    with pytest.raises(ValueError, match=r"at least 2 dimensions, got shape \(5,\)"):
        init._calculate_fan_in_and_fan_out(zeros((5,)))


def test_gains():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("name, fill, std", [
    ("kaiming_normal relu", lambda t: init.kaiming_normal_(t, nonlinearity="relu"), math.sqrt(2 / FAN_IN)),
    ("kaiming_normal fan_out", lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
     math.sqrt(2 / FAN_OUT)),
    ("kaiming_uniform relu", lambda t: init.kaiming_uniform_(t, nonlinearity="relu"), math.sqrt(2 / FAN_IN)),
    ("kaiming_uniform a=sqrt5", lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)),
     1 / math.sqrt(FAN_IN) / math.sqrt(3)),
    ("xavier_normal", lambda t: init.xavier_normal_(t), math.sqrt(2 / (FAN_IN + FAN_OUT))),
    ("xavier_uniform gain 2", lambda t: init.xavier_uniform_(t, gain=2.0), 2 * math.sqrt(2 / (FAN_IN + FAN_OUT))),
    ("normal", lambda t: init.normal_(t, 0.0, 0.3), 0.3),
])
def test_distribution_std_and_mean(name, fill, std):
    t = zeros(BIG)
    assert fill(t) is t  # fills in place, returns its argument
    a = t.numpy()
    assert a.std() == pytest.approx(std, rel=0.01), name
    assert abs(a.mean()) < 0.01 * std, name  # n ~ 295k: the mean's std is std/543


@pytest.mark.parametrize("fill, bound", [
    (lambda t: init.kaiming_uniform_(t, nonlinearity="relu"), math.sqrt(2) * math.sqrt(3 / FAN_IN)),
    (lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)), 1 / math.sqrt(FAN_IN)),
    (lambda t: init.xavier_uniform_(t), math.sqrt(6 / (FAN_IN + FAN_OUT))),
])
def test_uniform_schemes_respect_their_bounds(fill, bound):
    t = zeros(BIG)
    fill(t)
    a = t.numpy()
    assert a.max() <= bound and a.min() >= -bound
    assert a.max() > 0.999 * bound and a.min() < -0.999 * bound  # and reach them


def test_normal_mean_and_uniform_range():
    t = zeros((300, 300))
    init.normal_(t, mean=2.0, std=0.5)
    assert t.numpy().mean() == pytest.approx(2.0, abs=0.01) and t.numpy().std() == pytest.approx(0.5, rel=0.02)
    init.uniform_(t, 3.0, 5.0)
    a = t.numpy()
    assert a.min() >= 3.0 and a.max() <= 5.0 and a.mean() == pytest.approx(4.0, abs=0.02)


def test_fills_keep_device_and_dtype(device):
    t = zeros((100, 100), device=device, dtype=np.float64)
    init.uniform_(t, -0.2, 0.1)
    assert backend.device_of(t.data) == backend.parse_device(device) and t.dtype == np.float64
    a = t.numpy()
    assert a.min() >= -0.2 and a.max() <= 0.1 and a.min() < -0.19
    init.kaiming_normal_(t)
    assert backend.device_of(t.data) == backend.parse_device(device)
    init.constant_(t, 3.0)
    assert np.all(t.numpy() == 3.0)
    init.zeros_(t)
    assert np.all(t.numpy() == 0.0)
    init.ones_(t)
    assert np.all(t.numpy() == 1.0) and t.device == backend.parse_device(device)


def test_same_numbers_on_every_device(device):
    cpu, other = zeros((5, 4)), zeros((5, 4), device=device)
    init.xavier_normal_(cpu, generator=7)
    init.xavier_normal_(other, generator=7)
    assert np.array_equal(cpu.numpy(), other.numpy())


def test_generators_and_seeds():
    a, b, c = zeros((4, 4)), zeros((4, 4)), zeros((4, 4))
    init.kaiming_uniform_(a, generator=np.random.default_rng(1))
    init.kaiming_uniform_(b, generator=np.random.default_rng(1))
    assert np.array_equal(a.numpy(), b.numpy())
    init.kaiming_uniform_(c, generator=1)  # an int seed works as well
    assert np.array_equal(a.numpy(), c.numpy())
    mdl.manual_seed(5)
    init.normal_(a)
    init.normal_(b)  # the default generator moves on: different draws
    mdl.manual_seed(5)
    init.normal_(c)
    assert np.array_equal(a.numpy(), c.numpy()) and not np.array_equal(a.numpy(), b.numpy())
    with pytest.raises(TypeError, match="generator must be"):
        init.normal_(a, generator="seed")


def test_raw_arrays_and_empty_tensors():
    a = np.zeros((3, 4), dtype=np.float32)
    assert init.constant_(a, 2.0) is a and np.all(a == 2.0)
    empty = zeros((0, 3))
    assert init.kaiming_uniform_(empty) is empty and init.kaiming_normal_(empty) is empty
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_normal_(zeros((2, 2)), mode="fan")
