"""gather, scatter and scatter_add along a dim, with torch's signatures and shape rules, and their Functions.

index is an int64 tensor of input's rank, no larger than input off ``dim`` (and than src in every dim); its
values lie in [0, input.size(dim)) (an IndexError names the first one that does not). A repeated index in
scatter keeps the last write; scatter_add sums in index order, so results are the same on every run.
Gradients: gather's is scatter_add (``_C.gather_backward``); scatter's reaches input where nothing was written
and src through gather; ``reduce="multiply"`` differentiates input only (torch differentiates no reduce).
"""

from . import _C
from ._convert import check_tensor, int_arg, number_arg
from .autograd import Function, TensorBase, is_grad_enabled, write_inplace

_REDUCES = (None, "add", "multiply")


class GatherFn(Function):
    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.args = (list(x.shape), dim, index)
        return _C.gather(x, dim, index)

    @staticmethod
    def backward(ctx, dout):
        return _C.gather_backward(dout, *ctx.args), None, None


def _src_grad(dout, dim, index, src_shape):
    """gather(dout) is src's gradient on index's extent; where src is larger than index, zeros (padded at
    the end of each dim, in the pad's last-dim-first order)."""
    g = _C.gather(dout, dim, index)
    if list(g.shape) == src_shape:
        return g
    g = g.reshape([1] * (len(src_shape) - g.dim()) + list(g.shape))  # a 0-d index of a 1-d src
    pads = []
    for have, want in zip(reversed(g.shape), reversed(src_shape)):
        pads += [0, want - have]
    return _C.pad_forward(g, pads, "constant", 0.0)


class ScatterFn(Function):
    """input with src written (reduce "none"), added or multiplied at index along dim."""

    @staticmethod
    def forward(ctx, x, dim, index, src, reduce):
        ctx.args = (dim, index, reduce, list(src.shape))
        ctx.save_for_backward(src if reduce == "multiply" else None)
        return _C.scatter(x, dim, index, src, reduce)

    @staticmethod
    def backward(ctx, dout):
        dim, index, reduce, src_shape = ctx.args
        dx = dsrc = None
        if ctx.needs_input_grad[0]:
            if reduce == "none":  # the written positions no longer depend on input
                dx = _C.scatter_value(dout, dim, index, 0.0, "none")
            elif reduce == "add":
                dx = dout
            else:  # out = input * the product of what was scattered there
                dx = _C.scatter(dout, dim, index, ctx.saved_tensors[0], "multiply")
        if ctx.needs_input_grad[3]:
            if reduce == "multiply":
                raise NotImplementedError("[scatter] the gradient of src under reduce='multiply' is not implemented")
            dsrc = _src_grad(dout, dim, index, src_shape)
        return dx, None, None, dsrc, None


class ScatterValueFn(Function):
    """input with the number value written, added or multiplied at index along dim."""

    @staticmethod
    def forward(ctx, x, dim, index, value, reduce):
        ctx.args = (dim, index, value, reduce)
        return _C.scatter_value(x, dim, index, value, reduce)

    @staticmethod
    def backward(ctx, dout):
        dim, index, value, reduce = ctx.args
        if reduce == "add":
            return dout, None, None, None, None
        if reduce == "none":
            value = 0.0  # the written positions no longer depend on input
        return _C.scatter_value(dout, dim, index, value, reduce), None, None, None, None


def _check_index(index, op):
    check_tensor(index, op, "index")
    if index.dtype.name != "int64":
        raise TypeError(f"[{op}] expected index to be an int64 tensor, got {index.dtype.name}")
    return index


def _write_out(result, out, op):
    """torch's ``out=``: result copied into the given tensor, which must have its shape and dtype. As in
    torch, an out= call is not differentiable."""
    check_tensor(out, op, "out")
    if tuple(out.shape) != tuple(result.shape) or out.dtype != result.dtype:
        raise ValueError(
            f"[{op}] out has shape {tuple(out.shape)} and dtype {out.dtype.name}, expected "
            f"{tuple(result.shape)} and {result.dtype.name}"
        )
    if is_grad_enabled() and (out.requires_grad or result.requires_grad):
        raise RuntimeError(f"[{op}] functions with out=... arguments don't support automatic differentiation")
    _C.copy_(out._impl, result._impl)
    return out


