"""The exercises: where each one lives in the source, its cases, how a case is run.

Grading is split between two processes that never trust each other's verdicts
(see :mod:`minidl.course.assignments.grader`):

* the **student's process** only *evaluates*: ``exercise.evaluate(mdl, case)``
  runs the student's code on a case's inputs and returns raw NumPy arrays
  (outputs, and gradients under the upstream gradient ``upstream(case, shape)``);
* the **grader's process** *judges*: it evaluates the same case with the
  reference minidl and compares, computes the finite differences itself (from
  the student's forward values on perturbed inputs it sends, see
  :func:`perturbations`), and runs the exercise's ``judge``, if any.

Every function here is written against a package passed in as ``mdl``: the
reference minidl in the grader, the student's code in the student's process.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy

EPS = 1e-6  # finite-difference step (inputs are float64 and of order 1)
FD_ATOL, FD_RTOL = 1e-6, 1e-5
DIRECTIONS = 2  # random directions per input for the finite-difference check


@dataclass
class Case:
    """One graded input: a label a student can read, arrays, and options."""

    label: str  # e.g. "x (1, 2, 8, 9), kernel (2, 3), stride (2, 1), padding 1, dilation 1"
    arrays: dict  # name -> numpy array (float64 for differentiable inputs)
    options: dict = field(default_factory=dict)  # JSON-able: ints, floats, bools, lists, strings


@dataclass
class Exercise:
    name: str  # the marker name: "# BEGIN SOLUTION <name>"
    title: str
    file: str  # inside the package, e.g. "functional/arith.py"
    cases: Callable  # (numpy Generator) -> list of Case
    evaluate: Callable  # (mdl, Case, backward: bool) -> {key: numpy array}
    wrt: tuple = ()  # inputs checked by finite differences: evaluate returns "y" and "grad_<name>"
    compare: bool = True  # compare with the reference's arrays (False: several answers are right)
    judge: Optional[Callable] = None  # (Case, {key: array}) -> list of problems, needs no reference
    hint: str = ""  # what the student copy says in place of the cut code: "# TODO: <hint>"


def case_rng(seed: int, name: str) -> numpy.random.Generator:
    """The generator of one exercise's cases: the same seed gives the same cases, whatever else is graded."""
    return numpy.random.default_rng([int(seed), zlib.crc32(name.encode())])


def label(**options) -> str:
    """``label(kernel=3, stride=(2, 1))`` -> 'kernel 3, stride (2, 1)'."""
    def show(v):
        return str(tuple(v)) if isinstance(v, (list, tuple)) else str(v)
    return ", ".join(f"{k.replace('_', ' ')} {show(v)}" for k, v in options.items())


def upstream(case: Case, shape: tuple) -> numpy.ndarray:
    """The upstream gradient gy of a case, for an output of ``shape`` (the same on both sides)."""
    return numpy.random.default_rng(int(case.options.get("gy_seed", 0))).standard_normal(tuple(shape))


def _np(mdl, a) -> numpy.ndarray:
    return numpy.asarray(mdl.backend.to_numpy(a.data if isinstance(a, mdl.Tensor) else a))


def _opt(value):
    """An option as the ops take it: a list (from JSON) back to a tuple."""
    return tuple(value) if isinstance(value, list) else value


# ------------------------------------------------- finite differences (grader side)
def perturbations(exercise: Exercise, case: Case, seed: int = 0) -> list:
    """The perturbed cases the grader sends: (input, direction v, +case, -case) per check."""
    rng = numpy.random.default_rng(seed)
    out = []
    for key in exercise.wrt:
        for _ in range(DIRECTIONS):
            v = rng.standard_normal(case.arrays[key].shape)
            plus = Case(case.label, dict(case.arrays, **{key: case.arrays[key] + EPS * v}), case.options)
            minus = Case(case.label, dict(case.arrays, **{key: case.arrays[key] - EPS * v}), case.options)
            out.append((key, v, plus, minus))
    return out


