"""fit / evaluate / predict: the training loop, written out once.

    history = fit(model, train_loader, nn.CrossEntropyLoss(), optimizer, epochs=5,
                  validation_split=0.1, callbacks=[EarlyStopping(patience=2)])

``validation_split=0.1`` holds out the last 10% of the training data (as
Keras does) and validates on it after every epoch; ``validation_data=(x, y)``
or a loader validates on data of your own. Never validate on the test set:
choosing the epoch or the settings on it makes its accuracy optimistic.
Evaluate the test set once, at the end (:func:`evaluate`).

One epoch of :func:`fit`::

    model.train()                       # dropout drops, batch norm uses batch statistics
    for x, y in train_loader:
        out = model(x)                  # forward
        value = loss(out, y)
        optimizer.zero_grad()           # forget the previous step's gradients
        value.backward()                # dL/dw for every parameter
        optimizer.step()                # w <- w - lr * (update from dL/dw)
    model.eval()                        # dropout off, batch norm uses running statistics
    with no_grad():                     # no graph: validation must not train
        ...validation loss and metrics...
    scheduler.step()                    # the next epoch's learning rate

Forgetting ``model.eval()`` before validating is a classic bug: dropout keeps
dropping and batch norm keeps updating its running statistics on the
validation data. Forgetting ``model.train()`` after it is the opposite bug.
Here both switches happen in one place (and the tests check which mode each
phase saw).

The loss and metrics of an epoch are averages over its samples (each batch
weighted by its size), so a smaller last batch counts for what it holds.
"""
from __future__ import annotations

import copy
import math
import numbers
import re
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence, Tuple

import numpy

from .. import backend, serialization
from ..autograd import Tensor, no_grad
from ..data.dataset import Subset, TensorDataset
from ..data.loader import DataLoader
from ..distributed.ddp import DistributedDataParallel
from ..optim.lr_scheduler import ReduceLROnPlateau
from ..validate import positive_int
from . import metrics as M
from .callbacks import Callback, CallbackList, ProgressBar
from .checkpoint import check_checkpoint, check_run_id, load_callback_states, load_checkpoint, save_checkpoint
from .history import History

_TOPK = re.compile(r"top(\d+)_accuracy")


def _metric_function(name: str) -> Callable[[Any, Any], int]:
    """The counter of correct predictions for a metric name: "accuracy" or "topK_accuracy"."""
    if name == "accuracy":
        return M.correct_count
    match = _TOPK.fullmatch(name)
    if match and int(match.group(1)) >= 1:
        k = int(match.group(1))
        return lambda outputs, targets: M.top_k_correct(outputs, targets, k)
    raise ValueError(f"unknown metric {name!r}; use 'accuracy' or 'topK_accuracy' (e.g. 'top5_accuracy')")


class _Running:
    """Sums over an epoch of the loss and of each metric's correct count, and the sample count."""

    def __init__(self, metrics: Sequence[str]):
        self.counters = {name: _metric_function(name) for name in metrics}
        self.n, self.loss = 0, 0.0
        self.correct = {name: 0 for name in metrics}

    def add(self, loss: Optional[float], outputs: Any, targets: Any) -> None:
        size = len(targets)
        self.n += size
        if loss is not None:
            self.loss += loss * size  # the batch's mean loss times its size: the sum over its samples
        for name, count in self.counters.items():
            self.correct[name] += count(outputs, targets)

    def logs(self, with_loss: bool = True) -> dict:
        n = max(self.n, 1)
        out = {"loss": self.loss / n} if with_loss else {}
        out.update({name: c / n for name, c in self.correct.items()})
        return out


def _array(out: Any) -> Any:
    return out.data if isinstance(out, Tensor) else out


def _check_batch(batch: Any, where: str) -> tuple:
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise TypeError(f"{where} must yield (inputs, labels) pairs, got {type(batch).__name__}"
                        + (f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else ""))
    return batch[0], batch[1]


