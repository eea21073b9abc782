"""Module and Parameter: how layers hold their weights and find each other.

A Module registers what is assigned to it:

    self.weight = Parameter(...)     -> a parameter (trained by optimizers)
    self.conv = Conv2d(...)          -> a submodule (its parameters are ours too)
    self.register_buffer("running_mean", array)   -> state that is not trained

so that ``parameters()``, ``state_dict()``, ``to(device)`` and ``train()`` /
``eval()`` can walk the whole tree. Names are dotted paths, as in PyTorch
("features.0.weight"), so state dicts move between the two.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterator, Mapping, Optional

import numpy

from .. import backend
from ..autograd import Tensor


class Parameter(Tensor):
    """A Tensor that a Module trains: ``requires_grad=True`` by default."""

    def __init__(self, data: Any, requires_grad: bool = True):
        if isinstance(data, Tensor):
            data = data.data
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of every layer and model: subclass it and write ``forward``.

    Example::

        class TwoLayer(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(784, 100)
                self.fc2 = nn.Linear(100, 10)

            def forward(self, x):
                return self.fc2(F.relu(self.fc1(x)))
    """

    def __init__(self) -> None:
        # object.__setattr__: our own __setattr__ needs these dicts to exist.
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "training", True)

    # ---- registration by assignment
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"call super().__init__() in {type(self).__name__}.__init__ before assigning {name!r}")
        for table in (self._parameters, self._modules, self._buffers):
            table.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        elif name in self.__dict__.get("_buffer_names", ()):
            self._buffers[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        for table in (self._parameters, self._modules, self._buffers):
            table.pop(name, None)
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Optional[Parameter]) -> None:
        """Register (or, with None, declare absent) a parameter."""
        if param is None:
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, param)

    def register_buffer(self, name: str, array: Any) -> None:
        """Keep an array (not trained) that belongs in state_dict and moves with to()."""
        names = self.__dict__.setdefault("_buffer_names", set())
        names.add(name)
        setattr(self, name, array)

    def add_module(self, name: str, module: Optional["Module"]) -> None:
        setattr(self, name, module)

    # ---- running
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ---- walking the tree
    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple]:
        """(dotted name, Parameter) for this module and, with recurse, every submodule."""
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mod_name, module in modules:
            for name, p in module._parameters.items():
                if id(p) in seen:
                    continue  # a shared parameter is listed once
                seen.add(id(p))
                yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple]:
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mod_name, module in modules:
            for name, b in module._buffers.items():
                if b is not None:
                    yield (f"{mod_name}.{name}" if mod_name else name), b

    def buffers(self, recurse: bool = True) -> Iterator[Any]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def named_children(self) -> Iterator[tuple]:
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self) -> Iterator["Module"]:
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix: str = "") -> Iterator[tuple]:
        """(dotted name, module) for this module ("" for itself) and all below, depth first."""
        stack = [(prefix, self)]
        seen = set()
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{n}" if name else n, m) for n, m in module.named_children()]
            stack.extend(reversed(children))

    def modules(self) -> Iterator["Module"]:
        for _, m in self.named_modules():
            yield m

    # ---- modes
    def train(self, mode: bool = True) -> "Module":
        """Training mode (dropout drops, batch norm uses batch statistics); returns self."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    # ---- state
    def state_dict(self) -> "OrderedDict[str, Any]":
        """Ordered name -> array of every parameter and buffer (the arrays themselves)."""
        state = OrderedDict((name, p.data) for name, p in self.named_parameters())
        state.update(self.named_buffers())
        return state

    def _state_targets(self) -> dict:
        """name -> (owner module, attribute) for everything state_dict holds."""
        targets = {}
        for mod_name, module in self.named_modules():
            for table in (module._parameters, module._buffers):
                for name, value in table.items():
                    if value is not None:
                        targets[f"{mod_name}.{name}" if mod_name else name] = (module, name)
        return targets

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> None:
        """Copy arrays from ``state`` into this module's own arrays (its dtype and device).

        With ``strict``, the names must match exactly; shapes must always match.
        Errors name every missing, unexpected or misshapen key.
        """
        targets = self._state_targets()
        missing = [k for k in targets if k not in state]
        unexpected = [k for k in state if k not in targets]
        misshapen = []
        for key, value in state.items():
            if key in targets:
                own = self._get_state(*targets[key])
                got = tuple(getattr(value, "shape", numpy.shape(value)))
                if tuple(own.shape) != got:
                    misshapen.append(f"{key}: expected {tuple(own.shape)}, got {got}")
        problems = []
        if strict and missing:
            problems.append(f"missing keys {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys {unexpected}")
        if misshapen:
            problems.append("shape mismatch for " + "; ".join(misshapen))
        if problems:
            raise KeyError(f"load_state_dict into {type(self).__name__}: " + ", ".join(problems))
        for key, value in state.items():
            if key in targets:
                module, name = targets[key]
                own = self._get_state(module, name)
                value = value.data if isinstance(value, Tensor) else value
                new = backend.to_device(value, backend.device_of(own)).astype(own.dtype, copy=True)
                own[...] = new  # in place: optimizers and views keep seeing the same arrays

    @staticmethod
    def _get_state(module: "Module", name: str) -> Any:
        value = module._parameters.get(name)
        return value.data if value is not None else module._buffers[name]

    # ---- devices and dtypes
    def to(self, device: Any = None, dtype: Any = None) -> "Module":
        """Move (and/or cast) every parameter and buffer, in place; returns self.

        The Parameter objects stay the same, so an optimizer made before the
        move still updates them. Buffers are cast only when floating.
        """
        def convert(array, cast: bool):
            if device is not None:
                array = backend.to_device(array, device)
            if dtype is not None and cast:
                array = array.astype(dtype)
            return array

        for module in self.modules():
            for p in module._parameters.values():
                if p is not None:
                    p.data = convert(p.data, True)
                    if p.grad is not None:
                        p.grad = convert(p.grad, True)
            for name, b in list(module._buffers.items()):
                if b is not None:
                    new = convert(b, b.dtype.kind == "f")
                    module._buffers[name] = new
                    object.__setattr__(module, name, new)
        return self

    def cpu(self) -> "Module":
        return self.to("cpu")

    def cuda(self, index: int = 0) -> "Module":
        return self.to(f"cuda:{index}")

    def float(self) -> "Module":
        return self.to(dtype=numpy.float32)

    def double(self) -> "Module":
        return self.to(dtype=numpy.float64)

    # ---- printing
    def extra_repr(self) -> str:
        """The arguments shown between the parentheses of this module's repr."""
        return ""

    def __repr__(self) -> str:
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        lines.append(")")
        return "\n".join(lines)
