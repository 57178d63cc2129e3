"""torch's everyday math and shape functions as composites of the core's ops: matrix products (mm, bmm, addmm,
einsum, outer), shape helpers (reshape ... unflatten, roll, flip, repeat), triangles and diagonals, norms and
distances, amax / amin, and rounding (the core's unary family). The factories and random draws (linspace, eye,
multinomial, bernoulli, normal) are in _math_creation.py, which sits above tensor.py.

Each function checks its arguments in torch's terms and then calls differentiable Tensor methods or one of the
two Functions below (NormFn, AmaxFn), so that gradients come for free; no Python loop runs over elements, rows
or batch items. This module sits below tensor.py: it knows tensors as ``autograd.TensorBase`` and makes new
ones with ``like._make``.
"""

import builtins
import math

import numpy as np

from . import _C
from . import _tensor_ops as _tops
from . import autograd_ops as ag
from ._convert import bool_arg, check_tensor, dims_arg, int_arg, number_arg, wrap_dim
from ._types import float64, get_default_dtype
from .autograd import Function, TensorBase, is_grad_enabled

_INF = float("inf")


def _write_out(out, result, op):
    """torch's out=: result's values copied into out (same shape and dtype), out returned. Gradients do not
    flow through out=, so inputs that require grad are refused while recording, as torch does."""
    if out is None:
        return result
    check_tensor(out, op, "out")
    if result.requires_grad and is_grad_enabled():
        raise RuntimeError(f"[{op}] out= does not support automatic differentiation: inputs require grad")
    if out.shape != result.shape or out.dtype != result.dtype:
        raise ValueError(
            f"[{op}] out has shape {out.shape} and dtype {out.dtype.name}, the result {result.shape} "
            f"and {result.dtype.name}"
        )
    out._check_inplace(op)
    _C.copy_(out._impl, result._impl)
    return out


def _like(values, like):
    """The NumPy array as a tensor on like's device."""
    impl = _C.from_numpy(np.ascontiguousarray(values))
    return like._make(impl if like._impl.device == "cpu" else impl.to_device(like._impl.device))


def _mask(values, like):
    """A 0/1 NumPy array as the core's mask (a comparison's result, the dtype where() takes) on like's device."""
    return _tops.compare(_like(values.astype(np.int64), like), 0, "ne")


def _floating(x, op):
    if not x.dtype.is_floating_point:
        raise TypeError(f"[{op}] expected a floating point tensor, got {x.dtype.name}")
    return x


def is_tensor(obj):
    return isinstance(obj, TensorBase)


def numel(input):
    return check_tensor(input, "numel").numel()


# ---- matrix products ----
def _matrices(op, ndim, **tensors):
    for name, t in tensors.items():
        check_tensor(t, op, name)
        if t.ndim != ndim:
            raise ValueError(f"[{op}] expected {name} to be a {ndim}-D tensor, got shape {t.shape}")
    dtypes = {t.dtype.name for t in tensors.values()}
    if len(dtypes) > 1:
        raise TypeError(f"[{op}] expected tensors of one dtype, got {sorted(dtypes)}")


def mm(input, mat2, *, out=None):
    """(n, m) @ (m, p) -> (n, p); no broadcasting."""
    _matrices("mm", 2, input=input, mat2=mat2)
    if input.shape[1] != mat2.shape[0]:
        raise ValueError(f"[mm] shapes {input.shape} and {mat2.shape} cannot be multiplied")
    return _write_out(out, ag.MatMulFn.apply(input, mat2), "mm")


