"""Gradients of gradients: ``mdl.grad``, ``backward(create_graph=True)`` and ``differentiable_backward``.

Every op that supports create_graph is second-order checked in float64 with
``mdl.gradgradcheck`` (the first derivative's own backward against central
differences); the coverage test at the end fails when an op gains a
differentiable_backward without a row here.
"""
import inspect

import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F
from minidl import nn
from minidl.autograd import Function

R = np.random.default_rng(7)


def a(*shape, low=None):
    """A float64 array; ``low`` shifts it away from 0 (for log, sqrt, division)."""
    x = R.standard_normal(shape)
    return np.abs(x) + low if low is not None else x


LABELS = np.array([1, 0, 3])
SOFT = np.abs(R.standard_normal((3, 4)))
SOFT /= SOFT.sum(1, keepdims=True)
WEIGHT = mdl.tensor(a(4, low=0.5))
RUNNING = (a(4), a(4, low=0.5))
GATHER_INDEX = mdl.tensor(np.array([[0, 3], [1, 1], [2, 0]]))
UNPOOL_INDEX = F.max_pool2d(mdl.tensor(a(1, 2, 4, 4)), 2, return_indices=True)[1]
MASK = R.random((3, 4)) > 0.5


def in_blocks(fn):
    """fn with fast/conv_blocks.py's blocks one output row each: the blocked conv2d takes small inputs too."""
    from minidl.functional.fast import conv_blocks

    def run(*args):
        previous, conv_blocks.BLOCK_BYTES = conv_blocks.BLOCK_BYTES, 1
        try:
            return fn(*args)
        finally:
            conv_blocks.BLOCK_BYTES = previous
    return run


