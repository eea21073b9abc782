"""Folding batch norms into the convolutions before them, for inference.

In eval mode batch norm is a fixed affine map per channel,
``bn(z) = gamma * (z - mu) / sqrt(var + eps) + beta = a * z + c`` with
``a = gamma / sqrt(var + eps)`` and ``c = beta - a * mu``. Applied to a
convolution's output ``z = W * x + b`` it gives ``(a W) * x + (a b + c)``:
another convolution, with each output channel's kernel scaled by ``a`` and a
new bias. The fused network computes the same thing with one layer less:
batch norm costs nothing at test time.

* :func:`fuse_conv_bn` folds one pair you name (PyTorch's
  ``torch.nn.utils.fusion.fuse_conv_bn_eval``).
* :func:`fuse_model` folds every pair of a whole model (PyTorch's
  ``torch.fx.experimental.optimization.fuse``), and :func:`find_conv_bn_pairs`
  says which pairs those are.

Finding the pairs. A model's ``forward`` is hand-written code
(``self.bn1(self.conv1(x))``), so the module tree alone does not say which
batch norm reads which convolution. :func:`find_conv_bn_pairs` runs one
forward pass on an example input and watches it: every Conv2d and
BatchNorm2d call notes the Tensor it got and the Tensor it gave, and the
autograd graph of the pass says how many operations used each Tensor. A pair
is folded only when it is provably the same computation:

1. the BatchNorm2d's input *is* a Conv2d's output (the same Tensor object);
2. nothing else used that output (one use in the whole graph: the batch
   norm's), and the model does not return it;
3. each of the two modules ran exactly once (a layer called twice may be
   followed by the batch norm only once);
4. the batch norm keeps running statistics (what eval mode normalises with).

Anything else is left as it is: a batch norm before its convolution
(pre-activation ResNets), a convolution whose output also feeds a shortcut,
a BatchNorm1d after a Linear. What a trace cannot see (a use under
``no_grad`` or through ``.data`` inside ``forward``, a branch the example
input does not take) is caught after folding: :func:`fuse_model` runs both
models on the example input and refuses a fused model whose output differs.
"""
from __future__ import annotations

import copy
from collections import Counter
from typing import Any, Iterator, List, Tuple

from .. import backend
from ..autograd import Tensor, no_grad
from ..grad_mode import enable_grad
from .conv import Conv2d
from .linear import Identity
from .module import Module, Parameter
from .normalization import BatchNorm2d, _BatchNorm


def fuse_conv_bn(conv: Conv2d, bn: _BatchNorm) -> Conv2d:
    """One Conv2d equal to ``bn(conv(x))`` with ``bn`` in eval mode (the inputs are not changed).

    The result is a copy of ``conv`` (its class too: a Conv2d subclass with
    its own padding rule keeps it) with weight ``a W`` and bias ``a b + c``.
    Needs ``bn.track_running_stats`` (the running statistics are what eval
    mode uses) and ``bn.num_features == conv.out_channels``.
    """
    if not isinstance(conv, Conv2d) or not isinstance(bn, _BatchNorm):
        raise TypeError(f"fuse_conv_bn needs a Conv2d and a BatchNorm, got {type(conv).__name__} and {type(bn).__name__}")
    if bn.num_features != conv.out_channels:
        raise ValueError(
            f"fuse_conv_bn: the batch norm has {bn.num_features} features but the convolution "
            f"{conv.out_channels} output channels"
        )
    if not bn.track_running_stats:
        raise ValueError("fuse_conv_bn: the batch norm keeps no running statistics (track_running_stats=False)")
    w = conv.weight.data
    xp = backend.get_array_module(w)
    device = backend.device_of(w)
    mu = backend.to_device(bn.running_mean, device).astype(w.dtype)
    var = backend.to_device(bn.running_var, device).astype(w.dtype)
    a = 1.0 / xp.sqrt(var + bn.eps)  # (O,)
    c = -a * mu
    if bn.affine:
        gamma = bn.weight.data.astype(w.dtype)
        a, c = gamma * a, gamma * c + bn.bias.data.astype(w.dtype)
    b = conv.bias.data if conv.bias is not None else xp.zeros_like(a)
    fused = copy.deepcopy(conv)
    fused.weight = Parameter(w * a.reshape(-1, 1, 1, 1), requires_grad=conv.weight.requires_grad)  # (O, I/g, kh, kw)
    fused.bias = Parameter(a * b + c, requires_grad=conv.weight.requires_grad)  # (O,)
    return fused


# ------------------------------------------------------------------ a whole model
Pair = Tuple[str, str]  # (the convolution's name, the batch norm's name), as in named_modules()


