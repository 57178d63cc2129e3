"""pycnn.nn.functional: PyTorch's functional API (names, argument order, defaults), each a thin
argument-parsing layer over one Function of ``pycnn.functional``. Shapes are NCHW.
"""
from .. import functional as fn
from .._types import int64
from ..tensor import Tensor


def _pair(v, name, op):
    if isinstance(v, int):
        return (v, v)
    v = tuple(v)
    if len(v) == 1:
        return (v[0], v[0])
    if len(v) != 2 or not all(isinstance(i, int) for i in v):
        raise ValueError(f"[{op}] {name} must be an int or a pair of ints, got {v!r}")
    return v


def _check_tensor(x, op, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"[{op}] expected {name} to be a pycnn.Tensor, got {type(x).__name__}")


def linear(input, weight, bias=None):
    """y = input @ weight^T + bias. input (N, in_features) or (*, in_features), weight (out, in)."""
    _check_tensor(input, "linear")
    if input.ndim == 2:
        return fn.Linear.apply(input, weight, bias)
    if input.ndim == 0:
        raise ValueError("[linear] expected input of shape (*, in_features), got a 0-d tensor")
    lead = input.shape[:-1]
    y = fn.Linear.apply(input.reshape(-1, input.shape[-1]), weight, bias)
    return y.reshape(*lead, weight.shape[0])


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution. input (N, C, H, W) or (C, H, W), weight (OC, C/groups, kH, kW), bias (OC,).

    padding may be an int, a pair, 'valid' (no padding) or 'same' (output size = input size; stride 1).
    """
    _check_tensor(input, "conv2d")
    stride = _pair(stride, "stride", "conv2d")
    dilation = _pair(dilation, "dilation", "conv2d")
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            if stride != (1, 1):
                raise ValueError("[conv2d] padding='same' is not supported for strided convolutions")
            total = [dilation[i] * (weight.shape[2 + i] - 1) for i in range(2)]
            if any(t % 2 for t in total):
                raise ValueError("[conv2d] padding='same' needs an odd effective kernel size here")
            padding = (total[0] // 2, total[1] // 2)
        else:
            raise ValueError(f"[conv2d] padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
    padding = _pair(padding, "padding", "conv2d")
    if input.ndim == 3:
        return fn.Conv2d.apply(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    return fn.Conv2d.apply(input, weight, bias, stride, padding, dilation, groups)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max pooling over (N, C, H, W) or (C, H, W); stride defaults to kernel_size."""
    _check_tensor(input, "max_pool2d")
    kernel = _pair(kernel_size, "kernel_size", "max_pool2d")
    stride = kernel if stride is None or stride == [] else _pair(stride, "stride", "max_pool2d")
    y, indices = fn.MaxPool2d.apply(input, kernel, stride, _pair(padding, "padding", "max_pool2d"),
                                    _pair(dilation, "dilation", "max_pool2d"), bool(ceil_mode))
    return (y, indices) if return_indices else y


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Average pooling over (N, C, H, W) or (C, H, W); stride defaults to kernel_size."""
    _check_tensor(input, "avg_pool2d")
    kernel = _pair(kernel_size, "kernel_size", "avg_pool2d")
    stride = kernel if stride is None or stride == [] else _pair(stride, "stride", "avg_pool2d")
    if divisor_override is not None and divisor_override <= 0:
        raise ValueError(f"[avg_pool2d] divisor_override must be positive, got {divisor_override}")
    return fn.AvgPool2d.apply(input, kernel, stride, _pair(padding, "padding", "avg_pool2d"), bool(ceil_mode),
                              bool(count_include_pad), int(divisor_override or 0))


def relu(input, inplace=False):
    _check_tensor(input, "relu")
    return fn.ReLU.apply(input)


def log_softmax(input, dim):
    _check_tensor(input, "log_softmax")
    return fn.LogSoftmax.apply(input, dim)


def softmax(input, dim):
    _check_tensor(input, "softmax")
    return fn.Softmax.apply(input, dim)


def flatten(input, start_dim=0, end_dim=-1):
    return input.flatten(start_dim, end_dim)


def _check_reduction(reduction, op):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"[{op}] reduction must be 'none', 'mean' or 'sum', got {reduction!r}")


def _check_target(target, op):
    _check_tensor(target, op, "target")
    if target.dtype != int64:
        raise TypeError(f"[{op}] expected target to hold int64 class indices, got {target.dtype.name} "
                        "(use target.long())")


def cross_entropy(input, target, reduction="mean"):
    """Cross-entropy of logits (N, C) against class indices (N,) int64: log_softmax + nll_loss, fused."""
    _check_tensor(input, "cross_entropy")
    _check_target(target, "cross_entropy")
    _check_reduction(reduction, "cross_entropy")
    return fn.CrossEntropy.apply(input, target, reduction)


def nll_loss(input, target, reduction="mean"):
    """Negative log-likelihood of log-probabilities (N, C) at class indices (N,) int64."""
    _check_tensor(input, "nll_loss")
    _check_target(target, "nll_loss")
    _check_reduction(reduction, "nll_loss")
    return fn.NLLLoss.apply(input, target, reduction)


# ---- nonlinearities and elementwise math ----
# @activation-functional

# ---- normalisation and regularisation ----
# @norm-functional

# ---- pooling variants and upsampling ----
# @resize-functional

# ---- losses ----
# @losses-functional