def split_validation(train_loader: DataLoader, validation_split: float) -> Tuple[DataLoader, DataLoader]:
    """Keras' ``validation_split`` on a DataLoader: ``(training loader, validation loader)``.

    The last ``validation_split`` fraction of the loader's dataset, in the
    dataset's own order (before any shuffling, as in Keras), is held out::

        60000 samples, validation_split=0.1     (Keras: split_at = ceil(n * (1 - 0.1)))
        training   = dataset[0:54000]       shuffled every epoch, transformed (augmented)
        validation = dataset[54000:60000]   in order, as they are

    The training loader is a copy of ``train_loader`` on the first part, with
    all its settings (batch size, shuffling, seed, epoch, transform, prefetch,
    device). The validation loader keeps the batch size, prefetch and device,
    but neither shuffles nor transforms: augmentation is for training only.
    """
    if not isinstance(train_loader, DataLoader):
        raise TypeError(f"validation_split needs train_loader to be a DataLoader (it splits the loader's "
                        f"dataset), got {type(train_loader).__name__}; pass validation_data=(x, y) instead")
    _check_fraction(validation_split)
    n = len(train_loader.dataset)
    split_at = math.ceil(n * (1.0 - validation_split))  # Keras' rounding: the training part rounds up
    if split_at >= n:
        raise ValueError(f"validation_split={validation_split} of {n} samples holds out none; "
                         f"use a larger fraction or more data")
    training = copy.copy(train_loader)  # every setting kept; only the dataset changes
    training.dataset = Subset(train_loader.dataset, range(split_at))
    validation = copy.copy(train_loader)
    validation.dataset = Subset(train_loader.dataset, range(split_at, n))
    validation.shuffle, validation.drop_last, validation.transform = False, False, None
    validation.epoch = 0
    return training, validation


def _check_fraction(validation_split: Any) -> None:
    if isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real) \
            or not 0.0 <= validation_split < 1.0:  # NaN fails the comparison too
        raise ValueError(f"validation_split must be a fraction in [0, 1) (e.g. 0.1), got {validation_split!r}")


def _is_array(a: Any) -> bool:
    return isinstance(a, Tensor) or backend.is_array(a)


def _validation_loader(validation_data: Any, train_loader: Iterable) -> Iterable:
    """``validation_data`` as a loader: an ``(x, y)`` pair of arrays is batched like the training data."""
    if isinstance(validation_data, (tuple, list)) and validation_data and all(map(_is_array, validation_data)):
        if len(validation_data) != 2:
            raise ValueError(f"validation_data must be (inputs, labels), got a tuple of {len(validation_data)} "
                             f"arrays (sample weights are not supported)")
        return DataLoader(TensorDataset(*validation_data), batch_size=getattr(train_loader, "batch_size", 32),
                          device=getattr(train_loader, "device", None))
    if not hasattr(validation_data, "__iter__"):
        raise TypeError(f"validation_data must be (inputs, labels) arrays or a loader of batches, "
                        f"got {type(validation_data).__name__}")
    return validation_data


def _validation(train_loader: Iterable, val_loader: Any, validation_data: Any, validation_split: Any) -> tuple:
    """The (training, validation) loaders fit uses, from its three ways of naming validation data."""
    _check_fraction(validation_split)
    given = [name for name, value in (("val_loader", val_loader), ("validation_data", validation_data),
                                      ("validation_split", validation_split or None)) if value is not None]
    if len(given) > 1:
        raise ValueError(f"give one source of validation data, got {' and '.join(given)} "
                         f"(val_loader is another name for validation_data)")
    if validation_split:
        return split_validation(train_loader, validation_split)
    data = val_loader if val_loader is not None else validation_data
    return train_loader, (None if data is None else _validation_loader(data, train_loader))


