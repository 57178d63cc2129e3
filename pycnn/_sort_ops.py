"""Sorting, selection and scans, torch's functions of the same names: sort, argsort, topk, cumsum, prod, unique,
nonzero. Each Function's forward and backward is one core call (csrc/ops/sort.cpp); the user functions check
their arguments in torch's terms and are also the Tensor methods (tensor.py delegates here). This module sits
below tensor.py: it knows tensors as ``autograd.TensorBase`` and makes new ones with ``like._make``.

sort and topk send their gradient back to the positions the indices name; cumsum's is a running sum from the
end; prod's is built from exclusive prefix and suffix products, so zeros in the input get exact gradients.
argsort, unique and nonzero give integer results outside the graph.
"""

from collections import namedtuple

from . import _C
from ._convert import bool_arg, check_tensor, computable, int_arg, wrap_dim
from ._types import as_dtype, int64
from .autograd import Function

# torch.return_types.sort / topk: tuples with .values and .indices
SortResult = namedtuple("SortResult", ["values", "indices"])
TopKResult = namedtuple("TopKResult", ["values", "indices"])


class SortFn(Function):
    """(values, indices) along dim; the gradient goes back to where each value came from."""

    @staticmethod
    def forward(ctx, x, dim, descending):
        values, indices = _C.sort_forward(x, dim, descending)
        ctx.args = (indices, list(x.shape), dim)
        return values, indices

    @staticmethod
    def backward(ctx, dout):
        return _C.sort_backward(dout, *ctx.args), None, None


class TopkFn(Function):
    @staticmethod
    def forward(ctx, x, k, dim, largest):
        values, indices = _C.topk_forward(x, k, dim, largest)
        ctx.args = (indices, list(x.shape), dim)
        return values, indices

    @staticmethod
    def backward(ctx, dout):
        return _C.sort_backward(dout, *ctx.args), None, None, None


class CumsumFn(Function):
    """out[i] = x[0] + ... + x[i] along dim, so dx[j] = dout[j] + ... + dout[n - 1]: a cumsum from the end."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return _C.cumsum(x, dim, False)

    @staticmethod
    def backward(ctx, dout):
        return _C.cumsum(dout, ctx.dim, True), None


class ProdFn(Function):
    @staticmethod
    def forward(ctx, x, dim, keepdim):
        ctx.save_for_backward(x)
        ctx.args = (dim, keepdim)
        return _C.prod_forward(x, dim, keepdim)

    @staticmethod
    def backward(ctx, dout):
        return _C.prod_backward(dout, ctx.saved[0], *ctx.args), None, None


# ---- helpers ----
def _dim(input, dim, op):
    """dim wrapped into [0, rank) here, so that an error names op (argsort, not sort)."""
    return wrap_dim(dim, input.ndim, op)


def _flag(value, name, op):
    return False if value is None else bool_arg(value, name, op)


def _promoted(input, dtype):
    """input converted for a sum or product: to dtype when given, else integers and bools to int64 (torch's
    rule: summing small integers must not overflow their type)."""
    if dtype is not None:
        dtype = as_dtype(dtype)
        return input if input.dtype == dtype else input.to(dtype)
    if not input.dtype.is_floating_point and input.dtype != int64:
        return input.to(int64)
    return input


# ---- the user functions (also the Tensor methods) ----
def sort(input, dim=-1, descending=False, *, stable=False):
    """(values, indices) of input sorted along dim, as torch.sort. Always stable (equal values keep their
    order, so ``stable`` changes nothing); NaN sorts as the largest value."""
    check_tensor(input, "sort")
    dim = _dim(input, dim, "sort")
    _flag(stable, "stable", "sort")
    values, indices = SortFn.apply(input, dim, bool_arg(descending, "descending", "sort"))
    return SortResult(values, indices)


def argsort(input, dim=-1, descending=False, *, stable=False):
    """The int64 indices that sort input along dim (sort's, stable); not differentiable."""
    check_tensor(input, "argsort")
    dim = _dim(input, dim, "argsort")
    _flag(stable, "stable", "argsort")
    _, indices = _C.sort_forward(input._impl, dim, bool_arg(descending, "descending", "argsort"))
    return input._make(indices)


def topk(input, k, dim=-1, largest=True, sorted=True):
    """(values, indices) of the k largest (largest=False: smallest) elements along dim, as torch.topk; NaN counts
    as the largest. The results are always in order (sorted=False allows any order, this one included)."""
    check_tensor(input, "topk")
    if input.dtype.name == "bool":
        raise TypeError("[topk] does not take bool tensors (as torch's)")
    k = int_arg(k, "k", "topk")
    dim = _dim(input, -1 if dim is None else dim, "topk")
    size = input.shape[dim] if input.ndim else 1
    if not 0 <= k <= size:
        raise ValueError(f"[topk] k {k} is out of range for dim {dim} of size {size} (input {tuple(input.shape)})")
    bool_arg(sorted, "sorted", "topk")
    values, indices = TopkFn.apply(input, k, dim, bool_arg(largest, "largest", "topk"))
    return TopKResult(values, indices)


def cumsum(input, dim, *, dtype=None):
    """Running sums along dim, as torch.cumsum: integers and bools give int64, unless dtype says otherwise."""
    check_tensor(input, "cumsum")
    dim = _dim(input, dim, "cumsum")
    return CumsumFn.apply(_promoted(input, dtype), dim)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """The product of all elements (dim=None, a 0-d tensor) or along dim, as torch.prod; integers and bools
    give int64, unless dtype says otherwise. Differentiable, zeros in input included."""
    check_tensor(input, "prod")
    keepdim = bool_arg(keepdim, "keepdim", "prod")
    x = _promoted(input, dtype)
    if dim is None:
        out = ProdFn.apply(x.reshape(-1), 0, False)
        return out.reshape([1] * input.ndim) if keepdim else out
    return ProdFn.apply(x, _dim(input, dim, "prod"), keepdim)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct elements of input (dim=None, flattened) or its distinct slices along dim, in ascending
    (lexicographic) order, as torch.unique: the tensor, or a tuple with the inverse indices (input's shape, or
    (input.size(dim),)) and the counts when asked for. NaN equals nothing (each NaN is kept, last). Always
    sorted (sorted=False allows any order). Not differentiable."""
    check_tensor(input, "unique")
    for name, value in (("sorted", sorted), ("return_inverse", return_inverse), ("return_counts", return_counts)):
        bool_arg(value, name, "unique")
    x = computable(input)
    if dim is None:
        values, inverse, counts = _C.unique_dim(x._impl.reshape([-1]), 0)
        inverse = inverse.reshape(list(input.shape))
    else:
        values, inverse, counts = _C.unique_dim(x._impl, _dim(input, dim, "unique"))
    out = (input._make(values).to(input.dtype),)
    if return_inverse:
        out += (input._make(inverse),)
    if return_counts:
        out += (input._make(counts),)
    return out[0] if len(out) == 1 else out


def nonzero(input, *, as_tuple=False):
    """The int64 coordinates of input's non-zero elements (NaN counts), row by row in row-major order, as
    torch.nonzero: an (n, input.ndim) tensor, or with as_tuple one 1-D tensor of n per dim (a 0-d input counts
    as 1-D there)."""
    check_tensor(input, "nonzero")
    input = computable(input)
    if not bool_arg(as_tuple, "as_tuple", "nonzero"):
        return input._make(_C.nonzero(input._impl))
    impl = input._impl if input.ndim else input._impl.reshape([1])
    coords = input._make(_C.nonzero(impl))
    return tuple(coords[:, d].contiguous() for d in range(impl.dim()))
