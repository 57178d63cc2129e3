"""Argument checks and normalisation shared by nn.functional, the layers and pycnn.ops: each rule is
written once here, with errors that name the op ("[conv2d] stride must be an int or 2 ints, got ...").
The names an op accepts (reductions, padding and interpolation modes) are the core's lists.
"""

from .. import _C
from .._convert import int_arg, is_int, number_arg

REDUCTIONS = tuple(_C.reduction_names())  # "none", "mean", "sum"
PAD_MODES = tuple(_C.pad_mode_names())  # "constant", "reflect", "replicate", "circular"
INTERP_MODES = tuple(_C.interp_mode_names())  # "nearest", "nearest-exact", "bilinear"


def one_of(value, choices, name, op):
    """value, when it is one of choices; a ValueError that lists them otherwise."""
    if value not in choices:
        raise ValueError(f"[{op}] {name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def ntuple(value, n, name, op):
    """An int, or a sequence of n ints (or of one, repeated), as an n-tuple of ints."""
    if isinstance(value, (tuple, list)):
        out = tuple(value) * n if len(value) == 1 else tuple(value)
        if len(out) != n:
            raise ValueError(f"[{op}] {name} must be an int or {n} ints, got {value!r}")
    else:
        out = (value,) * n
    if not all(is_int(v) for v in out):
        raise TypeError(f"[{op}] {name} must be an int or {n} ints, got {value!r}")
    for v in out:
        int_arg(v, name, op)  # within int64
    return out


def pair(value, name, op):
    return ntuple(value, 2, name, op)


def positive_int(value, name, op):
    if not is_int(value):
        raise TypeError(f"[{op}] {name} must be a positive int, got {value!r}")
    if value <= 0:
        raise ValueError(f"[{op}] {name} must be a positive int, got {value}")
    return value


def probability(p, name, op):
    """A probability in [0, 1] (dropout rates)."""
    if not 0.0 <= number_arg(p, op, name) <= 1.0:
        raise ValueError(f"[{op}] {name} probability has to be between 0 and 1, but got {p!r}")
    return p


def window(op, kernel_size, stride=None, padding=0, dilation=1, n=2):
    """A convolution or pooling window, checked where the layer is built: kernel_size, stride and dilation
    positive, padding non-negative, each an int or n ints; returns them as n-tuples (None stays None)."""
    out = []
    for name, value, low in (("kernel_size", kernel_size, 1), ("stride", stride, 1), ("padding", padding, 0),
                             ("dilation", dilation, 1)):  # fmt: skip
        value = None if value is None else ntuple(value, n, name, op)
        if value is not None and min(value) < low:
            raise ValueError(f"[{op}] {name} must be {'positive' if low else 'non-negative'}, got {value}")
        out.append(value)
    return out


def output_size_arg(output_size, op):
    """An adaptive pooling size: a positive int, None (the input's size) or a pair of them."""
    size = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    if len(size) != 2:
        raise ValueError(f"[{op}] output_size must be an int, None or a pair of them, got {output_size!r}")
    if not all(s is None or is_int(s) for s in size):
        raise TypeError(f"[{op}] output_size must be an int, None or a pair of them, got {output_size!r}")
    if any(s is not None and s <= 0 for s in size):
        raise ValueError(f"[{op}] output_size must be positive, got {output_size!r}")
    return output_size


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
