"""The ops of bool results and masks, as torch's: ``isnan``, ``isfinite``, ``isinf``, ``logical_*``, ``all``,
``any``, ``equal``, ``isclose``, ``allclose``, ``masked_fill``, and ``bincount``. Each is a composite of the
core's comparisons (which give bool tensors), bool arithmetic (``+`` is or, ``*`` is and) and integer sums;
none loops over elements in Python. Like ``_tensor_ops`` this module sits below tensor.py.
"""

import builtins

import numpy as np

from . import _C
from . import autograd_ops as ag
from ._convert import bool_arg, check_tensor, dims_arg, int_arg, number_arg, scalar_like, wrap_dim
from ._types import bool_, int64
from .autograd import TensorBase, no_grad


def _bool_full(x, value):
    return x._make(_C.full(list(x.shape), float(value), "bool", x._impl.device))


def _as_bool(x):
    """x != 0 as a bool tensor (x itself when it already is one)."""
    return x if x.dtype is bool_ else x != 0


def is_floating_point(x):
    return check_tensor(x, "is_floating_point").dtype.is_floating_point


def isnan(x):
    check_tensor(x, "isnan")
    return x != x if x.dtype.is_floating_point else _bool_full(x, False)  # noqa: PLR0124  (NaN is unequal to itself)


def isinf(x):
    check_tensor(x, "isinf")
    return x.abs() == float("inf") if x.dtype.is_floating_point else _bool_full(x, False)


def isfinite(x):
    """Neither infinite nor NaN: x - x is 0 exactly for every finite x (inf - inf and NaN give NaN)."""
    check_tensor(x, "isfinite")
    return (x - x) == 0 if x.dtype.is_floating_point else _bool_full(x, True)


def logical_not(x):
    return check_tensor(x, "logical_not") == 0


def logical_and(x, other):
    return _as_bool(check_tensor(x, "logical_and")) * _as_bool(check_tensor(other, "logical_and", "other"))


def logical_or(x, other):
    return _as_bool(check_tensor(x, "logical_or")) + _as_bool(check_tensor(other, "logical_or", "other"))


def logical_xor(x, other):
    return _as_bool(check_tensor(x, "logical_xor")) != _as_bool(check_tensor(other, "logical_xor", "other"))


def _count_true(x, dim, keepdim, op):
    """(number of non-zero values, number of values) over dim (all dims when None)."""
    check_tensor(x, op)
    dims = dims_arg(dim, op, x.ndim)
    keepdim = bool_arg(keepdim, "keepdim", op)
    count = ag.SumFn.apply(_as_bool(x).to(int64), dims, keepdim)
    size = int(np.prod([x.shape[wrap_dim(d, x.ndim, op)] for d in dims])) if dims else x.numel()
    return count, size


def all(x, dim=None, keepdim=False):
    """True where every value over dim (all dims when None) is non-zero; a bool tensor (uint8 for a uint8
    input, as torch keeps it)."""
    count, size = _count_true(x, dim, keepdim, "all")
    return _as_input_kind(count == size, x)


def any(x, dim=None, keepdim=False):
    count, _ = _count_true(x, dim, keepdim, "any")
    return _as_input_kind(count > 0, x)


def _as_input_kind(result, x):
    return result.to(x.dtype) if x.dtype.name == "uint8" else result


def equal(x, other):
    """True when both have the same shape and values (a Python bool, as torch.equal)."""
    check_tensor(x, "equal")
    check_tensor(other, "equal", "other")
    return x.shape == other.shape and builtins.bool(all(x == other))


def isclose(x, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|x - other| <= atol + rtol * |other| elementwise (equal infinities are close; NaN only with equal_nan)."""
    check_tensor(x, "isclose")
    check_tensor(other, "isclose", "other")
    rtol, atol = number_arg(rtol, "isclose", "rtol"), number_arg(atol, "isclose", "atol")
    if rtol < 0 or atol < 0:
        raise ValueError(f"[isclose] rtol and atol must be non-negative, got rtol={rtol}, atol={atol}")
    if x.dtype is not other.dtype:
        raise TypeError(f"[isclose] x is {x.dtype.name} but other is {other.dtype.name}")
    close = x == other
    if x.dtype.is_floating_point:
        with no_grad():
            diff = (x - other).abs()
            close = logical_or(close, diff <= atol + rtol * other.abs())
            if bool_arg(equal_nan, "equal_nan", "isclose"):
                close = logical_or(close, logical_and(isnan(x), isnan(other)))
    return close


def allclose(x, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return builtins.bool(all(isclose(x, other, rtol, atol, equal_nan)))


def masked_fill(x, mask, value):
    """x with value where the bool mask (broadcast to x's shape) is set; value is a number or a 0-d tensor
    (differentiable), converted to x's dtype."""
    check_tensor(x, "masked_fill")
    check_tensor(mask, "masked_fill", "mask")
    if mask.dtype is not bool_:
        raise TypeError(f"[masked_fill] expected a bool mask, got {mask.dtype.name}")
    try:
        fits = np.broadcast_shapes(mask.shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"[masked_fill] mask of shape {mask.shape} does not broadcast to the input's {x.shape}")
    if isinstance(value, TensorBase):
        if value.ndim != 0:
            raise ValueError(f"[masked_fill] value must be a number or a 0-d tensor, got shape {value.shape}")
        value = value.to(x.dtype)
    else:
        value = x._make(scalar_like(number_arg(value, "masked_fill"), x._impl))
    return ag.WhereFn.apply(mask, value, x)


def bincount(x, weights=None, minlength=0):
    """Counts of each value of a 1-D non-negative integer tensor (int64), or the sums of weights per value
    (weights' dtype); length max(x) + 1, at least minlength."""
    check_tensor(x, "bincount")
    minlength = int_arg(minlength, "minlength", "bincount")
    if x.ndim != 1 or x.dtype.is_floating_point or x.dtype is bool_:
        raise ValueError(f"[bincount] expected a 1-D integer tensor, got {x.dtype.name} of shape {x.shape}")
    if minlength < 0:
        raise ValueError(f"[bincount] minlength must be non-negative, got {minlength}")
    index = x.to(int64)
    if index.numel() and builtins.bool(index.min() < 0):
        raise ValueError(f"[bincount] expected non-negative values, got a minimum of {index.min().item()}")
    length = builtins.max(minlength, index.max().item() + 1 if index.numel() else 0)
    if weights is None:
        ones = _C.full([index.numel()], 1.0, "float64", x._impl.device)
        # sums of ones in float64 are exact up to 2^53 counts
        return x._make(_C.index_select_backward(ones, [length], 0, index._impl).to_dtype("int64"))
    check_tensor(weights, "bincount", "weights")
    if weights.shape != x.shape:
        raise ValueError(f"[bincount] weights of shape {weights.shape} must have the input's shape {x.shape}")
    w = weights.to("float64") if weights.dtype.name not in ("float32", "float64") else weights
    return x._make(_C.index_select_backward(w.detach()._impl, [length], 0, index._impl))
