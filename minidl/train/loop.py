"""fit / evaluate / predict: the training loop, written out once.

    history = fit(model, train_loader, nn.CrossEntropyLoss(), optimizer, epochs=5,
                  val_loader=test_loader, callbacks=[EarlyStopping(patience=2)])

Every epoch: model.train(); for each batch: forward, loss, zero_grad,
backward, step; then model.eval() and the validation pass under no_grad.
Batch norm and dropout behave differently in the two modes, so switching at
the right moments matters (and is tested).
"""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

import numpy

from .. import backend
from ..autograd import Tensor, no_grad
from . import metrics as M
from .callbacks import Callback, CallbackList, ProgressBar
from .checkpoint import load_checkpoint, save_checkpoint
from .history import History

_TOPK = re.compile(r"top(\d+)_accuracy")


def _metric_counts(name: str, outputs: Any, targets: Any) -> int:
    """Correct predictions in a batch for a metric name ("accuracy", "top5_accuracy")."""
    if name == "accuracy":
        return M.correct_count(outputs, targets)
    match = _TOPK.fullmatch(name)
    if match:
        return M.top_k_correct(outputs, targets, int(match.group(1)))
    raise ValueError(f"unknown metric {name!r}; use 'accuracy' or 'topK_accuracy' (e.g. 'top5_accuracy')")


class _Running:
    """Sums of the loss and metric counts over an epoch, weighted by batch size."""

    def __init__(self, names: Sequence[str]):
        self.names, self.n, self.loss = list(names), 0, 0.0
        self.counts = {name: 0 for name in names}

    def add(self, loss: Optional[float], outputs: Any, targets: Any) -> None:
        size = len(targets)
        self.n += size
        if loss is not None:
            self.loss += loss * size
        for name in self.names:
            self.counts[name] += _metric_counts(name, outputs, targets)

    def logs(self, prefix: str = "", with_loss: bool = True) -> dict:
        out = {f"{prefix}loss": self.loss / max(self.n, 1)} if with_loss else {}
        out.update({f"{prefix}{k}": v / max(self.n, 1) for k, v in self.counts.items()})
        return out


def _data(out: Any) -> Any:
    return out.data if isinstance(out, Tensor) else out


def fit(model: Any, train_loader: Iterable, loss: Callable, optimizer: Any, epochs: int,
        val_loader: Optional[Iterable] = None, callbacks: Sequence[Callback] = (),
        metrics: Sequence[str] = ("accuracy",), scheduler: Any = None, verbose: int = 1,
        initial_epoch: int = 0, checkpoint: Any = None, resume_from: Any = None) -> History:
    """Train ``model`` for ``epochs`` epochs; returns the History.

    Args:
        loss: a loss module or function, ``loss(outputs, targets)``.
        scheduler: stepped once after each epoch.
        checkpoint: a path: the full training state is saved there (atomically)
            after every epoch.
        resume_from: a checkpoint path to continue from (its epoch + 1 on);
            ignored when the file does not exist yet.
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    history = History()
    loaders = [l for l in (train_loader, val_loader) if hasattr(l, "state_dict")]
    parts = dict(optimizer=optimizer, scheduler=scheduler, loaders=loaders, history=history,
                 callbacks=list(callbacks))
    if resume_from is not None and Path(resume_from).exists():
        initial_epoch = load_checkpoint(resume_from, model, **parts) + 1
    steps = len(train_loader) if hasattr(train_loader, "__len__") else None
    params = {"epochs": epochs, "steps": steps, "optimizer": optimizer, "state_parts": parts}
    cbs = CallbackList([ProgressBar(verbose)] + list(callbacks), model, params)
    model.stop_training = False
    cbs.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        cbs.on_epoch_begin(epoch)
        start = time.perf_counter()
        model.train()
        running = _Running(metrics)
        for step, (x, y) in enumerate(train_loader):
            out = model(x)
            value = loss(out, y)
            optimizer.zero_grad()
            value.backward()
            optimizer.step()
            running.add(value.item(), _data(out), y)
            cbs.on_batch_end(step, running.logs())
        logs = running.logs()
        if val_loader is not None:
            logs.update({f"val_{k}": v for k, v in evaluate(model, val_loader, loss, metrics).items()})
        logs["lr"] = optimizer.param_groups[0]["lr"]
        logs["time"] = time.perf_counter() - start
        if scheduler is not None:
            scheduler.step()
        history.append(epoch, logs)
        cbs.on_epoch_end(epoch, logs)
        if checkpoint is not None:
            save_checkpoint(checkpoint, model, epoch, **parts)
        if model.stop_training:
            break
    cbs.on_train_end()
    return history


def evaluate(model: Any, loader: Iterable, loss: Optional[Callable] = None,
             metrics: Sequence[str] = ("accuracy",)) -> dict:
    """The mean loss (when given) and metrics over a loader, in eval mode without a graph."""
    was_training = getattr(model, "training", False)
    model.eval()
    running = _Running(metrics)
    try:
        with no_grad():
            for x, y in loader:
                out = model(x)
                running.add(loss(out, y).item() if loss is not None else None, _data(out), y)
    finally:
        model.train(was_training)
    return running.logs(with_loss=loss is not None)


def predict(model: Any, data: Any, batch_size: int = 256) -> numpy.ndarray:
    """The model's outputs (eval mode, no graph) for an array/Tensor or a loader's inputs, as NumPy."""
    was_training = getattr(model, "training", False)
    model.eval()
    outputs = []
    try:
        with no_grad():
            if isinstance(data, Tensor) or backend.is_array(data):
                batches = (data[i:i + batch_size] for i in range(0, len(data), batch_size))
            else:
                batches = (b[0] if isinstance(b, (tuple, list)) else b for b in data)
            for x in batches:
                outputs.append(backend.to_numpy(_data(model(x))))
    finally:
        model.train(was_training)
    return numpy.concatenate(outputs)
