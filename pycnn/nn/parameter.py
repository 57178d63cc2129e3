"""Parameter: a Tensor that a Module registers as learnable state.

A Parameter is a pc.Tensor subclass that shares its storage with the tensor it was made from (no copy), is
a leaf of the autograd graph, and requires grad by default. Assigning one as a Module attribute registers it.
"""

from ..creation import empty, full
from ..tensor import Tensor


class Parameter(Tensor):
    """A learnable tensor of a Module.

    Args:
        data (Tensor, optional): the values; the Parameter shares this tensor's memory. Default: an empty
            float32 tensor.
        requires_grad (bool): whether autograd should record operations on it. Default: True.
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"[Parameter] data must be a pycnn Tensor, got {type(data).__name__}")
        # Shares data's memory, as a leaf even when data is a non-leaf result.
        obj = object.__new__(cls)
        obj._impl = data._impl
        obj.grad = None
        obj.grad_fn = None
        obj.requires_grad = False
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


def new_parameter(shape, dtype=None, device=None, fill_value=None):
    """A Parameter of ``shape`` on ``device`` (default: CPU, the default dtype), filled with fill_value, or left
    uninitialised for the layer's reset_parameters to fill."""
    device = "cpu" if device is None else device
    if fill_value is None:
        return Parameter(empty(*shape, dtype=dtype, device=device))
    return Parameter(full(shape, fill_value, dtype=dtype, device=device))
