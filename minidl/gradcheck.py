"""Check a backward pass against finite differences.

For a function y = f(x) and a random upstream gradient v (the same shape as
y), backward should give the gradient of the scalar L(x) = <v, f(x)>:

    analytical:  g = backward(v)                       one backward pass
    numerical:   g[i] ~ (L(x + eps e_i) - L(x - eps e_i)) / (2 eps)

The central difference is accurate to O(eps^2), but each evaluation of L is
rounded to the float's precision; in float32 (about 7 digits) the rounding
error divided by 2*eps swamps the answer, so checks run in float64.

Why a random v and not all ones? With v = 1 every output element weighs the
same, so a backward that mixes up rows and columns (a missing transpose) can
still sum to the right numbers. A random v catches it.

``fast_mode`` checks one random direction u across all inputs at once:
(L(x + eps u) - L(x - eps u)) / (2 eps) must equal sum_i <g_i, u_i>. That is
two forward passes and one backward, whatever the size of the inputs.

:func:`gradgradcheck` checks second derivatives the same way: the first
derivative, built with ``create_graph=True``, is itself a function of the
inputs (and of v), and gradcheck compares *its* backward with differences.
"""
from __future__ import annotations

import itertools
import warnings
from typing import Any, Callable

import numpy

from . import backend
from .autograd import Tensor, enable_grad, grad, no_grad


class GradcheckError(RuntimeError):
    """The analytical gradient disagrees with the numerical one."""


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    fast_mode: bool = False,
    seed: int = 0,
) -> bool:
    """Compare ``fn``'s backward with central finite differences.

    Args:
        fn: takes the inputs (as Tensors), returns a Tensor or a tuple of Tensors.
        inputs: a Tensor, an array, or a sequence of them. Tensors with
            ``requires_grad=True`` are checked; floating arrays become checked
            Tensors; anything else is passed through unchecked.
        eps: the finite-difference step.
        atol, rtol: element i passes when |analytical - numerical| <= atol + rtol * |numerical|.
        raise_exception: raise :class:`GradcheckError` on failure (else return False).
        nondet_tol: how far two backward passes may differ (0: bit for bit).
        fast_mode: check one random direction instead of every element.
        seed: seeds the random upstream gradient and direction.

    Returns:
        True when every check passes.
    """
    args = _as_inputs(inputs)
    checked = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    if not checked:
        raise ValueError("gradcheck needs at least one input with requires_grad=True")
    low = [i for i in checked if args[i].dtype != numpy.float64]
    if low:
        warnings.warn(
            f"gradcheck inputs {low} are {args[low[0]].dtype}, not float64: finite differences "
            "in low precision fail even for correct ops; use float64",
            stacklevel=2,
        )
    rng = numpy.random.default_rng(seed)

    outputs = _outputs(fn, args)
    vs = [_random_like(y.data, rng) for y in outputs]
    analytical = _analytical(fn, args, checked, vs)

    try:
        if nondet_tol is not None:
            again = _analytical(fn, args, checked, vs)
            for i, g1, g2 in zip(checked, analytical, again):
                diff = float(abs(g1 - g2).max()) if g1.size else 0.0
                if diff > nondet_tol:
                    raise GradcheckError(
                        f"backward is not reproducible for input {i}: two runs differ by {diff:.3g} "
                        f"> nondet_tol={nondet_tol}"
                    )
        if fast_mode:
            _check_direction(fn, args, checked, vs, analytical, eps, atol, rtol, rng)
        else:
            for i, g in zip(checked, analytical):
                numerical = _numerical(fn, args, i, vs, eps)
                _compare(i, args[i], g, numerical, atol, rtol)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(fn: Callable[..., Any], inputs: Any, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  raise_exception: bool = True, seed: int = 0) -> bool:
    """Check ``fn``'s second derivatives: :func:`gradcheck` of its first derivative.

    With v a fixed random upstream gradient, the first derivative

        h(x, v) = d<v, fn(x)>/dx     (``mdl.grad(..., create_graph=True)``)

    is a graph of the ops' :meth:`~minidl.autograd.Function.differentiable_backward`;
    gradcheck then compares h's own backward, with respect to x and to v,
    with central differences of h. (v is an input too, so that an op whose
    first derivative does not depend on x, a reshape, is still checked: dh/dv
    is its adjoint.) Arguments as :func:`gradcheck`'s.
    """
    args = _as_inputs(inputs)
    checked = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    if not checked:
        raise ValueError("gradgradcheck needs at least one input with requires_grad=True")
    rng = numpy.random.default_rng(seed)
    vs = [Tensor(_random_like(y.data, rng), requires_grad=True) for y in _outputs(fn, args)]
    _check_first_derivative(fn, args, checked, vs, atol, rtol)

    def first_derivative(*xs_and_vs):
        xs, v = list(xs_and_vs[:len(args)]), xs_and_vs[len(args):]
        with enable_grad():  # (gradcheck evaluates it under no_grad for the differences)
            total = sum((y * vk).sum() for y, vk in zip(_outputs(fn, xs), v))
            gs = grad(total, [xs[i] for i in checked], create_graph=True, allow_unused=True)
        return tuple(g if g is not None else xs[i] * 0 for i, g in zip(checked, gs))

    return gradcheck(first_derivative, [*args, *vs], eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, seed=seed + 1)


