"""The gradient checker: students trust it, so it must catch what it should."""
import warnings

import numpy as np
import pytest

import minidl as mdl
from minidl import Function


class Double(Function):
    def forward(self, x):
        return 2 * x

    def backward(self, gy):
        return 2 * gy


class WrongScale(Double):
    def backward(self, gy):
        return gy  # off by a factor of 2


class MissingTranspose(Function):
    """y = x @ W with a backward that forgets the transpose for square W."""

    def forward(self, x, w):
        self.x, self.w = x, w
        return x @ w

    def backward(self, gy):
        return gy @ self.w, self.x.T @ gy  # should be gy @ self.w.T


def test_passes_on_correct_ops(rng, device):
    x = mdl.tensor(rng.standard_normal((3, 4)), requires_grad=True, device=device)
    w = mdl.tensor(rng.standard_normal((4, 2)), requires_grad=True, device=device)
    assert mdl.gradcheck(lambda a, b: Double()(a) @ b, (x, w))
    assert mdl.gradcheck(lambda a, b: Double()(a) @ b, (x, w), fast_mode=True)


def test_arrays_become_checked_inputs(rng):
    assert mdl.gradcheck(lambda a: Double()(a), rng.standard_normal(5))


def test_failure_names_input_index_values_and_tolerance(rng):
    x = rng.standard_normal((2, 3))
    with pytest.raises(mdl.GradcheckError) as info:
        mdl.gradcheck(lambda a: WrongScale()(a), (x,))
    msg = str(info.value)
    assert "input 0" in msg and "shape (2, 3)" in msg and "at index (" in msg
    assert "analytical" in msg and "numerical" in msg and "relative error 0.5" in msg
    assert "rtol=0.001" in msg


def test_random_upstream_gradient_catches_missing_transpose(rng):
    x = rng.standard_normal((3, 3))
    w = rng.standard_normal((3, 3))
    with pytest.raises(mdl.GradcheckError, match="input 0"):
        mdl.gradcheck(lambda a, b: MissingTranspose()(a, b), (x, w))


def test_fast_mode_catches_a_wrong_backward(rng):
    with pytest.raises(mdl.GradcheckError, match="fast_mode"):
        mdl.gradcheck(lambda a: WrongScale()(a), (rng.standard_normal(50),), fast_mode=True)


def test_raise_exception_false_returns_false(rng):
    assert mdl.gradcheck(lambda a: WrongScale()(a), (rng.standard_normal(2),), raise_exception=False) is False


def test_warns_on_float32_inputs(rng):
    x = rng.standard_normal(3).astype(np.float32)
    with pytest.warns(UserWarning, match="float64"):
        mdl.gradcheck(lambda a: Double()(a), (x,), atol=1e-2, rtol=1e-2)


def test_nondeterministic_backward_is_caught(rng):
    calls = []

    class Noisy(Double):
        def backward(self, gy):
            calls.append(1)
            return 2 * gy + 1e-3 * len(calls)

    with pytest.raises(mdl.GradcheckError, match="not reproducible"):
        mdl.gradcheck(lambda a: Noisy()(a), (rng.standard_normal(2),), atol=1, rtol=1)


def test_inputs_left_as_found(rng):
    x = mdl.tensor(rng.standard_normal(3), requires_grad=True)
    before = x.data.copy()
    mdl.gradcheck(lambda a: Double()(a), (x,))
    assert np.array_equal(x.data, before) and x.grad is None


def test_non_differentiable_inputs_pass_through(rng):
    mask = mdl.tensor(np.array([1.0, 0.0, 1.0]))
    x = mdl.tensor(rng.standard_normal(3), requires_grad=True)
    assert mdl.gradcheck(lambda a, m: a * m, (x, mask))


def test_needs_a_checked_input():
    with pytest.raises(ValueError, match="requires_grad"):
        mdl.gradcheck(lambda a: a, (mdl.tensor([1.0]),))


def test_several_outputs(rng):
    class Split(Function):
        def forward(self, x):
            return x * 2, x * x

        def backward(self, g1, g2):
            return 2 * g1 + 2 * self_x[0] * g2

    x = rng.standard_normal(4)
    self_x = []

    def f(a):
        self_x.clear()
        self_x.append(a.data)
        return Split()(a)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mdl.gradcheck(f, (x,))


def test_one_tensor_passed_twice(rng):
    a = mdl.tensor(rng.standard_normal(3), requires_grad=True)
    c = mdl.tensor(rng.standard_normal(3), requires_grad=True)
    assert mdl.gradcheck(lambda u, v, w: u * v * w, (a, c, a))
