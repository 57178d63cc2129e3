"""The Python side of the tensor operations (cat/stack, split/chunk, indexing, max/min, comparisons,
where, var/std, matmul): argument handling in torch's terms, then one Function of ``pycnn.autograd_ops``
per op. Tensor methods delegate here, and the top-level ``pycnn`` functions (``pycnn.cat``, ``pycnn.sum``,
...) are defined here. This module sits below tensor.py: it knows tensors as ``autograd.TensorBase`` and
makes new ones with ``like._make``.

Indexing: ints, slices (positive steps), None and Ellipsis become one strided view (IndexView); one
integer-array index (list / int64 tensor / NumPy ints) adds a gather along its dim (IndexSelect); a
boolean mask of the tensor's shape (a bool tensor such as the result of ``x > 0``, a NumPy bool array or a
list of bools) selects a 1-D result (MaskedSelect).
"""

import builtins
from collections import namedtuple

import numpy as np

from . import _C
from . import autograd_ops as ag
from ._convert import (
    bool_arg,
    check_tensor,
    dims_arg,
    host_array,
    impl_from_data,
    int_arg,
    is_int,
    number_arg,
    wrap_dim,
)
from ._types import LOW_PRECISION, float32, result_type
from .autograd import TensorBase  # pycnn.Tensor derives from it (this module sits below tensor.py)

# torch.return_types.max / min: a tuple with .values and .indices
MinMaxResult = namedtuple("MinMaxResult", ["values", "indices"])


def _check_tensors(tensors, op):
    if isinstance(tensors, TensorBase) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"[{op}] expected a list or tuple of tensors, got {type(tensors).__name__}")
    for t in tensors:
        if not isinstance(t, TensorBase):
            raise TypeError(f"[{op}] expected a list of tensors, got an element of type {type(t).__name__}")
    return list(tensors)


def cat(tensors, dim=0):
    return ag.CatFn.apply(int(dim), *_check_tensors(tensors, "cat"))


def stack(tensors, dim=0):
    return ag.StackFn.apply(int(dim), *_check_tensors(tensors, "stack"))


def narrow(x, dim, start, length):
    """The view x[..., start:start+length, ...] along dim (differentiable)."""
    dim = wrap_dim(dim, x.ndim, "narrow")
    size = x.shape[dim]
    if start < 0:
        start += size
    if not (0 <= start <= size and 0 <= length and start + length <= size):
        raise IndexError(f"[narrow] start {start} + length {length} exceeds dim {dim} of size {size}")
    spec = _identity_spec(x.shape)
    spec[0][dim], spec[2][dim] = start, length
    return ag.IndexViewFn.apply(x, spec)


def _identity_spec(shape):
    n = len(shape)
    return [[0] * n, [1] * n, list(shape), [1] * n, []]


def split(x, split_size_or_sections, dim=0):
    """Views of consecutive pieces along dim: equal pieces of split_size_or_sections (the last may be
    smaller) or the given list of sizes."""
    if x.ndim == 0:
        raise RuntimeError("[split] a 0-d tensor cannot be split")
    dim = wrap_dim(dim, x.ndim, "split")
    size = x.shape[dim]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [int(s) for s in split_size_or_sections]
        if builtins.sum(sizes) != size or builtins.any(s < 0 for s in sizes):
            raise ValueError(f"[split] split sizes {sizes} do not sum to dim {dim}'s size {size}")
    else:
        step = int(split_size_or_sections)
        if step <= 0 and not (step == 0 and size == 0):
            raise ValueError(f"[split] split_size must be positive, got {step}")
        sizes = [builtins.min(step, size - s) for s in range(0, size, step)] if size else [0]
    out, start = [], 0
    for s in sizes:
        out.append(narrow(x, dim, start, s))
        start += s
    return tuple(out)