def bmm(input, mat2, *, out=None):
    """(b, n, m) @ (b, m, p) -> (b, n, p); the batch sizes must be equal (no broadcasting, as torch)."""
    _matrices("bmm", 3, input=input, mat2=mat2)
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise ValueError(f"[bmm] shapes {input.shape} and {mat2.shape} cannot be multiplied")
    return _write_out(out, ag.BatchedMatMulFn.apply(input, mat2), "bmm")


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat1 @ mat2), input broadcast to the product's shape; with beta = 0 input is
    ignored (its NaN and inf do not propagate), as in torch."""
    check_tensor(input, "addmm")
    beta, alpha = number_arg(beta, "addmm", "beta"), number_arg(alpha, "addmm", "alpha")
    prod = mm(mat1, mat2)
    try:
        _C.broadcast_shapes(list(input.shape), list(prod.shape))
    except ValueError:
        raise ValueError(f"[addmm] input of shape {input.shape} does not broadcast to {prod.shape}") from None
    if alpha != 1:
        prod = prod * alpha
    result = prod if beta == 0 else (input if beta == 1 else input * beta) + prod
    if result.shape != prod.shape:  # input bigger than the product: torch refuses it too
        raise ValueError(f"[addmm] input of shape {input.shape} does not broadcast to {prod.shape}")
    return _write_out(out, result, "addmm")


def outer(input, vec2, *, out=None):
    """input[i] * vec2[j], (n,) x (m,) -> (n, m)."""
    _matrices("outer", 1, input=input, vec2=vec2)
    return _write_out(out, input.reshape(-1, 1) * vec2.reshape(1, -1), "outer")


# ---- einsum ----
def _parse_einsum(equation, operands):
    """-> (per operand a list of labels, output labels); '...' becomes labels of its own, '.0', '.1', ...
    counted from the right so that broadcast dims line up."""
    if not isinstance(equation, str):
        raise TypeError(f"[einsum] expected the equation to be a string, got {type(equation).__name__}")
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"[einsum] the equation '{equation}' has {len(terms)} operands, {len(operands)} given")
    ell_rank = 0
    parsed = []
    for term, t in zip(terms, operands):
        labels = _term_labels(term, equation)
        named = sum(1 for c in labels if c != "...")
        if "..." in labels:
            n = t.ndim - named
            if n < 0:
                raise ValueError(f"[einsum] operand '{term}' has more labels than its {t.ndim} dims")
            ell_rank = builtins.max(ell_rank, n)
            k = labels.index("...")
            labels = labels[:k] + [f".{n - 1 - j}" for j in range(n)] + labels[k + 1 :]
        elif named != t.ndim:
            raise ValueError(f"[einsum] operand '{term}' has {named} labels for a tensor of {t.ndim} dims")
        parsed.append(labels)
    ell = [f".{ell_rank - 1 - j}" for j in range(ell_rank)]
    if arrow:
        out = _term_labels(rhs, equation)
        if len(set(out)) != len(out):
            raise ValueError(f"[einsum] repeated index in the output '{rhs}'")
        k = out.index("...") if "..." in out else None
        out = out if k is None else out[:k] + ell + out[k + 1 :]
        known = {c for labels in parsed for c in labels}
        for c in out:
            if c not in known and not c.startswith("."):
                raise ValueError(f"[einsum] output index '{c}' appears in no operand")
    else:  # implicit: '...' first, then the labels that appear once, alphabetically
        counts = {}
        for labels in parsed:
            for c in labels:
                counts[c] = counts.get(c, 0) + 1
        out = ell + sorted(c for c, n in counts.items() if n == 1 and not c.startswith("."))
    return parsed, out


def _term_labels(term, equation):
    labels, i = [], 0
    while i < len(term):
        if term.startswith("...", i):
            if "..." in labels:
                raise ValueError(f"[einsum] more than one '...' in a term of '{equation}'")
            labels.append("...")
            i += 3
        elif term[i].isalpha():
            labels.append(term[i])
            i += 1
        else:
            raise ValueError(f"[einsum] invalid character '{term[i]}' in the equation '{equation}'")
    return labels


def _take_diagonals(t, labels):
    """t with the dims of each label repeated within it ('ii') reduced to their diagonal: those k dims of size
    n moved last and flattened, where the diagonal is every (1 + n + ... + n^(k-1))-th element (a view)."""
    while len(set(labels)) != len(labels):
        c = next(c for c in labels if labels.count(c) > 1)
        dims = [i for i, label in enumerate(labels) if label == c]
        sizes = sorted({t.shape[i] for i in dims})
        if len(sizes) > 1:
            raise ValueError(f"[einsum] index '{c}' repeated within one operand has different sizes {sizes}")
        n, rest = sizes[0], [i for i in range(t.ndim) if i not in dims]
        t = t.permute(rest + dims).reshape(*[t.shape[i] for i in rest], n ** len(dims))
        t = t[..., :: builtins.sum(n**j for j in range(len(dims)))]
        labels = [labels[i] for i in rest] + [c]
    return t, labels


def _sum_labels(t, labels, keep):
    """t summed over its labels not in keep."""
    drop = [i for i, c in enumerate(labels) if c not in keep]
    if drop:
        t = t.sum(drop)
        labels = [c for c in labels if c in keep]
    return t, labels


def _contract(a, la, b, lb, keep):
    """a (labels la) times b (labels lb), summed over the shared labels not in keep, as one batched matmul:
    a -> (batch, a-only, shared), b -> (batch, shared, b-only)."""
    sizes = {}
    for t, labels in ((a, la), (b, lb)):
        for c, s in zip(labels, t.shape):
            if sizes.get(c, 1) not in (1, s) and s != 1:
                raise ValueError(f"[einsum] index '{c}' has sizes {sizes[c]} and {s}, which do not broadcast")
            sizes[c] = builtins.max(sizes.get(c, 1), s)
    batch = [c for c in la if c in lb and c in keep]
    summed = [c for c in la if c in lb and c not in keep]
    a_only = [c for c in la if c not in lb]
    b_only = [c for c in lb if c not in la]

    def arrange(t, labels, order):
        t = t.permute([labels.index(c) for c in order])
        return t.expand(*[sizes[c] for c in order])  # size-1 dims broadcast against the other operand

    def prod(cs):
        return math.prod(sizes[c] for c in cs)

    a3 = arrange(a, la, batch + a_only + summed).reshape(prod(batch), prod(a_only), prod(summed))
    b3 = arrange(b, lb, batch + summed + b_only).reshape(prod(batch), prod(summed), prod(b_only))
    c = ag.BatchedMatMulFn.apply(a3, b3)
    labels = batch + a_only + b_only
    return c.reshape(*[sizes[c] for c in labels]), labels


def einsum(equation, *operands):
    """torch.einsum: explicit ('ij,jk->ik') and implicit ('ij,jk') outputs, '...' for broadcast dims, and
    indices repeated within one operand ('ii->i', diagonals). Operands are contracted left to right, each pair
    as one batched matmul."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("[einsum] expected at least one operand")
    for t in operands:
        check_tensor(t, "einsum", "each operand")
    parsed, out = _parse_einsum(equation, operands)
    operands, parsed = zip(*[_take_diagonals(t, labels) for t, labels in zip(operands, parsed)])
    t, labels = operands[0], parsed[0]
    for k in range(1, len(operands)):
        keep = set(out).union(*parsed[k + 1 :])
        t, labels = _sum_labels(t, labels, keep | set(parsed[k]))
        b, lb = _sum_labels(operands[k], parsed[k], keep | set(labels))
        t, labels = _contract(t, labels, b, lb, keep)
    t, labels = _sum_labels(t, labels, set(out))
    # output labels of '...' that no operand had in full (a shorter broadcast) are new size-1 dims
    for c in out:
        if c not in labels:
            t, labels = t.unsqueeze(0), [c] + labels
    return t.permute([labels.index(c) for c in out]) if labels != out else t


