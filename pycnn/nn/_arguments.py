"""Argument checks and normalisation shared by nn.functional, the layers and pycnn.ops: each rule is
written once here, with errors that name the op ("[conv2d] stride must be an int or 2 ints, got ...").
The names an op accepts (reductions, padding and interpolation modes) are the core's lists.
"""

from .. import _C
from .._tensor_ops import check_int64
from ..tensor import Tensor

REDUCTIONS = tuple(_C.reduction_names())  # "none", "mean", "sum"
PAD_MODES = tuple(_C.pad_mode_names())  # "constant", "reflect", "replicate", "circular"
INTERP_MODES = tuple(_C.interp_mode_names())  # "nearest", "nearest-exact", "bilinear"


def check_tensor(x, op, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"[{op}] expected {name} to be a pycnn.Tensor, got {type(x).__name__}")


def one_of(value, choices, name, op):
    """value, when it is one of choices; a ValueError that lists them otherwise."""
    if value not in choices:
        raise ValueError(f"[{op}] {name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def int_arg(value, name, op):
    """value, an int that fits in int64 (the core's size type)."""
    if not _is_int(value):
        raise TypeError(f"[{op}] {name} must be an int, got {value!r}")
    return check_int64(value, name, op)


def ntuple(value, n, name, op):
    """An int, or a sequence of n ints (or of one, repeated), as an n-tuple of ints."""
    if isinstance(value, (tuple, list)):
        out = tuple(value) * n if len(value) == 1 else tuple(value)
        if len(out) != n:
            raise ValueError(f"[{op}] {name} must be an int or {n} ints, got {value!r}")
    else:
        out = (value,) * n
    if not all(_is_int(v) for v in out):
        raise TypeError(f"[{op}] {name} must be an int or {n} ints, got {value!r}")
    for v in out:
        check_int64(v, name, op)
    return out


def pair(value, name, op):
    return ntuple(value, 2, name, op)


def positive_int(value, name, op):
    if not _is_int(value):
        raise TypeError(f"[{op}] {name} must be a positive int, got {value!r}")
    if value <= 0:
        raise ValueError(f"[{op}] {name} must be a positive int, got {value}")
    return value


def conv_channels(in_channels, out_channels, groups, op):
    """A convolution layer's channel counts: positive ints, both divisible by groups."""
    for name, value in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
        positive_int(value, name, op)
    for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
        if value % groups != 0:
            raise ValueError(f"[{op}] {name} must be divisible by groups ({name}={value}, groups={groups})")


def conv_padding(padding, kernel_size, stride, dilation, op):
    """A convolution's padding as (before, after) per spatial dim. padding is an int, one int per dim,
    'valid' (none) or 'same' (output size = input size; stride 1 only): its total dilation * (k - 1)
    per dim is split as torch does, the odd extra pixel after (bottom / right)."""
    n = len(kernel_size)
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise ValueError(f"[{op}] Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
        if padding == "same" and any(s != 1 for s in stride):
            raise ValueError(f"[{op}] padding='same' is not supported for strided convolutions")
        totals = [d * (k - 1) if padding == "same" else 0 for k, d in zip(kernel_size, dilation)]
        return [(t // 2, t - t // 2) for t in totals]
    padding = ntuple(padding, n, "padding", op)
    if min(padding) < 0:
        raise ValueError(f"[{op}] padding must be non-negative, got {padding!r}")
    return [(p, p) for p in padding]
