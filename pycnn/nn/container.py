"""Containers: Sequential (runs its children in order) and ModuleList (holds them, no forward), on a shared
base, _ModuleSequence (length, iteration, append, extend, renumbering).

Children are registered under the names "0", "1", ... so state dict keys match PyTorch's ("0.weight").
"""

import operator
from collections import OrderedDict

from .module import Module

__all__ = ["ModuleList", "Sequential"]


def _normalize_index(idx, size, kind):
    idx = operator.index(idx)
    if not -size <= idx < size:
        raise IndexError(f"index {idx} is out of range for {kind} of length {size}")
    return idx + size if idx < 0 else idx


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: children kept in order and indexed by position."""

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Add `module` at the end (named by the current length); returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def _renumber(self, modules):
        """Hold `modules` under the names "0", "1", ..., so indices and names stay aligned after a
        deletion, as torch does."""
        self._modules.clear()
        for i, module in enumerate(modules):
            self._modules[str(i)] = module


class Sequential(_ModuleSequence):
    """A chain of modules: ``forward(x)`` feeds x through each child in registration order.

    Args:
        *modules: the layers, named "0", "1", ...; or a single OrderedDict name -> module.

    Example::

        net = Sequential(Conv2d(1, 6, 5), ReLU(), MaxPool2d(2))
        y = net(x)     # x: (N, 1, 28, 28) -> y: (N, 6, 12, 12)
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            # A slice keeps the original names, so sub-state-dicts keep their keys.
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        i = _normalize_index(idx, len(self), "Sequential")
        return list(self._modules.values())[i]

    def __setitem__(self, idx, module):
        i = _normalize_index(idx, len(self), "Sequential")
        setattr(self, list(self._modules.keys())[i], module)

    def __delitem__(self, idx):
        keys = list(self._modules.keys())
        if isinstance(idx, slice):
            targets = keys[idx]
        else:
            targets = [keys[_normalize_index(idx, len(self), "Sequential")]]
        for key in targets:
            del self._modules[key]
        self._renumber(list(self._modules.values()))


class ModuleList(_ModuleSequence):
    """A list of modules whose parameters are registered (use it instead of a Python list in __init__).

    Args:
        modules (iterable of Module, optional): initial contents, named "0", "1", ...
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        i = _normalize_index(idx, len(self), "ModuleList")
        return self._modules[str(i)]

    def __setitem__(self, idx, module):
        i = _normalize_index(idx, len(self), "ModuleList")
        setattr(self, str(i), module)

    def __delitem__(self, idx):
        values = list(self._modules.values())
        del values[idx]
        self._renumber(values)

    def __iadd__(self, modules):
        return self.extend(modules)

    def insert(self, index, module):
        values = list(self._modules.values())
        values.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(values):
            self.add_module(str(i), m)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward(); iterate over it inside your own forward()")