# (name, Functions it covers, f, inputs): f is second-order checked on the inputs.
CASES = [
    ("add sub neg", ["Add", "Sub", "Neg"], lambda x, y: (x + y) * (x - y) * -x, [a(3, 4), a(4)]),
    ("mul div", ["Mul", "Div"], lambda x, y: x * y / (y * y + 1), [a(3, 4), a(3, 1)]),
    ("pow", ["Pow"], lambda x, p: x ** p, [a(3, 4, low=0.5), a(3, 4)]),
    ("pow at zero", ["Pow"], lambda x: (x.relu() + 0) ** 2.5, [a(3, 4)]),
    ("exp log sqrt", ["Exp", "Log", "Sqrt"], lambda x: x.exp() * x.log() + x.sqrt(), [a(3, 4, low=0.5)]),
    ("abs clip", ["Abs", "Clip"], lambda x: x.abs() ** 2 * x.clip(-0.5, 0.7), [a(3, 4, low=0.1) * np.sign(a(3, 4))]),
    ("matmul 2-D", ["MatMul"], lambda x, w: (x @ w) ** 2, [a(3, 4), a(4, 2)]),
    ("matmul 1-D and batched", ["MatMul"], lambda x, w, v: ((x @ w) @ v) ** 2, [a(2, 3, 4), a(4, 5), a(5)]),
    ("matmul vector", ["MatMul"], lambda v, w: (v @ w) ** 3, [a(4), a(4, 3)]),
    ("maximum minimum", ["Maximum", "Minimum"], lambda x, y: F.maximum(x, y) * F.minimum(x, y) ** 2, [a(3, 4), a(3, 4)]),
    ("where", ["Where"], lambda x, y: F.where(mdl.tensor(MASK), x * x, y ** 3), [a(3, 4), a(3, 4)]),
    ("sin cos tan", ["Sin", "Cos", "Tan"], lambda x: x.sin() * x.cos() + (x * 0.3).tan(), [a(3, 4)]),
    ("steps (zero gradient)", ["_Step", "Floor", "Ceil", "Round", "Trunc", "Sign"],
     lambda x: (x.floor() + x.ceil() + x.round() + x.trunc() + x.sign()) * x ** 2, [a(3, 4)]),
    ("sum mean", ["Sum", "Mean"], lambda x: x.sum(1, keepdims=True) * x.mean(0) ** 2, [a(3, 4)]),
    ("max min", ["Max", "Min"], lambda x: x.max(1) ** 2 + x.min(0).sum() * x.sum(), [a(3, 4)]),
    ("reshape transpose", ["Reshape", "Transpose"], lambda x: (x.reshape(2, 6).T ** 3), [a(3, 4)]),
    ("indexing", ["GetItem", "Place"], lambda x: x[[0, 0, 2], 1:] ** 3 + x[1] .sum(), [a(3, 4)]),
    ("cat stack split", ["Concat", "Stack", "Split"],
     lambda x, y: mdl.stack([mdl.cat([x, y], 1) ** 2, mdl.cat([y, x], 1)]).split(3, dim=2)[1] ** 2, [a(3, 2), a(3, 4)]),
    ("flip roll clone", ["Flip", "Roll", "Clone"], lambda x: x.flip(0).roll(1, 1).clone() ** 3, [a(3, 4)]),
    ("expand sum_to_size", ["Expand", "SumTo"], lambda x: x.expand(2, 3, 4).sum_to_size(3, 1) ** 3, [a(3, 1)]),
    ("to dtype", ["ToDevice"], lambda x: x.to(device="cpu", dtype="float64") ** 3, [a(3, 4)]),
    ("relu leaky_relu", ["ReLU", "LeakyReLU"], lambda x: F.relu(x) ** 2 + F.leaky_relu(x, 0.2) ** 3, [a(3, 4)]),
    ("sigmoid tanh", ["Sigmoid", "Tanh"], lambda x: x.sigmoid() * x.tanh(), [a(3, 4)]),
    ("softmax log_softmax", ["Softmax", "LogSoftmax"], lambda x: F.softmax(x, dim=1) * F.log_softmax(x, dim=0), [a(3, 4)]),
    ("silu softplus", ["SiLU", "Softplus"], lambda x: F.silu(x) * F.softplus(x, beta=2.0, threshold=1.0), [a(3, 4)]),
    ("linear", ["Linear"], lambda x, w, b: F.linear(x, w, b).tanh(), [a(2, 3, 4), a(5, 4), a(5)]),
    ("linear without bias", ["Linear"], lambda x, w: F.linear(x, w) ** 2, [a(3, 4), a(5, 4)]),
    ("dropout", ["Dropout"], lambda x: F.dropout(x, 0.5, generator=np.random.default_rng(3)) ** 2, [a(3, 4)]),
    ("cross_entropy labels", ["CrossEntropy"], lambda x: F.cross_entropy(x, LABELS), [a(3, 4)]),
    ("cross_entropy soft targets", ["CrossEntropy"], lambda x, t: F.cross_entropy(x, t, weight=WEIGHT),
     [a(3, 4), SOFT]),
    ("mse_loss", ["MSE"], lambda x, t: F.mse_loss(x, t, reduction="sum"), [a(3, 4), a(3, 4)]),
    ("im2col col2im", ["Im2col", "Col2im"],
     lambda x: F.col2im(F.im2col(x, 2, stride=1, padding=1) ** 2, (5, 5), 2, stride=1, padding=1), [a(1, 2, 5, 5)]),
    ("conv2d", ["Conv2d"], lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1).tanh(),
     [a(2, 2, 5, 5), a(3, 2, 3, 3), a(3)]),
    ("conv2d groups dilation", ["Conv2d"], lambda x, w: F.conv2d(x, w, padding="same", dilation=2, groups=2) ** 2,
     [a(1, 4, 6, 6), a(4, 2, 2, 3)]),
    ("conv1d (through conv2d)", ["Conv2d"], lambda x, w: F.conv1d(x, w, padding=1, stride=2) ** 2, [a(2, 2, 7), a(3, 2, 3)]),
    ("conv_transpose2d", ["ConvTranspose2d"],
     lambda y, w, b: F.conv_transpose2d(y, w, b, stride=2, padding=1, output_padding=1, groups=2).tanh(),
     [a(2, 4, 3, 3), a(4, 1, 3, 3), a(2)]),
    ("conv_transpose2d output_padding at the dilation", ["ConvTranspose2d"],
     lambda y, w: F.conv_transpose2d(y, w, stride=1, dilation=2, output_padding=1) ** 2, [a(1, 2, 3, 3), a(2, 3, 2, 2)]),
    ("max_pool2d overlapping, padded", ["MaxPool2d", "WindowedMaxPool2d"], lambda x: F.max_pool2d(x, 3, 2, 1) ** 3, [a(2, 2, 7, 7)]),
    ("max_pool2d 2x2 (the fast path's)", ["MaxPool2d"], lambda x: F.max_pool2d(x, 2) ** 3, [a(2, 2, 6, 6)]),
    ("avg_pool2d", ["AvgPool2d", "Transposed", "Applied"],
     lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False) ** 3, [a(2, 2, 7, 7)]),
    ("adaptive_avg_pool2d", ["AdaptiveAvgPool2d"], lambda x: F.adaptive_avg_pool2d(x, (2, 3)) ** 3, [a(2, 2, 5, 7)]),
    ("interpolate nearest", ["UpsampleNearest2d"], lambda x: F.interpolate(x, scale_factor=2) ** 3, [a(1, 2, 3, 4)]),
    ("interpolate bilinear", ["UpsampleBilinear2d"],
     lambda x: F.interpolate(x, size=(5, 7), mode="bilinear", align_corners=False) ** 3, [a(1, 2, 3, 4)]),
    ("max_unpool2d", ["MaxUnpool2d"], lambda x: F.max_unpool2d(x, UNPOOL_INDEX, 2) ** 3, [a(1, 2, 2, 2)]),
    ("pad constant and reflect", ["Pad"],
     lambda x: F.pad(x, (1, 2, 0, 1), value=0.5) ** 3 + F.pad(x, (1, 1, 1, 1), mode="reflect").sum() * x.sum(),
     [a(1, 2, 3, 4)]),
    ("gather scatter_add", ["Gather", "ScatterAdd"],
     lambda x, s: x.gather(1, GATHER_INDEX) ** 3 + x.scatter_add(1, GATHER_INDEX, s[:, :2] ** 2).sum(), [a(3, 4), a(3, 3)]),
    ("batch_norm eval", ["BatchNorm", "BatchNormEval"],
     lambda x, g, b: F.batch_norm(x, RUNNING[0], RUNNING[1], g, b, training=False) ** 3, [a(3, 4, 2, 2), a(4), a(4)]),
    ("batch_norm eval, no affine", ["BatchNorm", "BatchNormEval"],
     lambda x: F.batch_norm(x, RUNNING[0], RUNNING[1], training=False) ** 3, [a(3, 4, 2, 2)]),
    ("conv2d depthwise", ["DepthwiseConv2d"], lambda x, w: F.conv2d(x, w, padding=1, groups=3) ** 2,
     [a(2, 3, 5, 5), a(3, 1, 3, 3)]),
    ("conv2d depthwise, strided", ["DepthwiseConv2d"], lambda x, w, b: F.conv2d(x, w, b, stride=2, groups=3).tanh(),
     [a(2, 3, 5, 6), a(3, 1, 3, 2), a(3)]),
    ("conv2d in blocks", ["BlockedConv2d"], in_blocks(lambda x, w, b: F.conv2d(x, w, b, padding=1).tanh()),
     [a(5, 8, 3, 3), a(2, 8, 2, 2), a(2)]),  # 8 channels, a batch of 5 > 4 output columns: the rule holds
    ("conv2d 1x1", ["PointwiseConv2d"], lambda x, w, b: F.conv2d(x, w, b).tanh(), [a(2, 4, 3, 3), a(3, 4, 1, 1), a(3)]),
    ("conv2d 1x1 strided, groups", ["PointwiseConv2d"], lambda x, w: F.conv2d(x, w, stride=2, groups=2) ** 2,
     [a(2, 4, 5, 4), a(6, 2, 1, 1)]),
]


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "reference"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_second_derivatives_match_differences(case, fast):
    _, _, fn, inputs = case
    mdl.functional.fast.set_enabled(fast)
    assert mdl.gradgradcheck(fn, [x.copy() for x in inputs], atol=1e-5, rtol=1e-4)


