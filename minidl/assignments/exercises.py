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


# ------------------------------------------------------------- the conv stack
_CONV_GEOMETRY = [  # (x shape, kernel, stride, padding, dilation)
    ((2, 3, 7, 6), (3, 3), 1, 0, 1),
    ((1, 2, 8, 9), (2, 3), (2, 1), 1, 1),
    ((2, 1, 9, 9), (3, 2), 2, (1, 0), (2, 1)),
]


def _im2col_cases(rng):
    out = []
    for shape, k, s, p, d in _CONV_GEOMETRY:
        x = rng.standard_normal(shape)
        out.append({"x": x, "k": numpy.array(k), "s": numpy.array(s), "p": numpy.array(p), "d": numpy.array(d)})
    return out


def _option(value):
    """An option stored as an array back to an int or a pair, as the ops take them."""
    v = [int(i) for i in numpy.atleast_1d(value)]
    return v[0] if len(v) == 1 else tuple(v)


def _geometry(case, keys=("k", "s", "p", "d")):
    return tuple(_option(case[key]) for key in keys)


def _im2col_fn(case):
    k, s, p, d = _geometry(case)
    return lambda mdl, x: mdl.nn.functional.im2col(x, k, s, p, d)


def _col2im_fn(case):
    k, s, p, d = _geometry(case)
    size = tuple(int(v) for v in case["x"].shape[2:])
    return lambda mdl, cols: mdl.nn.functional.col2im(cols, size, k, s, p, d)


def _geometry_exercise(fn_of_case, input_of):
    """An op with geometry options: outputs and input gradient under a fixed upstream gradient."""

    def run(mdl, case):
        fn = fn_of_case(case)
        x = mdl.tensor(input_of(mdl, case), requires_grad=True)
        y = fn(mdl, x)
        gy = numpy.random.default_rng(0).standard_normal(y.shape)
        y.backward(gy)
        return {"y": _np(mdl, y), "grad_x": mdl.backend.to_numpy(x.grad)}

    def check(mdl, case):
        fn = fn_of_case(case)
        mdl.gradcheck(lambda t: fn(mdl, t), (mdl.tensor(input_of(mdl, case), requires_grad=True),))

    return run, check


def _im2col_input(mdl, case):
    return case["x"]


def _col2im_input(mdl, case):
    k, s, p, d = _geometry(case)
    with mdl.no_grad():
        shape = mdl.nn.functional.im2col(mdl.tensor(case["x"]), k, s, p, d).shape
    return numpy.random.default_rng(1).standard_normal(shape)


