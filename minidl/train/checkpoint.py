"""Checkpoints that resume a run exactly.

A checkpoint holds everything that decides what happens next: the model's
weights, the optimizer's state (momenta, Adam's moments, step counts), the
scheduler, each loader's seed and epoch count, the state of every random
generator involved (the default one, dropout layers' own, augmentation ops'
own) and the history so far. Restored, training continues as if it had never
stopped: on the CPU, 2 epochs + resume + 2 epochs equals 4 epochs, bit for bit.

Checkpoints are .npz files written atomically by :func:`minidl.save`.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy

from .. import backend, serialization


def _generators(root: Any, limit: int = 6) -> list:
    """Every numpy Generator reachable from ``root`` through attributes and lists, in a fixed order."""
    found, seen = [], set()

    def walk(obj: Any, depth: int) -> None:
        if id(obj) in seen or depth > limit:
            return
        seen.add(id(obj))
        if isinstance(obj, numpy.random.Generator):
            found.append(obj)
        elif isinstance(obj, (list, tuple)):
            for item in obj:
                walk(item, depth + 1)
        elif isinstance(obj, dict):
            for item in obj.values():
                walk(item, depth + 1)
        elif hasattr(obj, "__dict__") and not isinstance(obj, type) and not backend.is_array(obj):
            for item in vars(obj).values():
                walk(item, depth + 1)

    if root is not None:
        walk(root, 0)
    return found


def _random_roots(model: Any, loaders: Sequence[Any]) -> list:
    return [model] + [getattr(loader, "transform", None) for loader in loaders]


def training_state(model: Any, epoch: int, optimizer: Any = None, scheduler: Any = None, loaders: Sequence[Any] = (),
                   history: Any = None, callbacks: Sequence[Any] = ()) -> dict:
    """The full state of a run after ``epoch`` (counted from 0), as a savable dict."""
    state = {
        "epoch": int(epoch),
        "model": model.state_dict(),
        "default_generator": backend.default_generator().bit_generator.state,
        "generators": [g.bit_generator.state for root in _random_roots(model, loaders) for g in _generators(root)],
        "loaders": [loader.state_dict() for loader in loaders],
    }
    if optimizer is not None:
        state["optimizer"] = optimizer.state_dict()
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    if history is not None:
        state["history"] = history.state_dict()
    state["callbacks"] = [cb.state_dict() if hasattr(cb, "state_dict") else None for cb in callbacks]
    return state


def save_checkpoint(path: Any, model: Any, epoch: int, **parts: Any) -> None:
    """Write :func:`training_state` to ``path`` atomically."""
    serialization.save(training_state(model, epoch, **parts), path)


def load_checkpoint(path: Any, model: Any, optimizer: Any = None, scheduler: Any = None, loaders: Sequence[Any] = (),
                    history: Any = None, callbacks: Sequence[Any] = ()) -> int:
    """Restore a checkpoint into the given objects; returns the epoch it was saved after."""
    state = serialization.load(path) if not isinstance(path, dict) else path
    model.load_state_dict(state["model"])
    if optimizer is not None and "optimizer" in state:
        optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and "scheduler" in state:
        scheduler.load_state_dict(state["scheduler"])
    saved_loaders = state.get("loaders", [])
    if len(saved_loaders) != len(loaders):
        raise ValueError(f"the checkpoint has {len(saved_loaders)} loader states, {len(loaders)} loaders were given")
    for loader, s in zip(loaders, saved_loaders):
        loader.load_state_dict(s)
    backend.default_generator().bit_generator.state = _plain(state["default_generator"])
    generators = [g for root in _random_roots(model, loaders) for g in _generators(root)]
    if len(generators) != len(state["generators"]):
        raise ValueError(f"the checkpoint has {len(state['generators'])} generator states, "
                         f"the model and transforms have {len(generators)} generators")
    for g, s in zip(generators, state["generators"]):
        g.bit_generator.state = _plain(s)
    if history is not None and "history" in state:
        history.load_state_dict(state["history"])
    for cb, s in zip(callbacks, state.get("callbacks", [])):
        if s is not None and hasattr(cb, "load_state_dict"):
            cb.load_state_dict(s)
    return int(state["epoch"])


def _plain(state: Any) -> Any:
    """Generator states come back from .npz/JSON as plain dicts of ints: give them to NumPy as is."""
    return {k: (_plain(v) if isinstance(v, dict) else (int(v) if hasattr(v, "ndim") else v)) for k, v in state.items()}
