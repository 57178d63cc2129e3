"""Containers: Sequential (runs its children in order) and ModuleList (holds them, no forward), on a shared
base, _ModuleSequence (length, iteration, append, extend, renumbering); ModuleDict (children by name),
ParameterList and ParameterDict (parameters by position or name).

Children are registered under the names "0", "1", ... so state dict keys match PyTorch's ("0.weight").
"""

import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from ..tensor import Tensor
from .module import Module
from .parameter import Parameter

__all__ = ["ModuleDict", "ModuleList", "ParameterDict", "ParameterList", "Sequential"]


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


def _pairs(values, kind):
    """The (key, value) pairs of a mapping, or of an iterable of pairs (checked as torch's update does)."""
    if isinstance(values, (Mapping, ModuleDict, ParameterDict)):
        return list(values.items())
    if not isinstance(values, Iterable) or isinstance(values, (str, Tensor)):
        raise TypeError(
            f"[{kind}] update should be called with an iterable of key/value pairs, got {type(values).__name__}"
        )
    pairs = []
    for j, pair in enumerate(values):
        if not isinstance(pair, Iterable) or isinstance(pair, (str, Tensor)):
            raise TypeError(f"[{kind}] update sequence element #{j} should be a pair, got {type(pair).__name__}")
        pair = tuple(pair)
        if len(pair) != 2:
            raise ValueError(f"[{kind}] update sequence element #{j} has length {len(pair)}; 2 is required")
        pairs.append(pair)
    return pairs


class ModuleDict(Module):
    """An ordered dict of modules whose parameters are registered; keys are the state dict names.

    Args:
        modules (mapping or iterable of (str, Module) pairs, optional): initial contents, in order.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self):
        self._modules.clear()

    def pop(self, key):
        """Remove the module under key and return it."""
        module = self[key]
        del self[key]
        return module

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules):
        """Add or overwrite entries from a mapping or an iterable of (key, module) pairs, in their order."""
        for key, module in _pairs(modules, "ModuleDict"):
            self[key] = module

    def forward(self, *args, **kwargs):
        raise NotImplementedError("[ModuleDict] has no forward(); index it inside your own forward()")


def _as_parameter(value):
    """torch's rule for the parameter containers: a plain tensor is wrapped into a Parameter (sharing its
    memory); a Parameter, or any other object, is stored as it is."""
    return Parameter(value) if isinstance(value, Tensor) and not isinstance(value, Parameter) else value


def _describe(p):
    """One entry of the parameter containers' repr, as torch prints it."""
    if not isinstance(p, Tensor):
        return f"Object of type: {type(p).__name__}"
    size = "x".join(str(s) for s in p.shape)
    where = f" ({p.device})" if p.is_cuda else ""
    return f"{'Parameter' if isinstance(p, Parameter) else 'Tensor'} containing: [{p.dtype} of size {size}{where}]"


class ParameterList(Module):
    """A list of Parameters registered under the names "0", "1", ... (state dict keys "0", "1", ...).

    Args:
        values (iterable, optional): initial contents; plain tensors become Parameters.
    """

    def __init__(self, values=None):
        super().__init__()
        object.__setattr__(self, "_size", 0)
        if values is not None:
            self += values

    def _index(self, idx):
        return _normalize_index(idx, len(self), "ParameterList")

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)([self[i] for i in range(len(self))[idx]])
        return getattr(self, str(self._index(idx)))

    def __setitem__(self, idx, param):
        setattr(self, str(self._index(idx)), _as_parameter(param))

    def __len__(self):
        return self._size

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __iadd__(self, parameters):
        return self.extend(parameters)

    def append(self, value):
        """Add value at the end; returns self."""
        object.__setattr__(self, "_size", self._size + 1)
        self[self._size - 1] = value
        return self

    def extend(self, values):
        """Append every entry of an iterable; returns self."""
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(f"[ParameterList] extend should be called with an iterable, got {type(values).__name__}")
        for value in values:
            self.append(value)
        return self

    def extra_repr(self):
        return "\n".join(f"  ({i}): {_describe(p)}" for i, p in enumerate(self))

    def forward(self, *args, **kwargs):
        raise NotImplementedError("[ParameterList] has no forward(); use its parameters inside your own forward()")


class ParameterDict(Module):
    """An ordered dict of Parameters registered under their (string) keys.

    Args:
        parameters (mapping or iterable of (str, value) pairs, optional): initial contents; plain tensors
            become Parameters.
    """

    def __init__(self, parameters=None):
        super().__init__()
        object.__setattr__(self, "_keys", {})  # insertion order; the values live in _parameters or __dict__
        if parameters is not None:
            self.update(parameters)

    def _check_key(self, key):
        if not isinstance(key, str):
            raise TypeError(f"[ParameterDict] keys must be strings, got {type(key).__name__} {key!r}")
        return key

    def __getitem__(self, key):
        if key not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key, value):
        self._keys[self._check_key(key)] = None
        setattr(self, key, _as_parameter(value))

    def __delitem__(self, key):
        del self._keys[key]
        delattr(self, key)

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(list(self._keys))

    def __contains__(self, key):
        return key in self._keys

    def copy(self):
        """A new ParameterDict holding the same Parameters (not copies of them)."""
        return ParameterDict(list(self.items()))

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self):
        for key in list(self._keys):
            del self[key]

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        """Remove and return the last inserted (key, value) pair."""
        if not self._keys:
            raise KeyError("popitem(): ParameterDict is empty")
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def get(self, key, default=None):
        if key not in self._keys:
            return default
        return self[key]

    def fromkeys(self, keys, default=None):
        """A new ParameterDict with every key set to default."""
        return ParameterDict((k, default) for k in keys)

    def keys(self):
        return self._keys.keys()

    def items(self):
        return ((k, self[k]) for k in self._keys)

    def values(self):
        return (self[k] for k in self._keys)

    def update(self, parameters):
        """Add or overwrite entries from a mapping or an iterable of (key, value) pairs, in their order."""
        for key, value in _pairs(parameters, "ParameterDict"):
            self[key] = value

    def __or__(self, other):
        out = self.copy()
        out.update(other)
        return out

    def __ror__(self, other):
        out = ParameterDict(other)
        out.update(self)
        return out

    def __ior__(self, other):
        self.update(other)
        return self

    def extra_repr(self):
        return "\n".join(f"  ({k}): {_describe(p)}" for k, p in self.items())

    def forward(self, *args, **kwargs):
        raise NotImplementedError("[ParameterDict] has no forward(); use its parameters inside your own forward()")
