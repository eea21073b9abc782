"""History: what fit() returns, one list per quantity, one entry per epoch.

    history = fit(model, loader, loss, optimizer, epochs=5, val_loader=val)
    history["val_accuracy"]        # [0.81, 0.85, 0.86, 0.88, 0.88]
    history.epoch                  # [0, 1, 2, 3, 4]   (counted from 0, as in Keras)
    history[-1]                    # the last epoch's row: {"epoch": 4, "loss": 0.31, ..., "val_accuracy": 0.88}
    history.to_csv("history.csv")
    history.plot("curves.png")     # needs matplotlib: pip install 'minidl[plot]'

The keys fit() records: loss, accuracy (and each other metric), val_loss,
val_accuracy (with a validation loader), lr (the learning rate the epoch ran
with) and time (seconds the epoch took, validation included).
"""
from __future__ import annotations

import csv
import numbers
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence, Union

_PLOT_HELP = "History.plot needs matplotlib, which is not installed: pip install 'minidl[plot]'"


class History:
    """``history.history["val_loss"][i]`` is the validation loss after epoch ``history.epoch[i]`` (Keras' layout)."""

    def __init__(self) -> None:
        self.epoch: list = []
        self.history: dict = {}

    def append(self, epoch: int, logs: dict) -> None:
        """Record one epoch's logs. A key missing in some epochs holds None there."""
        self.epoch.append(int(epoch))
        for key, value in logs.items():
            self.history.setdefault(key, [None] * (len(self.epoch) - 1)).append(value)
        for values in self.history.values():  # keys this epoch did not log
            if len(values) < len(self.epoch):
                values.append(None)

    def __getitem__(self, key: Union[str, int, slice]) -> Union[list, dict]:
        """``history["loss"]``: one quantity, a list over epochs. ``history[-1]``: one epoch's row, a dict.

        A slice gives a list of rows: ``history[-3:]`` are the last three epochs.
        """
        if isinstance(key, slice):
            return [self.row(i) for i in range(len(self))[key]]
        if isinstance(key, numbers.Integral) and not isinstance(key, bool):
            return self.row(int(key))
        if key not in self.history:
            raise KeyError(f"History has no {key!r}; it has {sorted(self.history)}")
        return self.history[key]

    def row(self, index: int) -> dict:
        """The row of the ``index``-th recorded epoch (negative counts from the end): epoch, then every key."""
        if not -len(self) <= index < len(self):
            raise IndexError(f"History row {index} out of range: it has {len(self)} epochs")
        return {"epoch": self.epoch[index], **{k: v[index] for k, v in self.history.items()}}

    def __iter__(self) -> Iterator[dict]:
        """The rows, epoch by epoch (``in`` asks about keys: ``"val_loss" in history``)."""
        return (self.row(i) for i in range(len(self)))

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def __len__(self) -> int:
        return len(self.epoch)

    def __repr__(self) -> str:
        return f"History({len(self)} epochs: {', '.join(self.history)})"

    # ---- saving with a checkpoint
    def state_dict(self) -> dict:
        return {"epoch": list(self.epoch), "history": {k: list(v) for k, v in self.history.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.epoch = [int(e) for e in state["epoch"]]
        self.history = {k: list(v) for k, v in state["history"].items()}

    # ---- writing out
    def to_csv(self, path: Any, first_epoch: int = 0) -> Path:
        """One row per epoch: ``epoch``, then every key.

        ``first_epoch`` is the number written for epoch 0: 0 as CSVLogger and
        Keras count, 1 as the progress bar ("Epoch 1/5") counts.
        """
        if first_epoch not in (0, 1):
            raise ValueError(f"first_epoch must be 0 or 1, got {first_epoch!r}")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        keys = list(self.history)
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["epoch"] + keys)
            for i, e in enumerate(self.epoch):
                writer.writerow([e + first_epoch] + ["" if self.history[k][i] is None else self.history[k][i] for k in keys])
        return path

    def plot(self, path: Any, keys: Optional[Sequence[str]] = None) -> Path:
        """Training curves as a PNG: one panel per quantity, train and validation together.

        ``keys`` defaults to those of ("loss", "accuracy") that were recorded;
        each panel shows ``key`` and ``val_key`` against the epoch (from 1, as
        the progress bar counts).
        """
        try:
            # The object-oriented API, not pyplot: no global figure state and no
            # change of the user's matplotlib backend (which would upset Jupyter).
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure
        except ImportError:
            raise ImportError(_PLOT_HELP) from None
        keys = [k for k in ("loss", "accuracy") if k in self.history] if keys is None else list(keys)
        missing = [k for k in keys if k not in self.history and f"val_{k}" not in self.history]
        if not keys or missing:
            raise ValueError(f"nothing to plot for {missing or keys}; the history has {sorted(self.history)}")
        fig = Figure(figsize=(5 * len(keys), 3.6))
        FigureCanvasAgg(fig)
        epochs = [e + 1 for e in self.epoch]
        for i, key in enumerate(keys):
            ax = fig.add_subplot(1, len(keys), i + 1)
            for name, style in ((key, "o-"), (f"val_{key}", "s--")):
                if name in self.history:
                    points = [(e, v) for e, v in zip(epochs, self.history[name]) if v is not None]
                    ax.plot([e for e, _ in points], [v for _, v in points], style, label=name)
            ax.set_xlabel("epoch")
            ax.set_title(key)
            ax.grid(alpha=0.3)
            ax.legend()
        fig.tight_layout()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
        return path
