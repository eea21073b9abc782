"""Checkpoints that resume a run exactly.

What decides the rest of a run? Not only the weights:

=====================  ==========================================================
part                   why it matters
=====================  ==========================================================
model                  the weights and buffers (batch-norm running statistics)
optimizer              momenta, Adam's moments and step counts, each group's lr
scheduler              where the learning-rate schedule stands
loaders                each loader's seed and epoch count: the next shuffle order
random generators      minidl's default generator (initial weights, dropout
                       without a seed) and every generator of its own held by
                       the model (``nn.Dropout(seed=...)``) or a loader's
                       transform (augmentation ops): the next masks and flips
history, callbacks     the curves so far; EarlyStopping's best and patience count
=====================  ==========================================================

All of it is saved after an epoch, so training 4 epochs equals training 2,
stopping, resuming and training 2 more, to the last bit on the CPU::

    fit(model, loader, loss, opt, epochs=2, checkpoint="run/ckpt.npz")
    # ... later, in a new process, with the objects built the same way:
    fit(model, loader, loss, opt, epochs=4, checkpoint="run/ckpt.npz", resume_from="run/ckpt.npz")

A random generator's state is a handful of integers
(``generator.bit_generator.state``). The generators are found by walking the
model's modules and the loaders' transforms, and are stored under the path
that reaches them ("model.2.generator", "loaders.0.transform.ops.1.rng"), so a
checkpoint that does not fit the objects says which generator differs.

Checkpoints are .npz files written atomically by :func:`minidl.save`: a crash
while saving leaves the previous checkpoint whole.

Loading is all or nothing: :func:`load_checkpoint` first checks every part
against the objects given (:func:`check_checkpoint`: names, shapes, dtypes,
param groups, generators), changing nothing; only then does it apply them,
and should applying still fail it puts every object back as it was. A
``run_id`` saved with the checkpoint lets a resume refuse another run's.
"""
from __future__ import annotations

import types
from typing import Any, Optional, Sequence

import numpy

from .. import backend, serialization
from ..autograd import Tensor

_FORMAT = "minidl-checkpoint-1"


# ------------------------------------------------------------- generators
def find_generators(model: Any = None, loaders: Sequence[Any] = ()) -> dict:
    """Every NumPy Generator of the model and of the loaders' transforms, by path.

    The walk follows modules, attributes, lists, tuples, dicts and the
    variables a closure captured (``transform=lambda x: flip(x)``); it skips
    arrays, Tensors, parameters and buffers. A generator reachable twice is
    listed once, under the first path found. The order is fixed (attribute
    order), so two identically built models give the same paths.
    """
    found: dict = {}
    seen: set = set()
    if model is not None:
        _walk(model, "model", found, seen, depth=0)
    for i, loader in enumerate(loaders):
        transform = getattr(loader, "transform", None)
        if transform is not None:
            _walk(transform, f"loaders.{i}.transform", found, seen, depth=0)
    return found


_SKIPPED_ATTRIBUTES = {"_parameters", "_buffers"}  # arrays only: nothing random inside
_MAX_DEPTH = 64  # a guard against pathological nesting, far beyond any real model


def _walk(obj: Any, path: str, found: dict, seen: set, depth: int) -> None:
    if depth > _MAX_DEPTH or id(obj) in seen:
        return
    if obj is None or isinstance(obj, (bool, int, float, complex, str, bytes, type, types.ModuleType, Tensor)) \
            or backend.is_array(obj) or isinstance(obj, numpy.generic):
        return
    seen.add(id(obj))
    if isinstance(obj, numpy.random.Generator):
        found[path] = obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            _walk(value, f"{path}.{key}", found, seen, depth + 1)
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            _walk(value, f"{path}.{i}", found, seen, depth + 1)
    elif isinstance(obj, types.FunctionType):
        # A lambda or inner function keeps what it uses in its closure cells.
        names = obj.__code__.co_freevars
        for name, cell in zip(names, obj.__closure__ or ()):
            try:
                _walk(cell.cell_contents, f"{path}.<{name}>", found, seen, depth + 1)
            except ValueError:  # an empty cell
                pass
    elif hasattr(obj, "__dict__"):
        for name, value in vars(obj).items():
            if name in _SKIPPED_ATTRIBUTES:
                continue
            # A module's children live in its _modules dict: show them as model.0, not model._modules.0
            child_path = path if name == "_modules" else f"{path}.{name}"
            _walk(value, child_path, found, seen, depth + 1)


