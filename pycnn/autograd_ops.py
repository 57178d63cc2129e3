"""The differentiable ops: one Function per op, forward and backward side by side, each a single call
into the core (``pycnn._C``). Arguments arrive as core tensors; ``ctx`` carries what backward needs.
User-facing signatures (PyTorch's) live in ``pycnn.nn.functional`` and ``pycnn.Tensor``.
"""

from . import _C
from .autograd import CastFn, Function  # noqa: F401  (CastFn lives with the graph, which casts float16 ops)


class BinaryFn(Function):
    """a (op) b with broadcasting, op in add/sub/mul/div."""

    @staticmethod
    def forward(ctx, a, b, op):
        ctx.op = op
        if op in ("mul", "div"):
            ctx.save_for_backward(a, b)
        else:
            ctx.shapes = (a, b)
        return _C.binary(op, a, b)

    @staticmethod
    def backward(ctx, dout):
        a, b = ctx.saved if ctx.op in ("mul", "div") else ctx.shapes
        need = ctx.needs_input_grad
        return _C.binary_backward(ctx.op, dout, a, b, need[0], need[1])


class MatMulFn(Function):
    """(M, K) @ (K, N); backward: da = dout @ b^T, db = a^T @ dout."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _C.matmul(a, b)

    @staticmethod
    def backward(ctx, dout):
        a, b = ctx.saved
        da = _C.matmul(dout, b.transpose(0, 1)) if ctx.needs_input_grad[0] else None
        db = _C.matmul(a.transpose(0, 1), dout) if ctx.needs_input_grad[1] else None
        return da, db


class SumFn(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.args = (list(x.shape), dims, keepdim)
        return _C.sum(x, dims, keepdim)

    @staticmethod
    def backward(ctx, dout):
        return _C.sum_backward(dout, *ctx.args)


class ReshapeFn(Function):
    """view (must not copy) or reshape (copies when the layout needs it); backward reshapes back."""

    @staticmethod
    def forward(ctx, x, shape, view_only):
        ctx.shape = list(x.shape)
        return x.view(shape) if view_only else x.reshape(shape)

    @staticmethod
    def backward(ctx, dout):
        return dout.reshape(ctx.shape)


class PermuteFn(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.permute(dims)

    @staticmethod
    def backward(ctx, dout):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d % len(ctx.dims)] = i
        return dout.permute(inverse)


class ExpandFn(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = list(x.shape)
        return x.expand(shape)

    @staticmethod
    def backward(ctx, dout):
        return _C.sum_to(dout, ctx.shape)


class CloneFn(Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, dout):
        return dout


class ToDeviceFn(Function):
    @staticmethod
    def forward(ctx, x, device):
        ctx.device = x.device
        return x.to_device(device)

    @staticmethod
    def backward(ctx, dout):
        return dout.to_device(ctx.device)


class ReLUFn(Function):
    @staticmethod
    def forward(ctx, x):
        y = _C.relu_forward(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dout):
        return _C.relu_backward(dout, ctx.saved[0])


class LogSoftmaxFn(Function):
    @staticmethod
    def forward(ctx, x, dim):
        y = _C.log_softmax_forward(x, dim)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, dout):
        return _C.log_softmax_backward(dout, ctx.saved[0], ctx.dim)


class SoftmaxFn(Function):
    @staticmethod
    def forward(ctx, x, dim):
        y = _C.softmax_forward(x, dim)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, dout):
        return _C.softmax_backward(dout, ctx.saved[0], ctx.dim)


class LinearFn(Function):
    """y = x @ w^T + b."""

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        ctx.has_bias = b is not None
        return _C.linear_forward(x, w, b)

    @staticmethod
    def backward(ctx, dout):
        x, w = ctx.saved
        dx, dw, db = _C.linear_backward(dout, x, w, ctx.needs_input_grad[0], ctx.has_bias)
        return dx, (dw if ctx.needs_input_grad[1] else None), db


class Conv2dFn(Function):
    @staticmethod
    def forward(ctx, x, w, b, stride, padding, dilation, groups):
        ctx.save_for_backward(x, w)
        ctx.args = (stride, padding, dilation, groups)
        ctx.has_bias = b is not None
        return _C.conv2d_forward(x, w, b, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, dout):
        x, w = ctx.saved
        need = ctx.needs_input_grad
        return _C.conv2d_backward(dout, x, w, *ctx.args, need[0], need[1], ctx.has_bias and need[2])


class MaxPool2dFn(Function):
    """Returns (y, indices); only y is differentiable."""

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, ceil_mode):
        y, indices = _C.max_pool2d_forward(x, kernel, stride, padding, dilation, ceil_mode)
        ctx.save_for_backward(indices)
        ctx.x_shape = list(x.shape)
        return y, indices

    @staticmethod
    def backward(ctx, dout):
        return _C.max_pool2d_backward(dout, ctx.saved[0], ctx.x_shape)


class AvgPool2dFn(Function):
    @staticmethod
    def forward(ctx, x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
        ctx.x_shape = list(x.shape)
        ctx.args = (kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
        return _C.avg_pool2d_forward(x, *ctx.args)

    @staticmethod
    def backward(ctx, dout):
        return _C.avg_pool2d_backward(dout, ctx.x_shape, *ctx.args)


class UnaryFn(Function):
    """y = op(x) elementwise for the unary family of the core (sigmoid, gelu, exp, pow, clamp, ...).

    alpha/beta are the op's scalars (csrc/ops/ops.h). Backward needs y for sigmoid/tanh/exp/sqrt and x
    for the rest: only that one is kept.
    """

    @staticmethod
    def forward(ctx, x, op, alpha=0.0, beta=0.0):
        ctx.op = op
        y = _C.unary_forward(op, x, alpha, beta)
        ctx.args = (op, alpha, beta)
        ctx.save_for_backward(y if op in _UNARY_FROM_OUTPUT else x)
        return y

    @staticmethod
    def backward(ctx, dout):
        op, alpha, beta = ctx.args
        v = ctx.saved[0]
        if op in _UNARY_FROM_OUTPUT:
            return _C.unary_backward(op, dout, None, v, alpha, beta)
        return _C.unary_backward(op, dout, v, None, alpha, beta)


# the unary ops whose gradient is computed from the output y (the core's list says which)
_UNARY_FROM_OUTPUT = frozenset(op for op in _C.unary_op_names() if _C.unary_grad_uses_output(op))


class PReLUFn(Function):
    """x > 0 ? x : weight[c] * x, c along dim 1; weight (1,) or (C,)."""

    @staticmethod
    def forward(ctx, x, weight):
        ctx.save_for_backward(x, weight)
        return _C.prelu_forward(x, weight)

    @staticmethod
    def backward(ctx, dout):
        x, weight = ctx.saved
        need = ctx.needs_input_grad
        return _C.prelu_backward(dout, x, weight, need[0], need[1])


class MaxoutFn(Function):
    """(N, C*k, *) -> (N, C, *): the max over k adjacent channels; returns (y, indices)."""

    @staticmethod
    def forward(ctx, x, pieces):
        y, indices = _C.maxout_forward(x, pieces)
        ctx.save_for_backward(indices)
        ctx.pieces = pieces
        return y, indices

    @staticmethod
    def backward(ctx, dout):
        return _C.maxout_backward(dout, ctx.saved[0], ctx.pieces)


# ---- normalisation and regularisation ----
class BatchNormFn(Function):
    """Batch norm over (N, C, *); the running stats (core tensors or None) are updated in place when
    training. Saves the batch (or running) mean and invstd for the fused backward."""

    @staticmethod
    def forward(ctx, x, w, b, running_mean, running_var, training, momentum, eps):
        y, mean, invstd = _C.batch_norm_forward(x, w, b, running_mean, running_var, training, momentum, eps)
        ctx.save_for_backward(x, w, mean, invstd)
        ctx.training = training
        return y

    @staticmethod
    def backward(ctx, dout):
        x, w, mean, invstd = ctx.saved
        need = ctx.needs_input_grad
        dx, dw, db = _C.batch_norm_backward(
            dout, x, w, mean, invstd, ctx.training, need[0], w is not None and need[1], need[2]
        )
        return dx, dw, db, None, None


class GroupNormFn(Function):
    """Group norm over (N, C, *) (instance norm: groups == C); saves mean/invstd (N, groups)."""

    @staticmethod
    def forward(ctx, x, groups, w, b, eps):
        y, mean, invstd = _C.group_norm_forward(x, groups, w, b, eps)
        ctx.save_for_backward(x, w, mean, invstd)
        ctx.groups = groups
        return y

    @staticmethod
    def backward(ctx, dout):
        x, w, mean, invstd = ctx.saved
        need = ctx.needs_input_grad
        dx, dw, db = _C.group_norm_backward(
            dout, x, ctx.groups, w, mean, invstd, need[0], w is not None and need[2], need[3]
        )
        return dx, None, dw, db


class LayerNormFn(Function):
    """Layer norm over the last normalized_ndim dims."""

    @staticmethod
    def forward(ctx, x, normalized_ndim, w, b, eps):
        y, mean, invstd = _C.layer_norm_forward(x, normalized_ndim, w, b, eps)
        ctx.save_for_backward(x, w, mean, invstd)
        ctx.nd = normalized_ndim
        return y

    @staticmethod
    def backward(ctx, dout):
        x, w, mean, invstd = ctx.saved
        need = ctx.needs_input_grad
        dx, dw, db = _C.layer_norm_backward(
            dout, x, ctx.nd, w, mean, invstd, need[0], w is not None and need[2], need[3]
        )
        return dx, None, dw, db


class LocalResponseNormFn(Function):
    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        ctx.save_for_backward(x)
        ctx.args = (size, alpha, beta, k)
        return _C.local_response_norm_forward(x, size, alpha, beta, k)

    @staticmethod
    def backward(ctx, dout):
        return _C.local_response_norm_backward(dout, ctx.saved[0], *ctx.args)


class DropoutFn(Function):
    """Dropout / Dropout2d (channelwise) / AlphaDropout (alpha); the mask is regenerated from the seed."""

    @staticmethod
    def forward(ctx, x, p, seed, channelwise, alpha):
        ctx.args = (p, seed, channelwise, alpha)
        return _C.dropout_forward(x, p, seed, channelwise, alpha)

    @staticmethod
    def backward(ctx, dout):
        return _C.dropout_backward(dout, *ctx.args)


class LpSumFn(Function):
    """sum |x|^p (p >= 1): the differentiable core of the L1 / L2 penalties."""

    @staticmethod
    def forward(ctx, x, p):
        ctx.save_for_backward(x)
        ctx.p = p
        return _C.lp_sum_tensor(x, p).to_dtype(x.dtype)  # summed in double, on x's device (no host read)

    @staticmethod
    def backward(ctx, dout):
        return _C.lp_sum_backward(dout, ctx.saved[0], ctx.p)


# ---- pooling variants and upsampling ----
class AdaptiveAvgPool2dFn(Function):
    @staticmethod
    def forward(ctx, x, output_size):
        ctx.x_shape = list(x.shape)
        return _C.adaptive_avg_pool2d_forward(x, output_size)

    @staticmethod
    def backward(ctx, dout):
        return _C.adaptive_avg_pool2d_backward(dout, ctx.x_shape)


class AdaptiveMaxPool2dFn(Function):
    """Returns (y, indices); only y is differentiable."""

    @staticmethod
    def forward(ctx, x, output_size):
        y, indices = _C.adaptive_max_pool2d_forward(x, output_size)
        ctx.save_for_backward(indices)
        ctx.x_shape = list(x.shape)
        return y, indices

    @staticmethod
    def backward(ctx, dout):
        return _C.adaptive_max_pool2d_backward(dout, ctx.saved[0], ctx.x_shape)


class PixelShuffleFn(Function):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r); a permutation, so backward is the inverse shuffle."""

    @staticmethod
    def forward(ctx, x, r):
        ctx.r = r
        return _C.pixel_shuffle(x, r)

    @staticmethod
    def backward(ctx, dout):
        return _C.pixel_unshuffle(dout, ctx.r)