def finite_difference_problems(case: Case, result: dict, checks: list, forward: list) -> list:
    """Compare <grad_k, v> with (f(x + eps v) - f(x - eps v)) . gy / (2 eps), for each check.

    ``forward`` holds, per check, the pair of "y" arrays the student's forward
    gave on the + and - perturbed inputs.
    """
    problems = []
    for (key, v, _, _), (y_plus, y_minus) in zip(checks, forward):
        grad = result.get(f"grad_{key}")
        if grad is None or grad.shape != v.shape or y_plus.shape != y_minus.shape:
            problems.append(f"grad_{key}: missing or of the wrong shape for the finite-difference check")
            break
        gy = upstream(case, y_plus.shape)
        numeric = float(numpy.sum((y_plus.astype(float) - y_minus) * gy) / (2 * EPS))
        analytic = float(numpy.sum(grad.astype(float) * v))
        if not abs(numeric - analytic) <= FD_ATOL + FD_RTOL * abs(numeric):
            problems.append(f"grad_{key} disagrees with finite differences of the forward: along a random "
                            f"direction v, <grad_{key}, v> = {analytic:.6g} but the forward changes at the rate "
                            f"{numeric:.6g}")
            break
    return problems


# -------------------------------------------------------------- op exercises
def _differentiable(fn: Callable, wrt: tuple) -> Callable:
    """evaluate for y = fn(mdl, options, **tensors): y, and with backward every gradient in wrt under gy."""

    def evaluate(mdl, case: Case, backward: bool = True) -> dict:
        with mdl.functional.fast.disabled():  # the readable reference: the code the exercise cuts out
            tensors = {k: mdl.tensor(v, requires_grad=k in wrt) for k, v in case.arrays.items()}
            y = fn(mdl, case.options, **tensors)
            out = {"y": _np(mdl, y)}
            if backward:
                y.backward(upstream(case, y.shape))
                for k in wrt:
                    g = tensors[k].grad
                    out[f"grad_{k}"] = numpy.zeros(case.arrays[k].shape) if g is None else _np(mdl, g)
        return out

    return evaluate


def _matmul_cases(rng) -> list:
    shapes = [((3, 4), (4, 2)), ((4,), (4, 3)), ((3, 4), (4,)), ((2, 3, 4), (4, 5))]
    return [Case(label(a=sa, b=sb), {"a": rng.standard_normal(sa), "b": rng.standard_normal(sb)},
                 {"gy_seed": int(rng.integers(2**31))}) for sa, sb in shapes]


def _sum_to_shape_cases(rng) -> list:
    pairs = [((3, 4), (4,)), ((2, 3, 4), (3, 1)), ((2, 1, 4), (1, 4)), ((2, 3), ()), ((3, 4), (3, 4)),
             ((5, 2, 3), (5, 1, 1))]
    return [Case(f"a gradient {g} summed to shape {s}", {"g": rng.standard_normal(g)}, {"shape": list(s)})
            for g, s in pairs]


def _sum_to_shape(mdl, case: Case, backward: bool = True) -> dict:
    """Calls the exercise itself (not through an op), so a mistake is reported as sum_to_shape's."""
    out = mdl.backend.sum_to_shape(case.arrays["g"], tuple(case.options["shape"]))
    return {"sum": numpy.asarray(mdl.backend.to_numpy(out))}


# ------------------------------------------------------------------ optimizers
def _trajectory(make: Callable) -> Callable:
    """evaluate: the parameter after each of 4 steps with the given gradients."""

    def evaluate(mdl, case: Case, backward: bool = True) -> dict:
        p = mdl.tensor(case.arrays["p"], requires_grad=True)
        opt = make(mdl, p, case.options)
        steps = []
        for g in case.arrays["grads"]:
            p.grad = mdl.backend.to_device(g.copy(), p.device)
            opt.step()
            steps.append(_np(mdl, p).copy())
        return {"trajectory": numpy.stack(steps)}

    return evaluate


def _optimizer_cases(settings: list) -> Callable:
    def cases(rng) -> list:
        return [Case(label(**s), {"p": rng.standard_normal(5), "grads": rng.standard_normal((4, 5))}, dict(s))
                for s in settings]
    return cases


_SGD_SETTINGS = [dict(lr=0.1), dict(lr=0.05, momentum=0.9), dict(lr=0.05, momentum=0.9, dampening=0.5),
                 dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)]
_ADAM_SETTINGS = [dict(lr=0.01), dict(lr=0.01, weight_decay=0.1), dict(lr=0.01, betas=[0.8, 0.9], amsgrad=True),
                  dict(optimizer="AdamW", lr=0.01, weight_decay=0.1)]


def _make_adam(mdl, p, options: dict):
    options = {k: _opt(v) for k, v in options.items()}
    cls = getattr(mdl.optim, options.pop("optimizer", "Adam"))
    return cls([p], **options)


