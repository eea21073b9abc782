"""Transfer learning: reuse what a network learned on one task for another.

The three classic scenarios, chosen by how much data the new task has and how
similar it is to the old one:

====================  ===================  =====================================
new data              similar task         different task
====================  ===================  =====================================
little                frozen features +    features from an earlier layer +
                      a new head           a shallow classifier (logistic / SVM)
a lot                 fine-tune all, with  fine-tune all, or train from scratch
                      small lrs below
====================  ===================  =====================================

Tools here:

* :func:`freeze` / :func:`unfreeze` - stop (or restart) training parameters,
  by module or by name prefix. A frozen parameter has ``requires_grad=False``:
  no gradient is computed for it (ops skip that work), and optimizers skip it.
* :func:`replace_head` - swap the last Linear layer for a fresh one.
* :func:`extract_features` - run data through the network and keep one
  layer's output, for a shallow classifier.
* :func:`fit_linear_classifier` - multinomial logistic regression or a linear
  SVM (multiclass hinge loss), trained with minidl itself.
* :func:`param_groups_by_depth` - discriminative learning rates: the head gets
  the base lr, each layer below it ``decay`` times less.
* :func:`load_torch_state_dict` - load weights exported from PyTorch (as
  NumPy arrays) into the matching minidl model, names and shapes checked.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Sequence, Union

import numpy

from . import backend, nn, optim
from .autograd import Tensor, no_grad
from .functional.activation import relu
from .functional.loss import cross_entropy

Prefixes = Union[str, Sequence[str], None]


def _under(name: str, prefixes: Prefixes) -> bool:
    """Is the parameter or module ``name`` inside one of ``prefixes`` (everything when None)?"""
    if prefixes is None:
        return True
    prefixes = (prefixes,) if isinstance(prefixes, str) else tuple(prefixes)
    return any(name == q or name.startswith(q.rstrip(".") + ".") for q in prefixes)


def _select(model: Any, prefixes: Prefixes) -> list:
    """Parameters of ``model`` whose names start with one of ``prefixes`` (all if None)."""
    named = list(model.named_parameters())
    if prefixes is None:
        return [p for _, p in named]
    prefixes = (prefixes,) if isinstance(prefixes, str) else tuple(prefixes)
    chosen = [p for name, p in named if _under(name, prefixes)]
    if not chosen:
        names = sorted({name.split(".")[0] for name, _ in named})
        raise ValueError(f"no parameter name starts with {list(prefixes)}; top-level names are {names}")
    return chosen


def _batch_norms(model: Any, prefixes: Prefixes) -> list:
    return [m for name, m in model.named_modules()
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) and name and _under(name, prefixes)]


def freeze(model: Any, prefixes: Prefixes = None) -> None:
    """Set ``requires_grad=False`` on all parameters, or those under the given name prefixes.

    Example: ``freeze(model, ["0", "3"])`` freezes layers 0 and 3 of a Sequential.

    Batch norm layers inside the frozen part also stay in eval mode, even
    after ``model.train()``: they normalise with their stored (ImageNet)
    statistics and do not update them. This is Keras' rule for
    ``trainable = False`` and the fix for a classic bug: a frozen base in
    training mode would normalise each small batch of the new data with that
    batch's own statistics and overwrite the running ones, so its features
    drift from those the head is trained on at test time.
    """
    for p in _select(model, prefixes):
        p.requires_grad = False
        p.grad = None
    for bn in _batch_norms(model, prefixes):
        object.__setattr__(bn, "frozen_eval", True)
        object.__setattr__(bn, "training", False)


def unfreeze(model: Any, prefixes: Prefixes = None) -> None:
    """Set ``requires_grad=True`` again (all parameters, or those under the prefixes).

    The batch norms there follow ``model.train()`` / ``eval()`` again (from the
    next call of either).
    """
    for p in _select(model, prefixes):
        p.requires_grad = True
    for bn in _batch_norms(model, prefixes):
        object.__setattr__(bn, "frozen_eval", False)


def _last_linear(model: Any):
    """(parent module, attribute name, layer) of the last nn.Linear in the model."""
    found = None
    for parent_name, parent in model.named_modules():
        for name, child in parent.named_children():
            if isinstance(child, nn.Linear):
                found = (parent, name, child)
    if found is None:
        raise ValueError(f"replace_head: the model has no nn.Linear layer to replace ({type(model).__name__})")
    return found


def replace_head(model: Any, num_classes: int) -> Any:
    """Replace the last Linear layer by a new one with ``num_classes`` outputs.

    The new layer is freshly initialised, trainable, on the old one's device
    and dtype. Returns the new layer.
    """
    if num_classes < 1:
        raise ValueError(f"num_classes must be positive, got {num_classes}")
    parent, name, old = _last_linear(model)
    new = nn.Linear(old.in_features, num_classes, bias=old.bias is not None)
    new.to(device=backend.device_of(old.weight.data), dtype=old.weight.dtype)
    setattr(parent, name, new)
    return new


def _submodule(model: Any, layer: Union[str, int]):
    modules = dict(model.named_modules())
    key = str(layer)
    if key not in modules or key == "":
        raise ValueError(f"layer {layer!r} is not a submodule name; choose from {[k for k in modules if k]}")
    return modules[key]


def extract_features(model: Any, data: Iterable, layer: Union[str, int, None] = None) -> tuple:
    """Run ``data`` through the model (eval mode, no graph) and keep one layer's output.

    Args:
        model: a Module.
        data: a loader of (x, y) batches, or an iterable of input batches.
        layer: a submodule name as in ``named_modules()`` (``"5"`` for layer 5
            of a Sequential); None keeps the model's output.

    Returns:
        (features, labels) as NumPy arrays: features flattened to (N, D);
        labels None when the data had none.
    """
    target = None if layer is None else _submodule(model, layer)
    captured: list = []
    original = None
    if target is not None:
        # Wrap the layer's forward for the duration of the call, recording its
        # output (an instance attribute shadows the class's method).
        original = target.forward

        def recording_forward(*args, **kwargs):
            out = original(*args, **kwargs)
            captured.append(out)
            return out

        target.forward = recording_forward
    was_training = model.training
    model.eval()
    feats, labels = [], []
    try:
        with no_grad():
            for batch in data:
                x, y = (batch[0], batch[1]) if isinstance(batch, (tuple, list)) else (batch, None)
                captured.clear()
                out = model(x)
                out = captured[-1] if target is not None else out
                out = out.data if isinstance(out, Tensor) else out
                feats.append(backend.to_numpy(out).reshape(len(out), -1))
                if y is not None:
                    labels.append(backend.to_numpy(y.data if isinstance(y, Tensor) else y))
    finally:
        if target is not None:
            del target.forward
        model.train(was_training)
    return numpy.concatenate(feats), (numpy.concatenate(labels) if labels else None)


def param_groups_by_depth(model: Any, base_lr: float, decay: float = 0.5) -> list:
    """Param groups with smaller learning rates for lower layers.

    Layers are the modules that own parameters, in the order they were
    defined (input to output). The last gets ``base_lr``, the one before
    ``base_lr * decay``, then ``base_lr * decay**2``, ... Frozen parameters are
    left out. Pass the result to an optimizer: ``SGD(groups, lr=base_lr)``.
    """
    if base_lr <= 0 or not 0 < decay <= 1:
        raise ValueError(f"need base_lr > 0 and 0 < decay <= 1, got base_lr={base_lr}, decay={decay}")
    layers = []
    for name, module in model.named_modules():
        own = [p for _, p in module.named_parameters(recurse=False) if p.requires_grad]
        if own:
            layers.append((name, own))
    depth = len(layers)
    return [
        {"params": params, "lr": base_lr * decay ** (depth - 1 - i), "name": name}
        for i, (name, params) in enumerate(layers)
    ]


def load_torch_state_dict(model: Any, state: Mapping[str, Any], strict: bool = True) -> None:
    """Load a PyTorch-style state dict (name -> array) into a minidl model.

    minidl's layers use PyTorch's parameter names and layouts (Linear weight
    (out, in), Conv2d weight (out, in/groups, kh, kw), BatchNorm running_mean /
    running_var), so names map one to one. PyTorch's ``num_batches_tracked``
    counters have no minidl counterpart and are skipped. Tensors from PyTorch
    should be exported as arrays first (``{k: v.numpy() for k, v in sd.items()}``).
    """
    arrays = {}
    for key, value in state.items():
        if key.endswith("num_batches_tracked") and key not in model.state_dict():
            continue
        if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor, if given anyway
            value = value.detach().cpu().numpy()
        arrays[key] = numpy.asarray(value)
    model.load_state_dict(arrays, strict=strict)


# ------------------------------------------------------------ shallow heads
def _hinge_loss(scores: Tensor, labels: Any) -> Tensor:
    """Multiclass SVM loss: mean over samples of sum_{j != y} max(0, s_j - s_y + 1)."""
    xp = backend.get_array_module(scores.data)
    n, classes = scores.shape
    rows = xp.arange(n)
    correct = scores[rows, labels].reshape(n, 1)  # (N, 1) the true class's score
    margins = relu(scores - correct + 1.0)  # (N, C)
    not_true = xp.ones((n, classes), dtype=scores.dtype)
    not_true[rows, labels] = 0  # the true class's own margin (always 1) is left out
    return (margins * not_true).sum() / n


def fit_linear_classifier(
    features: Any,
    labels: Any,
    loss: str = "logistic",
    epochs: int = 100,
    lr: float = 0.1,
    weight_decay: float = 1e-4,
    batch_size: int = 256,
    seed: Optional[int] = 0,
):
    """Train a linear classifier on fixed features: logistic regression or an SVM.

    ``loss="logistic"`` minimises the cross-entropy of softmax(W f + b)
    (multinomial logistic regression); ``loss="hinge"`` the multiclass SVM
    loss. Both with L2 weight decay, by SGD with momentum on shuffled
    mini-batches. Features are standardised (mean 0, std 1 per dimension,
    statistics stored in the returned model; a dimension constant on the
    training features is only centred). Returns an ``nn.Sequential``
    (standardise, Linear) that maps features to class scores.
    """
    if loss not in ("logistic", "hinge"):
        raise ValueError(f"loss must be 'logistic' or 'hinge', got {loss!r}")
    x = numpy.asarray(backend.to_numpy(features), dtype=numpy.float32).reshape(len(features), -1)
    y = numpy.asarray(backend.to_numpy(labels)).astype(numpy.int64)
    if len(x) != len(y):
        raise ValueError(f"features and labels differ in length: {len(x)} vs {len(y)}")
    classes = int(y.max()) + 1
    mean, std = x.mean(axis=0), x.std(axis=0)
    # A feature constant on the training set (a ReLU unit that never fires on a few images) is
    # left unscaled: dividing by its ~0 spread would blow it up on test images where it does fire.
    std = numpy.where(std > 1e-6, std, 1.0).astype(numpy.float32)
    x = (x - mean) / std
    head = nn.Linear(x.shape[1], classes)
    opt = optim.SGD(head.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay)
    rng = backend.new_generator(seed)
    objective = cross_entropy if loss == "logistic" else _hinge_loss
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            idx = order[start : start + batch_size]
            out = objective(head(Tensor(x[idx])), y[idx])
            opt.zero_grad()
            out.backward()
            opt.step()
    return nn.Sequential(Standardize(mean, std), head)


class Standardize(nn.Module):
    """y = (x - mean) / std per feature, with the statistics fixed (buffers)."""

    def __init__(self, mean: Any, std: Any):
        super().__init__()
        self.register_buffer("mean", numpy.asarray(mean, dtype=numpy.float32))
        self.register_buffer("std", numpy.asarray(std, dtype=numpy.float32))

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        return (x.reshape(len(x), -1) - self.mean) / self.std
