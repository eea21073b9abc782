"""Callbacks: code that fit() calls at the start and end of training, epochs and batches.

Each callback sees ``self.model`` and ``self.params`` (the optimizer, the
epochs...), and may set ``self.model.stop_training = True``. Epochs are
counted from 0 in code and shown from 1 in messages, as in Keras.
"""
from __future__ import annotations

import csv
import math
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from .. import serialization


class Callback:
    """Base class: override the hooks you need."""

    model: Any = None
    params: dict = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs: Optional[dict] = None) -> None: ...
    def on_train_end(self, logs: Optional[dict] = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: Optional[dict] = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None: ...
    def on_batch_end(self, batch: int, logs: Optional[dict] = None) -> None: ...


class CallbackList(Callback):
    """Calls every callback in order."""

    def __init__(self, callbacks: Sequence[Callback], model: Any, params: dict):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be minidl.train.Callback objects, got {type(cb).__name__}")
            cb.set_model(model)
            cb.set_params(params)

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
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    def on_batch_end(self, batch, logs=None):
        for cb in self.callbacks:
            cb.on_batch_end(batch, logs)


def _weights(model: Any) -> dict:
    return {k: v.copy() for k, v in model.state_dict().items()}


def _direction(monitor: str, mode: str, who: str) -> str:
    """'min' or 'max': given, or ('auto') inferred from the metric's name."""
    if mode in ("min", "max"):
        return mode
    name = monitor[4:] if monitor.startswith("val_") else monitor
    if name == "loss" or name.endswith(("loss", "error", "mse", "mae")):
        return "min"
    if any(word in name for word in ("acc", "accuracy", "auc", "precision", "recall", "f1")):
        return "max"
    raise ValueError(
        f"{who} received monitor={monitor} but cannot tell whether it should be maximized or minimized. "
        "Pass mode='max' or mode='min'."
    )


class EarlyStopping(Callback):
    """Stop training when a monitored quantity has stopped improving (Keras 3's rules).

    At the end of each epoch, from ``start_from_epoch`` on:

    * ``wait`` grows by 1;
    * the value *improves* when it beats the best so far by more than
      ``min_delta`` (strictly: ``current + min_delta < best`` in min mode);
      then it becomes the best, its weights are kept (with
      ``restore_best_weights``), and ``wait`` restarts at 0, but only if it
      also beats ``baseline`` (when given);
    * otherwise, when ``wait >= patience`` (and it is not the first epoch),
      training stops.

    At the end of training, "Epoch N: early stopping" is printed (verbose) if
    it stopped early, and with ``restore_best_weights`` the best epoch's
    weights are restored, *even when it did not stop early*, with "Restoring
    model weights from the end of the best epoch: N.".

    ``mode="auto"`` decides from the name: losses and errors are minimized,
    accuracies maximized. Unlike Keras, ``best`` is reset at the start of each
    fit, so a callback can be reused.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0, verbose: int = 0,
                 mode: str = "auto", baseline: Optional[float] = None, restore_best_weights: bool = False,
                 start_from_epoch: int = 0):
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"EarlyStopping mode {mode} is unknown, fallback to auto mode.", stacklevel=2)
            mode = "auto"
        if patience < 0:
            raise ValueError(f"patience must be >= 0, got {patience}")
        self.monitor, self.patience, self.verbose, self.mode = monitor, patience, verbose, mode
        self.baseline, self.min_delta = baseline, abs(min_delta)
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch
        self.direction: Optional[str] = None
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_epoch = 0, 0, 0
        self.best_weights = None
        self.best = None  # set to +-inf once the direction is known

    def _better(self, value: float, reference: float) -> bool:
        if self.direction == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def on_epoch_end(self, epoch, logs=None):
        if self.direction is None:
            self.direction = _direction(self.monitor, self.mode, "EarlyStopping")
        if self.best is None:
            self.best = math.inf if self.direction == "min" else -math.inf
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                          f"Available metrics are: {','.join(logs or {})}", stacklevel=2)
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = _weights(self.model), epoch
        self.wait += 1
        if self._better(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = _weights(self.model)
            if self.baseline is None or self._better(current, self.baseline):
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

    def state_dict(self) -> dict:
        state = {"wait": self.wait, "best": self.best, "best_epoch": self.best_epoch, "stopped_epoch": self.stopped_epoch,
                 "direction": self.direction}
        if self.best_weights is not None:
            state["best_weights"] = self.best_weights
        return state

    def load_state_dict(self, state: dict) -> None:
        self.wait, self.best, self.best_epoch = int(state["wait"]), state["best"], int(state["best_epoch"])
        self.stopped_epoch, self.direction = int(state["stopped_epoch"]), state["direction"]
        self.best_weights = state.get("best_weights")


class ModelCheckpoint(Callback):
    """Save the model (weights, or the whole training state) after each epoch, atomically.

    ``filepath`` may hold format fields: "ckpt-{epoch:02d}-{val_loss:.3f}.npz".
    With ``save_best_only`` a file is written only when ``monitor`` improves.
    ``save_weights_only=False`` saves the optimizer, scheduler, loader and
    random states too, so ``fit(..., resume_from=path)`` continues exactly.
    """

    def __init__(self, filepath: Any, monitor: str = "val_loss", verbose: int = 0, save_best_only: bool = False,
                 mode: str = "auto", save_weights_only: bool = True):
        self.filepath, self.monitor, self.verbose = str(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.direction = _direction(monitor, mode, "ModelCheckpoint") if save_best_only else None
        self.best: Optional[float] = None

    def on_train_begin(self, logs=None):
        self.best = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = Path(self.filepath.format(epoch=epoch + 1, **logs))
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"ModelCheckpoint: `{self.monitor}` is not available; skipping", stacklevel=2)
                return
            better = self.best is None or (current < self.best if self.direction == "min" else current > self.best)
            if not better:
                return
            if self.verbose:
                print(f"Epoch {epoch + 1}: {self.monitor} improved to {current:.5f}, saving model to {path}")
            self.best = current
        if self.save_weights_only:
            serialization.save(self.model.state_dict(), path)
        else:
            from .checkpoint import training_state

            serialization.save(training_state(self.model, epoch=epoch, **self.params.get("state_parts", {})), path)


class LearningRateScheduler(Callback):
    """Set each param group's lr to ``schedule(epoch, lr)`` at the start of every epoch."""

    def __init__(self, schedule: Callable[[int, float], float], verbose: int = 0):
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.params["optimizer"]
        for group in optimizer.param_groups:
            group["lr"] = float(self.schedule(epoch, group["lr"]))
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {optimizer.param_groups[0]['lr']}.")


class CSVLogger(Callback):
    """Append one row per epoch (epoch, then every logged value) to a CSV file."""

    def __init__(self, filename: Any, separator: str = ",", append: bool = False):
        self.filename, self.separator, self.append = Path(filename), separator, append
        self.keys: Optional[list] = None

    def on_train_begin(self, logs=None):
        if not self.append and self.filename.exists():
            self.filename.unlink()
        self.keys = None
        if self.append and self.filename.exists():
            with open(self.filename, newline="") as f:
                header = next(csv.reader(f, delimiter=self.separator), None)
            self.keys = header[1:] if header else None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        new_file = not self.filename.exists()
        if self.keys is None:
            self.keys = list(logs)
        with open(self.filename, "a", newline="") as f:
            writer = csv.writer(f, delimiter=self.separator)
            if new_file:
                writer.writerow(["epoch"] + self.keys)
            writer.writerow([epoch] + [logs.get(k, "") for k in self.keys])


class ProgressBar(Callback):
    """A progress bar per epoch with the running loss and accuracy (tqdm), on a terminal.

    Not on a terminal (a log file, CI), one summary line per epoch instead.
    ``verbose=0`` prints nothing.
    """

    def __init__(self, verbose: int = 1, stream: Any = None):
        self.verbose = verbose
        self.stream = stream or sys.stdout
        self.bar = None

    def _interactive(self) -> bool:
        return hasattr(self.stream, "isatty") and self.stream.isatty()

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()
        if self.verbose and self._interactive():
            from tqdm import tqdm

            self.bar = tqdm(total=self.params.get("steps"), desc=f"Epoch {epoch + 1}/{self.params.get('epochs')}",
                            file=self.stream, leave=True, dynamic_ncols=True)

    def on_batch_end(self, batch, logs=None):
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix({k: f"{v:.4f}" for k, v in (logs or {}).items()}, refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if not self.verbose:
            return
        shown = " - ".join(f"{k}: {v:.4f}" for k, v in (logs or {}).items() if k not in ("time", "lr"))
        print(f"Epoch {epoch + 1}/{self.params.get('epochs')} - {time.perf_counter() - self.start:.1f}s - {shown}",
              file=self.stream, flush=True)