# ------------------------------------------------------------- the conv stack
_CONV_GEOMETRY = [  # (x shape, kernel, stride, padding, dilation)
    ((2, 3, 7, 6), (3, 3), 1, 0, 1),
    ((1, 2, 8, 9), (2, 3), (2, 1), 1, 1),
    ((2, 1, 9, 9), (3, 2), 2, (1, 0), (2, 1)),
    ((1, 2, 6, 6), (2, 2), 2, 0, 1),
]


def _pair(v) -> tuple:
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v)


def _out_hw(hw, kernel, stride, padding, dilation) -> tuple:
    """OH = (H + 2 ph - dh (kh - 1) - 1) // sh + 1, and OW alike."""
    return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                 for n, k, s, p, d in zip(hw, _pair(kernel), _pair(stride), _pair(padding), _pair(dilation)))


def _geometry_options(shape, k, s, p, d) -> dict:
    return {"kernel": list(k), "stride": list(_pair(s)), "padding": list(_pair(p)), "dilation": list(_pair(d))}


def _im2col_cases(rng) -> list:
    return [Case(label(x=shape, kernel=k, stride=s, padding=p, dilation=d), {"x": rng.standard_normal(shape)},
                 dict(_geometry_options(shape, k, s, p, d), gy_seed=int(rng.integers(2**31))))
            for shape, k, s, p, d in _CONV_GEOMETRY]


def _col2im_cases(rng) -> list:
    out = []
    for (n, c, h, w), k, s, p, d in _CONV_GEOMETRY:
        oh, ow = _out_hw((h, w), k, s, p, d)
        cols = (n, c * k[0] * k[1], oh * ow)
        out.append(Case(label(cols=cols, output_size=(h, w), kernel=k, stride=s, padding=p, dilation=d),
                        {"cols": rng.standard_normal(cols)},
                        dict(_geometry_options((n, c, h, w), k, s, p, d), size=[h, w],
                             gy_seed=int(rng.integers(2**31)))))
    return out


def _geometry(o: dict) -> tuple:
    return tuple(_opt(o[k]) for k in ("kernel", "stride", "padding", "dilation"))


def _im2col(mdl, o, x):
    return mdl.nn.functional.im2col(x, *_geometry(o))


def _col2im(mdl, o, cols):
    return mdl.nn.functional.col2im(cols, tuple(o["size"]), *_geometry(o))


