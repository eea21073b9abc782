"""The Optimizer base class: parameter groups, zero_grad, step, state_dict.

An optimizer holds *param groups*: lists of parameters that share
hyper-parameters. ``SGD(model.parameters(), lr=0.1)`` makes one group;
``SGD([{"params": body, "lr": 0.01}, {"params": head}], lr=0.1)`` makes two,
the second taking every hyper-parameter it does not name from the
constructor's arguments (the *defaults*).

Per-parameter state (momentum buffers, Adam's moments, step counts) lives in
``self.state[param]``, a dict per parameter created at its first update.

A subclass writes one method, ``_update(p, grad, state, group)``: the update
of one parameter, on raw arrays, written in place into ``p.data`` (so it runs
on any backend: it asks ``backend.get_array_module`` for the namespace and
never calls ``numpy.`` on the data). ``step`` calls it for every parameter
that has a gradient; parameters whose ``.grad`` is None (frozen, or not used
by this step's loss) are skipped, as are frozen ones (``requires_grad`` False)
that still hold an old gradient.

Saving. ``state_dict()`` gives nested dicts of arrays, numbers, strings and
lists, which ``mdl.save`` writes to an ``.npz``. As in PyTorch, parameters are
named by their position across the groups (0, 1, 2, ...), not by the objects
themselves, so the state can be loaded into a fresh optimizer built over a
fresh model of the same shape.

Memory. Making an optimizer means a training loop is coming, whose every
step allocates and frees the same large arrays: the constructor asks the C
allocator to keep freed memory for reuse (:func:`minidl.backend.keep_freed_memory`),
so neither ``fit`` nor a hand-written loop maps fresh pages every step.
"""
from __future__ import annotations

import numbers
from typing import Any, Callable, Iterable

from .. import backend
from ..autograd import Tensor, enable_grad