# ---- shape functions ----
def reshape(input, shape):
    return check_tensor(input, "reshape").reshape(shape)


def transpose(input, dim0, dim1):
    return check_tensor(input, "transpose").transpose(dim0, dim1)


def permute(input, dims):
    return check_tensor(input, "permute").permute(dims)


def squeeze(input, dim=None):
    """Size-1 dims removed: all of them, or those of dim (an int or a tuple; other sizes stay)."""
    check_tensor(input, "squeeze")
    if not isinstance(dim, (tuple, list)):
        return input.squeeze(dim)
    dims = {wrap_dim(d, input.ndim, "squeeze") for d in dims_arg(dim, "squeeze", input.ndim)}
    return input.reshape(*[s for i, s in enumerate(input.shape) if i not in dims or s != 1])


def unsqueeze(input, dim):
    return check_tensor(input, "unsqueeze").unsqueeze(dim)


def softmax(input, dim, dtype=None):
    check_tensor(input, "softmax")
    return (input if dtype is None else input.to(dtype)).softmax(dim)


def log_softmax(input, dim, dtype=None):
    check_tensor(input, "log_softmax")
    return (input if dtype is None else input.to(dtype)).log_softmax(dim)


def select(input, dim, index):
    """The view input[..., index, ...] along dim, that dim removed."""
    check_tensor(input, "select")
    if input.ndim == 0:
        raise IndexError("[select] cannot select from a 0-d tensor")
    dim = wrap_dim(dim, input.ndim, "select")
    index, size = int_arg(index, "index", "select"), input.shape[dim]
    if not -size <= index < size:
        raise IndexError(f"[select] index {index} out of range for dim {dim} of size {size}")
    return input[(slice(None),) * dim + (index,)]