def _check_first_derivative(fn, args, checked, vs, atol, rtol) -> None:
    """The create_graph first derivative (differentiable_backward) must equal backward's own."""
    plain = _analytical(fn, args, checked, [v.data for v in vs])
    with enable_grad():
        total = sum((y * v.data).sum() for y, v in zip(_outputs(fn, args), vs))
        graph = grad(total, [args[i] for i in checked], create_graph=True, allow_unused=True)
    for i, g1, g2 in zip(checked, plain, graph):
        if g2 is not None:
            try:
                _compare(i, args[i], g2.data, backend.to_numpy(g1).astype(numpy.float64), atol, rtol)
            except GradcheckError as error:
                raise GradcheckError(f"differentiable_backward disagrees with backward: {error}") from None


# -------------------------------------------------------------------- parts
def _as_inputs(inputs: Any) -> list:
    if isinstance(inputs, Tensor) or backend.is_array(inputs):
        inputs = (inputs,)
    out = []
    for a in inputs:
        if isinstance(a, numpy.floating):  # a NumPy scalar: a 0-d input
            a = numpy.asarray(a)
        if backend.is_array(a) and a.dtype.kind == "f":
            a = Tensor(a, requires_grad=True)
        out.append(a)
    return out


def _outputs(fn: Callable, args: list) -> tuple:
    ys = fn(*args)
    ys = ys if isinstance(ys, (tuple, list)) else (ys,)
    for y in ys:
        if not isinstance(y, Tensor):
            raise TypeError(f"gradcheck: fn must return Tensors, got {type(y).__name__}")
    return tuple(ys)


def _random_like(array: Any, rng: numpy.random.Generator) -> Any:
    xp = backend.get_array_module(array)
    return xp.asarray(rng.standard_normal(array.shape).astype(array.dtype))


def _loss(fn: Callable, args: list, vs: list) -> float:
    """L = sum_k <v_k, y_k>, evaluated without building a graph."""
    with no_grad():
        ys = _outputs(fn, args)
    return sum(float((y.data.astype(numpy.float64) * v).sum()) for y, v in zip(ys, vs))


def _analytical(fn: Callable, args: list, checked: list, vs: list) -> list:
    """Gradients of L from one backward pass (the inputs' .grad left as found)."""
    saved = [args[i].grad for i in checked]
    for i in checked:
        args[i].grad = None
    ys = _outputs(fn, args)
    if not any(y.requires_grad for y in ys):
        raise GradcheckError("fn's output does not depend on any input that requires grad")
    if len(ys) == 1:
        ys[0].backward(vs[0])
    else:  # several outputs: L = sum_k <v_k, y_k>, built with minidl's own ops
        total = sum((y * v).sum() for y, v in zip(ys, vs) if y.requires_grad)
        total.backward()
    grads = []
    for i in checked:  # read every gradient first: one tensor may be passed twice
        g = args[i].grad
        grads.append(backend.get_array_module(args[i].data).zeros_like(args[i].data) if g is None else g)
    for i, old in zip(checked, saved):
        args[i].grad = old
    return grads


def _numerical(fn: Callable, args: list, i: int, vs: list, eps: float) -> numpy.ndarray:
    """Central differences for every element of input i (a NumPy array)."""
    x = args[i].data
    out = numpy.zeros(x.shape, dtype=numpy.float64)
    for index in itertools.product(*(range(n) for n in x.shape)):
        original = x[index].copy()
        x[index] = original + eps
        plus = _loss(fn, args, vs)
        x[index] = original - eps
        minus = _loss(fn, args, vs)
        x[index] = original  # restores the exact bits
        out[index] = (plus - minus) / (2 * eps)
    return out


def _compare(i: int, t: Tensor, analytical: Any, numerical: numpy.ndarray, atol: float, rtol: float) -> None:
    a = backend.to_numpy(analytical).astype(numpy.float64)
    excess = numpy.abs(a - numerical) - (atol + rtol * numpy.abs(numerical))
    if a.size == 0 or excess.max() <= 0:
        return
    worst = numpy.unravel_index(int(numpy.argmax(excess)), a.shape)
    av, nv = a[worst], numerical[worst]
    rel = abs(av - nv) / max(abs(nv), 1e-12)
    name = f" ({t.name!r})" if t.name else ""
    raise GradcheckError(
        f"gradient mismatch for input {i}{name} of shape {tuple(t.shape)} at index {tuple(int(k) for k in worst)}: "
        f"analytical {av:.6g}, numerical {nv:.6g}, relative error {rel:.3g} "
        f"exceeds the tolerance (atol={atol:g}, rtol={rtol:g}); "
        f"{int((excess > 0).sum())} of {a.size} elements fail"
    )


def _check_direction(fn, args, checked, vs, analytical, eps, atol, rtol, rng) -> None:
    """fast_mode: compare the directional derivative along one random u."""
    us = [_random_like(args[i].data, rng) for i in checked]
    originals = [args[i].data.copy() for i in checked]

    def shifted(step: float) -> float:
        for i, x0, u in zip(checked, originals, us):
            args[i].data[...] = x0 + step * u
        return _loss(fn, args, vs)

    try:
        numerical = (shifted(eps) - shifted(-eps)) / (2 * eps)
    finally:
        for i, x0 in zip(checked, originals):
            args[i].data[...] = x0
    analytic = sum(float((g.astype(numpy.float64) * u).sum()) for g, u in zip(analytical, us))
    if abs(analytic - numerical) > atol + rtol * abs(numerical):
        raise GradcheckError(
            f"directional derivative mismatch (fast_mode, inputs {checked}): analytical "
            f"{analytic:.6g}, numerical {numerical:.6g}, relative error "
            f"{abs(analytic - numerical) / max(abs(numerical), 1e-12):.3g} exceeds the tolerance "
            f"(atol={atol:g}, rtol={rtol:g}); run without fast_mode to find the element"
        )
