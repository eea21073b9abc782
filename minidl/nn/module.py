"""Module and Parameter: how layers hold their weights and find each other.

A Module registers what is assigned to it:

    self.weight = Parameter(...)     -> a parameter (trained by optimizers)
    self.conv = Conv2d(...)          -> a submodule (its parameters are ours too)
    self.register_buffer("running_mean", array)   -> state that is not trained

in the order of assignment, so that ``parameters()``, ``state_dict()``,
``to(device)`` and ``train()`` / ``eval()`` can walk the whole tree. Names are
dotted paths, as in PyTorch ("features.0.weight"), so state dicts move between
the two.

Everything else assigned to a module (numbers, strings, plain arrays, plain
Tensors) is an ordinary attribute: it is neither trained nor saved.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Iterator, Mapping, NamedTuple, Optional

import numpy

from .. import backend
from ..autograd import Tensor


class Parameter(Tensor):
    """A Tensor that a Module trains: ``requires_grad=True`` by default.

    Assigning a Parameter to a Module attribute registers it; optimizers get
    them from ``module.parameters()``. ``data`` may be an array, a Tensor (its
    array is shared, not copied) or a nested list.
    """

    def __init__(self, data: Any, requires_grad: bool = True):
        if isinstance(data, Tensor):
            data = data.data
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class _IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped (PyTorch returns the same)."""

    missing_keys: list
    unexpected_keys: list


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