def fit(model: Any, train_loader: Iterable, loss: Callable, optimizer: Any, epochs: int,
        val_loader: Optional[Iterable] = None, validation_split: float = 0.0, validation_data: Any = None,
        callbacks: Sequence[Callback] = (), metrics: Sequence[str] = ("accuracy",), scheduler: Any = None,
        verbose: int = 1, initial_epoch: int = 0, checkpoint: Any = None, resume_from: Any = None,
        run_id: Optional[str] = None) -> History:
    """Train ``model`` until epoch ``epochs`` (counted from 1); returns the History.

    Args:
        model: a Module (anything with train(), eval(), state_dict() and a call).
        train_loader: yields (inputs, labels) batches; inputs arrays or Tensors,
            labels integer classes (N,) or soft targets (N, C).
        loss: a loss module or function, ``loss(outputs, labels)`` -> scalar Tensor.
        optimizer: an Optimizer over the model's parameters.
        epochs: the epoch to train up to, as in Keras: with ``initial_epoch=2``
            (or a checkpoint saved after epoch 2) and ``epochs=4``, 2 more epochs run.
        val_loader: evaluated after every epoch (eval mode, no graph); gives
            ``val_loss`` and ``val_<metric>``. Another name for ``validation_data``.
        validation_split: a fraction in [0, 1): the last part of the training
            loader's dataset is held out for validation, as in Keras (see
            :func:`split_validation`); the loader must be a DataLoader.
        validation_data: ``(inputs, labels)`` arrays (batched like the
            training data) or a loader. Give at most one of these three.
        callbacks: :class:`Callback` objects (EarlyStopping, ModelCheckpoint, ...).
        metrics: "accuracy" and/or "topK_accuracy" (e.g. "top5_accuracy").
        scheduler: a learning-rate scheduler, stepped once after each epoch.
        verbose: 0 silent, 1 a progress bar (one line per epoch off a terminal),
            2 one line per epoch.
        initial_epoch: the epoch to start at (from 0).
        checkpoint: a path: the full training state (weights, optimizer,
            scheduler, loaders, random generators, history, callbacks) is saved
            there atomically after every epoch.
        resume_from: a checkpoint path to continue from, after the epoch it was
            saved at; the objects passed must be built as in the run that saved it.
        run_id: a string naming this run (e.g. ``uuid.uuid4().hex``), stored in
            every checkpoint (``checkpoint`` and ModelCheckpoint's full state);
            with ``resume_from``, a checkpoint of another run (or of none) is
            refused with a ValueError before anything changes.

    Data parallel: when ``model`` is a :class:`~minidl.distributed.DistributedDataParallel`
    (and the loaders are sharded with ``num_replicas``/``rank``), the gradients
    are averaged over the ranks before every step; the epoch's logs are the
    mean over the ranks, the same on all, so callbacks decide alike; only
    rank 0 shows progress and writes checkpoints, ModelCheckpoint and CSVLogger files.

    Logs recorded per epoch: loss, each metric, val_loss and val_<metric>
    (with validation data), lr (the first param group's rate during the
    epoch) and time (seconds, validation included).
    """
    positive_int(epochs, "epochs", "fit")
    positive_int(initial_epoch, "initial_epoch", "fit", minimum=0)
    if run_id is not None and not isinstance(run_id, str):
        raise TypeError(f"run_id must be a str (e.g. uuid.uuid4().hex) or None, got {type(run_id).__name__}")
    if not callable(loss):
        raise TypeError(f"loss must be callable as loss(outputs, labels), got {type(loss).__name__}")
    for name in metrics:
        _metric_function(name)  # an unknown name fails now, not after the first epoch
    user_loader = train_loader
    train_loader, val_loader = _validation(train_loader, val_loader, validation_data, validation_split)
    comm = model.comm if isinstance(model, DistributedDataParallel) else None
    main = comm is None or comm.rank == 0
    verbose = verbose if main else 0
    history = History()
    callbacks = list(callbacks)
    loaders = [loader for loader in (train_loader, val_loader) if loader is not None]
    # What a full checkpoint holds; ModelCheckpoint(save_weights_only=False) saves it too.
    parts = dict(optimizer=optimizer, scheduler=scheduler, loaders=loaders, history=history, callbacks=callbacks,
                 run_id=run_id)

    saved = None
    if resume_from is not None:
        if not Path(resume_from).exists():
            raise FileNotFoundError(f"resume_from: no checkpoint at {resume_from}")
        saved = serialization.load(resume_from)
        check_run_id(saved, run_id, where=str(resume_from))  # another run's checkpoint: refused, naming the file
        # Every part checked first, callbacks included, so that a bad file changes nothing.
        check_checkpoint(saved, model, optimizer, scheduler, loaders, history, callbacks, where=str(resume_from))
        # Callbacks are restored below, after on_train_begin (which resets them).
        initial_epoch = load_checkpoint(saved, model, optimizer, scheduler, loaders, history, run_id=run_id) + 1

    progress = ProgressBar(verbose)
    steps = len(train_loader) if hasattr(train_loader, "__len__") else None
    params = {"epochs": int(epochs), "steps": steps, "optimizer": optimizer, "initial_epoch": int(initial_epoch),
              "verbose": verbose, "state_parts": parts, "is_main_process": main}
    cbs = CallbackList([progress] + callbacks, model, params)
    was_training = getattr(model, "training", True)
    model.stop_training = False
    cbs.on_train_begin()
    if saved is not None:
        load_callback_states(saved, callbacks)
    try:
        for epoch in range(initial_epoch, epochs):
            cbs.on_epoch_begin(epoch)
            start = time.perf_counter()
            logs = _train_epoch(model, train_loader, loss, optimizer, metrics, cbs)
            if val_loader is not None:
                val = evaluate(model, val_loader, loss, metrics)
                logs.update({f"val_{k}": v for k, v in val.items()})
            if comm is not None:
                logs = _mean_over_ranks(logs, comm)
            logs["lr"] = optimizer.param_groups[0]["lr"]  # the rate this epoch trained with
            logs["time"] = time.perf_counter() - start
            if scheduler is not None:
                if isinstance(scheduler, ReduceLROnPlateau):  # it steps on the monitored value
                    scheduler.step(logs.get("val_loss", logs.get("loss")))
                else:
                    scheduler.step()
            history.append(epoch, logs)
            cbs.on_epoch_end(epoch, logs)
            if checkpoint is not None and main:
                save_checkpoint(checkpoint, model, epoch=epoch, **parts)
            if comm is not None:
                comm.barrier()  # the checkpoint is complete before any rank goes on
            if model.stop_training:
                break
        cbs.on_train_end()
    finally:
        progress.close()
        model.train(was_training)  # leave the model in the mode it came in
        if train_loader is not user_loader:  # a split copy: the caller's loader moves on to the next epoch too
            user_loader.epoch = train_loader.epoch
    return history