class Optimizer:
    """Base class: keeps param groups and per-parameter state, steps them all.

    Args:
        params: an iterable of Tensors (one group), or a list of dicts, each
            ``{"params": [...], <hyper-parameter>: value, ...}`` (one group each).
        defaults: every hyper-parameter with its value for groups that do not
            set it (the subclass passes its constructor's arguments).
    """

    def __init__(self, params: Iterable[Any], defaults: dict):
        self.defaults = dict(defaults)
        self._validate(self.defaults, where="")
        backend.keep_freed_memory()  # each step's large arrays reused, not re-mapped (the module docstring)
        self.param_groups: list[dict] = []
        self.state: dict = {}  # Tensor -> {name: array or number}
        for group in self._groups_from(params):
            self.add_param_group(group)

    # ------------------------------------------------------------ the groups
    def _groups_from(self, params: Any) -> list:
        """``params`` as given by the user -> a list of group dicts."""
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(f"{name}: params must be an iterable of Tensors or of dicts (param groups), "
                            "got a single Tensor; wrap it in a list: [tensor]")
        if isinstance(params, dict):
            raise TypeError(f"{name}: params must be an iterable of Tensors or of dicts (param groups), "
                            "got one dict; pass a list of dicts: [group]")
        try:
            params = list(params)
        except TypeError:
            raise TypeError(f"{name}: params must be an iterable of Tensors or of dicts (param groups), "
                            f"got {type(params).__name__}") from None
        if not params:
            raise ValueError(f"{name} got an empty parameter list")
        dicts = [isinstance(p, dict) for p in params]
        if all(dicts):
            return params
        if any(dicts):
            raise TypeError(f"{name}: params must be all Tensors or all dicts (param groups), not a mix")
        return [{"params": params}]

    def add_param_group(self, group: dict) -> None:
        """Add a group: ``{"params": [...], and any hyper-parameter to override}``.

        Missing hyper-parameters are filled in from the defaults. A parameter
        may belong to one group only.
        """
        name = type(self).__name__
        index = len(self.param_groups)
        if not isinstance(group, dict):
            raise TypeError(f"{name}: a param group must be a dict with a 'params' entry, got {type(group).__name__}")
        if "params" not in group:
            raise ValueError(f"{name}: param group {index} has no 'params' entry")
        group = dict(group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            # A set has no fixed order, and the state_dict refers to parameters by position.
            raise TypeError(f"{name}: the params of param group {index} must be an ordered collection "
                            "(a list), not a set")
        params = list(params)
        seen: set = set()
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name} params must be Tensors: parameter {i} of param group {index} "
                                f"is a {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name}: parameter {i} of param group {index} is not a leaf Tensor (it was "
                                 "computed by an op); optimize leaves such as model.parameters()")
            if id(p) in seen:
                raise ValueError(f"{name}: parameter {i} of param group {index} appears twice in that group")
            seen.add(id(p))
        for other_index, other in enumerate(self.param_groups):
            for p in other["params"]:
                if id(p) in seen:
                    raise ValueError(f"{name}: a parameter appears in more than one param group "
                                     f"(groups {other_index} and {index})")
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._validate(group, where=f" in param group {index}")
        self.param_groups.append(group)

    # ------------------------------------------------------------ validation
    def _validate(self, group: dict, where: str) -> None:
        """Check a group's hyper-parameters (``where`` says which group, for the message).

        The base checks the ones every optimizer shares; subclasses add their own.
        """
        for key in ("lr", "weight_decay", "eps", "momentum"):
            if key in group:
                self._check(group, key, where, lambda v: v >= 0, "must be >= 0")

    def _check(self, group: dict, key: str, where: str, ok: Callable[[float], bool], expected: str) -> None:
        """Raise a ValueError naming ``key`` unless ``group[key]`` is a real number passing ``ok``."""
        value = group[key]
        what = "learning rate lr" if key == "lr" else key
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise TypeError(f"{type(self).__name__}: {key}{where} must be a number, "
                            f"got {type(value).__name__} {value!r}")
        if not ok(value):
            raise ValueError(f"{type(self).__name__}: invalid {what}={value!r}{where}: {expected}")

    # --------------------------------------------------------------- stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients before the next backward (they accumulate otherwise).

        ``set_to_none=True`` (the default, as in PyTorch) drops them (``.grad``
        becomes None: no memory, and a parameter left out of the next loss is
        then skipped by ``step``); ``False`` writes zeros into them in place.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad[...] = 0

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns ``closure()``'s loss, if given.

        ``closure`` (optional, as in PyTorch) re-evaluates the model and
        returns the loss; it is called first, with gradients enabled.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group_index, group in enumerate(self.param_groups):
            for i, p in enumerate(group["params"]):
                if p.grad is None or not p.requires_grad:
                    continue  # frozen, or not used by this loss: nothing to do
                grad = self._checked_grad(p, f"parameter {i} of param group {group_index}")
                if group.get("maximize", False):
                    grad = -grad  # climb instead of descend (a new array: p.grad is left alone)
                state = self.state.setdefault(p, {})
                self._follow_parameter(p, state)
                self._update(p, grad, state, group)
        return loss

    def _update(self, p: Tensor, grad: Any, state: dict, group: dict) -> None:
        """Update ``p.data`` in place from ``grad``; subclasses write this.

        ``grad`` may be ``p.grad`` itself: never modify it in place.
        """
        raise NotImplementedError(f"{type(self).__name__} must define _update(p, grad, state, group)")

    @staticmethod
    def _checked_grad(p: Tensor, which: str) -> Any:
        """``p.grad``, checked against ``p.data`` (shape, device) and cast to its dtype."""
        grad = p.grad
        if grad.shape != p.data.shape:
            raise ValueError(f"{which} has shape {p.data.shape} but its grad has shape {grad.shape}")
        if backend.device_of(grad) != backend.device_of(p.data):
            raise ValueError(f"{which} is on device {backend.device_of(p.data)!r} but its grad is on "
                             f"{backend.device_of(grad)!r}")
        if grad.dtype != p.data.dtype:
            grad = grad.astype(p.data.dtype)  # the state and the update keep the parameter's dtype
        return grad

    @staticmethod
    def _follow_parameter(p: Tensor, state: dict) -> None:
        """Move ``p``'s state arrays to ``p``'s device and dtype if the parameter moved.

        ``module.to("cuda")`` replaces each parameter's ``.data`` but keeps the
        Parameter object, so an optimizer that already stepped holds buffers
        on the old device; they follow here, at the next step.
        """
        device, dtype = backend.device_of(p.data), p.data.dtype
        for key, value in state.items():
            if backend.is_array(value) and (backend.device_of(value) != device or value.dtype != dtype):
                state[key] = backend.to_device(value, device).astype(dtype, copy=False)

    # ----------------------------------------------------- saving, restoring
    def _all_params(self) -> list:
        return [p for g in self.param_groups for p in g["params"]]

    def state_dict(self) -> dict:
        """A snapshot: ``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``.

        ``index`` is a parameter's position across all groups (as in PyTorch).
        The arrays are copies (later steps do not change the snapshot) on the
        parameters' device; ``mdl.save`` moves them to the host.
        """
        index = {id(p): i for i, p in enumerate(self._all_params())}
        state = {}
        for p, s in self.state.items():
            if id(p) in index:
                state[index[id(p)]] = {k: (v.copy() if backend.is_array(v) else v) for k, v in s.items()}
        groups = []
        for g in self.param_groups:
            entry = {k: v for k, v in g.items() if k != "params"}
            entry["params"] = [index[id(p)] for p in g["params"]]
            groups.append(entry)
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyper-parameters and per-parameter state saved by :meth:`state_dict`.

        The saved groups must have as many groups, each with as many
        parameters, as this optimizer. State arrays are copied to each
        parameter's device and dtype. Everything is checked before anything
        changes: a bad state_dict leaves the optimizer as it was.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError(f"{name}.load_state_dict needs a dict with 'state' and 'param_groups' "
                             "(as state_dict() returns)")
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state_dict has {len(saved_groups)} param groups, "
                             f"this optimizer has {len(self.param_groups)}")
        # saved parameter index -> our parameter, group by group (as PyTorch maps them)
        by_index: dict = {}
        new_groups = []
        for gi, (saved, own) in enumerate(zip(saved_groups, self.param_groups)):
            saved_params = list(saved.get("params", []))
            if len(saved_params) != len(own["params"]):
                raise ValueError(f"{name}.load_state_dict: param group {gi} has {len(own['params'])} parameters "
                                 f"but the state_dict's has {len(saved_params)}")
            for k, p in zip(saved_params, own["params"]):
                by_index[int(k)] = p
            group = dict(own)
            for key, value in saved.items():
                if key != "params":
                    group[key] = self._restored_hyper(key, value)
            self._validate(group, where=f" in the state_dict's param group {gi}")
            new_groups.append(group)
        new_state = {}
        for key, saved in state_dict["state"].items():
            if int(key) not in by_index:
                raise ValueError(f"{name}.load_state_dict: the state_dict has state for parameter {key}, "
                                 "which none of its param groups lists")
            p = by_index[int(key)]
            new_state[p] = {k: self._restored_state(p, f"state[{key}][{k!r}]", v) for k, v in saved.items()}
        self.param_groups = new_groups
        self.state = new_state

    def _restored_hyper(self, key: str, value: Any) -> Any:
        """A saved hyper-parameter as the optimizer holds it (.npz gives lists for tuples)."""
        if backend.is_array(value):
            value = backend.to_numpy(value).tolist()
        if isinstance(value, list) and isinstance(self.defaults.get(key), tuple):
            value = tuple(value)  # betas=(0.9, 0.999) come back as a list
        return value

    def _restored_state(self, p: Tensor, where: str, value: Any) -> Any:
        """A saved state entry, on ``p``'s device and (floating arrays) dtype."""
        if isinstance(value, Tensor):
            value = value.data
        if not backend.is_array(value):
            return value  # a number: the step count
        if value.ndim == 0 and p.data.ndim != 0:
            return value.item()  # a count saved as a 0-d array
        if value.shape != p.data.shape:
            raise ValueError(f"{type(self).__name__}.load_state_dict: {where} has shape {value.shape} "
                             f"but the parameter has shape {p.data.shape}")
        value = backend.to_device(value, backend.device_of(p.data))
        dtype = p.data.dtype if value.dtype.kind == "f" else value.dtype
        return value.astype(dtype, copy=True)  # a copy: the caller's dict stays its own

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            hyper = ", ".join(f"{k}={v}" for k, v in g.items() if k != "params")
            lines.append(f"  param group {i}: {len(g['params'])} params, {hyper}")
        return "\n".join(lines) + "\n)"