def unbind(input, dim=0):
    """The views select(input, dim, i) for every i, as a tuple."""
    check_tensor(input, "unbind")
    if input.ndim == 0:
        raise IndexError("[unbind] cannot unbind a 0-d tensor")
    dim = wrap_dim(dim, input.ndim, "unbind")
    return tuple(select(input, dim, i) for i in range(input.shape[dim]))


def unflatten(input, dim, sizes):
    """Dim dim split into sizes (one of which may be -1)."""
    check_tensor(input, "unflatten")
    dim = wrap_dim(dim, input.ndim, "unflatten")
    if not isinstance(sizes, (tuple, list)) or not sizes:
        raise TypeError(f"[unflatten] expected sizes to be a non-empty tuple of ints, got {sizes!r}")
    sizes = [int_arg(s, "each size", "unflatten") for s in sizes]
    n, known = input.shape[dim], math.prod(s for s in sizes if s != -1)
    if sizes.count(-1) > 1 or builtins.any(s < -1 for s in sizes):
        raise ValueError(f"[unflatten] invalid sizes {tuple(sizes)}")
    if -1 in sizes:
        if known == 0 or n % known:
            raise ValueError(f"[unflatten] sizes {tuple(sizes)} cannot unflatten dim {dim} of size {n}")
        sizes[sizes.index(-1)] = n // known
    elif known != n:
        raise ValueError(f"[unflatten] sizes {tuple(sizes)} do not multiply to dim {dim}'s size {n}")
    return input.reshape(*input.shape[:dim], *sizes, *input.shape[dim + 1 :])


def repeat(input, *sizes):
    """torch's Tensor.repeat: the tensor tiled sizes[i] times along each dim (leading sizes add dims)."""
    sizes = [
        int_arg(s, "each size", "repeat")
        for s in (sizes[0] if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes)
    ]
    if len(sizes) < input.ndim:
        raise ValueError(f"[repeat] {len(sizes)} repeat sizes for a tensor of {input.ndim} dims")
    if builtins.any(s < 0 for s in sizes):
        raise ValueError(f"[repeat] negative repeat size in {tuple(sizes)}")
    shape = [1] * (len(sizes) - input.ndim) + list(input.shape)
    # one expand: (1, s0, 1, s1, ...) -> (r0, s0, r1, s1, ...), then merge each pair
    pairs = [v for s in shape for v in (1, s)]
    tiled = [v for r, s in zip(sizes, shape) for v in (r, s)]
    return input.reshape(*pairs).expand(*tiled).reshape(*[r * s for r, s in zip(sizes, shape)])


