"""``nn.summary(model, input_shape)``: a Keras-style table of layers, shapes and parameters.

It runs one forward pass on a batch of zeros (in eval mode, without a graph,
restoring the modes afterwards) and notes, for every module that is called,
the shape of its output. Example, the seed convnet::

    Model: "Sequential"
    ________________________________________________________________________
     Layer (type)                    Output Shape                 Param #
    ========================================================================
     0 (Conv2d)                      (None, 32, 26, 26)           320
     1 (ReLU)                        (None, 32, 26, 26)           0
    ...
    ========================================================================
    Total params: 34,826 (136.04 KB)
    Trainable params: 34,826 (136.04 KB)
    Non-trainable params: 0 (0.00 B)
    ________________________________________________________________________

Parameters count as in PyTorch: buffers (batch norm's running statistics) are
state, not parameters. Frozen parameters (``requires_grad=False``) are
non-trainable. A module inside another is indented under it; its parent's
row counts all the parameters below it.
"""
from __future__ import annotations

from typing import Any, Sequence

from .. import backend
from ..autograd import Tensor, no_grad
from .module import Module

_WIDTHS = (34, 28, 12)


def _size(nbytes: float) -> str:
    """Keras' sizes: B, KB, MB, GB with 1 KB = 1024 B, two decimals."""
    for unit in ("B", "KB", "MB", "GB"):
        if nbytes < 1024 or unit == "GB":
            return f"{nbytes:.2f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.2f} GB"


def _shape(out: Any) -> str:
    if isinstance(out, Tensor) or backend.is_array(out):
        return "(None, " + ", ".join(str(n) for n in out.shape[1:]) + ")" if len(out.shape) > 1 else "(None,)"
    if isinstance(out, (tuple, list)):
        return "[" + ", ".join(_shape(o) for o in out) + "]"
    return "?"


def summary(
    model: Module, input_shape: Sequence[int], batch_size: int = 2, device: Any = None, dtype: Any = None,
    print_fn: Any = print,
) -> str:
    """Print (with ``print_fn``; None prints nothing) and return the model's summary table.

    Args:
        model: the Module.
        input_shape: one sample's shape, without the batch axis, e.g. (1, 28, 28).
        batch_size: the batch of zeros run through the model (shown as None).
        device, dtype: of that batch (default: the model's first parameter's, else the backend's).
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary needs a Module, got {type(model).__name__}")
    params = list(model.parameters())
    if device is None:
        device = backend.device_of(params[0].data) if params else backend.get_default_device()
    if dtype is None:
        dtype = params[0].dtype if params else backend.get_default_dtype()
    xp = backend.namespace(device)
    x = Tensor(xp.zeros((batch_size,) + tuple(input_shape), dtype=dtype))

    rows: list = []  # [depth, name, type, shape, params], in order of call
    names = {id(m): name for name, m in model.named_modules()}
    depth = [0]

    def wrap(module: Module):
        original = module.forward

        def forward(*args, **kwargs):
            row = [depth[0], names.get(id(module), "?"), type(module).__name__, "?", module]
            rows.append(row)
            depth[0] += 1
            try:
                out = original(*args, **kwargs)
            finally:
                depth[0] -= 1
            row[3] = _shape(out)
            return out

        object.__setattr__(module, "forward", forward)  # shadows the class's forward for this call

    modes = {id(m): m.training for m in model.modules()}
    submodules = [m for name, m in model.named_modules() if name]
    for m in submodules:
        wrap(m)
    try:
        model.eval()
        with no_grad():
            model(x)
    finally:
        for m in submodules:
            m.__dict__.pop("forward", None)
        for m in model.modules():
            object.__setattr__(m, "training", modes[id(m)])

    w1, w2, w3 = _WIDTHS
    line = "_" * (w1 + w2 + w3 + 1)
    lines = [f'Model: "{type(model).__name__}"', line,
             " " + "Layer (type)".ljust(w1) + "Output Shape".ljust(w2) + "Param #", "=" * len(line)]
    for level, name, kind, shape, module in rows:
        count = sum(p.size for p in module.parameters())
        label = "  " * level + f"{name} ({kind})"
        lines.append(" " + label.ljust(w1 - 1) + " " + shape.ljust(w2 - 1) + " " + f"{count:,}")
    total = sum(p.size for p in params)
    trainable = [p for p in params if p.requires_grad]
    n_train = sum(p.size for p in trainable)
    bytes_total = sum(p.size * p.dtype.itemsize for p in params)
    bytes_train = sum(p.size * p.dtype.itemsize for p in trainable)
    lines += [
        "=" * len(line),
        f"Total params: {total:,} ({_size(bytes_total)})",
        f"Trainable params: {n_train:,} ({_size(bytes_train)})",
        f"Non-trainable params: {total - n_train:,} ({_size(bytes_total - bytes_train)})",
        line,
    ]
    text = "\n".join(lines)
    if print_fn is not None:
        print_fn(text)
    return text