def _mean_over_ranks(logs: dict, comm: Any) -> dict:
    """Each logged number averaged over the ranks (their shards have the same size)."""
    keys = sorted(logs)
    values = numpy.array([float(logs[k]) for k in keys], dtype=numpy.float64)
    comm.all_reduce(values)
    return {k: float(v) / comm.world_size for k, v in zip(keys, values)}


def _train_epoch(model: Any, loader: Iterable, loss: Callable, optimizer: Any, metrics: Sequence[str],
                 cbs: CallbackList) -> dict:
    """One pass over the training data in training mode; the epoch's mean loss and metrics."""
    model.train()
    running = _Running(metrics)
    for step, batch in enumerate(loader):
        x, y = _check_batch(batch, "train_loader")
        out = model(x)
        value = loss(out, y)
        optimizer.zero_grad()
        value.backward()
        if isinstance(model, DistributedDataParallel):
            model.sync_gradients()  # every rank: the mean gradient of the whole global batch
        optimizer.step()
        running.add(value.item(), _array(out), y)
        cbs.on_batch_end(step, running.logs())
    if running.n == 0:
        raise ValueError("train_loader yielded no batches")
    return running.logs()


def evaluate(model: Any, loader: Iterable, loss: Optional[Callable] = None,
             metrics: Sequence[str] = ("accuracy",)) -> dict:
    """The mean loss (when ``loss`` is given) and metrics over a loader, in eval mode, without a graph.

    Returns e.g. ``{"loss": 0.41, "accuracy": 0.86}``. The model's mode is
    restored afterwards.
    """
    running = _Running(metrics)
    was_training = getattr(model, "training", False)
    model.eval()
    try:
        with no_grad():
            for batch in loader:
                x, y = _check_batch(batch, "the loader")
                out = model(x)
                running.add(loss(out, y).item() if loss is not None else None, _array(out), y)
    finally:
        model.train(was_training)
    if running.n == 0:
        raise ValueError("the loader yielded no batches")
    return running.logs(with_loss=loss is not None)


def predict(model: Any, data: Any, batch_size: int = 256) -> numpy.ndarray:
    """The model's outputs for every input, as one NumPy array (eval mode, no graph).

    ``data`` is an array or Tensor of inputs (cut into ``batch_size`` pieces),
    or a loader yielding (inputs, labels) or inputs alone (the labels are
    ignored). The model's mode is restored afterwards.
    """
    positive_int(batch_size, "batch_size", "predict")
    if isinstance(data, Tensor) or backend.is_array(data):
        batches: Iterable = (data[i:i + batch_size] for i in range(0, len(data), batch_size))
    else:
        batches = (b[0] if isinstance(b, (tuple, list)) else b for b in data)
    outputs = []
    was_training = getattr(model, "training", False)
    model.eval()
    try:
        with no_grad():
            for x in batches:
                outputs.append(backend.to_numpy(_array(model(x))))
    finally:
        model.train(was_training)
    if not outputs:
        raise ValueError("predict got no inputs")
    return numpy.concatenate(outputs)