def roll(input, shifts, dims=None):
    """Elements shifted along dims (cyclically); without dims, along the flattened tensor."""
    check_tensor(input, "roll")
    if dims is None:
        if isinstance(shifts, (tuple, list)) and len(shifts) != 1:
            raise ValueError(f"[roll] {len(shifts)} shifts need as many dims")
        return roll(input.flatten(), shifts, 0).reshape(*input.shape)
    shifts = list(shifts) if isinstance(shifts, (tuple, list)) else [shifts]
    dims = list(dims) if isinstance(dims, (tuple, list)) else [dims]
    if len(shifts) != len(dims):
        raise ValueError(f"[roll] shifts {tuple(shifts)} and dims {tuple(dims)} differ in length")
    out = input
    for s, d in zip(shifts, dims):
        d = wrap_dim(d, input.ndim, "roll")
        size = input.shape[d] if input.ndim else 1
        s = int_arg(s, "each shift", "roll") % size if size else 0
        if s and input.ndim:
            out = _tops.cat([out.narrow(d, size - s, s), out.narrow(d, 0, size - s)], d)
    return out


def flip(input, dims):
    """Reversed along dims, one gather each."""
    check_tensor(input, "flip")
    dims = dims_arg(dims, "flip", input.ndim)
    out = input
    for d in dims:
        d = wrap_dim(d, input.ndim, "flip")
        if input.ndim and input.shape[d] > 1:
            index = _C.from_numpy(np.arange(input.shape[d] - 1, -1, -1, dtype=np.int64))
            if input._impl.device != "cpu":
                index = index.to_device(input._impl.device)
            out = out.index_select(d, input._make(index))
    return out


