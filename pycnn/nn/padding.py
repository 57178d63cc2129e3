"""2-D padding layers with torch.nn's names, arguments and reprs: ZeroPad2d, ConstantPad2d, ReflectionPad2d and
ReplicationPad2d, each a stateless wrapper around pycnn.nn.functional.pad (which has all four modes).

padding is an int (the same on all four sides) or (left, right, top, bottom), stored as a 4-tuple as torch does.
"""

from .._convert import number_arg
from . import functional as F
from ._arguments import ntuple
from .module import Module

__all__ = ["ConstantPad2d", "ReflectionPad2d", "ReplicationPad2d", "ZeroPad2d"]


class _Pad2d(Module):
    """Pads the last two dims by padding = (left, right, top, bottom) in F.pad's `_mode`."""

    _mode = "constant"

    def __init__(self, padding):
        super().__init__()
        self.padding = ntuple(padding, 4, "padding", type(self).__name__)

    def forward(self, x):
        return F.pad(x, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class ConstantPad2d(_Pad2d):
    """Pads with `value`; negative padding crops. (*, H, W) -> (*, H + top + bottom, W + left + right).

    Args:
        padding (int or (int, int, int, int)): (left, right, top, bottom).
        value (float): the fill value.
    """

    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = number_arg(value, "ConstantPad2d", "value")

    def forward(self, x):
        return F.pad(x, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ZeroPad2d(_Pad2d):
    """Pads with zeros; negative padding crops. (*, H, W) -> (*, H + top + bottom, W + left + right).

    Args:
        padding (int or (int, int, int, int)): (left, right, top, bottom).
    """


class ReflectionPad2d(_Pad2d):
    """Pads with the mirror image of the input, edge not repeated (each pad smaller than that dim's size).

    Args:
        padding (int or (int, int, int, int)): (left, right, top, bottom).
    Shapes:
        (N, C, H, W) or (C, H, W) -> (.., H + top + bottom, W + left + right).
    """

    _mode = "reflect"


class ReplicationPad2d(_Pad2d):
    """Pads by repeating the edge values.

    Args:
        padding (int or (int, int, int, int)): (left, right, top, bottom).
    Shapes:
        (N, C, H, W) or (C, H, W) -> (.., H + top + bottom, W + left + right).
    """

    _mode = "replicate"