class PixelUnshuffleFn(Function):
    @staticmethod
    def forward(ctx, x, r):
        ctx.r = r
        return _C.pixel_unshuffle(x, r)

    @staticmethod
    def backward(ctx, dout):
        return _C.pixel_shuffle(dout, ctx.r)


class InterpolateFn(Function):
    """Nearest / bilinear resampling to size; scales are the user's factors, (0, 0) when size was given."""

    @staticmethod
    def forward(ctx, x, size, mode, align_corners, scales):
        ctx.x_shape = list(x.shape)
        ctx.args = (mode, align_corners, scales)
        return _C.interpolate_forward(x, size, mode, align_corners, scales)

    @staticmethod
    def backward(ctx, dout):
        return _C.interpolate_backward(dout, ctx.x_shape, *ctx.args)


class MaxUnpool2dFn(Function):
    @staticmethod
    def forward(ctx, x, indices, output_size):
        ctx.save_for_backward(indices)
        return _C.max_unpool2d_forward(x, indices, output_size)

    @staticmethod
    def backward(ctx, dout):
        return _C.max_unpool2d_backward(dout, ctx.saved[0]), None


# ---- losses ----
class CrossEntropyFn(Function):
    """Cross-entropy of (N, C, *) logits against int64 indices (N, *) or float probabilities (N, C, *), with
    class weights, ignore_index and label smoothing; the backward is the fused softmax gradient."""

    @staticmethod
    def forward(ctx, logits, target, weight, reduction, ignore_index, label_smoothing):
        loss, log_probs = _C.cross_entropy_forward(logits, target, weight, reduction, ignore_index, label_smoothing)
        ctx.save_for_backward(log_probs, target, weight)
        ctx.args = (reduction, ignore_index, label_smoothing)
        return loss

    @staticmethod
    def backward(ctx, dout):
        log_probs, target, weight = ctx.saved
        need_dtarget = len(ctx.needs_input_grad) > 1 and bool(ctx.needs_input_grad[1])
        dx, dtarget = _C.cross_entropy_backward(dout, log_probs, target, weight, *ctx.args, need_dtarget)
        return dx, dtarget, None