def broadcast_tensors(*tensors):
    """The tensors expanded (as views) to their common broadcast shape."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = []
    for t in tensors:
        check_tensor(t, "broadcast_tensors", "each argument")
        try:
            shape = list(_C.broadcast_shapes(shape, list(t.shape)))
        except ValueError:
            raise ValueError(f"[broadcast_tensors] shapes {[t.shape for t in tensors]} do not broadcast") from None
    return tuple(t if list(t.shape) == shape else t.expand(*shape) for t in tensors)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids of 1-D tensors: output i varies along dim i ('ij'), or with the first two dims
    swapped ('xy', Cartesian). Returns expanded views."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"[meshgrid] indexing must be 'ij' or 'xy', got {indexing!r}")
    for t in tensors:
        check_tensor(t, "meshgrid", "each tensor")
        if t.ndim > 1:
            raise ValueError(f"[meshgrid] expected 0-D or 1-D tensors, got shape {t.shape}")
    n = len(tensors)
    axes = list(range(n))
    if indexing == "xy" and n >= 2:
        axes[0], axes[1] = 1, 0
    shape = [0] * n
    for t, a in zip(tensors, axes):
        shape[a] = t.numel()
    grids = []
    for t, a in zip(tensors, axes):
        view = [1] * n
        view[a] = -1
        grids.append(t.reshape(*view).expand(*shape))
    return tuple(grids)


# ---- triangles and diagonals ----
def _triangle(input, diagonal, lower, op):
    check_tensor(input, op)
    if input.ndim < 2:
        raise ValueError(f"[{op}] expected a tensor of at least 2 dims, got shape {input.shape}")
    diagonal = int_arg(diagonal, "diagonal", op)
    rows, cols = input.shape[-2:]
    mask = np.tri(rows, cols, diagonal, dtype=np.int64)  # j - i <= diagonal
    if not lower:
        mask = 1 - np.tri(rows, cols, diagonal - 1, dtype=np.int64)
    return _tops.where(_mask(mask, input), input, 0)


def tril(input, diagonal=0, *, out=None):
    """input with the elements above the diagonal-th diagonal zeroed (the last two dims are the matrix)."""
    return _write_out(out, _triangle(input, diagonal, True, "tril"), "tril")


def triu(input, diagonal=0, *, out=None):
    """input with the elements below the diagonal-th diagonal zeroed."""
    return _write_out(out, _triangle(input, diagonal, False, "triu"), "triu")


def diag(input, diagonal=0, *, out=None):
    """1-D (n,) -> the square matrix with input on its diagonal-th diagonal; 2-D -> that diagonal as 1-D."""
    check_tensor(input, "diag")
    k = int_arg(diagonal, "diagonal", "diag")
    if input.ndim == 1:
        n = input.shape[0]
        m = n + builtins.abs(k)
        padded = _tops.cat([input, input.new_zeros(builtins.abs(k))]) if k else input
        # out[i, j] = padded[i] (k >= 0) or padded[j] (k < 0) on the diagonal j - i == k
        line = padded.reshape(m, 1) if k >= 0 else padded.reshape(1, m)
        mask = np.eye(m, m, k, dtype=np.int64)
        result = _tops.where(_mask(mask, input), line.expand(m, m), 0)
    elif input.ndim == 2:
        rows, cols = input.shape
        start = k if k >= 0 else -k * cols
        length = builtins.max(0, builtins.min(rows, cols - k) if k >= 0 else builtins.min(rows + k, cols))
        if length == 0:
            result = input.reshape(-1)[0:0]
        else:  # the diagonal is every (cols + 1)-th element of the flat matrix from start
            result = input.reshape(-1)[start : start + (length - 1) * (cols + 1) + 1 : cols + 1]
    else:
        raise ValueError(f"[diag] expected a 1-D or 2-D tensor, got shape {input.shape}")
    return _write_out(out, result, "diag")


# ---- amax / amin and norms ----
def _reduce_dims(dims, ndim, op):
    """dims (a list, [] for all) as sorted non-negative dims."""
    if not dims:
        return list(range(ndim))
    return sorted({wrap_dim(d, ndim, op) for d in dims})


def _extreme(x, dims, keepdim, is_min):
    """The max (min) of core tensor x over dims (sorted), via one minmax_dim over the dims moved last."""
    shape = list(x.shape)
    rest = [d for d in range(len(shape)) if d not in dims]
    moved = x.permute(rest + dims).reshape([shape[d] for d in rest] + [-1]) if shape else x.reshape([1])
    y, _ = _C.minmax_dim(moved, len(rest), False, is_min)
    if keepdim:
        y = y.reshape([1 if d in dims else s for d, s in enumerate(shape)])
    return y


def _spread(v, shape, dims, keepdim):
    """v, reduced over dims, broadcast back to shape (dims [] = all)."""
    return _C.sum_backward(v, shape, dims, keepdim)


class AmaxFn(Function):
    """max (is_min: min) over dims; the gradient is shared evenly between the tied extremes (torch)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, is_min):
        y = _extreme(x, dims, keepdim, is_min)
        ctx.save_for_backward(x, y)
        ctx.args = (dims, keepdim)
        return y

    @staticmethod
    def backward(ctx, dout):
        x, y = ctx.saved
        dims, keepdim = ctx.args
        shape = list(x.shape)
        mask = _C.compare("eq", x, _spread(y, shape, dims, keepdim)).to_dtype(x.dtype)
        count = _C.sum(mask, dims, True)
        share = _C.binary("div", _spread(dout, shape, dims, keepdim), count)
        return _C.binary("mul", share, mask), None, None, None


def _amax(input, dim, keepdim, is_min, out):
    op = "amin" if is_min else "amax"
    check_tensor(input, op)
    if not input.dtype.is_floating_point:  # through float64 until the core's min/max take integers (exact to 2^53)
        return _write_out(out, _amax(input.to(float64), dim, keepdim, is_min, None).to(input.dtype), op)
    dims = _reduce_dims(dims_arg(dim, op, input.ndim), input.ndim, op)
    for d in dims:
        if input.shape[d] == 0:
            raise ValueError(f"[{op}] cannot reduce over dim {d} of size 0 (input {input.shape})")
    if input.ndim == 0:
        return _write_out(out, input.clone(), op)
    keepdim = bool_arg(keepdim, "keepdim", op)
    return _write_out(out, AmaxFn.apply(input, dims, keepdim, is_min), op)


