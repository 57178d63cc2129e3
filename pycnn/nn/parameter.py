"""Parameter: a Tensor that a Module registers as learnable state.

A Parameter is a pc.Tensor subclass that shares its storage with the tensor it was made from (no copy), is
a leaf of the autograd graph, and requires grad by default. Assigning one as a Module attribute registers it.
"""
from ..tensor import Tensor


def _copy_tensor_state(dst, src):
    """Make `dst` an alias of `src`: copy the instance state (the core handle, flags) attribute by attribute.

    Works whether Tensor keeps its state in __dict__ or in __slots__ (walks the whole MRO for slots).
    """
    if hasattr(src, "__dict__"):
        dst.__dict__.update(src.__dict__)
    for klass in type(src).__mro__:
        for name in getattr(klass, "__slots__", ()):
            if name in ("__dict__", "__weakref__"):
                continue
            try:
                object.__setattr__(dst, name, object.__getattribute__(src, name))
            except AttributeError:
                pass  # slot declared but never set on src


class Parameter(Tensor):
    """A learnable tensor of a Module.

    Args:
        data (Tensor, optional): the values; the Parameter shares this tensor's memory. Default: an empty
            float32 tensor.
        requires_grad (bool): whether autograd should record operations on it. Default: True.
    """

    def __new__(cls, data=None, requires_grad=True):
        from .. import empty  # late import: pycnn/__init__ imports nn

        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"[Parameter] data must be a pycnn Tensor, got {type(data).__name__}")
        # detach(): a Parameter is always a leaf, even when built from a non-leaf result.
        base = data.detach()
        obj = object.__new__(cls)
        _copy_tensor_state(obj, base)
        obj.requires_grad_(bool(requires_grad))
        return obj

    def __init__(self, data=None, requires_grad=True):
        # All the work happens in __new__; Tensor.__init__ must not run again on the aliased state.
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        # Pickle/deepcopy as a fresh Parameter around a copy of the data (keeps requires_grad).
        return (Parameter, (self.detach().clone(), self.requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = Parameter(self.detach().clone(), self.requires_grad)
        memo[id(self)] = result
        return result