def generator_states(generators: dict) -> dict:
    """path -> ``bit_generator.state`` (a small dict of ints), ready to save."""
    return {path: g.bit_generator.state for path, g in generators.items()}


def check_generator_paths(generators: dict, states: dict) -> None:
    """A ValueError naming the differences when saved states and found generators do not pair up."""
    missing, extra = sorted(set(states) - set(generators)), sorted(set(generators) - set(states))
    if missing or extra:
        raise ValueError(
            "the checkpoint's random generators do not match the model and transforms given: "
            f"saved but not found: {missing or 'none'}; found but not saved: {extra or 'none'}. "
            "Build the model, loaders and transforms exactly as in the run that saved it."
        )


def set_generator_states(generators: dict, states: dict) -> None:
    """Put saved states back; the paths must match exactly (else a ValueError naming them)."""
    check_generator_paths(generators, states)
    for path, g in generators.items():
        state = _plain(states[path])
        if state.get("bit_generator") != g.bit_generator.state.get("bit_generator"):
            raise ValueError(f"generator {path}: the checkpoint holds a {state.get('bit_generator')} state, "
                             f"the generator is {type(g.bit_generator).__name__}")
        g.bit_generator.state = state


def _plain(value: Any) -> Any:
    """A state as NumPy wants it: 0-d arrays and NumPy scalars back to Python ints (large ones too)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, numpy.ndarray) and value.ndim == 0 or isinstance(value, numpy.generic):
        return value.item()
    return value


# -------------------------------------------------------- the whole state
def training_state(model: Any, optimizer: Any = None, epoch: int = 0, scheduler: Any = None,
                   loaders: Sequence[Any] = (), history: Any = None, callbacks: Sequence[Any] = (),
                   run_id: Optional[str] = None) -> dict:
    """Everything that decides the rest of a run, after ``epoch`` (counted from 0), as a savable dict.

    Loaders without ``state_dict`` (a plain list of batches) are left out.
    ``run_id`` (a string naming the run, e.g. a hash of its settings) is
    stored under "run_id" when given, so that a resume can check the
    checkpoint belongs to the run it continues (:func:`load_checkpoint`).
    """
    if run_id is not None and not isinstance(run_id, str):
        raise TypeError(f"run_id must be a str or None, got {type(run_id).__name__}")
    loaders = [loader for loader in loaders if loader is not None]
    state = {
        "format": _FORMAT,
        "epoch": int(epoch),
        "model": model.state_dict(),
        "random": {
            "default": backend.default_generator().bit_generator.state,
            "generators": generator_states(find_generators(model, loaders)),
        },
        "loaders": [loader.state_dict() if hasattr(loader, "state_dict") else None for loader in loaders],
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "history": history.state_dict() if history is not None else None,
        "callbacks": callback_states(callbacks),
    }
    if run_id is not None:
        state["run_id"] = run_id
    return state


def _callback_keys(callbacks: Sequence[Any]) -> list:
    """A name per callback: its class, numbered when the class repeats ("EarlyStopping", "EarlyStopping.1")."""
    keys, counts = [], {}
    for cb in callbacks:
        name = type(cb).__name__
        keys.append(name if name not in counts else f"{name}.{counts[name]}")
        counts[name] = counts.get(name, 0) + 1
    return keys


def callback_states(callbacks: Sequence[Any]) -> dict:
    """Each stateful callback's ``state_dict()``, under its class name.

    By name rather than position, so a resumed run may list its callbacks in
    another order, or add a stateless one, and each still gets its own state.
    """
    return {key: cb.state_dict() for key, cb in zip(_callback_keys(callbacks), callbacks) if hasattr(cb, "state_dict")}


def save_checkpoint(path: Any, model: Any, optimizer: Any = None, epoch: int = 0, scheduler: Any = None,
                    loaders: Sequence[Any] = (), history: Any = None, callbacks: Sequence[Any] = (),
                    run_id: Optional[str] = None) -> None:
    """Write :func:`training_state` to ``path`` (.npz) atomically.

    Call it after an epoch has finished (``epoch`` counted from 0); passing
    the same objects to :func:`load_checkpoint` later continues from there.
    ``run_id``, when given, is stored with the state (see :func:`training_state`).
    """
    serialization.save(training_state(model, optimizer, epoch, scheduler, loaders, history, callbacks,
                                      run_id=run_id), path)


def load_checkpoint(path: Any, model: Any, optimizer: Any = None, scheduler: Any = None,
                    loaders: Sequence[Any] = (), history: Any = None, callbacks: Sequence[Any] = (),
                    run_id: Optional[str] = None) -> int:
    """Restore a checkpoint (a path, or a state dict already loaded) into the objects given.

    Every object given is restored, and so are the random generators of the
    model and of the loaders' transforms and minidl's default generator.
    ``loaders`` must be all the loaders saved, in order, or none (then their
    states and their transforms' generators are left alone).
    Returns the epoch the checkpoint was saved after (from 0): resume at
    that epoch + 1.

    ``run_id``, when given, must equal the run id saved in the checkpoint: a
    checkpoint of another run (or one saved without a run id) is refused
    before anything is changed.

    Every part is checked before anything changes, and a failure while
    applying puts every object back: the objects end up wholly restored, or
    as they were.

    Raises:
        ValueError: the file is not a training checkpoint (e.g. weights only),
            it belongs to another run (``run_id``), or a part does not fit the
            objects (the message names the part and what differs).
    """
    where = "the state" if isinstance(path, dict) else str(path)
    state = path if isinstance(path, dict) else serialization.load(path)
    if not isinstance(state, dict) or state.get("format") != _FORMAT:
        raise ValueError(
            f"{where} is not a minidl training checkpoint "
            "(no model/optimizer/random state); for a weights-only file use "
            "model.load_state_dict(mdl.load(path))"
        )
    check_run_id(state, run_id, where=where)
    loaders = [loader for loader in loaders if loader is not None]
    # 1. Check every part against the objects given: nothing has changed yet.
    generators, saved_generators = check_checkpoint(state, model, optimizer, scheduler, loaders, history,
                                                    callbacks, where=where)
    # 2. Apply every part; should one still fail, put every object back as it was.
    undo = _snapshot(model, optimizer, scheduler, loaders, generators, history, callbacks)
    try:
        model.load_state_dict(state["model"])
        if optimizer is not None:
            optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(state["scheduler"])
        for loader, saved in zip(loaders, state["loaders"]):
            if saved is not None:
                loader.load_state_dict(saved)
        set_generator_states(generators, saved_generators)
        backend.default_generator().bit_generator.state = _plain(state["random"]["default"])
        if history is not None and state["history"] is not None:
            history.load_state_dict(state["history"])
        load_callback_states(state, callbacks, where=where)
    except BaseException:
        _restore(undo, model, optimizer, scheduler, loaders, generators, history, callbacks)
        raise
    return int(state["epoch"])


# ------------------------------------------------ checking before changing
def _problem(where: str, part: str, message: str) -> ValueError:
    return ValueError(f"{where} does not fit the objects given: {part}: {message}")


def check_checkpoint(state: dict, model: Any, optimizer: Any = None, scheduler: Any = None,
                     loaders: Sequence[Any] = (), history: Any = None, callbacks: Sequence[Any] = (),
                     where: str = "the state") -> tuple:
    """Check every part of a checkpoint against the objects given, changing nothing.

    Uses only what the objects show publicly (their ``state_dict()`` names,
    shapes, dtypes, param groups). Raises a ValueError that names ``where``,
    the part and what differs. Returns ``(generators, saved_generators)``:
    the generators found and the saved states that belong to them.
    """
    for key in ("epoch", "model", "random", "loaders", "optimizer", "scheduler", "history", "callbacks"):
        if key not in state:
            raise _problem(where, key, "missing from the checkpoint (a damaged or hand-made file?)")
    random = state["random"]
    if not isinstance(random, dict) or not isinstance(random.get("generators"), dict) or "default" not in random:
        raise _problem(where, "random", "expected {'default': state, 'generators': {path: state}}")
    _check_model(model, state["model"], where)
    for key, obj in (("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is not None and state.get(key) is None:
            raise ValueError(f"the checkpoint holds no {key} state, but a {key} was given to restore")
    if optimizer is not None:
        _check_optimizer(optimizer, state["optimizer"], where)
    if scheduler is not None:
        _check_keys(where, "scheduler", scheduler.state_dict(), state["scheduler"])
        base_lrs = state["scheduler"].get("base_lrs")
        if base_lrs is not None and len(base_lrs) != len(scheduler.optimizer.param_groups):
            raise _problem(where, "scheduler", f"it has {len(base_lrs)} base_lrs, the optimizer "
                                               f"{len(scheduler.optimizer.param_groups)} param groups")
    saved_loaders = state["loaders"]
    if not isinstance(saved_loaders, list):
        raise _problem(where, "loaders", f"expected a list of loader states, got {type(saved_loaders).__name__}")
    if loaders and len(saved_loaders) != len(loaders):
        raise ValueError(f"the checkpoint holds {len(saved_loaders)} loader states, "
                         f"{len(loaders)} loaders were given")
    for i, (loader, saved) in enumerate(zip(loaders, saved_loaders)):
        if saved is not None and hasattr(loader, "load_state_dict"):
            _check_loader(where, i, loader, saved)
    saved_generators = random["generators"]
    if not loaders:  # restoring a model (and optimizer...) without its loaders: leave theirs out
        saved_generators = {k: v for k, v in saved_generators.items() if not k.startswith("loaders.")}
    generators = find_generators(model, loaders)
    check_generator_paths(generators, saved_generators)
    for path, g in generators.items():
        _check_generator(where, f"random generator {path}", g, saved_generators[path])
    _check_generator(where, "the default random generator", backend.default_generator(), random["default"])
    if history is not None and state["history"] is not None:
        saved = state["history"]
        if not isinstance(saved, dict) or not isinstance(saved.get("epoch"), list) \
                or not isinstance(saved.get("history"), dict):
            raise _problem(where, "history", "expected {'epoch': [...], 'history': {key: [...]}}")
    saved_callbacks = state["callbacks"] or {}
    if not isinstance(saved_callbacks, dict):
        raise _problem(where, "callbacks", f"expected a dict name -> state, got {type(saved_callbacks).__name__}")
    for key, cb in zip(_callback_keys(callbacks), callbacks):
        if key in saved_callbacks and hasattr(cb, "load_state_dict") and hasattr(cb, "state_dict"):
            _check_keys(where, f"callback {key}", cb.state_dict(), saved_callbacks[key])
    return generators, saved_generators


def _check_model(model: Any, saved: Any, where: str) -> None:
    """Names, shapes and dtypes (castable within their kind) of the model's state dict."""
    if not isinstance(saved, dict):
        raise _problem(where, "model", f"expected a dict name -> array, got {type(saved).__name__}")
    own = model.state_dict()
    missing, unexpected = [k for k in own if k not in saved], [k for k in saved if k not in own]
    if missing or unexpected:
        raise _problem(where, "model", f"missing keys {missing}, unexpected keys {unexpected}")
    for key, array in own.items():
        value = saved[key]
        if not backend.is_array(value):
            raise _problem(where, "model", f"{key!r} should be an array, got {type(value).__name__}")
        if tuple(value.shape) != tuple(array.shape):
            raise _problem(where, "model", f"{key!r} has shape {tuple(value.shape)}, "
                                           f"the model's has {tuple(array.shape)}")
        if not numpy.can_cast(value.dtype, array.dtype, casting="same_kind"):
            raise _problem(where, "model", f"{key!r} has dtype {value.dtype}, which does not cast to "
                                           f"the model's {array.dtype}")


def _check_optimizer(optimizer: Any, saved: Any, where: str) -> None:
    """Param groups of the same sizes, state only for listed parameters, state arrays of their shapes."""
    if not isinstance(saved, dict) or not isinstance(saved.get("state"), dict) \
            or not isinstance(saved.get("param_groups"), list):
        raise _problem(where, "optimizer", "expected {'state': {...}, 'param_groups': [...]} "
                                           "(as Optimizer.state_dict() returns)")
    groups = saved["param_groups"]
    if len(groups) != len(optimizer.param_groups):
        raise _problem(where, "optimizer", f"it has {len(groups)} param groups, "
                                           f"the optimizer has {len(optimizer.param_groups)}")
    by_index = {}
    for gi, (group, own) in enumerate(zip(groups, optimizer.param_groups)):
        params = group.get("params") if isinstance(group, dict) else None
        if not isinstance(params, list) or len(params) != len(own["params"]):
            got = len(params) if isinstance(params, list) else type(params).__name__
            raise _problem(where, "optimizer", f"param group {gi} should list {len(own['params'])} parameters, "
                                               f"got {got}")
        for index, p in zip(params, own["params"]):
            by_index[index] = p
    for index, entry in saved["state"].items():
        if index not in by_index:
            raise _problem(where, "optimizer", f"state for parameter {index!r}, which no param group lists")
        if not isinstance(entry, dict):
            raise _problem(where, "optimizer", f"state[{index}] should be a dict, got {type(entry).__name__}")
        shape = tuple(by_index[index].data.shape)
        for key, value in entry.items():
            if backend.is_array(value) and value.ndim > 0 and tuple(value.shape) != shape:
                raise _problem(where, "optimizer", f"state[{index}][{key!r}] has shape {tuple(value.shape)}, "
                                                   f"its parameter has shape {shape}")


def _check_keys(where: str, part: str, own: dict, saved: Any) -> None:
    """A saved state must hold every key the live object's ``state_dict()`` has."""
    if not isinstance(saved, dict):
        raise _problem(where, part, f"expected a dict, got {type(saved).__name__}")
    missing = [k for k in own if k not in saved]
    if missing:
        raise _problem(where, part, f"the saved state lacks {missing}")


def _check_loader(where: str, i: int, loader: Any, saved: Any) -> None:
    """A loader's state: every key its ``state_dict()`` has; seed and epoch (if it has them) ints >= 0."""
    _check_keys(where, f"loader {i}", loader.state_dict(), saved)
    for key in ("seed", "epoch"):
        value = _plain(saved.get(key, 0))
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise _problem(where, f"loader {i}", f"{key} should be an int >= 0, got {value!r}")


def _check_generator(where: str, part: str, g: numpy.random.Generator, saved: Any) -> None:
    """A saved generator state: a dict of the same bit generator as ``g``."""
    kind = type(g.bit_generator).__name__
    got = saved.get("bit_generator") if isinstance(saved, dict) else type(saved).__name__
    if got != kind:
        raise _problem(where, part, f"the checkpoint holds a {got} state, the generator is {kind}")


# ------------------------------------------------------- all or nothing
def _snapshot(model, optimizer, scheduler, loaders, generators, history, callbacks) -> dict:
    """Copies of every state :func:`load_checkpoint` may change, to put back should applying fail."""
    return {
        "model": {k: v.copy() for k, v in model.state_dict().items()},
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "loaders": [loader.state_dict() if hasattr(loader, "state_dict") else None for loader in loaders],
        "generators": generator_states(generators),
        "default": backend.default_generator().bit_generator.state,
        "history": history.state_dict() if history is not None else None,
        "callbacks": callback_states(callbacks),
    }


def _restore(undo: dict, model, optimizer, scheduler, loaders, generators, history, callbacks) -> None:
    """Put back what :func:`_snapshot` took (the scheduler before the optimizer: it sets the lrs)."""
    model.load_state_dict(undo["model"])
    if scheduler is not None:
        scheduler.load_state_dict(undo["scheduler"])
    if optimizer is not None:
        optimizer.load_state_dict(undo["optimizer"])
    for loader, saved in zip(loaders, undo["loaders"]):
        if saved is not None:
            loader.load_state_dict(saved)
    for path, g in generators.items():
        g.bit_generator.state = undo["generators"][path]
    backend.default_generator().bit_generator.state = undo["default"]
    if history is not None:
        history.load_state_dict(undo["history"])
    load_callback_states({"callbacks": undo["callbacks"]}, callbacks)


def check_run_id(state: dict, run_id: Optional[str], where: Any = "the state") -> None:
    """A ValueError when ``run_id`` is given and the checkpoint's run id differs or is missing.

    ``where`` names the checkpoint in the message (its path, or "the state").
    """
    if run_id is None:
        return
    saved = state.get("run_id")
    saved = saved.item() if isinstance(saved, numpy.ndarray) and saved.ndim == 0 else saved
    if saved != run_id:
        name = "the state" if isinstance(where, dict) else where
        got = "missing (saved without a run id)" if saved is None else repr(saved)
        raise ValueError(f"{name} belongs to another run: its run id is {got}, expected {run_id!r}")


def load_callback_states(state: dict, callbacks: Sequence[Any], where: str = "the state") -> None:
    """Give each callback with ``load_state_dict`` the state saved under its name (if any).

    Every saved state is checked (it holds each key of the callback's own
    ``state_dict()``) before the first one is given, so a broken one changes
    no callback; the ValueError names ``where``.
    """
    saved = state.get("callbacks") or {}
    if not isinstance(saved, dict):
        raise _problem(where, "callbacks", f"expected a dict name -> state, got {type(saved).__name__}")
    pairs = [(key, cb) for key, cb in zip(_callback_keys(callbacks), callbacks)
             if key in saved and hasattr(cb, "load_state_dict")]
    for key, cb in pairs:
        if hasattr(cb, "state_dict"):
            _check_keys(where, f"callback {key}", cb.state_dict(), saved[key])
    for key, cb in pairs:
        cb.load_state_dict(saved[key])