def _conv_cases(rng):
    out = []
    for (n, c, h, w), k, s, p, d in _CONV_GEOMETRY:
        groups = 2 if c % 2 == 0 else 1
        kh, kw = k
        out.append({"x": rng.standard_normal((n, c, h, w)), "w": rng.standard_normal((4, c // groups, kh, kw)),
                    "b": rng.standard_normal(4), "s": numpy.array(s), "p": numpy.array(p), "d": numpy.array(d),
                    "g": numpy.array(groups)})
    return out


def _conv(mdl, case):
    s, p, d, g = _geometry(case, ("s", "p", "d", "g"))
    return lambda x, w, b: mdl.nn.functional.conv2d(x, w, b, s, p, d, g)


def _pool_cases(rng):
    out = []
    for shape, k, s, p in [((2, 3, 6, 6), 2, 2, 0), ((1, 2, 7, 5), (3, 2), (2, 1), (1, 1)), ((2, 1, 5, 5), 3, 1, 1)]:
        x = rng.permutation(int(numpy.prod(shape))).reshape(shape) / 10.0  # distinct values: no ties
        out.append({"x": x, "k": numpy.array(k), "s": numpy.array(s), "p": numpy.array(p)})
    return out


def _pool_fn(case):
    k, s, p = _geometry(case, ("k", "s", "p"))
    return lambda mdl, x: mdl.nn.functional.max_pool2d(x, k, s, p)


def _bn_cases(rng):
    return [{"x": rng.standard_normal(shape) * 2 + 1, "w": rng.standard_normal(shape[1]), "b": rng.standard_normal(shape[1]),
             "train": numpy.array(train)} for shape, train in [((4, 3, 2, 2), True), ((5, 4), True), ((3, 2, 3, 3), False)]]


def _bn_fn(mdl, case):
    training = bool(case["train"])
    c = case["x"].shape[1]
    mean, var = numpy.linspace(-0.5, 0.5, c), numpy.linspace(0.5, 2.0, c)  # running statistics (used in eval)
    return lambda x, w, b: mdl.nn.functional.batch_norm(x, mean.copy(), var.copy(), w, b, training=training)


def _bn_run(mdl, case):
    inputs = {k: case[k] for k in ("x", "w", "b")}
    gy = numpy.random.default_rng(0).standard_normal(case["x"].shape)
    return _grads_of(mdl, _bn_fn(mdl, case), inputs, gy)


def _bn_check(mdl, case):
    _gradcheck(mdl, _bn_fn(mdl, case), {k: case[k] for k in ("x", "w", "b")})


def _dropout_cases(rng):
    return [{"x": rng.standard_normal((50, 40)), "p": numpy.array(p)} for p in (0.2, 0.5, 0.9)]


def _dropout_run(mdl, case):
    x = mdl.tensor(case["x"], requires_grad=True)
    y = mdl.nn.functional.dropout(x, float(case["p"]), training=True, generator=123)
    y.backward(numpy.ones(x.shape))
    return {"y": _np(mdl, y), "grad_x": mdl.backend.to_numpy(x.grad)}


def _dropout_check(mdl, case):
    """Inverted dropout: kept values are scaled by 1/(1-p), about a fraction p is dropped, eval is the identity."""
    p = float(case["p"])
    x = numpy.ones((200, 200))
    y = _np(mdl, mdl.nn.functional.dropout(mdl.tensor(x), p, training=True))
    kept = y != 0
    numpy.testing.assert_allclose(y[kept], 1 / (1 - p), rtol=1e-6, err_msg="kept values must be scaled by 1/(1-p)")
    assert abs((~kept).mean() - p) < 0.02, f"dropped a fraction {(~kept).mean():.3f} of the values, expected about {p}"
    same = _np(mdl, mdl.nn.functional.dropout(mdl.tensor(x), p, training=False))
    numpy.testing.assert_array_equal(same, x, err_msg="in eval mode dropout must be the identity")


def _conv_exercises() -> list:
    im2col_run, im2col_check = _geometry_exercise(_im2col_fn, _im2col_input)
    col2im_run, col2im_check = _geometry_exercise(_col2im_fn, _col2im_input)
    pool_run, pool_check = _geometry_exercise(_pool_fn, _im2col_input)

    def conv_run(mdl, case):
        inputs = {k: case[k] for k in ("x", "w", "b")}
        with mdl.no_grad():
            shape = _conv(mdl, case)(*(mdl.tensor(v) for v in inputs.values())).shape
        return _grads_of(mdl, _conv(mdl, case), inputs, numpy.random.default_rng(0).standard_normal(shape))

    def conv_check(mdl, case):
        _gradcheck(mdl, _conv(mdl, case), {k: case[k] for k in ("x", "w", "b")})

    return [
        Exercise("im2col", "im2col: every patch becomes a column (as_strided view, one copy)",
                 "functional/conv.py", _im2col_cases, im2col_run, im2col_check),
        Exercise("col2im", "col2im: fold columns back, adding overlaps (the adjoint of im2col)",
                 "functional/conv.py", _im2col_cases, col2im_run, col2im_check),
        Exercise("conv2d_backward", "Conv2d.backward in matrix form (bias, weight and input gradients)",
                 "functional/conv.py", _conv_cases, conv_run, conv_check),
        Exercise("max_pool2d_backward", "MaxPool2d.backward: route the gradient to each window's maximum",
                 "functional/pool.py", _pool_cases, pool_run, pool_check),
        Exercise("batch_norm_backward", "BatchNorm.backward in the compact closed form (train and eval)",
                 "functional/norm.py", _bn_cases, _bn_run, _bn_check),
        Exercise("dropout", "Inverted dropout's mask", "functional/dropout.py", _dropout_cases, _dropout_run,
                 _dropout_check),
    ]


# ---------------------------------------------------------------- augmentation
def _erasing_cases(rng):
    return [{"x": rng.random(shape).astype(numpy.float32), "seed": numpy.array(seed)}
            for shape, seed in [((6, 1, 12, 10), 1), ((4, 3, 16, 16), 2), ((8, 2, 9, 13), 3)]]


def _erasing_run(mdl, case):
    op = mdl.augment.RandomErasing(p=1.0, scale=(0.1, 0.3), value=-1.0, seed=int(case["seed"]))
    return {"y": mdl.backend.to_numpy(op(case["x"]))}


def _erasing_check(mdl, case):
    """Every image gets one rectangle of -1 of the drawn size; everything else is unchanged."""
    op = mdl.augment.RandomErasing(p=1.0, scale=(0.1, 0.3), value=-1.0, seed=5)
    x = case["x"]
    y, params = op(x, return_params=True)
    y = mdl.backend.to_numpy(y)
    for i in range(len(x)):
        t, l = int(params["top"][i]), int(params["left"][i])
        h, w = int(params["height"][i]), int(params["width"][i])
        box = numpy.zeros(x.shape[2:], bool)
        box[t:t + h, l:l + w] = True
        assert numpy.all(y[i][:, box] == -1), f"image {i}: the box rows {t}..{t + h}, columns {l}..{l + w} must be erased"
        assert numpy.array_equal(y[i][:, ~box], x[i][:, ~box]), f"image {i}: pixels outside the box must not change"


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
        Exercise("random_erasing", "RandomErasing: erase each image's drawn rectangle (a batched mask)",
                 "augment/erasing.py", _erasing_cases, _erasing_run, _erasing_check),
    ] + _conv_exercises()
}

# Which exercises make up each assignment.
ASSIGNMENTS = {
    "autograd": ["matmul_backward", "sum_to_shape"],
    "optim": ["sgd_momentum", "adam"],
    "augment": ["random_erasing"],
    "cnn": ["im2col", "col2im", "conv2d_backward", "max_pool2d_backward", "batch_norm_backward", "dropout"],
}


def register(exercise: Exercise, assignment: str) -> None:
    """Add an exercise (other modules of minidl register theirs, e.g. conv)."""
    EXERCISES[exercise.name] = exercise
    ASSIGNMENTS.setdefault(assignment, [])
    if exercise.name not in ASSIGNMENTS[assignment]:
        ASSIGNMENTS[assignment].append(exercise.name)