def chunk(x, chunks, dim=0):
    """At most `chunks` views along dim, each of ceil(size / chunks) (torch's rule)."""
    chunks = int_arg(chunks, "chunks", "chunk")
    if chunks <= 0:
        raise ValueError(f"[chunk] chunks must be positive, got {chunks}")
    if x.ndim == 0:
        raise RuntimeError("[chunk] a 0-d tensor cannot be chunked")
    size = x.shape[wrap_dim(dim, x.ndim, "chunk")]
    return split(x, builtins.max(1, -(-size // chunks)), dim)


# ---- indexing ----
def _as_index_array(k):
    """An advanced index as ("mask", bool impl) or ("index", int64 impl)."""
    if isinstance(k, TensorBase):
        if k.dtype.name == "bool":
            return "mask", k._impl
        if k.dtype.is_floating_point:
            raise TypeError(f"[index] tensors used as indices must be integer or bool, got {k.dtype.name}")
        return "index", k._impl if k.dtype.name == "int64" else k._impl.to_dtype("int64")
    a = np.asarray(k)
    if a.dtype == np.bool_:
        return "mask", _C.from_numpy(np.asarray(a, order="C"))
    if a.dtype.kind not in "iu" and a.size:
        raise TypeError(
            f"[index] only integers, slices, None, Ellipsis and integer or boolean arrays are "
            f"valid indices, got an array of {a.dtype}"
        )
    return "index", _C.from_numpy(np.asarray(a, dtype=np.int64, order="C"))


def _parse_key(x, key):
    """-> (spec for IndexView, advanced) where advanced is None or (output dim, kind, impl on x's device)."""
    spec, advanced = _parse_key_for_shape(x.shape, key)
    if advanced is not None and advanced[2].device != x._impl.device:
        # Indices given as NumPy arrays, lists or CPU tensors index a CUDA tensor too (as in torch).
        advanced = (advanced[0], advanced[1], advanced[2].to_device(x._impl.device))
    return spec, advanced


def _parse_key_for_shape(shape, key):
    if not isinstance(key, tuple):
        key = (key,)
    ndim = len(shape)
    if builtins.sum(1 for k in key if k is Ellipsis) > 1:
        raise IndexError("[index] an index can only have a single ellipsis ('...')")
    consuming = builtins.sum(1 for k in key if k is not None and k is not Ellipsis)
    if consuming > ndim:
        raise IndexError(f"[index] too many indices for a tensor of shape {tuple(shape)}: {consuming} given")
    items = []
    for k in key:
        if k is Ellipsis:
            items.extend([slice(None)] * (ndim - consuming))
        else:
            items.append(k)
    if not builtins.any(k is Ellipsis for k in key):
        items.extend([slice(None)] * (ndim - consuming))
    starts, steps, lengths, keep, new_axes = [], [], [], [], []
    advanced = None
    d = out = 0
    for k in items:
        if k is None:
            new_axes.append(out)
            out += 1
            continue
        size = shape[d]
        if is_int(k):
            i = int(k)
            if not -size <= i < size:
                raise IndexError(f"[index] index {i} is out of bounds for dim {d} with size {size}")
            starts.append(i % size)
            steps.append(1)
            lengths.append(1)
            keep.append(0)
        elif isinstance(k, slice):
            if k.step == 0:  # slice.indices would say so without naming the op
                raise ValueError("[index] slice step must be positive, got 0")
            start, stop, step = k.indices(size)
            if step <= 0:
                raise ValueError(f"[index] slice step must be positive, got {step}")
            length = len(range(start, stop, step))
            starts.append(start if length else 0)
            steps.append(step)
            lengths.append(length)
            keep.append(1)
            out += 1
        else:
            if advanced is not None:
                raise IndexError("[index] only one integer-array or mask index per indexing is supported")
            kind, impl = _as_index_array(k)
            if kind == "mask" and len(key) != 1:
                raise IndexError("[index] a boolean mask must be the only index (x[mask])")
            advanced = (out, kind, impl)
            starts.append(0)
            steps.append(1)
            lengths.append(size)
            keep.append(1)
            out += 1
        d += 1
    return [starts, steps, lengths, keep, new_axes], advanced


def getitem(x, key):
    spec, advanced = _parse_key(x, key)
    if advanced is not None and advanced[1] == "mask":
        mask = advanced[2]
        if tuple(mask.shape) != x.shape:
            raise IndexError(
                f"[index] the mask of shape {tuple(mask.shape)} does not match the indexed tensor's shape {x.shape}"
            )
        return ag.MaskedSelectFn.apply(x, x._make(mask))
    trivial = spec == _identity_spec(x.shape)
    y = x if trivial else ag.IndexViewFn.apply(x, spec)
    if advanced is None:
        return y
    dim, _, index = advanced
    flat = index.reshape([-1])
    z = ag.IndexSelectFn.apply(y, dim, x._make(flat))
    if index.dim() == 1:
        return z
    shape = list(y.shape)
    return z.reshape(*(shape[:dim] + list(index.shape) + shape[dim + 1 :]))


def setitem(x, key, value):
    """x[key] = value in place (no autograd): basic indices write through a view, arrays through NumPy."""
    x._check_inplace("setitem")
    spec, advanced = _parse_key(x, key)
    if advanced is None:
        target = _C.index_view(x._impl, *spec)
        src = value._impl if isinstance(value, TensorBase) else _C.from_numpy(host_array(value, x.dtype, "setitem"))
        if src.dtype != target.dtype:
            src = src.to_dtype(target.dtype)
        if tuple(src.shape) != tuple(target.shape):
            try:
                src = src.expand(list(target.shape))
            except ValueError:
                raise ValueError(
                    f"[setitem] value of shape {tuple(src.shape)} cannot be broadcast to the "
                    f"indexed shape {tuple(target.shape)}"
                ) from None
        _C.copy_(target, src)
        return
    if x._impl.device != "cpu":
        raise RuntimeError("[setitem] array and mask indices are only supported on the CPU")
    dim, kind, index = advanced
    if kind == "mask":  # the only index
        target, np_key = np.asarray(x._impl), np.asarray(index).astype(bool)
    else:
        # the basic indices as a view first, then the array along the dim it lands on: torch's order (NumPy
        # would move that dim to the front when an int and the array are apart, as in x[0, :, [1, 2]])
        target = np.asarray(_C.index_view(x._impl, *spec))  # shares the tensor's memory
        np_key = (slice(None),) * dim + (np.asarray(index),)
    try:
        target[np_key] = np.asarray(value._impl) if isinstance(value, TensorBase) else value
    except (ValueError, IndexError) as e:  # NumPy's broadcast and bounds errors, named as ours
        raise type(e)(f"[setitem] {e}") from None


# ---- max / min ----
def minmax(x, dim, keepdim, is_min):
    op = "min" if is_min else "max"
    if isinstance(dim, TensorBase):  # torch's max(input, other): the elementwise maximum
        return x.minimum(dim) if is_min else x.maximum(dim)
    if dim is None:
        values, _ = ag.MinMaxFn.apply(x.reshape(-1), 0, False, is_min)
        return values
    values, indices = ag.MinMaxFn.apply(x, int_arg(dim, "dim", op), bool(keepdim), is_min)
    return MinMaxResult(values, indices)


def argminmax(x, dim, keepdim, is_min):
    op = "argmin" if is_min else "argmax"
    # checked here so that the errors are argmin's, not min's
    d = None if dim is None else wrap_dim(int_arg(dim, "dim", op), x.ndim, op)
    if x.numel() == 0 and (d is None or x.shape[d] == 0):
        raise ValueError(f"[{op}] cannot reduce over an empty dim (input {x.shape})")
    if dim is None:
        return ag.MinMaxFn.apply(x.detach().reshape(-1), 0, False, is_min)[1]
    return ag.MinMaxFn.apply(x.detach(), dim, bool(keepdim), is_min)[1]


# ---- comparisons and where ----
def compare(x, other, op):
    """The bool result of x (op) other, computed in the core in the two operands' promoted dtype."""
    if isinstance(other, TensorBase) or (
        isinstance(other, (builtins.int, builtins.float, np.number)) and not isinstance(other, builtins.bool)
    ):
        a, b = promoted(x, other, op)
    else:  # a list or array compares on x's device
        a, b = x, x._make(impl_from_data(host_array(other, x.dtype, op), x.dtype, x._impl.device))
    return x._make(_C.compare(op, a._impl, b._impl))


COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")


def promoted(x, other, op, dtype=None):
    """x and other (a tensor or a number) as tensors of dtype, by default their result dtype (torch's type
    promotion)."""
    if not isinstance(other, TensorBase):
        number_arg(other, op, "other")
    if dtype is None:
        dtype = result_type(x, other)
        if dtype.name in LOW_PRECISION and op in COMPARISONS:  # compared in float32, which holds both exactly
            dtype = float32
    if not isinstance(other, TensorBase):
        other = x._make(_C.full([], float(other), dtype.name, x._impl.device))
    if x.dtype is not dtype:
        x = x.to(dtype)
    if other.dtype is not dtype:
        other = other.to(dtype)
    return x, other


def where(condition, input, other):
    """input where the bool condition is set, else other (broadcasting; numbers allowed for input and other,
    which are promoted to one dtype as torch does)."""
    if not isinstance(condition, TensorBase) or condition.dtype.name != "bool":
        raise TypeError(
            f"[where] condition must be a bool tensor (a comparison's result), got "
            f"{getattr(condition, 'dtype', type(condition).__name__)}"
        )
    if not isinstance(input, TensorBase) and not isinstance(other, TensorBase):
        raise TypeError("[where] at least one of input and other must be a tensor")
    if isinstance(input, TensorBase):
        input, other = promoted(input, other, "where")
    else:
        other, input = promoted(other, input, "where")
    return ag.WhereFn.apply(condition, input, other)


# ---- var / std ----
def var(x, dim=None, unbiased=None, keepdim=False, *, correction=1, op="var"):
    """Variance over dim (all dims when None), divided by N - correction (torch's default: 1)."""
    check_tensor(x, op)
    if unbiased is not None:
        correction = 1 if unbiased else 0
    if not x.dtype.is_floating_point:
        raise TypeError(f"[{op}] expected a float32 or float64 tensor, got {x.dtype.name}")
    dims = dims_arg(dim, op)
    correction = number_arg(correction, op, "correction")
    return ag.VarFn.apply(x, dims, correction, bool_arg(keepdim, "keepdim", op))


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=1):
    return var(x, dim, unbiased, keepdim, correction=correction, op="std").sqrt()


# ---- matmul ----
def matmul(a, b):
    """torch.matmul: 2-D @ 2-D, batched (..., M, K) @ (..., K, N) with broadcast batch dims, and 1-D
    operands (a vector is a row on the left, a column on the right; its dim is removed again)."""
    if not isinstance(a, TensorBase) or not isinstance(b, TensorBase):
        raise TypeError("[matmul] expected two tensors")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"[matmul] both arguments need at least 1 dim, got shapes {a.shape} and {b.shape}")
    if a.ndim == 2 and b.ndim == 2:
        return ag.MatMulFn.apply(a, b)
    if a.ndim == 1 and b.ndim == 1:
        if a.shape != b.shape:
            raise ValueError(f"[matmul] 1-D shapes {a.shape} and {b.shape} differ")
        return ag.BatchedMatMulFn.apply(a.reshape(1, -1), b.reshape(-1, 1)).reshape(())
    if a.ndim == 1:
        return ag.BatchedMatMulFn.apply(a.unsqueeze(0), b).squeeze(-2)
    if b.ndim == 1:
        return ag.BatchedMatMulFn.apply(a, b.unsqueeze(1)).squeeze(-1)
    return ag.BatchedMatMulFn.apply(a, b)


# ---- torch's top-level function forms of Tensor methods: pycnn.sum(x) is x.sum() ----
def sum(x, dim=None, keepdim=False):
    return x.sum(dim, keepdim)


def mean(x, dim=None, keepdim=False):
    return x.mean(dim, keepdim)


def argmax(x, dim=None, keepdim=False):
    return x.argmax(dim, keepdim)


def concat(tensors, dim=0):
    return cat(tensors, dim)


def max(x, dim=None, keepdim=False):
    return x.max(dim, keepdim)


def min(x, dim=None, keepdim=False):
    return x.min(dim, keepdim)


def argmin(x, dim=None, keepdim=False):
    return x.argmin(dim, keepdim)


def index_select(x, dim, index):
    return x.index_select(dim, index)


def masked_select(x, mask):
    return x.masked_select(mask)


def maximum(input, other):
    return input.maximum(other)


def minimum(input, other):
    return input.minimum(other)


def relu(x):
    return check_tensor(x, "relu").relu()


def exp(x):
    return check_tensor(x, "exp").exp()


def log(x):
    return check_tensor(x, "log").log()


def sqrt(x):
    return check_tensor(x, "sqrt").sqrt()


def abs(x):
    return check_tensor(x, "abs").abs()


def clamp(x, min=None, max=None):
    return check_tensor(x, "clamp").clamp(min, max)


def sigmoid(x):
    return check_tensor(x, "sigmoid").sigmoid()


def tanh(x):
    return check_tensor(x, "tanh").tanh()


def flatten(x, start_dim=0, end_dim=-1):
    return x.flatten(start_dim, end_dim)
