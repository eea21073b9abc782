"""Callbacks: code that fit() calls at the start and end of training, of each epoch and of each batch.

    class PrintLR(Callback):
        def on_epoch_end(self, epoch, logs=None):
            print(epoch, logs["lr"])

    fit(model, loader, loss, opt, epochs=10, callbacks=[PrintLR(), EarlyStopping(patience=2)])

A callback sees ``self.model`` and ``self.params`` (``epochs``, ``steps``,
``optimizer``, ``initial_epoch``), and may set ``self.model.stop_training =
True`` to end training after the current epoch. Epochs are counted from 0 in
code and shown from 1 in messages, as in Keras.

EarlyStopping and ModelCheckpoint follow Keras 3 rule for rule (re-written
here, not copied): the same arguments, the same decisions on the same
sequence of values, the same messages.
"""
from __future__ import annotations

import csv
import inspect
import math
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from .. import serialization
from .checkpoint import training_state


class Callback:
    """Base class: override the hooks you need; each gets the epoch's ``logs`` dict."""

    model: Any = None
    params: dict = {}

    # A callback whose on_epoch_end should see every other callback's update for
    # the epoch first (ModelCheckpoint saving the full state) sets this to True.
    runs_last: bool = False

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs: Optional[dict] = None) -> None:
        """Before the first epoch (also of a resumed run)."""

    def on_train_end(self, logs: Optional[dict] = None) -> None:
        """After the last epoch, or after the epoch in which training was stopped."""

    def on_epoch_begin(self, epoch: int, logs: Optional[dict] = None) -> None:
        """Before epoch ``epoch`` (from 0) trains."""

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        """After epoch ``epoch`` trained and validated; ``logs`` holds its loss, metrics, lr and time."""

    def on_batch_end(self, batch: int, logs: Optional[dict] = None) -> None:
        """After each training step; ``logs`` holds the running loss and metrics of the epoch so far."""


class CallbackList(Callback):
    """Calls every callback, in the order given (``runs_last`` ones after the others at epoch end)."""

    def __init__(self, callbacks: Sequence[Callback], model: Any, params: dict):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be minidl.train.Callback objects, got {type(cb).__name__}")
            cb.set_model(model)
            cb.set_params(params)
        self._epoch_end_order = [cb for cb in self.callbacks if not cb.runs_last] + \
                                [cb for cb in self.callbacks if cb.runs_last]

    def on_train_begin(self, logs=None):
        for cb in self.callbacks:
            cb.on_train_begin(logs)

    def on_train_end(self, logs=None):
        for cb in self.callbacks:
            cb.on_train_end(logs)

    def on_epoch_begin(self, epoch, logs=None):
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        for cb in self._epoch_end_order:
            cb.on_epoch_end(epoch, logs)

    def on_batch_end(self, batch, logs=None):
        for cb in self.callbacks:
            cb.on_batch_end(batch, logs)


# ---------------------------------------------------------------- monitoring
_MIN_WORDS = ("loss", "error", "mse", "mae")
_MAX_WORDS = ("acc", "auc", "precision", "recall", "f1")


def infer_mode(monitor: str, who: str) -> str:
    """'min' or 'max' for a monitored name, as Keras 3's mode="auto" decides.

    Keras looks the name (without "val_") up: "loss" is minimized, and a
    metric is maximized or minimized by its declared direction. minidl's
    metrics are named, so their names say it: losses and errors down,
    accuracies (top-k too), AUC, precision, recall and F1 up. Any other name
    is an error, as in Keras: a guess could stop training at the worst epoch.
    """
    name = monitor[4:] if monitor.startswith("val_") else monitor
    if name == "loss" or name.endswith(_MIN_WORDS):
        return "min"
    if any(word in name for word in _MAX_WORDS):
        return "max"
    raise ValueError(
        f"{who} callback received monitor={monitor}, but minidl cannot tell whether that metric should be "
        "maximized or minimized. Pass mode='max' in order to monitor based on the highest metric value, "
        "or pass mode='min' in order to use the lowest value."
    )


def _check_mode(mode: str, who: str) -> str:
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"{who} mode '{mode}' is unknown, fallback to auto mode.", stacklevel=3)
        return "auto"
    return mode


def _weights(model: Any) -> dict:
    """A copy of the model's state (so later steps cannot change it)."""
    return {k: v.copy() for k, v in model.state_dict().items()}