def _conv_cases(rng) -> list:
    out = []
    for (n, c, h, w), k, s, p, d in _CONV_GEOMETRY[:3]:
        groups = 2 if c % 2 == 0 else 1
        arrays = {"x": rng.standard_normal((n, c, h, w)), "w": rng.standard_normal((4, c // groups) + k),
                  "b": rng.standard_normal(4)}
        out.append(Case(label(x=(n, c, h, w), weight=arrays["w"].shape, stride=s, padding=p, dilation=d, groups=groups),
                        arrays, dict(_geometry_options((n, c, h, w), k, s, p, d), groups=groups,
                                     gy_seed=int(rng.integers(2**31)))))
    return out


def _conv(mdl, o, x, w, b):
    _, s, p, d = _geometry(o)
    return mdl.nn.functional.conv2d(x, w, b, s, p, d, o["groups"])


def _pool_cases(rng) -> list:
    out = []
    for shape, k, s, p in [((2, 3, 6, 6), 2, 2, 0), ((1, 2, 7, 5), (3, 2), (2, 1), (1, 1)),
                           ((2, 1, 5, 5), 3, 1, 1), ((1, 2, 7, 7), 3, 2, 0)]:
        x = rng.permutation(int(numpy.prod(shape))).reshape(shape) / 10.0  # distinct values: no ties
        out.append(Case(label(x=shape, kernel=k, stride=s, padding=p), {"x": x},
                        {"kernel": list(_pair(k)), "stride": list(_pair(s)), "padding": list(_pair(p)),
                         "gy_seed": int(rng.integers(2**31))}))
    return out


def _pool(mdl, o, x):
    return mdl.nn.functional.max_pool2d(x, _opt(o["kernel"]), _opt(o["stride"]), _opt(o["padding"]))


_pool_evaluate = _differentiable(_pool, ("x",))  # the reference path on every case, also for 2x2 windows


def _bn_cases(rng) -> list:
    out = []
    for shape, train in [((4, 3, 2, 2), True), ((5, 4), True), ((3, 2, 3, 3), False)]:
        arrays = {"x": rng.standard_normal(shape) * 2 + 1, "w": rng.standard_normal(shape[1]),
                  "b": rng.standard_normal(shape[1])}
        out.append(Case(label(x=shape, mode="training" if train else "eval (running statistics)"), arrays,
                        {"training": train, "gy_seed": int(rng.integers(2**31))}))
    return out


def _bn(mdl, o, x, w, b):
    c = x.shape[1]
    mean, var = numpy.linspace(-0.5, 0.5, c), numpy.linspace(0.5, 2.0, c)  # running statistics (used in eval)
    return mdl.nn.functional.batch_norm(x, mean, var, w, b, training=o["training"])


# ------------------------------------------------------------------- dropout
def _dropout_cases(rng) -> list:
    return [Case(label(x=(100, 100), p=p), {"x": 1.0 + rng.random((100, 100))},
                 {"p": p, "generator": int(rng.integers(2**31))}) for p in (0.2, 0.5, 0.9)]


def _dropout_evaluate(mdl, case: Case, backward: bool = True) -> dict:
    """y and its gradient (ones upstream) in training; y again with the same generator seed; y in eval."""
    F, p, seed = mdl.nn.functional, case.options["p"], case.options["generator"]
    x = mdl.tensor(case.arrays["x"], requires_grad=True)
    y = F.dropout(x, p, training=True, generator=seed)
    y.backward(numpy.ones(x.shape))
    again = F.dropout(mdl.tensor(case.arrays["x"]), p, training=True, generator=seed)
    evaluated = F.dropout(mdl.tensor(case.arrays["x"]), p, training=False)
    return {"y": _np(mdl, y), "grad_x": _np(mdl, x.grad), "y_same_seed": _np(mdl, again),
            "y_eval": _np(mdl, evaluated)}


def _dropout_judge(case: Case, got: dict) -> list:
    """Inverted dropout: kept values scaled by 1/(1-p), about a fraction p dropped, eval the identity."""
    x, p = case.arrays["x"], case.options["p"]
    y, grad = got["y"], got["grad_x"]
    if y.shape != x.shape or grad.shape != x.shape:
        return [f"y and grad_x must have x's shape {x.shape}, got {y.shape} and {grad.shape}"]
    problems, kept = [], y != 0
    if not numpy.allclose(y[kept], x[kept] / (1 - p), rtol=1e-5):
        problems.append("kept values must be x / (1 - p)")
    dropped = 1 - kept.mean()
    if abs(dropped - p) > 4 * (p * (1 - p) / x.size) ** 0.5 + 1e-9:
        problems.append(f"dropped a fraction {dropped:.3f} of the values, expected about {p}")
    if not numpy.allclose(grad, numpy.where(kept, 1 / (1 - p), 0.0), rtol=1e-5):
        problems.append("grad_x must be the mask: 1/(1-p) where kept, 0 where dropped")
    if got["y_same_seed"].shape != y.shape or not numpy.array_equal(got["y_same_seed"], y):
        problems.append("the same generator seed must give the same mask")
    if got["y_eval"].shape != x.shape or not numpy.array_equal(got["y_eval"], x):
        problems.append("in eval mode (training=False) dropout must be the identity")
    return problems


# ---------------------------------------------------------------- augmentation
def _erasing_cases(rng) -> list:
    out = []
    for shape, value in [((6, 1, 12, 10), -1.0), ((4, 3, 16, 16), [0.1, 0.5, 0.9]), ((8, 2, 9, 13), "random")]:
        out.append(Case(label(x=shape, value=value), {"x": rng.random(shape).astype(numpy.float32)},
                        {"value": value, "seed": int(rng.integers(2**31))}))
    return out


def _erasing_evaluate(mdl, case: Case, backward: bool = True) -> dict:
    op = mdl.augment.RandomErasing(p=1.0, scale=(0.1, 0.3), value=case.options["value"], seed=case.options["seed"])
    return {"y": numpy.asarray(mdl.backend.to_numpy(op(case.arrays["x"])))}


# ------------------------------------------------------------------ the table
# Each exercise: its marker name, title and file, how its cases are made and run, and the hint the
# student copy shows where the code was cut (the library's source carries only the marker lines).
EXERCISES = {
    e.name: e
    for e in [
        Exercise("matmul_backward", "MatMul.backward: gradients of a @ b (1-D and batched too)", "functional/arith.py",
                 _matmul_cases, _differentiable(lambda mdl, o, a, b: a @ b, ("a", "b")), ("a", "b"),
                 hint="ga = gy @ b^T and gb = a^T @ gy; treat a 1-D a as a row (1, k) and a 1-D b as a column (k, 1)"),
        Exercise("sum_to_shape", "sum_to_shape: the gradient of broadcasting (used by every op)", "backend.py",
                 _sum_to_shape_cases, _sum_to_shape,
                 hint="sum the extra leading axes away, then sum (keepdims) the axes where shape has a 1"),
        Exercise("sgd_momentum", "SGD with momentum, dampening, Nesterov and weight decay", "optim/sgd.py",
                 _optimizer_cases(_SGD_SETTINGS), _trajectory(lambda mdl, p, o: mdl.optim.SGD([p], **o)),
                 hint='add weight decay to grad, keep state["momentum_buffer"] (b = g at the first step), '
                      "update p.data in place"),
        Exercise("adam", "Adam's update with bias correction (and AdamW's decoupled decay)", "optim/adam.py",
                 _optimizer_cases(_ADAM_SETTINGS), _trajectory(_make_adam),
                 hint="weight decay (decoupled for AdamW), moments m and v in state, bias correction, "
                      "update p.data in place"),
        Exercise("im2col", "im2col: every patch becomes a column (one strided slice per kernel offset)", "functional/conv.py",
                 _im2col_cases, _differentiable(_im2col, ("x",)), ("x",),
                 hint="pad x; for each kernel offset (i, j) copy its strided slice (N, C, OH, OW) into "
                      "cols[:, :, i, j]; reshape"),
        Exercise("col2im", "col2im: fold columns back, adding overlaps (the adjoint of im2col)", "functional/conv.py",
                 _col2im_cases, _differentiable(_col2im, ("cols",)), ("cols",),
                 hint="zeros of the padded input's size; for each kernel offset (i, j) add cols[:, :, i, j] into its "
                      "strided slice; crop the padding"),
        Exercise("conv2d_backward", "Conv2d.backward in matrix form (bias, weight and input gradients)",
                 "functional/conv.py", _conv_cases, _differentiable(_conv, ("x", "w", "b")), ("x", "w", "b"),
                 hint="G = gy as (N, g, O/g, L); gb = G summed; gW = G @ cols^T summed over N; gcols = W^T @ G, "
                      "then col2im"),
        Exercise("max_pool2d_backward", "MaxPool2d.backward (the readable path): route the gradient to each "
                 "window's maximum", "functional/pool.py", _pool_cases, _pool_evaluate, ("x",),
                 hint="zeros of the padded input's size; for each kernel offset k, add gy where self.arg == k into "
                      "its strided slice; crop the padding"),
        Exercise("batch_norm_backward", "BatchNorm.backward in the compact closed form (train and eval)",
                 "functional/norm.py", _bn_cases, _differentiable(_bn, ("x", "w", "b")), ("x", "w", "b"),
                 hint="training: gx = (1/n) inv_std (n g - sum g - xhat sum(g xhat)) with g = gy * weight; "
                      "eval: gx = g * inv_std"),
        Exercise("dropout", "Inverted dropout's mask", "functional/dropout.py", _dropout_cases, _dropout_evaluate,
                 compare=False, judge=_dropout_judge,
                 hint="keep each value with probability 1 - p (draw on the CPU from generator), scale the kept ones "
                      "by 1 / (1 - p), move to x's device"),
        Exercise("random_erasing", "RandomErasing: erase each image's drawn rectangle (a batched mask)",
                 "augment/erasing.py", _erasing_cases, _erasing_evaluate,
                 hint="a boolean mask (N, 1, H, W) of the rows top..top+height and columns left..left+width per "
                      "image; copy the fill value into x where it is True"),
    ]
}

# Which exercises make up each assignment, in the order they are released
# (the copy of an assignment keeps the solutions of the ones before it).
ASSIGNMENTS = {
    "autograd": ["matmul_backward", "sum_to_shape"],
    "optim": ["sgd_momentum", "adam"],
    "cnn": ["im2col", "col2im", "conv2d_backward", "max_pool2d_backward", "batch_norm_backward", "dropout"],
    "augment": ["random_erasing"],
}
ORDER = tuple(ASSIGNMENTS)


def register(exercise: Exercise, assignment: str) -> None:
    """Add an exercise (a course of your own adds its exercises here; the library never imports the course)."""
    EXERCISES[exercise.name] = exercise
    ASSIGNMENTS.setdefault(assignment, [])
    if exercise.name not in ASSIGNMENTS[assignment]:
        ASSIGNMENTS[assignment].append(exercise.name)