class NLLLossFn(Function):
    """Negative log-likelihood of (N, C, *) log-probabilities at int64 indices (N, *), weights, ignore_index."""

    @staticmethod
    def forward(ctx, log_probs, target, weight, reduction, ignore_index):
        ctx.save_for_backward(log_probs, target, weight)
        ctx.args = (reduction, ignore_index)
        return _C.nll_loss_forward(log_probs, target, weight, reduction, ignore_index)

    @staticmethod
    def backward(ctx, dout):
        log_probs, target, weight = ctx.saved
        return _C.nll_loss_backward(dout, log_probs, target, weight, *ctx.args), None, None


class PointwiseLossFn(Function):
    """Elementwise losses l(input, target) (mse, l1, smooth_l1, huber, bce, bce_with_logits, kl_div,
    kl_div_log_target, margin_ranking), reduced; gradients w.r.t. input and target."""

    @staticmethod
    def forward(ctx, input, target, weight, pos_weight, kind, reduction, param):
        ctx.save_for_backward(input, target, weight, pos_weight)
        ctx.args = (kind, reduction, param)
        return _C.pointwise_loss_forward(kind, input, target, weight, pos_weight, reduction, param)

    @staticmethod
    def backward(ctx, dout):
        input, target, weight, pos_weight = ctx.saved
        kind, reduction, param = ctx.args
        need = ctx.needs_input_grad
        dx, dy = _C.pointwise_loss_backward(
            kind, dout, input, target, weight, pos_weight, reduction, param, bool(need[0]), bool(need[1])
        )
        return dx, dy, None, None