class Module:
    """Base class of every layer and model: subclass it and write ``forward``.

    Example::

        class TwoLayer(nn.Module):
            def __init__(self):
                super().__init__()            # before any assignment
                self.fc1 = nn.Linear(784, 100)
                self.fc2 = nn.Linear(100, 10)

            def forward(self, x):
                return self.fc2(F.relu(self.fc1(x)))

        model = TwoLayer()
        y = model(x)                          # calls forward; x a Tensor or an array
    """

    training: bool

    def __init__(self) -> None:
        # object.__setattr__: our own __setattr__ needs these tables to exist.
        # Each is ordered by first assignment, which fixes the order of
        # parameters(), state_dict() and the repr.
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "training", True)

    # ------------------------------------------------ registration by assignment
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"call super().__init__() in {type(self).__name__}.__init__ before assigning {name!r}"
            )
        if isinstance(value, Parameter):
            table = self._parameters
        elif isinstance(value, Module):
            table = self._modules
        elif name in self._buffers:  # re-assigning a buffer (a new running mean) keeps it a buffer
            table = self._buffers
            value = _buffer_array(name, value)
        else:
            table = None
        # Leave the other tables; a name re-assigned in its own table keeps its place.
        for other in (self._parameters, self._modules, self._buffers):
            if other is not table:
                other.pop(name, None)
        if table is not None:
            table[name] = value
        # The attribute lives in __dict__ too, so reading it costs nothing extra.
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        for table in (self._parameters, self._modules, self._buffers):
            table.pop(name, None)
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Optional[Parameter]) -> None:
        """Register ``param`` under ``name``; ``None`` declares it absent (as ``bias=False``)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter({name!r}) needs a Parameter or None, got {type(param).__name__}")
        if param is None:
            self._parameters.pop(name, None)
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, param)

    def register_buffer(self, name: str, array: Any) -> None:
        """Keep an array that is not trained but belongs to the module's state.

        Buffers (batch norm's ``running_mean``, ``running_var``) are saved by
        ``state_dict()``, restored by ``load_state_dict()`` and moved by
        ``to()``. Assigning to the name later replaces the buffer.
        """
        if not isinstance(name, str) or not name or "." in name:
            raise ValueError(f"buffer name must be a non-empty string without '.', got {name!r}")
        if name in self._parameters or name in self._modules:
            raise KeyError(f"{name!r} is already a parameter or submodule of {type(self).__name__}")
        self._buffers[name] = None  # mark the name as a buffer, then assign through __setattr__
        setattr(self, name, array)

    def add_module(self, name: str, module: Optional["Module"]) -> None:
        """Register ``module`` under ``name`` (for names that are not identifiers, e.g. "0")."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module({name!r}) needs a Module, got {type(module).__name__}")
        if module is None:
            self._modules.pop(name, None)
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, module)

    # ------------------------------------------------------------------ running
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation of the layer: write it in every subclass."""
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Raw arrays (NumPy, CuPy, strict) are wrapped as constant Tensors, so
        # every forward receives Tensors: model(x_array) works like model(tensor).
        args = tuple(Tensor(a) if backend.is_array(a) else a for a in args)
        return self.forward(*args, **kwargs)

    # -------------------------------------------------------- walking the tree
    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple]:
        """(dotted name, Parameter) of this module and, with ``recurse``, all below.

        A parameter shared by two layers is listed once (under its first name),
        so an optimizer does not update it twice.
        """
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mod_name, module in modules:
            for name, p in module._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield _join(mod_name, name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every Parameter (what an optimizer is given): ``SGD(model.parameters(), lr=0.1)``."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple]:
        """(dotted name, array) of every buffer, like :meth:`named_parameters`."""
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mod_name, module in modules:
            for name, b in module._buffers.items():
                if b is None or id(b) in seen:
                    continue
                seen.add(id(b))
                yield _join(mod_name, name), b

    def buffers(self, recurse: bool = True) -> Iterator[Any]:
        """Every buffer array (running statistics and such)."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def named_children(self) -> Iterator[tuple]:
        """(name, module) of the direct submodules, in order of assignment."""
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self) -> Iterator["Module"]:
        """The direct submodules."""
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix: str = "") -> Iterator[tuple]:
        """(dotted name, module) of this module ("" for itself) and all below, depth first.

        Walked with a stack rather than recursion; a module reachable twice is
        listed once.
        """
        stack = [(prefix, self)]
        seen = set()
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(_join(name, n), m) for n, m in module.named_children()]
            stack.extend(reversed(children))  # reversed: the first child is popped first

    def modules(self) -> Iterator["Module"]:
        """This module and every module below it."""
        for _, m in self.named_modules():
            yield m

    def apply(self, fn: Callable[["Module"], Any]) -> "Module":
        """Call ``fn`` on every submodule (children first) and on self; returns self.

        The usual use is custom initialisation::

            def init_weights(m):
                if isinstance(m, nn.Linear):
                    nn.init.xavier_uniform_(m.weight)
            model.apply(init_weights)
        """
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # -------------------------------------------------------------------- modes
    def train(self, mode: bool = True) -> "Module":
        """Training mode (dropout drops, batch norm uses batch statistics); returns self."""
        if not isinstance(mode, bool):
            raise TypeError(f"train(mode) needs a bool, got {type(mode).__name__}")
        for m in self.modules():
            # A batch norm frozen by minidl.transfer.freeze stays in eval mode (Keras' trainable=False).
            object.__setattr__(m, "training", mode and not getattr(m, "frozen_eval", False))
        return self

    def eval(self) -> "Module":
        """Evaluation mode, ``train(False)``: dropout off, batch norm uses running statistics."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Freeze (False) or unfreeze (True) every parameter; returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self) -> None:
        """Forget the gradients of every parameter (``.grad = None``)."""
        for p in self.parameters():
            p.grad = None

    # -------------------------------------------------------------------- state
    def _named_state(self, prefix: str = "") -> Iterator[tuple]:
        """(dotted name, owner module, attribute, kind) of every parameter and buffer.

        Unlike named_parameters, a shared parameter or module appears under
        every name it has (as in PyTorch's state_dict), so a state dict saved
        from a model loads back into the same kind of model.
        """
        stack = [(prefix, self)]
        while stack:
            mod_name, module = stack.pop()
            for name, p in module._parameters.items():
                if p is not None:
                    yield _join(mod_name, name), module, name, "parameter"
            for name, b in module._buffers.items():
                if b is not None:
                    yield _join(mod_name, name), module, name, "buffer"
            children = [(_join(mod_name, n), m) for n, m in module.named_children()]
            stack.extend(reversed(children))

    @staticmethod
    def _array_of(module: "Module", name: str, kind: str) -> Any:
        return module._parameters[name].data if kind == "parameter" else module._buffers[name]

    def state_dict(self) -> "OrderedDict[str, Any]":
        """Ordered name -> array of every parameter and buffer.

        The arrays are the module's own, not copies: training goes on changing
        them. To keep a snapshot (the best weights so far), copy:
        ``{k: v.copy() for k, v in model.state_dict().items()}``.
        ``mdl.save(model.state_dict(), "model.npz")`` writes it to disk.
        """
        return OrderedDict(
            (key, self._array_of(module, name, kind)) for key, module, name, kind in self._named_state()
        )

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> _IncompatibleKeys:
        """Copy the arrays of ``state`` into this module's own arrays.

        The values are cast to each array's dtype and moved to its device, and
        written in place, so optimizers (which hold the Parameters) keep
        working. Values may be arrays of any device, Tensors or nested lists.

        With ``strict`` (the default) the names must match exactly; shapes must
        always match. Nothing is written unless everything fits. The error
        names every missing, unexpected and misshapen key.

        Returns (missing_keys, unexpected_keys), as PyTorch does.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict needs a mapping name -> array, got {type(state).__name__}")
        targets = {key: (module, name, kind) for key, module, name, kind in self._named_state()}
        missing = [k for k in targets if k not in state]
        unexpected = [k for k in state if k not in targets]
        values, misshapen = {}, []
        for key, value in state.items():
            if key not in targets:
                continue
            value = value.data if isinstance(value, Tensor) else value
            if not backend.is_array(value):
                value = numpy.asarray(value)
            own = self._array_of(*targets[key])
            if tuple(own.shape) != tuple(value.shape):
                misshapen.append(f"{key!r}: this model has shape {tuple(own.shape)}, the state has {tuple(value.shape)}")
            values[key] = value
        problems = []
        if strict and missing:
            problems.append(f"missing keys {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys {unexpected}")
        if misshapen:
            problems.append("shape mismatch for " + "; ".join(misshapen))
        if problems:
            raise RuntimeError(f"Error loading state_dict into {type(self).__name__}: " + "; ".join(problems))
        # Convert everything first (to each array's device, then its dtype), so
        # that a value that cannot be converted stops the load before any write.
        converted = {}
        for key, value in values.items():
            own = self._array_of(*targets[key])
            try:
                converted[key] = backend.to_device(value, backend.device_of(own)).astype(own.dtype, copy=False)
            except (TypeError, ValueError) as error:
                raise TypeError(f"load_state_dict: {key!r} cannot be converted to {own.dtype}: {error}") from None
        for key, value in converted.items():
            # own[...] = ... writes in place, so every holder of the array (an
            # optimizer, a view) sees the new values.
            self._array_of(*targets[key])[...] = value
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------- devices and dtypes
    def to(self, device: Any = None, dtype: Any = None) -> "Module":
        """Move and/or cast every parameter and buffer, in place; returns self.

        ``model.to("cuda")``, ``model.to("strict")``, ``model.to(dtype=numpy.float64)``
        (a dtype alone may also be given first: ``model.to(numpy.float64)``).

        The Parameter objects stay the same (only their ``.data`` and ``.grad``
        are replaced), so an optimizer made before the move still updates them.
        dtype applies to floating arrays only: integer buffers (counters) keep
        theirs.
        """
        if device is not None and dtype is None and not isinstance(device, (str, backend.Device)):
            device, dtype = None, device  # model.to(numpy.float64)
        if device is not None:
            device = backend.parse_device(device)
            backend.namespace(device)  # fails early, with the install hint, for a missing GPU
        if dtype is not None:
            dtype = numpy.dtype(dtype)
            if dtype.kind != "f":
                raise TypeError(f"module.to(dtype=...) needs a floating dtype, got {dtype}")

        def convert(array: Any) -> Any:
            if device is not None:
                array = backend.to_device(array, device)
            if dtype is not None and array.dtype.kind == "f":
                array = array.astype(dtype, copy=False)
            return array

        for module in self.modules():
            for p in module._parameters.values():
                if p is not None:
                    p.data = convert(p.data)
                    if p.grad is not None:
                        p.grad = convert(p.grad)
            for name, b in list(module._buffers.items()):
                if b is not None:
                    new = convert(b)
                    module._buffers[name] = new
                    object.__setattr__(module, name, new)
        return self

    def cpu(self) -> "Module":
        """``to("cpu")``."""
        return self.to("cpu")

    def cuda(self, index: int = 0) -> "Module":
        """``to("cuda:index")``."""
        return self.to(f"cuda:{index}")

    def float(self) -> "Module":
        """Cast floating parameters and buffers to float32."""
        return self.to(dtype=numpy.float32)

    def double(self) -> "Module":
        """Cast floating parameters and buffers to float64 (for gradient checks)."""
        return self.to(dtype=numpy.float64)

    # ----------------------------------------------------------------- printing
    def extra_repr(self) -> str:
        """The arguments shown between the parentheses of this module's repr."""
        return ""

    def __repr__(self) -> str:
        """As PyTorch prints: ``Name(extra)`` or, with children, one indented line each."""
        extra = self.extra_repr()
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({extra})"
        lines = [f"{type(self).__name__}("]
        if extra:
            lines += ["  " + line for line in extra.split("\n")]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")  # indent the child's own lines
            lines.append(f"  ({name}): {body}")
        lines.append(")")
        return "\n".join(lines)


def _buffer_array(name: str, value: Any) -> Any:
    """A buffer is an array (any device) or None; a Tensor gives its array."""
    if value is None or backend.is_array(value):
        return value
    if isinstance(value, Tensor):
        return value.data
    raise TypeError(f"buffer {name!r} must be an array or None, got {type(value).__name__}")