def test_every_differentiable_backward_is_checked():
    """Each Function that overrides differentiable_backward has a row above."""
    covered = {name for case in CASES for name in case[1]}
    supported = set()
    for module in (mdl.functional, mdl.functional.fast):
        for path in _submodules(module):
            for name, cls in inspect.getmembers(path, inspect.isclass):
                if issubclass(cls, Function) and cls.differentiable_backward is not Function.differentiable_backward:
                    supported.add(cls.__name__)
    assert supported - covered == set()
    assert covered - supported == set()


def _submodules(package):
    import importlib
    import pkgutil
    return [importlib.import_module(f"{package.__name__}.{m.name}") for m in pkgutil.iter_modules(package.__path__)]


# ---------------------------------------------------------------- mdl.grad
def test_newtons_method_finds_the_minimum_of_a_quartic():
    """x <- x - f'(x) / f''(x), both from autograd: f = x^4 - 3x^2 + x."""
    x = mdl.tensor(np.array([2.0]), requires_grad=True)
    for _ in range(8):
        f = x ** 4 - 3 * x ** 2 + x
        g, = mdl.grad(f.sum(), [x], create_graph=True)
        h, = mdl.grad(g.sum(), [x])
        assert np.allclose(g.data, 4 * x.data ** 3 - 6 * x.data + 1)
        assert np.allclose(h.data, 12 * x.data ** 2 - 6)
        x = mdl.tensor(x.data - g.data / h.data, requires_grad=True)
    assert abs(4 * x.item() ** 3 - 6 * x.item() + 1) < 1e-12  # a stationary point
    assert 12 * x.item() ** 2 - 6 > 0  # a minimum