def amax(input, dim=(), keepdim=False, *, out=None):
    """The maximum over dim (an int or a tuple; () or None = all dims); ties share the gradient evenly."""
    return _amax(input, dim if dim != () else None, keepdim, False, out)


def amin(input, dim=(), keepdim=False, *, out=None):
    return _amax(input, dim if dim != () else None, keepdim, True, out)


class NormFn(Function):
    """The vector p-norm over dims, (sum |x|^p)^(1/p), with inf / -inf (max / min |x|) and 0 (the count of
    nonzeros). Gradients as torch's: 0 where the norm is 0, split evenly between ties for +-inf."""

    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        a = _C.unary_forward("abs", x, 0.0, 0.0)
        if math.isinf(p):
            y = _extreme(a, _reduce_dims(dims, len(x.shape), "norm"), keepdim, p < 0)
        elif p == 0:
            y = _C.sum(_C.compare("ne", a, _C.full([], 0.0, x.dtype, x.device)).to_dtype(x.dtype), dims, keepdim)
        elif p == 1:
            y = _C.sum(a, dims, keepdim)
        elif p == 2:
            y = _C.unary_forward("sqrt", _C.sum(_C.binary("mul", x, x), dims, keepdim), 0.0, 0.0)
        else:
            y = _C.unary_forward("pow", _C.sum(_C.unary_forward("pow", a, p, 0.0), dims, keepdim), 1.0 / p, 0.0)
        ctx.save_for_backward(x, y)
        ctx.args = (p, dims, keepdim)
        return y

    @staticmethod
    def backward(ctx, dout):
        x, y = ctx.saved
        p, dims, keepdim = ctx.args
        shape = list(x.shape)
        g, norm = _spread(dout, shape, dims, keepdim), _spread(y, shape, dims, keepdim)
        zero = _C.full([], 0.0, x.dtype, x.device)
        sign = _C.unary_forward("sign", x, 0.0, 0.0)
        if p == 0:
            return _C.binary("mul", g, zero), None, None, None
        if p == 1:
            return _C.binary("mul", g, sign), None, None, None
        if math.isinf(p):  # like amax of |x|: the tied extremes share the gradient
            mask = _C.compare("eq", _C.unary_forward("abs", x, 0.0, 0.0), norm).to_dtype(x.dtype)
            share = _C.binary("div", g, _C.sum(mask, _reduce_dims(dims, len(shape), "norm"), True))
            return _C.binary("mul", share, _C.binary("mul", mask, sign)), None, None, None
        # d/dx (sum |x|^p)^(1/p) = sign(x) |x|^(p-1) / norm^(p-1)
        if p == 2:
            ratio = _C.binary("div", x, norm)
        else:
            num = _C.binary("mul", sign, _C.unary_forward("pow", _C.unary_forward("abs", x, 0.0, 0.0), p - 1, 0.0))
            ratio = _C.binary("div", num, _C.unary_forward("pow", norm, p - 1, 0.0))
        dx = _C.binary("mul", g, ratio)
        dx = _C.where_forward(_C.compare("eq", norm, zero), zero, dx)
        if p < 1:  # |x|^(p-1) is inf at x = 0, where torch's gradient is 0
            dx = _C.where_forward(_C.compare("eq", x, zero), zero, dx)
        return dx, None, None, None