class MultiMarginLossFn(Function):
    """Multi-class hinge loss of (N, C) scores at int64 indices (N,)."""

    @staticmethod
    def forward(ctx, input, target, weight, p, margin, reduction):
        ctx.save_for_backward(input, target, weight)
        ctx.args = (p, margin, reduction)
        return _C.multi_margin_loss_forward(input, target, weight, p, margin, reduction)

    @staticmethod
    def backward(ctx, dout):
        input, target, weight = ctx.saved
        return _C.multi_margin_loss_backward(dout, input, target, weight, *ctx.args), None, None


# ---- tensor operations: joining, splitting, indexing, reductions with indices ----
class CatFn(Function):
    """Concatenation along an existing dim: Cat.apply(dim, *tensors); backward: the slices of dout."""

    @staticmethod
    def forward(ctx, dim, *xs):
        out = _C.cat_forward(list(xs), dim)  # validates dim first
        ctx.args = (dim, [x.shape[dim] for x in xs])
        return out

    @staticmethod
    def backward(ctx, dout):
        return (None, *_C.cat_backward(dout, *ctx.args))


class StackFn(Function):
    """Joining along a new dim: Stack.apply(dim, *tensors); backward: dout's slices along dim."""

    @staticmethod
    def forward(ctx, dim, *xs):
        out = _C.stack_forward(list(xs), dim)
        ctx.dim = dim % out.dim()
        return out

    @staticmethod
    def backward(ctx, dout):
        return (None, *_C.stack_backward(dout, ctx.dim))


class IndexViewFn(Function):
    """Basic indexing (ints, slices with steps, None) as one strided view; spec = (starts, steps, lengths,
    keep, new_axes), see ops.h: index_view. Backward writes dout into that view of a zero tensor."""

    @staticmethod
    def forward(ctx, x, spec):
        ctx.args = (list(x.shape), *spec)
        return _C.index_view(x, *spec)

    @staticmethod
    def backward(ctx, dout):
        return _C.index_view_backward(dout, *ctx.args), None


class IndexSelectFn(Function):
    """Gather along dim with an int64 (K,) index; backward scatter-adds."""

    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.args = (list(x.shape), dim, index)
        return _C.index_select(x, dim, index)

    @staticmethod
    def backward(ctx, dout):
        return _C.index_select_backward(dout, *ctx.args), None, None