def find_conv_bn_pairs(model: Module, example_input: Any) -> List[Pair]:
    """The (conv, batch norm) pairs of ``model`` that :func:`fuse_model` folds, by their module names.

    Runs ``model`` once, in eval mode, on ``example_input`` (a batch of the
    model's input: an array or a Tensor, on the model's device; a small one
    will do, e.g. (2, 3, 32, 32)), and applies the rules of the module
    docstring. The model is left as it was (its mode restored).
    """
    was_training = {id(m): m.training for m in model.modules()}
    model.eval()
    try:
        calls, outputs = _trace(model, example_input)
    finally:
        for m in model.modules():
            object.__setattr__(m, "training", was_training[id(m)])
    uses = _count_uses(outputs)
    runs = Counter(id(module) for module, _, _ in calls)
    conv_of_output = {id(y): module for module, _, y in calls if isinstance(module, Conv2d)}
    names = {id(m): name for name, m in model.named_modules()}
    pairs = []
    for bn, x, _ in calls:
        if not isinstance(bn, BatchNorm2d):
            continue
        conv = conv_of_output.get(id(x))  # rule 1: the batch norm's input is a conv's output
        if (conv is not None and uses[id(x)] == 1  # rule 2: used by the batch norm alone
                and runs[id(conv)] == 1 and runs[id(bn)] == 1  # rule 3: each ran once
                and bn.track_running_stats):  # rule 4
            pairs.append((names[id(conv)], names[id(bn)]))
    return pairs


def fuse_model(model: Module, example_input: Any, rtol: float = 1e-4) -> Module:
    """A copy of ``model`` in eval mode with every safe Conv2d -> BatchNorm2d pair folded into one Conv2d.

    Each folded convolution is replaced by :func:`fuse_conv_bn` of it and its
    batch norm, and the batch norm by ``nn.Identity()``, so the model's own
    ``forward`` runs unchanged, one layer lighter per pair. Which pairs are
    safe is found by tracing one forward pass on ``example_input``
    (:func:`find_conv_bn_pairs`); the others are left unfused. The original
    model is not changed.

    For inference only: the copy has no batch norms left to train.

    Raises:
        RuntimeError: the fused copy's output on ``example_input`` differs from
            the model's by more than ``rtol`` times the output's largest value
            (something the trace could not see; the error says which pairs).
    """
    pairs = find_conv_bn_pairs(model, example_input)
    fused = copy.deepcopy(model).eval()
    modules = dict(fused.named_modules())
    for conv_name, bn_name in pairs:
        folded = fuse_conv_bn(modules[conv_name], modules[bn_name])
        _replace(fused, modules[conv_name], folded)
        _replace(fused, modules[bn_name], Identity())
    _check_same_output(model, fused, example_input, rtol, pairs)
    return fused


def _trace(model: Module, example_input: Any) -> tuple:
    """One forward pass with the graph recorded: ([(module, input, output) of each Conv2d / BatchNorm2d call], outputs).

    Each of those modules' ``forward`` is wrapped for the pass (an instance
    attribute shadows the class's method) to note what it got and gave.
    """
    calls: list = []
    watched = [m for m in model.modules() if isinstance(m, (Conv2d, _BatchNorm))]

    def recording(module: Module, forward: Any) -> Any:
        def forward_and_note(x: Tensor, *args: Any, **kwargs: Any) -> Any:
            y = forward(x, *args, **kwargs)
            calls.append((module, x, y))
            return y
        return forward_and_note

    for m in watched:
        m.forward = recording(m, m.forward)
    try:
        data = example_input.data if isinstance(example_input, Tensor) else example_input
        with enable_grad():  # the input requires a gradient: every op after it is recorded
            out = model(Tensor(data, requires_grad=True))
    finally:
        for m in watched:
            del m.forward
    return calls, [t for t in _as_tuple(out) if isinstance(t, Tensor)]


def _as_tuple(out: Any) -> tuple:
    """A model's output as a tuple (a model may return one Tensor or several)."""
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _count_uses(outputs: List[Tensor]) -> Counter:
    """id(tensor) -> how many operations of the recorded graph took it as an input (+1 if returned)."""
    uses = Counter(id(t) for t in outputs)
    stack = [t.creator for t in outputs if t.creator is not None]
    seen = set()
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        for x in fn.inputs:
            uses[id(x)] += 1
            if x.creator is not None:
                stack.append(x.creator)
    return uses


def _places(model: Module, target: Module) -> Iterator[tuple]:
    """(parent, attribute name) of every place ``target`` is registered in ``model``."""
    for parent in model.modules():
        for name, child in parent.named_children():
            if child is target:
                yield parent, name


def _replace(model: Module, old: Module, new: Module) -> None:
    for parent, name in list(_places(model, old)):
        setattr(parent, name, new)


def _check_same_output(model: Module, fused: Module, example_input: Any, rtol: float, pairs: List[Pair]) -> None:
    """Refuse a fused model whose output on the example differs from the model's (eval mode)."""
    was_training = {id(m): m.training for m in model.modules()}
    try:
        with no_grad():
            expected, got = model.eval()(example_input), fused(example_input)
    finally:
        for m in model.modules():
            object.__setattr__(m, "training", was_training[id(m)])
    for e, g in zip(_as_tuple(expected), _as_tuple(got)):
        e, g = backend.to_numpy(e.data), backend.to_numpy(g.data)
        error, scale = float(abs(e - g).max(initial=0.0)), float(abs(e).max(initial=0.0))
        if error > rtol * max(scale, 1e-30):
            raise RuntimeError(
                f"fuse_model: the fused {type(model).__name__} differs from the original by {error:.3g} on the "
                f"example input (largest output {scale:.3g}); folded pairs: {pairs}. A layer may use its output "
                "in a way the trace does not see, or a Conv2d subclass may ignore its bias")