def _norm_p(p, op):
    if isinstance(p, str):
        if p == "fro":
            return 2.0
        raise ValueError(f"[{op}] unsupported norm type {p!r}: expected 'fro' or a number ('nuc' is not supported)")
    return number_arg(p, op, "p")


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """torch.norm: the vector p-norm over dim (all dims when None); p = 'fro' (2), inf, -inf, 0 or any number.
    A dim pair with p='fro' is the Frobenius norm of those matrices."""
    check_tensor(input, "norm")
    p = _norm_p(p, "norm")
    x = input if dtype is None else input.to(dtype)
    _floating(x, "norm")
    dims = dims_arg(dim, "norm", x.ndim)
    for d in dims:
        wrap_dim(d, x.ndim, "norm")
    keepdim = bool_arg(keepdim, "keepdim", "norm")
    if math.isinf(p) and x.numel() == 0:
        raise ValueError(f"[norm] the {p} norm of an empty tensor (shape {x.shape}) is not defined")
    if x.ndim == 0:
        x = x.reshape(1)
        y = NormFn.apply(x, p, [], False)
    else:
        y = NormFn.apply(x, p, dims, keepdim)
    return _write_out(out, y, "norm")


def dist(input, other, p=2):
    """norm(input - other, p) over all elements (broadcasting)."""
    check_tensor(input, "dist")
    check_tensor(other, "dist", "other")
    return norm(input - other, _norm_p(p, "dist"))


def cdist(x1, x2, p=2.0, compute_mode=None):
    """The p-norm distance between each row of x1 (..., P, M) and each row of x2 (..., R, M): (..., P, R)."""
    check_tensor(x1, "cdist", "x1")
    check_tensor(x2, "cdist", "x2")
    p = number_arg(p, "cdist", "p")
    if p < 0:
        raise ValueError(f"[cdist] p must be non-negative, got {p}")
    if x1.ndim < 2 or x2.ndim < 2:
        raise ValueError(f"[cdist] expected x1 and x2 of at least 2 dims, got {x1.shape} and {x2.shape}")
    if x1.shape[-1] != x2.shape[-1]:
        raise ValueError(f"[cdist] x1 {x1.shape} and x2 {x2.shape} differ in their last dim (the features)")
    _floating(x1, "cdist")
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)  # (..., P, R, M)
    if diff.numel() == 0:
        return diff.sum(-1)
    return NormFn.apply(diff, p, [-1], False)


# ---- elementwise rounding and friends (the core's unary family) ----
def _unary(x, op, out=None):
    check_tensor(x, op)
    if op in ("floor", "ceil", "round", "trunc") and x.dtype.name == "bool":
        raise TypeError(f"[{op}] does not take bool tensors (as torch's)")
    if op in ("floor", "ceil", "round", "trunc") and not x.dtype.is_floating_point:
        result = x.clone()  # integers are already whole, as torch returns them
    elif op == "square" and not x.dtype.is_floating_point:
        result = x * x  # the core's integer product: exact, wrapping as torch's
    elif op == "sign" and not x.dtype.is_floating_point:
        result = _unary(x.to(float64), op).to(x.dtype)  # the unary family is floating only; exact for sign
    else:
        if not x.dtype.is_floating_point:  # reciprocal, rsqrt of integers: the default float dtype, as torch
            x = x.to(get_default_dtype())
        result = ag.UnaryFn.apply(x, op, 0.0, 0.0)
    return _write_out(out, result, op)


def floor(input, *, out=None):
    return _unary(input, "floor", out)


def ceil(input, *, out=None):
    return _unary(input, "ceil", out)


def trunc(input, *, out=None):
    return _unary(input, "trunc", out)


def sign(input, *, out=None):
    return _unary(input, "sign", out)


def reciprocal(input, *, out=None):
    return _unary(input, "reciprocal", out)


def rsqrt(input, *, out=None):
    return _unary(input, "rsqrt", out)


def square(input, *, out=None):
    return _unary(input, "square", out)


def round(input, *, decimals=0, out=None):
    """Rounded to decimals places, halves to even (torch: round(x * 10^d) / 10^d)."""
    decimals = int_arg(decimals, "decimals", "round")
    if decimals == 0 or not check_tensor(input, "round").dtype.is_floating_point:
        return _unary(input, "round", out)
    scale = 10.0 ** builtins.abs(decimals)
    if decimals > 0:
        result = _unary(input * scale, "round") / scale
    else:
        result = _unary(input / scale, "round") * scale
    return _write_out(out, result, "round")
