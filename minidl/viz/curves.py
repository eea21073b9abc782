"""Training curves of several runs side by side, to compare them (a PNG, drawn with matplotlib).

    save_curves({"plain": history_a, "batch norm": history_b}, "curves.png",
                keys=("loss", "val_accuracy"), marks={"plain": 7})

Each key gets a panel; each run is one line in every panel, in the same
colour, with the epoch (counted from 1, as the progress bar does) along the
bottom. ``marks`` draws a dotted line at an epoch of a run (say, the best
epoch an early stop went back to). A single run's own train and validation
curves are simpler with ``History.plot``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

PLOT_HELP = "drawing curves needs matplotlib, which is not installed: pip install 'minidl[lessons]' (or [plot])"


def _series(run: Any, key: str) -> list:
    """The (epoch from 1, value) points of ``key`` in a History or a dict of lists."""
    values = run[key] if key in run else []
    epochs = [e + 1 for e in run.epoch] if hasattr(run, "epoch") else range(1, len(values) + 1)
    return [(e, v) for e, v in zip(epochs, values) if v is not None]


def save_curves(runs: Mapping[str, Any], path: Any, keys: Sequence[str] = ("loss", "val_loss"),
                title: Optional[str] = None, marks: Optional[Mapping[str, int]] = None) -> Path:
    """Save one panel per key with one line per run; returns the path.

    Args:
        runs: name -> a History (what ``fit`` returns) or a dict of lists per key.
        keys: the quantities to draw ("loss", "val_loss", "val_accuracy", ...).
        title: a heading over the panels.
        marks: name -> epoch (from 1): a dotted vertical line in that run's colour.
    """
    try:
        # The object-oriented API, not pyplot: no global figure, no change of backend.
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise ImportError(PLOT_HELP) from None
    if not runs:
        raise ValueError("runs is empty: give at least one name -> History")
    missing = [(name, key) for key in keys for name, run in runs.items() if not _series(run, key)]
    if missing:
        name, key = missing[0]
        raise ValueError(f"run {name!r} has no values for {key!r}")
    fig = Figure(figsize=(4.6 * len(keys), 3.4), layout="constrained")
    FigureCanvasAgg(fig)
    colours = [f"C{i}" for i in range(10)]
    for panel, key in enumerate(keys):
        ax = fig.add_subplot(1, len(keys), panel + 1)
        for colour, (name, run) in zip(colours * 10, runs.items()):
            points = _series(run, key)
            ax.plot([e for e, _ in points], [v for _, v in points], "-", marker=".", color=colour, label=name)
            if marks and name in marks:
                ax.axvline(marks[name], color=colour, linestyle=":", linewidth=1.2)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        ax.set_title(key)
        ax.grid(alpha=0.3)
        if panel == 0:
            ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path