class MaskedSelectFn(Function):
    @staticmethod
    def forward(ctx, x, mask):
        ctx.mask = mask
        return _C.masked_select(x, mask)

    @staticmethod
    def backward(ctx, dout):
        return _C.masked_select_backward(dout, ctx.mask), None


class MinMaxFn(Function):
    """(values, indices) of the max (is_min: min) along dim; the gradient goes to the selected positions."""

    @staticmethod
    def forward(ctx, x, dim, keepdim, is_min):
        values, indices = _C.minmax_dim(x, dim, keepdim, is_min)
        ctx.args = (indices, list(x.shape), dim)
        return values, indices

    @staticmethod
    def backward(ctx, dout):
        return _C.minmax_dim_backward(dout, *ctx.args), None, None, None


class WhereFn(Function):
    """cond ? a : b with broadcasting; cond is int64 0/1 (not differentiable)."""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.args = (cond, list(a.shape), list(b.shape))
        return _C.where_forward(cond, a, b)

    @staticmethod
    def backward(ctx, dout):
        need = ctx.needs_input_grad
        return (None, *_C.where_backward(dout, *ctx.args, need[1], need[2]))


class VarFn(Function):
    """Variance over dims with torch's correction (1 = unbiased)."""

    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        ctx.save_for_backward(x)
        ctx.args = (dims, correction, keepdim)
        return _C.var_forward(x, dims, correction, keepdim)

    @staticmethod
    def backward(ctx, dout):
        return _C.var_backward(dout, ctx.saved[0], *ctx.args), None, None, None


class BatchedMatMulFn(Function):
    """(..., M, K) @ (..., K, N) with broadcast batch dims; backward sums over the broadcast dims."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _C.bmm_forward(a, b)

    @staticmethod
    def backward(ctx, dout):
        a, b = ctx.saved
        need = ctx.needs_input_grad
        return _C.bmm_backward(dout, a, b, need[0], need[1])


class MaximumFn(Function):
    """Elementwise max (is_min: min) with broadcasting; a tie gives each input half the gradient."""

    @staticmethod
    def forward(ctx, a, b, is_min):
        ctx.save_for_backward(a, b)
        ctx.is_min = is_min
        return _C.maximum_forward(a, b, is_min)

    @staticmethod
    def backward(ctx, dout):
        a, b = ctx.saved
        need = ctx.needs_input_grad
        return (*_C.maximum_backward(dout, a, b, ctx.is_min, need[0], need[1]), None)


# ---- convolution family: conv1d, transposed convolution, padding ----
class PadFn(Function):
    """pads in torch order (last dim first); mode 'constant', 'reflect', 'replicate' or 'circular'."""

    @staticmethod
    def forward(ctx, x, pads, mode, value):
        ctx.x_shape = list(x.shape)
        ctx.args = (pads, mode)
        return _C.pad_forward(x, pads, mode, value)

    @staticmethod
    def backward(ctx, dout):
        return _C.pad_backward(dout, ctx.x_shape, *ctx.args)


class ConvTranspose2dFn(Function):
    """x (N, C, H, W), w (C, OC/groups, kH, kW): conv2d's input gradient, as a forward op."""

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, output_padding, dilation, groups):
        ctx.save_for_backward(x, w)
        ctx.args = (stride, padding, dilation, groups)
        ctx.has_bias = b is not None
        return _C.conv_transpose2d_forward(x, w, b, stride, padding, output_padding, dilation, groups)

    @staticmethod
    def backward(ctx, dout):
        x, w = ctx.saved
        need = ctx.needs_input_grad
        return _C.conv_transpose2d_backward(dout, x, w, *ctx.args, need[0], need[1], ctx.has_bias and need[2])


class DeformConv2dFn(Function):
    """Deformable convolution (torchvision.ops.deform_conv2d): x (N, C, H, W), offset, mask or None,
    weight (OC, C/groups, kH, kW), bias or None."""

    @staticmethod
    def forward(ctx, x, offset, mask, w, b, stride, padding, dilation):
        ctx.save_for_backward(x, offset, mask, w)
        ctx.args = (stride, padding, dilation)
        ctx.has_bias = b is not None
        return _C.deform_conv2d_forward(x, offset, mask, w, b, stride, padding, dilation)

    @staticmethod
    def backward(ctx, dout):
        x, offset, mask, w = ctx.saved
        need = ctx.needs_input_grad
        return _C.deform_conv2d_backward(
            dout,
            x,
            offset,
            mask,
            w,
            *ctx.args,
            need[0],
            need[1],
            mask is not None and need[2],
            need[3],
            ctx.has_bias and need[4],
        )
