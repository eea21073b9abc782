"""The exercises: where each one lives in the source and how it is graded.

Every exercise gives three things, all written against a package passed in as
``mdl`` (the reference minidl or a student's copy, imported in separate
processes so the two never mix):

* ``cases(rng)``    fresh random inputs, as NumPy arrays;
* ``run(mdl, case)``  what to compare with the reference: forward outputs and
                      gradients (or an optimizer's trajectory), as NumPy arrays;
* ``check(mdl, case)``  an independent check that needs no reference, usually
                      ``mdl.gradcheck``; it raises on failure.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy


@dataclass
class Exercise:
    name: str  # the marker name: "# BEGIN SOLUTION <name>"
    title: str
    file: str  # inside the package, e.g. "functional/arith.py"
    cases: Callable
    run: Callable
    check: Optional[Callable] = None


def _np(mdl, a):
    return mdl.backend.to_numpy(a.data if hasattr(a, "data") and not isinstance(a, numpy.ndarray) else a)


def _grads_of(mdl, fn, arrays: dict, gy: numpy.ndarray) -> dict:
    """Forward fn on float64 tensors, backward with gy; outputs and every input's gradient."""
    tensors = {k: mdl.tensor(v, requires_grad=True) for k, v in arrays.items()}
    y = fn(**tensors)
    y.backward(gy)
    out = {"y": _np(mdl, y)}
    out.update({f"grad_{k}": (numpy.zeros_like(v) if t.grad is None else mdl.backend.to_numpy(t.grad))
                for (k, t), v in zip(tensors.items(), arrays.values())})
    return out


def _gradcheck(mdl, fn, arrays: dict) -> None:
    tensors = [mdl.tensor(v, requires_grad=True) for v in arrays.values()]
    names = list(arrays)
    mdl.gradcheck(lambda *ts: fn(**dict(zip(names, ts))), tuple(tensors))


# ------------------------------------------------------------ matmul backward
_MATMUL_SHAPES = [((3, 4), (4, 2)), ((4,), (4, 3)), ((3, 4), (4,)), ((2, 3, 4), (4, 5))]


def _matmul_cases(rng):
    out = []
    for sa, sb in _MATMUL_SHAPES:
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        out.append({"a": a, "b": b, "gy": rng.standard_normal(numpy.matmul(a, b).shape)})
    return out


def _matmul(a, b):
    return a @ b


# ---------------------------------------------------- un-broadcasting (sum_to_shape)
_BROADCAST_SHAPES = [((3, 1), (4,)), ((2, 3, 4), (3, 1)), ((1, 4), (2, 1, 4)), ((), (2, 3))]


def _broadcast_cases(rng):
    out = []
    for sa, sb in _BROADCAST_SHAPES:
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        out.append({"a": a, "b": b, "gy": rng.standard_normal(numpy.broadcast_shapes(sa, sb))})
    return out


def _mul(a, b):
    return a * b


def _op_exercise(name, title, file, cases, fn) -> Exercise:
    def run(mdl, case):
        inputs = {k: v for k, v in case.items() if k != "gy"}
        return _grads_of(mdl, fn, inputs, case["gy"])

    def check(mdl, case):
        _gradcheck(mdl, fn, {k: v for k, v in case.items() if k != "gy"})

    return Exercise(name, title, file, cases, run, check)


# ------------------------------------------------------------------ optimizers
def _optimizer_cases(rng):
    return [{"p": rng.standard_normal(5), "grads": rng.standard_normal((4, 5))} for _ in range(3)]


def _trajectory(make):
    def run(mdl, case):
        p = mdl.tensor(case["p"], requires_grad=True)
        opt = make(mdl, p)
        steps = []
        for g in case["grads"]:
            p.grad = mdl.backend.namespace(p.device).asarray(g)
            opt.step()
            steps.append(_np(mdl, p).copy())
        return {"trajectory": numpy.stack(steps)}

    return run


def _check_sgd(mdl, case):
    """A hand-worked run: lr 0.1, momentum 0.9, grads 0.5, -1, 2 from p = 1."""
    p = mdl.tensor([1.0], requires_grad=True, dtype="float64")
    opt = mdl.optim.SGD([p], lr=0.1, momentum=0.9)
    got = []
    for g in (0.5, -1.0, 2.0):
        p.grad = numpy.array([g])
        opt.step()
        got.append(float(_np(mdl, p)[0]))
    numpy.testing.assert_allclose(got, [0.95, 1.005, 0.8545], rtol=1e-12,
                                  err_msg="SGD with momentum 0.9 from p=1 with grads 0.5, -1, 2")


def _check_adam(mdl, case):
    """The first Adam step moves each weight by lr against the sign of its gradient."""
    p = mdl.tensor([1.0, -2.0, 3.0], requires_grad=True, dtype="float64")
    opt = mdl.optim.Adam([p], lr=0.1)
    p.grad = numpy.array([0.3, -5.0, 1e-3])
    opt.step()
    numpy.testing.assert_allclose(_np(mdl, p), [0.9, -1.9, 2.9], rtol=1e-6,
                                  err_msg="Adam's first step is lr * sign(g) (bias correction)")


EXERCISES = {
    e.name: e
    for e in [
        _op_exercise("matmul_backward", "MatMul.backward: gradients of a @ b (1-D and batched too)",
                     "functional/arith.py", _matmul_cases, _matmul),
        _op_exercise("sum_to_shape", "sum_to_shape: the gradient of broadcasting (used by every op)",
                     "backend.py", _broadcast_cases, _mul),
        Exercise("sgd_momentum", "SGD with momentum, dampening, Nesterov and weight decay", "optim/sgd.py",
                 _optimizer_cases,
                 _trajectory(lambda mdl, p: mdl.optim.SGD([p], lr=0.05, momentum=0.9, weight_decay=0.01, nesterov=True)),
                 _check_sgd),
        Exercise("adam", "Adam's update with bias correction", "optim/adam.py", _optimizer_cases,
                 _trajectory(lambda mdl, p: mdl.optim.Adam([p], lr=0.01, weight_decay=0.1)), _check_adam),
    ]
}

# Which exercises make up each assignment.
ASSIGNMENTS = {
    "autograd": ["matmul_backward", "sum_to_shape"],
    "optim": ["sgd_momentum", "adam"],
}


def register(exercise: Exercise, assignment: str) -> None:
    """Add an exercise (other modules of minidl register theirs, e.g. conv)."""
    EXERCISES[exercise.name] = exercise
    ASSIGNMENTS.setdefault(assignment, [])
    if exercise.name not in ASSIGNMENTS[assignment]:
        ASSIGNMENTS[assignment].append(exercise.name)

