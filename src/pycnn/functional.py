"""The differentiable ops: one Function per op, forward and backward side by side, each a single call
into the core (``pycnn._C``). Arguments arrive as core tensors; ``ctx`` carries what backward needs.
User-facing signatures (PyTorch's) live in ``pycnn.nn.functional`` and ``pycnn.Tensor``.
"""
from . import _C
from .autograd import Function


class Binary(Function):
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


class MatMul(Function):
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


class Sum(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.args = (list(x.shape), dims, keepdim)
        return _C.sum(x, dims, keepdim)

    @staticmethod
    def backward(ctx, dout):
        return _C.sum_backward(dout, *ctx.args)


class Reshape(Function):
    """view (must not copy) or reshape (copies when the layout needs it); backward reshapes back."""

    @staticmethod
    def forward(ctx, x, shape, view_only):
        ctx.shape = list(x.shape)
        return x.view(shape) if view_only else x.reshape(shape)

    @staticmethod
    def backward(ctx, dout):
        return dout.reshape(ctx.shape)


class Permute(Function):
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


class Expand(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = list(x.shape)
        return x.expand(shape)

    @staticmethod
    def backward(ctx, dout):
        return _C.sum_to(dout, ctx.shape)


class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, dout):
        return dout


class Cast(Function):
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x.to_dtype(dtype)

    @staticmethod
    def backward(ctx, dout):
        return dout.to_dtype(ctx.dtype)


class ToDevice(Function):
    @staticmethod
    def forward(ctx, x, device):
        ctx.device = x.device
        return x.to_device(device)

    @staticmethod
    def backward(ctx, dout):
        return dout.to_device(ctx.device)


class ReLU(Function):
    @staticmethod
    def forward(ctx, x):
        y = _C.relu_forward(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dout):
        return _C.relu_backward(dout, ctx.saved[0])


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        y = _C.log_softmax_forward(x, dim)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, dout):
        return _C.log_softmax_backward(dout, ctx.saved[0], ctx.dim)


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        y = _C.softmax_forward(x, dim)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, dout):
        return _C.softmax_backward(dout, ctx.saved[0], ctx.dim)


class NLLLoss(Function):
    @staticmethod
    def forward(ctx, log_probs, target, reduction):
        ctx.save_for_backward(log_probs, target)
        ctx.reduction = reduction
        return _C.nll_loss_forward(log_probs, target, reduction)

    @staticmethod
    def backward(ctx, dout):
        log_probs, target = ctx.saved
        return _C.nll_loss_backward(dout, log_probs, target, ctx.reduction), None


class Linear(Function):
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


class Conv2d(Function):
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


class MaxPool2d(Function):
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


class AvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
        ctx.x_shape = list(x.shape)
        ctx.args = (kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
        return _C.avg_pool2d_forward(x, *ctx.args)

    @staticmethod
    def backward(ctx, dout):
        return _C.avg_pool2d_backward(dout, ctx.x_shape, *ctx.args)


class CrossEntropy(Function):
    """Cross-entropy of (N, C) logits against int64 class indices, with the fused softmax backward."""

    @staticmethod
    def forward(ctx, logits, target, reduction):
        loss, log_probs = _C.cross_entropy_forward(logits, target, reduction)
        ctx.save_for_backward(log_probs, target)
        ctx.reduction = reduction
        return loss

    @staticmethod
    def backward(ctx, dout):
        log_probs, target = ctx.saved
        return _C.cross_entropy_backward(dout, log_probs, target, ctx.reduction), None


# ---- nonlinearities and elementwise math ----
# @activation-functions

# ---- normalisation and regularisation ----
# @norm-functions

# ---- pooling variants and upsampling ----
# @resize-functions

# ---- losses ----
# @losses-functions