def test_gradient_penalty_trains_through_the_input_gradient():
    """WGAN-GP's term ((||d critic / d x|| - 1)^2): its gradient reaches the weights."""
    mdl.manual_seed(0)
    critic = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.Tanh(), nn.Flatten(), nn.Linear(64, 1)).double()
    x = mdl.tensor(np.random.default_rng(0).standard_normal((3, 1, 4, 4)), requires_grad=True)
    params = list(critic.parameters())  # conv weight, conv bias, linear weight, linear bias

    def penalty(*ws):
        for p, w in zip(params, ws):
            p.data = w.data
        gx, = mdl.grad(critic(x).sum(), [x], create_graph=True)
        norms = (gx * gx).sum(axis=(1, 2, 3)).sqrt()
        return ((norms - 1) ** 2).mean()

    value = penalty(*params)
    value.backward()
    assert all(np.abs(p.grad).sum() > 0 for p in params[:3])
    assert params[3].grad is None  # the last bias does not change d critic / dx
    saved = [p.data.copy() for p in params]
    # The weights' gradient of the penalty matches finite differences along a random direction.
    rng = np.random.default_rng(1)
    us = [rng.standard_normal(p.shape) for p in params]
    eps = 1e-6
    with_step = lambda s: float(penalty(*[mdl.tensor(w + s * u) for w, u in zip(saved, us)]).item())
    numerical = (with_step(eps) - with_step(-eps)) / (2 * eps)
    analytical = sum(float((p.grad * u).sum()) for p, u in zip(params[:3], us))
    assert abs(numerical - analytical) <= 1e-6 * max(1.0, abs(numerical))


def test_grad_returns_without_touching_dot_grad():
    w = mdl.tensor(np.array([1.0, 2.0]), requires_grad=True)
    x = mdl.tensor(np.array([3.0, -1.0]), requires_grad=True)
    y = (w * x * x).sum()
    gw, gx = mdl.grad(y, [w, x])
    assert np.allclose(gw.data if isinstance(gw, mdl.Tensor) else gw, [9.0, 1.0])
    assert np.allclose(gx, [6.0, -4.0])
    assert w.grad is None and x.grad is None


def test_grad_of_a_non_leaf_input_and_of_the_output_itself():
    x = mdl.tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x * 3
    y = (h * h).sum()
    gh, = mdl.grad(y, [h], retain_graph=True)
    assert np.allclose(gh, 2 * h.data)
    gy, = mdl.grad(y, [y])
    assert np.allclose(gy, 1.0)


def test_grad_only_runs_the_functions_between_outputs_and_inputs():
    """A cumsum (no differentiable_backward) off the path to the input does not matter."""
    x = mdl.tensor(R.standard_normal((1, 1, 4, 4)), requires_grad=True)
    w = mdl.tensor(R.standard_normal((1, 1, 4, 4)), requires_grad=True)
    y = (w.cumsum(dim=3).sum() * x * x).sum()
    gx, = mdl.grad(y, [x], create_graph=True)
    assert gx.requires_grad


