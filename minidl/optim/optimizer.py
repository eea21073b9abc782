"""The Optimizer base class: parameter groups, zero_grad, state_dict.

An optimizer holds *param groups*: lists of parameters that share
hyper-parameters. ``SGD(model.parameters(), lr=0.1)`` makes one group;
``SGD([{"params": body, "lr": 0.01}, {"params": head}], lr=0.1)`` makes two,
the second taking the default lr. Per-parameter state (momentum buffers, Adam's
moments, step counts) lives in ``self.state[param]``.

Subclasses write ``_update(p, grad, state, group)``: the update of one
parameter, on raw arrays, in place. Parameters without a gradient (frozen,
or not used in this step) are skipped.
"""
from __future__ import annotations

from typing import Any, Iterable

from ..autograd import Tensor


class Optimizer:
    """Base class: keeps param groups and per-parameter state, steps them all."""

    def __init__(self, params: Iterable[Any], defaults: dict):
        self.defaults = dict(defaults)
        self._validate(self.defaults)
        self.param_groups: list[dict] = []
        self.state: dict = {}
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    # ---- groups
    def add_param_group(self, group: dict) -> None:
        """Add a group: {"params": [...], and any hyper-parameter to override}."""
        group = dict(group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__} params must be Tensors, got {type(p).__name__}")
        known = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in known for p in group["params"]):
            raise ValueError("a parameter appears in more than one param group")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._validate(group)
        self.param_groups.append(group)

    def _validate(self, group: dict) -> None:
        """Check hyper-parameters; subclasses add their own checks."""
        lr = group.get("lr")
        if lr is not None and lr < 0:
            raise ValueError(f"invalid learning rate lr={lr}: must be >= 0")
        wd = group.get("weight_decay", 0)
        if wd < 0:
            raise ValueError(f"invalid weight_decay={wd}: must be >= 0")

    # ---- stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients before the next backward (they accumulate otherwise)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad[...] = 0

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None or not p.requires_grad:
                    continue  # frozen or unused: nothing to do
                state = self.state.setdefault(p, {})
                grad = -p.grad if group.get("maximize", False) else p.grad
                self._update(p, grad, state, group)

    def _update(self, p: Tensor, grad: Any, state: dict, group: dict) -> None:
        raise NotImplementedError

    # ---- saving and restoring
    def _all_params(self) -> list:
        return [p for g in self.param_groups for p in g["params"]]

    def state_dict(self) -> dict:
        """{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}.

        Parameters are referred to by their position across the groups (as in
        PyTorch), so the dict holds only arrays, numbers and strings and can
        be saved with ``mdl.save``.
        """
        index = {id(p): i for i, p in enumerate(self._all_params())}
        state = {index[id(p)]: {k: (v.copy() if hasattr(v, "copy") else v) for k, v in s.items()}
                 for p, s in self.state.items() if id(p) in index}
        groups = []
        for g in self.param_groups:
            entry = {k: v for k, v in g.items() if k != "params" and _plain(v)}
            entry["params"] = [index[id(p)] for p in g["params"]]
            groups.append(entry)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyper-parameters and per-parameter state (arrays copied to each parameter's device)."""
        from .. import backend

        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"state_dict has {len(groups)} param groups, this optimizer has {len(self.param_groups)}")
        for saved, own in zip(groups, self.param_groups):
            if len(saved["params"]) != len(own["params"]):
                raise ValueError(
                    f"a param group has {len(own['params'])} parameters but the state_dict's has {len(saved['params'])}"
                )
            for k, v in saved.items():
                if k != "params":
                    own[k] = _restore_number(v)
        params = self._all_params()
        self.state = {}
        for key, s in state_dict["state"].items():
            p = params[int(key)]
            device = backend.device_of(p.data)
            self.state[p] = {
                k: (backend.to_device(v, device).astype(p.dtype) if backend.is_array(v) and v.ndim else _restore_number(v))
                for k, v in s.items()
            }

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            hyper = ", ".join(f"{k}={v}" for k, v in g.items() if k != "params")
            lines.append(f"  group {i}: {len(g['params'])} params, {hyper}")
        return "\n".join(lines) + "\n)"


def _plain(value: Any) -> bool:
    return isinstance(value, (int, float, bool, str, tuple, list)) or value is None


def _restore_number(value: Any) -> Any:
    """0-d arrays (as .npz stores numbers) back to Python numbers; tuples from lists."""
    if hasattr(value, "ndim") and value.ndim == 0:
        return value.item()
    if isinstance(value, list):
        return tuple(value)
    if hasattr(value, "ndim") and value.ndim == 1 and value.dtype.kind in "fi":
        return tuple(value.tolist())
    return value
