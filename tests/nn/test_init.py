"""Initialisation schemes: gains, fans, and the statistics of each distribution."""
import math

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
from minidl.nn import init


def big(shape=(256, 128, 3, 3)):
    return mdl.tensor(np.zeros(shape, dtype=np.float32))


def test_fans():
    assert init._calculate_fan_in_and_fan_out(big((64, 32, 3, 3))) == (288, 576)
    assert init._calculate_fan_in_and_fan_out(big((10, 20))) == (20, 10)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init._calculate_fan_in_and_fan_out(big((5,)))


def test_gains():
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(2 / 6))
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("scheme, expected_std", [
    (lambda t: init.kaiming_normal_(t, nonlinearity="relu"), math.sqrt(2 / 1152)),
    (lambda t: init.kaiming_uniform_(t, nonlinearity="relu"), math.sqrt(2 / 1152)),
    (lambda t: init.xavier_normal_(t), math.sqrt(2 / (1152 + 2304))),
    (lambda t: init.xavier_uniform_(t), math.sqrt(2 / (1152 + 2304))),
    (lambda t: init.normal_(t, 0.0, 0.3), 0.3),
])
def test_distribution_std(scheme, expected_std):
    t = big()
    scheme(t)
    assert t.numpy().std() == pytest.approx(expected_std, rel=0.02)
    assert abs(t.numpy().mean()) < 0.05 * expected_std * 10


def test_uniform_bounds_and_constants(device):
    t = mdl.tensor(np.zeros((100, 100), dtype=np.float32), device=device)
    init.uniform_(t, -0.2, 0.1)
    a = t.numpy()
    assert a.min() >= -0.2 and a.max() <= 0.1 and a.min() < -0.19
    init.constant_(t, 3.0)
    assert np.all(t.numpy() == 3.0)
    init.zeros_(t)
    init.ones_(t)
    assert np.all(t.numpy() == 1.0) and t.device == mdl.backend.parse_device(device)


def test_generator_gives_fixed_draws():
    a, b = big((4, 4)), big((4, 4))
    init.kaiming_uniform_(a, generator=np.random.default_rng(1))
    init.kaiming_uniform_(b, generator=np.random.default_rng(1))
    assert np.array_equal(a.numpy(), b.numpy())