def test_grad_unused_input():
    x = mdl.tensor(np.array([1.0]), requires_grad=True)
    z = mdl.tensor(np.array([1.0]), requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match=r"input 1 .* was not used .*allow_unused=True"):
        mdl.grad(y, [x, z], retain_graph=True)
    gx, gz = mdl.grad(y, [x, z], allow_unused=True)
    assert np.allclose(gx, 2.0) and gz is None


def test_grad_outputs_and_bad_shapes():
    x = mdl.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * x
    with pytest.raises(RuntimeError, match="one-element output"):
        mdl.grad(y, [x], retain_graph=True)
    with pytest.raises(ValueError, match=r"needs shape \(2,\)"):
        mdl.grad(y, [x], grad_outputs=np.ones(3), retain_graph=True)
    gx, = mdl.grad(y, [x], grad_outputs=np.array([1.0, 10.0]))
    assert np.allclose(gx, [2.0, 40.0])


def test_create_graph_retains_the_graph_by_default_and_plain_grad_frees_it():
    x = mdl.tensor(np.array([1.5]), requires_grad=True)
    y = (x ** 3).sum()
    g, = mdl.grad(y, [x], create_graph=True)
    g2, = mdl.grad(y, [x])  # the graph survived the create_graph pass
    assert np.allclose(g2, g.data)
    with pytest.raises(RuntimeError, match="second time"):
        mdl.grad(y, [x])


def test_backward_create_graph_leaves_tensor_grads():
    x = mdl.tensor(np.array([0.3, -0.8]), requires_grad=True)
    (x.sin() * x).sum().backward(create_graph=True)
    assert isinstance(x.grad, mdl.Tensor) and x.grad.requires_grad
    first = x.grad
    assert np.allclose(first.data, np.cos(x.data) * x.data + np.sin(x.data))
    x.grad = None
    first.sum().backward()
    assert np.allclose(x.grad, -np.sin(x.data) * x.data + 2 * np.cos(x.data))


def test_third_derivative():
    x = mdl.tensor(np.array([0.7]), requires_grad=True)
    g1, = mdl.grad((x ** 5).sum(), [x], create_graph=True)
    g2, = mdl.grad(g1.sum(), [x], create_graph=True)
    g3, = mdl.grad(g2.sum(), [x])
    assert np.allclose(g3, 60 * 0.7 ** 2)


def test_grad_of_a_gradient_on_every_device(device):
    x = mdl.tensor(np.array([0.5, 1.5]), requires_grad=True, device=device)
    g, = mdl.grad((x.exp() * x).sum(), [x], create_graph=True)
    h, = mdl.grad(g.sum(), [x])
    assert mdl.backend.device_of(h) == mdl.backend.device_of(x.data)
    xs = np.array([0.5, 1.5])
    assert np.allclose(mdl.backend.to_numpy(h), np.exp(xs) * (xs + 2))


def test_an_op_without_it_says_so():
    x = mdl.tensor(R.standard_normal((1, 1, 4, 4)), requires_grad=True)
    with pytest.raises(RuntimeError, match="CumSum's backward is written on raw arrays.*create_graph=True"):
        mdl.grad(x.cumsum(dim=3).sum(), [x], create_graph=True)
    bn = nn.BatchNorm2d(1).double()
    with pytest.raises(RuntimeError, match="batch statistics .*does not support create_graph=True"):
        (bn(x) ** 2).sum().backward(create_graph=True)
    mdl.functional.fast.set_enabled(True)  # a conv output in training: batch norm's fast path says it too
    conv = F.conv2d(mdl.tensor(R.standard_normal((9, 1, 4, 4)), requires_grad=True),
                    mdl.tensor(R.standard_normal((2, 1, 3, 3))), padding=1)  # lies batch-innermost
    with pytest.raises(RuntimeError, match="BatchNormTrain's backward is written on raw arrays.*create_graph=True"):
        (nn.BatchNorm2d(2).double()(conv) ** 2).sum().backward(create_graph=True)