def gather(input, dim, index, *, sparse_grad=False, out=None):
    """Values of input along dim at index: out[i][j][k] = input[index[i][j][k]][j][k] for dim 0.

    Args:
        input (Tensor): any dtype.
        dim (int): the dim to index along (negative counts from the end).
        index (Tensor): int64, input's rank, no larger than input in the other dims.
        sparse_grad (bool): must be False (pycnn has no sparse tensors).
    Returns:
        a tensor of index's shape, input's dtype; differentiable in input (backward is scatter_add).
    """
    check_tensor(input, "gather")
    _check_index(index, "gather")
    dim = int_arg(dim, "dim", "gather")
    if sparse_grad:
        raise NotImplementedError("[gather] sparse_grad=True is not supported: pycnn has no sparse tensors")
    result = GatherFn.apply(input, dim, index)
    return result if out is None else _write_out(result, out, "gather")


def _scatter(input, dim, index, src, value, reduce, op):
    check_tensor(input, op)
    _check_index(index, op)
    dim = int_arg(dim, "dim", op)
    if reduce not in _REDUCES:
        raise ValueError(f"[{op}] reduce must be None, 'add' or 'multiply', got {reduce!r}")
    reduce = reduce or "none"
    if src is not None and value is not None:
        raise TypeError(f"[{op}] pass src or value, not both")
    if src is None and value is None:
        raise TypeError(f"[{op}] expected src (a tensor) or value (a number)")
    if value is None and not isinstance(src, TensorBase):
        value, src = src, None  # scatter(dim, index, 1.5): a number in src's place is the value
    if src is not None:
        check_tensor(src, op, "src")
        args = (ScatterFn, src)
    else:
        args = (ScatterValueFn, number_arg(value, op))
    try:
        return args[0].apply(input, dim, index, args[1], reduce)
    except (ValueError, TypeError, IndexError) as e:  # the core's checks say [scatter]: name the user's op
        if op == "scatter" or not str(e).startswith("[scatter]"):
            raise
        raise type(e)(f"[{op}]{str(e)[len('[scatter]') :]}") from None


def scatter(input, dim, index, src=None, *, value=None, reduce=None, out=None):
    """A copy of input with src (a tensor) or value (a number) written at index along dim: for dim 0,
    out[index[i][j]][j] = src[i][j]. reduce "add" / "multiply" combines with what is there instead.

    Args:
        input (Tensor): any dtype; src has the same dtype.
        dim (int): the dim to index along.
        index (Tensor): int64, input's rank, no larger than src in every dim and than input off dim.
        src (Tensor or number), value (number): what to write.
        reduce (str or None): None (overwrite; a repeated index keeps its last write), "add" or "multiply".
    """
    result = _scatter(input, dim, index, src, value, reduce, "scatter")
    return result if out is None else _write_out(result, out, "scatter")


def scatter_add(input, dim, index, src, *, out=None):
    """A copy of input with src added at index along dim (repeated indices accumulate, in index order).
    Differentiable in input (the gradient passes through) and src (the gradient gathered at index)."""
    check_tensor(src, "scatter_add", "src")
    result = _scatter(input, dim, index, src, None, "add", "scatter_add")
    return result if out is None else _write_out(result, out, "scatter_add")


def scatter_(input, dim, index, src=None, *, value=None, reduce=None):
    """In place: input.scatter_(dim, index, src or value, reduce=None); returns input."""
    return write_inplace(input, _scatter(input, dim, index, src, value, reduce, "scatter_"), "scatter_")


def scatter_add_(input, dim, index, src):
    check_tensor(src, "scatter_add_", "src")
    return write_inplace(input, _scatter(input, dim, index, src, None, "add", "scatter_add_"), "scatter_add_")


__all__ = ["gather", "scatter", "scatter_", "scatter_add", "scatter_add_"]
