"""Containers: Sequential runs modules in order; ModuleList and ModuleDict just hold them.

Sequential and ModuleList register their modules as children named "0", "1",
..., ModuleDict under its keys, so parameter names match PyTorch's
("0.weight", "2.bias", "encoder.weight") and state dicts move between the two.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterable, Iterator, Mapping, Union

from .module import Module


def _check_index(index: int, length: int, owner: str) -> int:
    """A non-negative position for ``index`` (negative counts from the end)."""
    if not -length <= index < length:
        raise IndexError(f"index {index} is out of range for {owner} of length {length}")
    return index % length


class Sequential(Module):
    """Modules applied one after the other: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    Also ``Sequential(OrderedDict([("conv", ...), ("relu", ...)]))`` to choose
    the names. Indexing gives a layer (``model[0]``, ``model[-1]``) or, with a
    slice, a new Sequential that shares the layers (``model[:-1]``, the network
    without its head).
    """

    def __init__(self, *modules: Any):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            for name, m in modules[0].items():
                self.add_module(str(name), m)
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), m)

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index: Union[int, slice]) -> Any:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        return items[_check_index(index, len(items), "Sequential")][1]

    def __setitem__(self, index: int, module: Module) -> None:
        names = list(self._modules)
        self.add_module(names[_check_index(index, len(names), "Sequential")], module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def append(self, module: Module) -> "Sequential":
        """Add ``module`` at the end (named by its position); returns self."""
        self.add_module(str(len(self._modules)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (a plain list hides them
    from ``parameters()``, ``to()`` and ``state_dict()``).

    It has no forward: the owner decides how to use the modules::

        self.blocks = nn.ModuleList([Block() for _ in range(4)])
        ...
        for block in self.blocks:
            x = block(x)
    """

    def __init__(self, modules: Iterable[Module] = ()):
        super().__init__()
        self.extend(modules)

    def append(self, module: Module) -> "ModuleList":
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> "ModuleList":
        """Append each of ``modules``; returns self."""
        for m in modules:
            self.append(m)
        return self

    def __getitem__(self, index: Union[int, slice]) -> Any:
        values = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(values[index])
        return values[_check_index(index, len(values), "ModuleList")]

    def __setitem__(self, index: int, module: Module) -> None:
        self.add_module(str(_check_index(index, len(self._modules), "ModuleList")), module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))


class ModuleDict(Module):
    """A dict of modules whose parameters are registered, in the order of insertion.

    Like :class:`ModuleList` it has no forward; the owner picks modules by name::

        self.heads = nn.ModuleDict({"digit": nn.Linear(64, 10), "parity": nn.Linear(64, 2)})
        ...
        return self.heads[task](features)

    Each key is the child's name, so ``state_dict()`` names are
    ``"heads.digit.weight"``, as PyTorch's. Keys are strings without ".", and
    may not shadow an attribute of the container (``"keys"``, ``"train"``).
    """

    def __init__(self, modules: Union[Mapping, Iterable, None] = None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def _check_key(self, key: Any) -> str:
        if not isinstance(key, str) or not key or "." in key:
            raise KeyError(f"ModuleDict keys must be non-empty strings without '.', got {key!r}")
        if key not in self._modules and hasattr(self, key):
            raise KeyError(f"ModuleDict key {key!r} would shadow the attribute {type(self).__name__}.{key}; "
                           "choose another name")
        return key

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(f"ModuleDict has no module {key!r}; its keys are {list(self._modules)}")
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(self._check_key(key), module)

    def __delitem__(self, key: str) -> None:
        self[key]  # the clear KeyError for a missing key
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def __contains__(self, key: Any) -> bool:
        return key in self._modules

    def keys(self) -> list:
        """The keys, in order of insertion."""
        return list(self._modules)

    def values(self) -> list:
        """The modules, in order of insertion."""
        return list(self._modules.values())

    def items(self) -> list:
        """(key, module) pairs, in order of insertion."""
        return list(self._modules.items())

    def pop(self, key: str) -> Module:
        """Remove ``key`` and return its module."""
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        """Remove every module."""
        for key in self.keys():
            del self[key]

    def update(self, modules: Union[Mapping, Iterable]) -> None:
        """Add (or replace) modules from a mapping or from (key, module) pairs, in their order."""
        if isinstance(modules, (Mapping, ModuleDict)):
            pairs = list(modules.items())
        else:
            pairs = []
            for i, pair in enumerate(modules):
                if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                    raise TypeError(f"ModuleDict.update: element {i} must be a (key, module) pair, got {pair!r}")
                pairs.append(tuple(pair))
        for key, module in pairs:
            self[key] = module