def test_gradgradcheck_catches_a_wrong_second_derivative():
    class Cube(Function):
        def forward(self, x):
            self.x = x
            return x ** 3

        def backward(self, gy):
            return 3 * gy * self.x ** 2

        def differentiable_backward(self, gy):
            x, = self.inputs
            return 3 * gy * x * x * 1.01  # off by 1 percent

    with pytest.raises(mdl.GradcheckError, match="gradient mismatch"):
        mdl.gradgradcheck(lambda t: Cube()(t), [np.array([0.5, 1.0])])
    with pytest.raises(ValueError, match="at least one input with requires_grad"):
        mdl.gradgradcheck(lambda t: t, [mdl.tensor([1.0])])


# ------------------------------------------------------- against PyTorch
W_LIN, W_CONV = a(5, 4), a(3, 2, 3, 3)


def as_torch(array):
    import torch
    return torch.tensor(np.asarray(array))


TORCH_CASES = [  # (name, minidl f, torch f, input shapes): f of one input x
    ("tanh of linear", lambda x: F.linear(x, mdl.tensor(W_LIN)).tanh(), lambda x, T: T.tanh(x @ as_torch(W_LIN).T), (3, 4)),
    ("conv2d stride 2 padding 1", lambda x: F.conv2d(x, mdl.tensor(W_CONV), stride=2, padding=1) ** 2,
     lambda x, T: T.nn.functional.conv2d(x, as_torch(W_CONV), stride=2, padding=1) ** 2, (2, 2, 5, 5)),
    ("conv_transpose2d", lambda x: F.conv_transpose2d(x, mdl.tensor(W_CONV), stride=2) ** 2,
     lambda x, T: T.nn.functional.conv_transpose2d(x, as_torch(W_CONV), stride=2) ** 2, (2, 3, 3, 3)),
    ("cross_entropy", lambda x: F.cross_entropy(x, LABELS), lambda x, T: T.nn.functional.cross_entropy(x, as_torch(LABELS)),
     (3, 4)),
    ("log_softmax", lambda x: F.log_softmax(x, dim=1) ** 2, lambda x, T: T.log_softmax(x, 1) ** 2, (3, 4)),
    ("max_pool2d 3x3/2", lambda x: F.max_pool2d(x, 3, 2, 1) ** 3,
     lambda x, T: T.nn.functional.max_pool2d(x, 3, 2, 1) ** 3, (2, 2, 7, 7)),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 2) ** 3, lambda x, T: T.nn.functional.avg_pool2d(x, 2) ** 3, (2, 2, 6, 6)),
    ("bilinear", lambda x: F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False) ** 3,
     lambda x, T: T.nn.functional.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False) ** 3,
     (1, 2, 3, 3)),
    ("batch_norm eval", lambda x: F.batch_norm(x, RUNNING[0], RUNNING[1], training=False) ** 3,
     lambda x, T: T.nn.functional.batch_norm(x, as_torch(RUNNING[0]), as_torch(RUNNING[1]), training=False) ** 3,
     (3, 4, 2, 2)),
    ("pow, silu, softplus", lambda x: F.silu(x) * F.softplus(x) + x.abs() ** 1.5,
     lambda x, T: T.nn.functional.silu(x) * T.nn.functional.softplus(x) + x.abs() ** 1.5, (3, 4)),
]
@pytest.mark.parametrize("case", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_second_derivatives_match_pytorch(case):
    """The Hessian-vector product H u of L = <v, f(x)>, in float64, against torch.autograd.grad."""
    torch = pytest.importorskip("torch")
    _, ours, theirs, shape = case
    rng = np.random.default_rng(3)
    x0 = rng.standard_normal(shape)
    y_shape = ours(mdl.tensor(x0)).shape
    v, u = rng.standard_normal(y_shape), rng.standard_normal(shape)
    x = mdl.tensor(x0, requires_grad=True)
    g, = mdl.grad((ours(x) * v).sum(), [x], create_graph=True)
    hu, = mdl.grad((g * u).sum(), [x])
    xt = torch.tensor(x0, requires_grad=True)
    gt, = torch.autograd.grad((theirs(xt, torch) * as_torch(v)).sum(), [xt], create_graph=True)
    hut, = torch.autograd.grad((gt * as_torch(u)).sum(), [xt])
    np.testing.assert_allclose(g.data, gt.detach().numpy(), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(hu, hut.numpy(), rtol=1e-7, atol=1e-9)
