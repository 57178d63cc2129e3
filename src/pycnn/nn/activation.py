"""Activation layers; stateless Modules around pycnn.nn.functional."""
from . import functional as F
from .module import Module

__all__ = ["ReLU"]


class ReLU(Module):
    """max(x, 0), elementwise; any shape in, same shape out.

    Args:
        inplace (bool): accepted for torch compatibility (and shown in repr); the result is always a new
            tensor, because an in-place write would clobber a value autograd may still need.
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""
