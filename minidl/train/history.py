"""History: what fit() returns, one list per quantity, one entry per epoch."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Optional


class History:
    """``history.history["val_loss"][e]`` is the validation loss after epoch e (Keras' layout)."""

    def __init__(self) -> None:
        self.epoch: list = []
        self.history: dict = {}

    def append(self, epoch: int, logs: dict) -> None:
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, [None] * (len(self.epoch) - 1)).append(value)
        for key, values in self.history.items():  # keys missing this epoch
            if len(values) < len(self.epoch):
                values.append(None)

    def __getitem__(self, key: str) -> list:
        return self.history[key]

    def __len__(self) -> int:
        return len(self.epoch)

    def state_dict(self) -> dict:
        return {"epoch": list(self.epoch), "history": {k: list(v) for k, v in self.history.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.epoch = [int(e) for e in state["epoch"]]
        self.history = {k: list(v) for k, v in state["history"].items()}

    def to_csv(self, path: Any) -> Path:
        path = Path(path)
        keys = list(self.history)
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["epoch"] + keys)
            for i, e in enumerate(self.epoch):
                writer.writerow([e + 1] + [self.history[k][i] for k in keys])
        return path

    def plot(self, path: Any, keys: Optional[list] = None) -> Path:
        """Loss and accuracy curves (train and validation) as a PNG; needs matplotlib."""
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            raise ImportError("History.plot needs matplotlib: pip install 'minidl[plot]'") from None
        groups = [k for k in ("loss", "accuracy") if k in self.history] if keys is None else keys
        fig, axes = plt.subplots(1, len(groups), figsize=(5 * len(groups), 3.5), squeeze=False)
        epochs = [e + 1 for e in self.epoch]
        for ax, key in zip(axes[0], groups):
            for name in (key, f"val_{key}"):
                if name in self.history:
                    ax.plot(epochs, self.history[name], marker="o", label=name)
            ax.set_xlabel("epoch")
            ax.set_title(key)
            ax.grid(alpha=0.3)
            ax.legend()
        fig.tight_layout()
        path = Path(path)
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return path