class EarlyStopping(Callback):
    """Stop training when a monitored quantity has stopped improving (Keras 3's rules).

    At the end of each epoch from ``start_from_epoch`` on (earlier epochs,
    and epochs whose logs lack ``monitor``, are ignored; the latter with a
    warning):

    1. with ``restore_best_weights``, the first epoch looked at is taken as
       the best so far (so something is restored even if nothing improves);
    2. ``wait`` grows by 1;
    3. the value *improves* when it beats the best so far by more than
       ``min_delta`` (strictly: ``current - min_delta > best`` in max mode,
       ``current + min_delta < best`` in min mode); the first value always
       improves. On improvement it becomes the best (its weights are kept
       with ``restore_best_weights``), and ``wait`` restarts at 0, but only
       if the value also beats ``baseline`` by more than ``min_delta``;
    4. otherwise, if ``wait >= patience`` and this is not epoch 0, training
       stops.

    At the end of training, "Epoch N: early stopping" is printed (verbose>0)
    if it stopped; with ``restore_best_weights`` the best epoch's weights are
    put back, *even when it did not stop early*, after "Restoring model
    weights from the end of the best epoch: N.".

    ``mode="auto"`` decides from the name (:func:`infer_mode`). Each fit
    starts afresh (wait, best, best weights), so one object can be reused.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0, verbose: int = 0,
                 mode: str = "auto", baseline: Optional[float] = None, restore_best_weights: bool = False,
                 start_from_epoch: int = 0):
        if patience < 0:
            raise ValueError(f"patience must be >= 0, got {patience}")
        self.monitor, self.patience, self.verbose = monitor, patience, verbose
        self.mode = _check_mode(mode, "EarlyStopping")
        self.baseline, self.min_delta = baseline, abs(min_delta)
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch
        self.direction: Optional[str] = None  # "min"/"max", decided at the first epoch end (as Keras)
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_epoch = 0, 0, 0
        self.best: Optional[float] = None
        self.best_weights: Optional[dict] = None

    def _is_improvement(self, value: float, reference: Optional[float]) -> bool:
        if reference is None:  # nothing to beat yet
            return True
        if self.direction == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def on_epoch_end(self, epoch, logs=None):
        if self.direction is None:
            self.direction = self.mode if self.mode != "auto" else infer_mode(self.monitor, "EarlyStopping")
        logs = logs or {}
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                          f"Available metrics are: {','.join(logs)}", stacklevel=2)
            return
        if epoch < self.start_from_epoch:  # warm-up: not watched at all
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = _weights(self.model), epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = _weights(self.model)
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.load_state_dict(self.best_weights)

    # ---- saved in a checkpoint, so a resumed run keeps counting
    def state_dict(self) -> dict:
        return {"wait": self.wait, "best": self.best, "best_epoch": self.best_epoch,
                "stopped_epoch": self.stopped_epoch, "direction": self.direction, "best_weights": self.best_weights}

    def load_state_dict(self, state: dict) -> None:
        self.wait, self.best_epoch, self.stopped_epoch = int(state["wait"]), int(state["best_epoch"]), \
            int(state["stopped_epoch"])
        self.best, self.direction, self.best_weights = state["best"], state["direction"], state["best_weights"]


class ModelCheckpoint(Callback):
    """Save the model after each epoch, atomically (Keras 3's rules and messages).

    ``filepath`` may hold format fields, filled with the epoch (from 1) and
    the epoch's logs: ``"ckpt-{epoch:02d}-{val_loss:.3f}.npz"``.

    With ``save_best_only`` a file is written only when ``monitor`` improves
    on the best value seen (strictly; the first starts from
    ``initial_value_threshold``, else from +-inf); when ``monitor`` is missing
    from the logs it warns and saves anyway, as Keras does.

    ``save_weights_only=True`` writes ``model.state_dict()`` (load it with
    ``model.load_state_dict(mdl.load(path))``); ``False`` (Keras' default)
    writes the full training state of :mod:`minidl.train.checkpoint`, which
    ``fit(..., resume_from=path)`` continues from exactly. It is written after
    every other callback has seen the epoch, so their states are current.

    Writes go through :func:`minidl.save`: a temporary file renamed over the
    target, so a crash never leaves a half-written checkpoint.
    """

    runs_last = True

    def __init__(self, filepath: Any, monitor: str = "val_loss", verbose: int = 0, save_best_only: bool = False,
                 save_weights_only: bool = False, mode: str = "auto",
                 initial_value_threshold: Optional[float] = None):
        self.filepath, self.monitor, self.verbose = str(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.mode = _check_mode(mode, "ModelCheckpoint")
        self.best: Optional[float] = initial_value_threshold
        self.direction: Optional[str] = None

    def _path(self, epoch: int, logs: dict) -> Path:
        try:
            return Path(self.filepath.format(epoch=epoch + 1, **logs))
        except KeyError as error:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". Reason: {error}') from None

    def _should_save(self, epoch: int, logs: dict, path: Path) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {path}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=3)
            return True
        if self.direction is None:
            self.direction = self.mode if self.mode != "auto" else infer_mode(self.monitor, "ModelCheckpoint")
        if self.best is None:
            self.best = math.inf if self.direction == "min" else -math.inf
        better = current < self.best if self.direction == "min" else current > self.best
        if better:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to {current:.5f}, "
                      f"saving model to {path}")
            self.best = current
            return True
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
        return False

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self._path(epoch, logs)
        if not self._should_save(epoch, logs, path) or not _main_process(self):
            return
        if path.is_dir():
            raise IsADirectoryError(f"ModelCheckpoint filepath is an existing directory: {path}; name a file")
        if self.save_weights_only:
            serialization.save(self.model.state_dict(), path)
        else:
            parts = self.params.get("state_parts")
            if parts is None:
                raise RuntimeError("ModelCheckpoint(save_weights_only=False) saves fit()'s full training state; "
                                   "use it inside fit(), or pass save_weights_only=True")
            serialization.save(training_state(self.model, epoch=epoch, **parts), path)

    def state_dict(self) -> dict:
        return {"best": self.best, "direction": self.direction}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.direction = state["best"], state["direction"]


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of every epoch from ``schedule(epoch, lr)`` (or ``schedule(epoch)``).

    ``lr`` is the first param group's current learning rate. With several
    groups (e.g. smaller rates for lower layers), each group is scaled by the
    same factor new_lr / lr, so the ratios between groups are kept; a group
    list whose first lr is 0 gets ``schedule`` applied to each group's own lr.
    """

    def __init__(self, schedule: Callable, verbose: int = 0):
        if not callable(schedule):
            raise TypeError(f"schedule must be a function (epoch, lr) -> lr, got {type(schedule).__name__}")
        self.schedule, self.verbose = schedule, verbose
        try:
            self._takes_lr = len(inspect.signature(schedule).parameters) >= 2
        except (TypeError, ValueError):  # builtins without a signature
            self._takes_lr = True

    def _new_lr(self, epoch: int, lr: float) -> float:
        value = self.schedule(epoch, lr) if self._takes_lr else self.schedule(epoch)
        value = float(value)
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"the schedule returned lr={value} at epoch {epoch}; expected a finite number >= 0")
        return value

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.params.get("optimizer")
        if optimizer is None:
            raise RuntimeError("LearningRateScheduler needs the optimizer: use it inside fit()")
        first, *others = optimizer.param_groups
        old = first["lr"]
        first["lr"] = new_first = self._new_lr(epoch, old)
        for group in others:
            if old > 0:  # multiply rather than recompute: per-group (discriminative) rates keep their ratios
                group["lr"] = group["lr"] * (new_first / old)
            else:
                group["lr"] = self._new_lr(epoch, group["lr"])
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {new_first}.")


class CSVLogger(Callback):
    """Write one row per epoch (``epoch`` from 0, then the logged values, keys sorted) to a CSV file.

    Like Keras: ``append=False`` starts a new file at the start of training;
    ``append=True`` adds to an existing one (header written only for a new
    file). A resumed fit (``initial_epoch > 0``) always appends, after first
    dropping the rows of epochs >= ``initial_epoch``: a run that crashed after
    writing an epoch's row but before saving its checkpoint trains that epoch
    again, and the file keeps one row per epoch (0, 1, 2, 3, not 0, 1, 2, 2, 3).
    The shortened file replaces the old one atomically.
    """

    def __init__(self, filename: Any, separator: str = ",", append: bool = False):
        self.filename, self.separator, self.append = Path(filename), separator, append
        self.keys: Optional[list] = None

    def on_train_begin(self, logs=None):
        resumed = self.params.get("initial_epoch", 0) > 0
        self.keys = None
        if not _main_process(self):
            return
        if (self.append or resumed) and self.filename.exists() and self.filename.stat().st_size > 0:
            with open(self.filename, newline="") as f:
                header = next(csv.reader(f, delimiter=self.separator), None)
            self.keys = header[1:] if header else None
            if resumed and header:
                self._keep_epochs_before(self.params["initial_epoch"])
        else:
            self.filename.parent.mkdir(parents=True, exist_ok=True)
            self.filename.write_text("")

    def _keep_epochs_before(self, first: int) -> None:
        """Rewrite the file with its header and the rows of epochs < ``first`` (atomically)."""
        with open(self.filename, newline="") as f:
            rows = list(csv.reader(f, delimiter=self.separator))
        kept = rows[:1] + [row for row in rows[1:] if _epoch_of(row) is not None and _epoch_of(row) < first]
        if len(kept) == len(rows):
            return
        tmp = self.filename.with_name(f".{self.filename.name}.{os.getpid()}.tmp")
        with open(tmp, "w", newline="") as f:
            csv.writer(f, delimiter=self.separator).writerows(kept)
        os.replace(tmp, self.filename)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if not _main_process(self):
            return
        new_file = self.keys is None
        if new_file:
            self.keys = sorted(logs)
        with open(self.filename, "a", newline="") as f:
            writer = csv.writer(f, delimiter=self.separator)
            if new_file:
                writer.writerow(["epoch"] + self.keys)
            writer.writerow([epoch] + ["NA" if logs.get(k) is None else logs[k] for k in self.keys])


def _main_process(callback: Callback) -> bool:
    """False on the ranks > 0 of a data-parallel fit: only rank 0 writes files."""
    return callback.params.get("is_main_process", True)


def _epoch_of(row: list) -> Optional[int]:
    """The epoch a CSV row is for (its first field), or None for a damaged row."""
    try:
        return int(row[0])
    except (IndexError, ValueError):
        return None


class ProgressBar(Callback):
    """Progress of each epoch: a tqdm bar on a terminal, one line per epoch elsewhere.

    * ``verbose=0``: nothing.
    * ``verbose=1`` on a terminal: a bar per epoch with the running loss and
      accuracy; when the epoch ends the bar shows the epoch's time and the
      validation values, and stays as that epoch's line.
    * ``verbose=1`` not on a terminal (a log file, CI, a notebook's captured
      output) or ``verbose=2``: one summary line per epoch, as Keras prints::

          Epoch 3/10 - 1.2s - loss: 0.4213 - accuracy: 0.8512 - val_loss: 0.4620 - val_accuracy: 0.8390
    """

    def __init__(self, verbose: int = 1, stream: Any = None):
        self.verbose = verbose
        self._stream = stream
        self.bar = None
        self.start = 0.0

    @property
    def stream(self) -> Any:
        # Looked up when used, so a redirected sys.stdout (pytest, notebooks) is honoured.
        return self._stream if self._stream is not None else sys.stdout

    def _interactive(self) -> bool:
        isatty = getattr(self.stream, "isatty", None)
        return self.verbose == 1 and callable(isatty) and bool(isatty())

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()
        if self.verbose and self._interactive():
            from tqdm import tqdm

            self.bar = tqdm(total=self.params.get("steps"), desc=f"Epoch {epoch + 1}/{self.params.get('epochs')}",
                            file=self.stream, leave=True, dynamic_ncols=True, unit="batch")

    def on_batch_end(self, batch, logs=None):
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix({k: f"{v:.4f}" for k, v in (logs or {}).items()}, refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        seconds = logs.get("time", time.perf_counter() - self.start)
        shown = {k: v for k, v in logs.items() if k not in ("time", "lr") and isinstance(v, (int, float))}
        if self.bar is not None:
            self.bar.set_postfix({"time": f"{seconds:.1f}s", **{k: f"{v:.4f}" for k, v in shown.items()}})
            self.close()
        elif self.verbose:
            values = "".join(f" - {k}: {v:.4f}" for k, v in shown.items())
            print(f"Epoch {epoch + 1}/{self.params.get('epochs')} - {seconds:.1f}s{values}", file=self.stream,
                  flush=True)

    def close(self) -> None:
        """Close the bar (also when training ends with an error)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
