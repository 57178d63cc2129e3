"""pycnn.nn.functional: PyTorch's functional API (names, argument order, defaults), each a thin
argument-parsing layer over one Function of ``pycnn.autograd_ops``. Shapes are NCHW.
"""

import math

import numpy as np

from .. import _C
from .. import _tensor_ops as _tops
from .. import autograd_ops as ag
from .._convert import bool_arg, check_int64, check_tensor, int_arg, number_arg, shape_arg, wrap_dim
from .._types import LOW_PRECISION, int64
from ..autograd import is_grad_enabled, write_inplace
from ..random import cuda_generator, default_generator
from ._arguments import (
    INTERP_MODES,
    PAD_MODES,
    REDUCTIONS,
    conv_padding,
    ntuple,
    one_of,
    output_size_arg,
    pair,
    positive_int,
    probability,
    window,
)
from .sparse import embedding, one_hot  # noqa: F401  (F.embedding, F.one_hot live with nn.Embedding)


def linear(input, weight, bias=None):
    """y = input @ weight^T + bias. input (N, in_features) or (*, in_features), weight (out, in)."""
    check_tensor(input, "linear")
    check_tensor(weight, "linear", "weight")
    if bias is not None:
        check_tensor(bias, "linear", "bias")
    if input.ndim == 2:
        return ag.LinearFn.apply(input, weight, bias)
    if input.ndim == 0:
        raise ValueError("[linear] expected input of shape (*, in_features), got a 0-d tensor")
    lead = input.shape[:-1]
    y = ag.LinearFn.apply(input.reshape(-1, input.shape[-1]), weight, bias)
    return y.reshape(*lead, weight.shape[0])


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution. input (N, C, H, W) or (C, H, W), weight (OC, C/groups, kH, kW), bias (OC,).

    padding may be an int, a pair, 'valid' (no padding) or 'same' (output size = input size; stride 1).
    """
    check_tensor(input, "conv2d")
    check_tensor(weight, "conv2d", "weight")
    stride = pair(stride, "stride", "conv2d")
    dilation = pair(dilation, "dilation", "conv2d")
    kernel = tuple(weight.shape[2:]) if weight.ndim == 4 else (1, 1)  # a bad weight: the core names it
    pads = conv_padding(padding, kernel, stride, dilation, "conv2d")
    if any(before != after for before, after in pads):
        # 'same' with an odd total: the kernel's symmetric padding cannot put the extra pixel on the
        # bottom/right, so pad explicitly first
        input = pad(input, [p for lr in reversed(pads) for p in lr])
        pads = [(0, 0), (0, 0)]
    padding = (pads[0][0], pads[1][0])
    groups = int_arg(groups, "groups", "conv2d")
    if input.ndim == 3:
        return ag.Conv2dFn.apply(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    return ag.Conv2dFn.apply(input, weight, bias, stride, padding, dilation, groups)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max pooling over (N, C, H, W) or (C, H, W); stride defaults to kernel_size."""
    check_tensor(input, "max_pool2d")
    kernel = pair(kernel_size, "kernel_size", "max_pool2d")
    stride = kernel if stride is None or stride == [] else pair(stride, "stride", "max_pool2d")
    y, indices = ag.MaxPool2dFn.apply(
        input,
        kernel,
        stride,
        pair(padding, "padding", "max_pool2d"),
        pair(dilation, "dilation", "max_pool2d"),
        bool(ceil_mode),
    )
    return (y, indices) if return_indices else y


def avg_pool2d(
    input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None
):
    """Average pooling over (N, C, H, W) or (C, H, W); stride defaults to kernel_size."""
    check_tensor(input, "avg_pool2d")
    kernel = pair(kernel_size, "kernel_size", "avg_pool2d")
    stride = kernel if stride is None or stride == [] else pair(stride, "stride", "avg_pool2d")
    if divisor_override is not None and divisor_override <= 0:
        raise ValueError(f"[avg_pool2d] divisor_override must be positive, got {divisor_override}")
    if divisor_override is not None:
        check_int64(divisor_override, "divisor_override", "avg_pool2d")
    return ag.AvgPool2dFn.apply(
        input,
        kernel,
        stride,
        pair(padding, "padding", "avg_pool2d"),
        bool(ceil_mode),
        bool(count_include_pad),
        int(divisor_override or 0),
    )


def relu(input, inplace=False):
    check_tensor(input, "relu")
    return _maybe_inplace(input, input.relu(), inplace, "relu_")


def log_softmax(input, dim):
    check_tensor(input, "log_softmax")
    return ag.LogSoftmaxFn.apply(input, int_arg(dim, "dim", "log_softmax"))


def softmax(input, dim):
    check_tensor(input, "softmax")
    return ag.SoftmaxFn.apply(input, int_arg(dim, "dim", "softmax"))


def flatten(input, start_dim=0, end_dim=-1):
    return input.flatten(start_dim, end_dim)


def _check_reduction(reduction, op):
    one_of(reduction, REDUCTIONS, "reduction", op)


def _check_target(target, op):
    check_tensor(target, op, "target")
    if target.dtype != int64:
        raise TypeError(
            f"[{op}] expected target to hold int64 class indices, got {target.dtype.name} (use target.long())"
        )


def _class_loss_args(input, target, weight, op):
    """(input, target, squeeze): an unbatched (C,) input with a 0-d target becomes a batch of one."""
    check_tensor(input, op)
    check_tensor(target, op, "target")
    if weight is not None:
        check_tensor(weight, op, "weight")
    if target.dtype != int64 and tuple(target.shape) != tuple(input.shape):
        raise TypeError(
            f"[{op}] expected int64 class indices or probabilities of input's shape "
            f"{tuple(input.shape)}, got a {target.dtype.name} target of shape {tuple(target.shape)} "
            "(use target.long() for class indices)"
        )
    if input.ndim == 1:
        if target.dtype == int64 and target.ndim != 0:
            raise ValueError(
                f"[{op}] an unbatched input {tuple(input.shape)} needs a 0-d target, got {tuple(target.shape)}"
            )
        return input.unsqueeze(0), target.reshape(1) if target.dtype == int64 else target.unsqueeze(0), True
    return input, target, False


def cross_entropy(
    input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean", label_smoothing=0.0
):
    """Cross-entropy of logits against class indices or class probabilities (log_softmax + nll, fused).

    Args:
        input: logits (N, C), (N, C, d1, ...) or unbatched (C,).
        target: int64 class indices (N,) / (N, d1, ...) / (), or float probabilities of input's shape.
        weight: optional (C,) non-negative class weights.
        ignore_index (int): index targets equal to it add nothing (to the loss nor to the mean's denominator).
        reduction (str): 'none' | 'mean' | 'sum'. Mean divides by the summed weight of the kept targets for
            index targets, by N * d1 * ... for probabilities.
        label_smoothing (float): in [0, 1]; mixes the target with the uniform distribution.
    """
    if size_average is not None or reduce is not None:
        raise NotImplementedError("[cross_entropy] size_average and reduce are deprecated; use reduction=")
    _check_reduction(reduction, "cross_entropy")
    input, target, squeeze = _class_loss_args(input, target, weight, "cross_entropy")
    out = ag.CrossEntropyFn.apply(input, target, weight, reduction, int(ignore_index), float(label_smoothing))
    return out.reshape(()) if squeeze and reduction == "none" else out


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood of log-probabilities (N, C) / (N, C, d1, ...) / (C,) at int64 class indices
    (N,) / (N, d1, ...) / (), with optional (C,) class weights and ignore_index (as cross_entropy)."""
    if size_average is not None or reduce is not None:
        raise NotImplementedError("[nll_loss] size_average and reduce are deprecated; use reduction=")
    _check_reduction(reduction, "nll_loss")
    _check_target(target, "nll_loss")
    input, target, squeeze = _class_loss_args(input, target, weight, "nll_loss")
    out = ag.NLLLossFn.apply(input, target, weight, reduction, int(ignore_index))
    return out.reshape(()) if squeeze and reduction == "none" else out


# ---- nonlinearities and elementwise math ----
def _unary(input, op, alpha=0.0, beta=0.0, inplace=False, names=("alpha", "beta")):
    check_tensor(input, op)
    alpha, beta = number_arg(alpha, op, names[0]), number_arg(beta, op, names[1])
    return _maybe_inplace(input, ag.UnaryFn.apply(input, op, alpha, beta), inplace, op + "_")


def _maybe_inplace(input, out, inplace, op):
    """``inplace=True``: out is written into input's memory, which becomes the result (torch's ``relu_``)."""
    return write_inplace(input, out, op) if inplace else out


def sigmoid(input):
    """1 / (1 + exp(-x)), computed without overflow for any x."""
    return _unary(input, "sigmoid")


def tanh(input):
    return _unary(input, "tanh")


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    return _unary(input, "relu6", inplace=inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, negative_slope * x otherwise."""
    return _unary(input, "leaky_relu", negative_slope, inplace=inplace, names=("negative_slope", ""))


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return _unary(input, "elu", alpha, inplace=inplace)


def selu(input, inplace=False):
    """scale * elu(x, alpha) with the self-normalising constants alpha ~ 1.6733, scale ~ 1.0507."""
    return _unary(input, "selu", inplace=inplace)


def silu(input, inplace=False):
    """x * sigmoid(x) (also called swish)."""
    return _unary(input, "silu", inplace=inplace)


def gelu(input, approximate="none"):
    """x * Phi(x) with Phi the standard normal CDF (erf); approximate='tanh' uses the tanh formula."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"[gelu] approximate must be 'none' or 'tanh', got {approximate!r}")
    return _unary(input, "gelu" if approximate == "none" else "gelu_tanh")


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold."""
    return _unary(input, "softplus", beta, threshold, names=("beta", "threshold"))


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6."""
    return _unary(input, "hardswish", inplace=inplace)


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6."""
    return _unary(input, "hardsigmoid", inplace=inplace)


def prelu(input, weight):
    """x for x > 0, weight[c] * x otherwise; weight (1,) or (C,) with C = input.shape[1]."""
    check_tensor(input, "prelu")
    check_tensor(weight, "prelu", "weight")
    return ag.PReLUFn.apply(input, weight)


def maxout(input, pieces, return_indices=False):
    """Max over groups of `pieces` adjacent channels: (N, C*pieces, *) -> (N, C, *).

    Works for conv features (N, C*k, H, W) and linear features (N, F*k). Not in torch.
    """
    check_tensor(input, "maxout")
    if isinstance(pieces, bool) or not isinstance(pieces, int) or pieces < 1:
        raise ValueError(f"[maxout] pieces must be a positive int, got {pieces!r}")
    y, indices = ag.MaxoutFn.apply(input, pieces)
    return (y, indices) if return_indices else y


# ---- normalisation and regularisation ----
def _dropout(input, p, training, op, channelwise=False, alpha=False, inplace=False):
    """The dropout family on one kernel: the keep mask comes from a 64-bit seed drawn from pycnn's global
    generator (so pc.manual_seed reproduces it); channelwise drops whole channels, alpha is AlphaDropout."""
    check_tensor(input, op)
    p = probability(p, "dropout", op)
    if channelwise and input.ndim not in (3, 4):
        raise ValueError(f"[{op}] expected input of shape (N, C, H, W) or (N, C, L), got {input.shape}")
    if not training or p == 0:
        return input
    generator = cuda_generator() if input.is_cuda else default_generator()
    seed = int(generator.numpy.integers(0, 2**63))  # a host draw: the mask itself is made on the device
    return _maybe_inplace(input, ag.DropoutFn.apply(input, float(p), seed, channelwise, alpha), inplace, op + "_")


def dropout(input, p=0.5, training=True, inplace=False):
    """Zeroes each element with probability p and scales the rest by 1/(1-p); identity when not training."""
    return _dropout(input, p, training, "dropout", inplace=inplace)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, H, W) (or (N, C, L)) with probability p, scaling the rest by 1/(1-p)."""
    return _dropout(input, p, training, "dropout2d", channelwise=True, inplace=inplace)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps SELU's zero mean and unit variance (torch's formula); identity when not training."""
    return _dropout(input, p, training, "alpha_dropout", alpha=True, inplace=inplace)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch norm over (N, C), (N, C, L) or (N, C, H, W), per channel C.

    training=True normalises with the batch statistics and, when running_mean/running_var are given, updates
    them in place: running = (1 - momentum) * running + momentum * batch (running_var gets the unbiased
    variance). training=False normalises with the running statistics.
    """
    check_tensor(input, "batch_norm")
    if (running_mean is None) != (running_var is None):
        raise ValueError("[batch_norm] running_mean and running_var must both be given or both be None")
    rm = running_mean._impl if running_mean is not None else None
    rv = running_var._impl if running_var is not None else None
    if momentum is None:
        momentum = 0.0
    stored = rm is not None and rm.dtype in LOW_PRECISION  # float16 statistics: updated in float32, stored back
    if stored:
        rm, rv = rm.to_dtype("float32"), rv.to_dtype("float32")
    out = ag.BatchNormFn.apply(input, weight, bias, rm, rv, bool(training), float(momentum), float(eps))
    if stored and training:
        _C.copy_(running_mean._impl, rm)
        _C.copy_(running_var._impl, rv)
    return out


def _normalized_ndim(normalized_shape, input, op):
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if len(shape) == 0 or tuple(input.shape[-len(shape) :]) != shape or len(shape) > input.ndim:
        raise ValueError(f"[{op}] input of shape {input.shape} does not end in normalized_shape {shape}")
    return len(shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalises over the trailing dims given by normalized_shape; weight/bias have that shape."""
    check_tensor(input, "layer_norm")
    shape = normalized_shape if isinstance(normalized_shape, (tuple, list)) else (normalized_shape,)
    shape_arg((shape,), "layer_norm")  # ints, or a TypeError naming the op
    nd = _normalized_ndim(normalized_shape, input, "layer_norm")
    return ag.LayerNormFn.apply(input, nd, weight, bias, float(eps))


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Splits the C channels of (N, C, *) into num_groups groups, each normalised per sample."""
    check_tensor(input, "group_norm")
    return ag.GroupNormFn.apply(input, int(num_groups), weight, bias, float(eps))


def instance_norm(
    input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True, momentum=0.1, eps=1e-5
):
    """Normalises every (sample, channel) plane of (N, C, *) by its own statistics (use_input_stats=True,
    updating the given running stats with the batch average of the per-instance ones), or by the running
    statistics (use_input_stats=False)."""
    check_tensor(input, "instance_norm")
    if input.ndim < 3:
        raise ValueError(f"[instance_norm] expected input of shape (N, C, *) with spatial dims, got {input.shape}")
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("[instance_norm] use_input_stats=False needs running_mean and running_var")
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    C = input.shape[1]
    for name, param in (("weight", weight), ("bias", bias)):
        if param is not None and tuple(param.shape) != (C,):
            raise ValueError(f"[instance_norm] expected {name} of shape ({C},), got {tuple(param.shape)}")
    y = ag.GroupNormFn.apply(input, C, weight, bias, float(eps))
    if running_mean is not None and running_var is not None:
        _update_instance_running_stats(input, running_mean, running_var, momentum)
    return y


def _update_instance_running_stats(input, running_mean, running_var, momentum):
    """running = (1 - m) running + m * mean over samples of the per-instance mean / unbiased variance
    (torch's rule), computed by the batch norm kernel on the (1, N*C, S) view."""
    N, C = input.shape[0], input.shape[1]
    x = input.detach()._impl.contiguous()
    flat = x.view([1, N * C, -1])
    m_rep = _C.full([N * C], 0.0, x.dtype, x.device)
    v_rep = _C.full([N * C], 1.0, x.dtype, x.device)
    # momentum 1: the "running" stats become exactly this batch's per-instance mean / unbiased variance
    _C.batch_norm_forward(flat, None, None, m_rep, v_rep, True, 1.0, 0.0)
    mean_c = _C.sum(m_rep.view([N, C]), [0], False)
    var_c = _C.sum(v_rep.view([N, C]), [0], False)
    scale = _C.full([], momentum / N, x.dtype, x.device)
    keep = _C.full([], 1.0 - momentum, x.dtype, x.device)
    for buf, stat in ((running_mean, mean_c), (running_var, var_c)):
        new = _C.binary("add", _C.binary("mul", buf._impl, keep), _C.binary("mul", stat, scale))
        _C.copy_(buf._impl, new)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """b_c = a_c / (k + alpha / size * sum of a^2 over the `size` channels around c) ** beta, zero padded."""
    check_tensor(input, "local_response_norm")
    if input.ndim < 3:
        raise ValueError(f"[local_response_norm] expected input with 3 or more dims (N, C, *), got {input.shape}")
    return ag.LocalResponseNormFn.apply(input, int(size), float(alpha), float(beta), float(k))


# ---- pooling variants and upsampling ----
def _adaptive_size(input, output_size, op):
    """output_size as an (OH, OW) pair of ints; None entries keep the input's size."""
    check_tensor(input, op)
    if input.ndim not in (3, 4):
        raise ValueError(f"[{op}] expected input of shape (N, C, H, W) or (C, H, W), got {input.shape}")
    output_size_arg(output_size, op)
    size = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    return tuple(input.shape[-2 + i] if s is None else check_int64(s, "output_size", op) for i, s in enumerate(size))


def adaptive_avg_pool2d(input, output_size):
    """Mean over torch's adaptive windows: (N, C, H, W) or (C, H, W) -> (.., OH, OW)."""
    return ag.AdaptiveAvgPool2dFn.apply(input, _adaptive_size(input, output_size, "adaptive_avg_pool2d"))


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over torch's adaptive windows; indices are flat h*W+w positions, as max_pool2d's."""
    y, indices = ag.AdaptiveMaxPool2dFn.apply(input, _adaptive_size(input, output_size, "adaptive_max_pool2d"))
    return (y, indices) if return_indices else y


def pixel_shuffle(input, upscale_factor):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r), r = upscale_factor."""
    check_tensor(input, "pixel_shuffle")
    return ag.PixelShuffleFn.apply(input, positive_int(upscale_factor, "upscale_factor", "pixel_shuffle"))


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W), r = downscale_factor."""
    check_tensor(input, "pixel_unshuffle")
    return ag.PixelUnshuffleFn.apply(input, positive_int(downscale_factor, "downscale_factor", "pixel_unshuffle"))


def interpolate(
    input,
    size=None,
    scale_factor=None,
    mode="nearest",
    align_corners=None,
    recompute_scale_factor=None,
    antialias=False,
):
    """Resamples (N, C, H, W) to size, or to floor(H * scale_factor) x floor(W * scale_factor).

    Args:
        size (int or (int, int)): output size; exactly one of size and scale_factor is given.
        scale_factor (float or (float, float)): multiplier of the spatial size; unless recompute_scale_factor,
            it (not the rounded size ratio) sets the source coordinates, as in torch.
        mode (str): 'nearest', 'nearest-exact' or 'bilinear'.
        align_corners (bool): bilinear only; True maps corner pixel centres onto each other. Default False.
    """
    check_tensor(input, "interpolate")
    one_of(mode, INTERP_MODES, "mode", "interpolate")
    if input.ndim != 4:
        raise ValueError(
            f"[interpolate] expected input of shape (N, C, H, W) (only 2-D resampling is supported), got {input.shape}"
        )
    if antialias:
        raise ValueError("[interpolate] antialias=True is not supported")
    if align_corners is not None and mode != "bilinear":
        raise ValueError("[interpolate] align_corners can only be set with mode='bilinear'")
    align_corners = bool(align_corners)
    if (size is None) == (scale_factor is None):
        raise ValueError("[interpolate] exactly one of size and scale_factor must be given")
    in_size = input.shape[2:]
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("[interpolate] recompute_scale_factor is not meaningful with an explicit size")
        out = pair(size, "size", "interpolate")
        scales = (0.0, 0.0)
    else:
        sf = (scale_factor, scale_factor) if isinstance(scale_factor, (int, float)) else tuple(scale_factor)
        if len(sf) != 2 or not all(isinstance(f, (int, float)) and not isinstance(f, bool) for f in sf):
            raise ValueError(f"[interpolate] scale_factor must be a number or a pair of numbers, got {scale_factor!r}")
        if not all(0 < f < float("inf") for f in sf):
            raise ValueError(f"[interpolate] scale_factor must be positive and finite, got {scale_factor!r}")
        out = tuple(int(float(n) * float(f)) for n, f in zip(in_size, sf))  # floor: both are positive
        if any(o >= 2**63 for o in out):
            raise ValueError(f"[interpolate] scale_factor {scale_factor!r} gives output size {out}: too large")
        scales = (0.0, 0.0) if recompute_scale_factor else (float(sf[0]), float(sf[1]))
    if any(o <= 0 for o in out):
        raise ValueError(f"[interpolate] output size {out} for input {input.shape} must be positive")
    return ag.InterpolateFn.apply(input, out, mode, align_corners, scales)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated in torch in favour of interpolate; the same thing."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling: (sum over the window of x^p)^(1/p), p = norm_type (torch's formula: avg_pool2d
    of x^p times the window area, to the power 1/p; a composite, so it needs no backward of its own).
    Negative inputs with a fractional or odd p give NaN, as in torch."""
    check_tensor(input, "lp_pool2d")
    if isinstance(norm_type, bool) or not isinstance(norm_type, (int, float)) or norm_type == 0:
        raise ValueError(f"[lp_pool2d] norm_type must be a nonzero number, got {norm_type!r}")
    (kh, kw), stride, _, _ = window("lp_pool2d", kernel_size, stride)
    out = avg_pool2d(input.pow(norm_type), (kh, kw), stride, 0, ceil_mode)
    return (out * float(kh * kw)).pow(1.0 / norm_type)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Inverse of max_pool2d: input's values go to the flat indices of zeroed (.., OH, OW) planes.

    The default output size is (H - 1) * stride - 2 * padding + kernel_size; output_size (the last two
    entries count) may pick another within stride of it, as torch allows.
    """
    check_tensor(input, "max_unpool2d")
    check_tensor(indices, "max_unpool2d", "indices")
    if input.ndim not in (3, 4):
        raise ValueError(f"[max_unpool2d] expected input of shape (N, C, H, W) or (C, H, W), got {input.shape}")
    kernel = pair(kernel_size, "kernel_size", "max_unpool2d")
    stride = kernel if stride is None or stride == [] else pair(stride, "stride", "max_unpool2d")
    padding = pair(padding, "padding", "max_unpool2d")
    default = tuple((input.shape[-2 + d] - 1) * stride[d] - 2 * padding[d] + kernel[d] for d in range(2))
    if output_size is None:
        out = default
    else:
        out = tuple(output_size)
        if len(out) not in (2, input.ndim):
            raise ValueError(f"[max_unpool2d] output_size should have 2 or {input.ndim} entries, got {output_size!r}")
        out = tuple(int(o) for o in out[-2:])
        for d in range(2):
            if not default[d] - stride[d] < out[d] < default[d] + stride[d]:
                raise ValueError(
                    f"[max_unpool2d] invalid output_size {tuple(output_size)!r}: each spatial size "
                    f"must lie strictly between {tuple(s - t for s, t in zip(default, stride))} and "
                    f"{tuple(s + t for s, t in zip(default, stride))}"
                )
    return ag.MaxUnpool2dFn.apply(input, indices, out)


# ---- losses ----
def _pointwise(kind, input, target, reduction, op, weight=None, pos_weight=None, param=0.0):
    check_tensor(input, op)
    check_tensor(target, op, "target")
    one_of(reduction, REDUCTIONS + (("batchmean",) if kind.startswith("kl_div") else ()), "reduction", op)
    return ag.PointwiseLossFn.apply(input, target, weight, pos_weight, kind, reduction, float(param))


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """mean((input - target)^2); input and target of the same shape."""
    return _pointwise("mse", input, target, reduction, "mse_loss")


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """mean(|input - target|)."""
    return _pointwise("l1", input, target, reduction, "l1_loss")


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target); beta = 0 is L1."""
    return _pointwise("smooth_l1", input, target, reduction, "smooth_l1_loss", param=beta)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)."""
    return _pointwise("huber", input, target, reduction, "huber_loss", param=delta)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-w (t log x + (1 - t) log(1 - x)) for probabilities x in [0, 1]; logs are clamped at -100 as torch."""
    return _pointwise("bce", input, target, reduction, "binary_cross_entropy", weight=weight)


def binary_cross_entropy_with_logits(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None
):
    """BCE of sigmoid(input) in the stable form (1 - t) x + (1 + (p - 1) t) softplus(-x), times weight.
    pos_weight (broadcast along the last dim, e.g. (C,)) weighs the positive term."""
    return _pointwise(
        "bce_with_logits",
        input,
        target,
        reduction,
        "binary_cross_entropy_with_logits",
        weight=weight,
        pos_weight=pos_weight,
    )


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """target * (log target - input) with input log-probabilities (target log-probabilities too when
    log_target). 'mean' averages over every element (torch's default); 'batchmean' divides by input.size(0)."""
    return _pointwise("kl_div_log_target" if log_target else "kl_div", input, target, reduction, "kl_div")


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -target * (input1 - input2) + margin), target +-1; the three of the same shape."""
    check_tensor(input1, "margin_ranking_loss", "input1")
    check_tensor(input2, "margin_ranking_loss", "input2")
    if tuple(input1.shape) != tuple(input2.shape):
        raise ValueError(
            f"[margin_ranking_loss] input1 {tuple(input1.shape)} and input2 {tuple(input2.shape)} "
            "must have the same shape"
        )
    return _pointwise("margin_ranking", input1 - input2, target, reduction, "margin_ranking_loss", param=margin)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Multi-class hinge: sum_{c != y} w_y max(0, margin - x_y + x_c)^p / C per sample; input (N, C) or
    (C,), target (N,) or () int64, p 1 or 2."""
    _check_reduction(reduction, "multi_margin_loss")
    check_tensor(input, "multi_margin_loss")
    _check_target(target, "multi_margin_loss")
    if p not in (1, 2):
        raise ValueError(f"[multi_margin_loss] only p == 1 and p == 2 are supported, got {p}")
    squeeze = input.ndim == 1
    if squeeze:
        input, target = input.unsqueeze(0), target.reshape(1)
    out = ag.MultiMarginLossFn.apply(input, target, weight, int(p), float(margin), reduction)
    return out.reshape(()) if squeeze and reduction == "none" else out


# ---- tensor operations: joining, splitting, indexing, reductions with indices ----


# ---- convolution family: conv1d, transposed convolution, padding ----
def pad(input, pad, mode="constant", value=None):
    """Pads the trailing dims of input. pad is (left, right) for the last dim, then (top, bottom) for the
    one before, and so on, as in torch. mode 'constant' pads any number of dims (negative pads crop);
    'reflect', 'replicate' and 'circular' pad the last 1 (input (C, W) or (N, C, W)) or last 2 dims
    (input (C, H, W) or (N, C, H, W)).
    """
    check_tensor(input, "pad")
    if isinstance(pad, int) or not all(isinstance(p, int) and not isinstance(p, bool) for p in pad):
        raise TypeError(f"[pad] pad must be a sequence of ints, got {pad!r}")
    for p in pad:
        check_int64(p, "pad", "pad")
    one_of(mode, PAD_MODES, "mode", "pad")
    if value is None:
        value = 0.0
    elif mode != "constant" and value != 0:
        raise ValueError(f"[pad] padding value {value} is only used with mode='constant', got mode={mode!r}")
    return ag.PadFn.apply(input, list(pad), mode, float(value))


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-D convolution (the gradient of conv2d with respect to its input).

    input (N, C_in, H, W) or (C_in, H, W), weight (C_in, C_out/groups, kH, kW), bias (C_out,) ->
    (N, C_out, H_out, W_out), H_out = (H-1)*stride - 2*padding + dilation*(kH-1) + output_padding + 1.
    """
    check_tensor(input, "conv_transpose2d")
    args = [
        ntuple(v, 2, name, "conv_transpose2d")
        for v, name in (
            (stride, "stride"),
            (padding, "padding"),
            (output_padding, "output_padding"),
            (dilation, "dilation"),
        )
    ]
    groups = int_arg(groups, "groups", "conv_transpose2d")
    if input.ndim == 3:
        return ag.ConvTranspose2dFn.apply(input.unsqueeze(0), weight, bias, *args[:3], args[3], groups).squeeze(0)
    return ag.ConvTranspose2dFn.apply(input, weight, bias, *args[:3], args[3], groups)


def _conv1d_check(input, weight, op):
    check_tensor(input, op)
    check_tensor(weight, op, "weight")
    if input.ndim not in (2, 3):
        raise ValueError(f"[{op}] expected input of shape (N, C, L) or (C, L), got {tuple(input.shape)}")
    if weight.ndim != 3:
        raise ValueError(f"[{op}] expected a 3-D weight, got {tuple(weight.shape)}")


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution, as conv2d over (N, C, 1, L). input (N, C, L) or (C, L), weight (OC, C/groups, K),
    bias (OC,). padding is an int, 'valid' or 'same' (stride 1; an odd total pads the extra on the right).
    """
    _conv1d_check(input, weight, "conv1d")
    _, stride, padding_, dilation = window("conv1d", 1, stride, 0 if isinstance(padding, str) else padding, dilation, 1)
    if not isinstance(padding, str):
        padding = (0, padding_[0])
    batched = input.ndim == 3
    x = (input if batched else input.unsqueeze(0)).unsqueeze(2)
    y = conv2d(x, weight.unsqueeze(2), bias, (1, stride[0]), padding, (1, dilation[0]), groups).squeeze(2)
    return y if batched else y.squeeze(0)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 1-D convolution, as conv_transpose2d over (N, C, 1, L). weight (C_in, C_out/groups, K)."""
    _conv1d_check(input, weight, "conv_transpose1d")
    (s,), (p,), (d,) = window("conv_transpose1d", 1, stride, padding, dilation, 1)[1:]
    (op,) = ntuple(output_padding, 1, "output_padding", "conv_transpose1d")
    if input.shape[-2] != weight.shape[0]:
        raise ValueError(
            f"[conv_transpose1d] expected input with {weight.shape[0]} channels (weight {tuple(weight.shape)}), "
            f"got {tuple(input.shape)}"
        )
    batched = input.ndim == 3
    x = (input if batched else input.unsqueeze(0)).unsqueeze(2)
    y = conv_transpose2d(x, weight.unsqueeze(2), bias, (1, s), (0, p), (0, op), groups, (1, d)).squeeze(2)
    return y if batched else y.squeeze(0)


# ---- issue 14 (nnmods): composites of the ops above, so none needs a backward of its own ----
def _check_floating(input, op, name="input"):
    check_tensor(input, op, name)
    if not input.dtype.is_floating_point:
        raise TypeError(f"[{op}] expected {name} to be a floating tensor, got {input.dtype.name}")
    return input


def _reduce(loss, reduction):
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def _norm_p(p, op):
    """A vector norm's order: a positive number or inf (the orders these composites support)."""
    p = number_arg(p, op, "p")
    if not p > 0:
        raise ValueError(f"[{op}] p must be positive (or inf), got {p}")
    return p


def _vector_norm(x, p, dim, keepdim=False, floor=None):
    """||x||_p along dim; with floor, max(||x||_p, floor), clamped before the root (max(s, floor^p)^(1/p) is the
    same value) so that a zero vector gets a zero gradient instead of the root's infinite slope times zero."""
    if p == float("inf"):
        n = x.abs().max(dim, keepdim).values
        return n if floor is None else n.clamp(min=floor)
    s = (
        (x * x).sum(dim, keepdim)
        if p == 2
        else x.abs().sum(dim, keepdim)
        if p == 1
        else x.abs().pow(p).sum(dim, keepdim)
    )
    if floor is not None:
        s = s.clamp(min=floor**p)
    return s if p == 1 else s.sqrt() if p == 2 else s.pow(1.0 / p)


def bilinear(input1, input2, weight, bias=None):
    """y = x1^T A x2 + b for every out feature: input1 (*, in1), input2 (*, in2), weight (out, in1, in2),
    bias (out,) -> (*, out). Two matmuls: x1 against A laid out as (in1, out * in2), then a batched
    (out, in2) @ (in2, 1) per row of x2."""
    op = "bilinear"
    for name, t in (("input1", input1), ("input2", input2), ("weight", weight)):
        _check_floating(t, op, name)
    if weight.ndim != 3:
        raise ValueError(f"[{op}] expected weight of shape (out, in1, in2), got {tuple(weight.shape)}")
    out_f, in1, in2 = weight.shape
    if input1.ndim == 0 or input2.ndim == 0 or input1.shape[-1] != in1 or input2.shape[-1] != in2:
        raise ValueError(
            f"[{op}] expected input1 (*, {in1}) and input2 (*, {in2}) for weight {tuple(weight.shape)}, got "
            f"{tuple(input1.shape)} and {tuple(input2.shape)}"
        )
    lead = tuple(input1.shape[:-1])
    if lead != tuple(input2.shape[:-1]):
        raise ValueError(f"[{op}] input batch dims differ: {tuple(input1.shape)} and {tuple(input2.shape)}")
    if bias is not None and tuple(_check_floating(bias, op, "bias").shape) != (out_f,):
        raise ValueError(f"[{op}] expected bias of shape ({out_f},), got {tuple(bias.shape)}")
    rows = math.prod(lead)
    a = weight.permute(1, 0, 2).reshape(in1, out_f * in2)
    t = input1.reshape(rows, in1).matmul(a).reshape(rows, out_f, in2)  # t[b, o, j] = sum_i x1[b, i] A[o, i, j]
    y = t.matmul(input2.reshape(rows, in2, 1)).reshape(rows, out_f)
    if bias is not None:
        y = y + bias
    return y.reshape(*lead, out_f)


def _pool1d(input, op, kernel_size, stride, padding, dilation, ceil_mode):
    """(N, C, L) or (C, L) as (.., C, 1, L) for the 2-D kernels, with the 1-D window checked here so that
    errors name the 1-D op: returns (input view, kernel, stride, padding, dilation) as ints."""
    check_tensor(input, op)
    if input.ndim not in (2, 3):
        raise ValueError(f"[{op}] expected input of shape (N, C, L) or (C, L), got {tuple(input.shape)}")
    stride = None if stride is None or stride == [] else stride
    (k,), s, (p,), (d,) = window(op, kernel_size, stride, padding, dilation, n=1)
    s = k if s is None else s[0]
    if p > (d * (k - 1) + 1) // 2:
        raise ValueError(f"[{op}] padding should be at most half of the effective kernel size, got padding={p}, "
                         f"kernel_size={k} and dilation={d}")  # fmt: skip
    span = input.shape[-1] + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= input.shape[-1] + p:  # the last window must start inside the input
        out -= 1
    if span < 0 or out < 1:
        raise ValueError(f"[{op}] input of shape {tuple(input.shape)} is too small for kernel_size={k}, "
                         f"padding={p}, dilation={d}: the output would have length {out}")  # fmt: skip
    return input.unsqueeze(-2), k, s, p, d


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over windows of (N, C, L) or (C, L); indices (return_indices) are positions along L."""
    x, k, s, p, d = _pool1d(input, "max_pool1d", kernel_size, stride, padding, dilation, ceil_mode)
    y, indices = ag.MaxPool2dFn.apply(x, (1, k), (1, s), (0, p), (1, d), bool(ceil_mode))
    y, indices = y.squeeze(-2), indices.squeeze(-2)
    return (y, indices) if return_indices else y


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over windows of (N, C, L) or (C, L); padding is zeros (counted unless count_include_pad=False)."""
    x, k, s, p, _ = _pool1d(input, "avg_pool1d", kernel_size, stride, padding, 1, ceil_mode)
    if p > k // 2:
        raise ValueError(
            f"[avg_pool1d] padding should be at most half of kernel_size, got padding={p}, kernel_size={k}"
        )
    return ag.AvgPool2dFn.apply(x, (1, k), (1, s), (0, p), bool(ceil_mode), bool(count_include_pad), 0).squeeze(-2)


def adaptive_avg_pool1d(input, output_size):
    """Mean over torch's adaptive windows along L: (N, C, L) or (C, L) -> (.., output_size)."""
    op = "adaptive_avg_pool1d"
    check_tensor(input, op)
    if input.ndim not in (2, 3) or input.shape[-1] == 0:
        raise ValueError(f"[{op}] expected input of shape (N, C, L) or (C, L) with L > 0, got {tuple(input.shape)}")
    (size,) = ntuple(output_size, 1, "output_size", op)
    if size <= 0:
        raise ValueError(f"[{op}] output_size must be positive, got {output_size!r}")
    return ag.AdaptiveAvgPool2dFn.apply(input.unsqueeze(-2), (1, size)).squeeze(-2)


def mish(input, inplace=False):
    """x * tanh(softplus(x)) (Misra 2019), elementwise."""
    _check_floating(input, "mish")
    # in place, the composite's nodes must save a copy: input's memory is about to hold the result
    x = input.clone() if inplace and is_grad_enabled() and input.requires_grad else input
    return _maybe_inplace(input, x * tanh(softplus(x)), inplace, "mish_")


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x limited to [min_val, max_val], elementwise."""
    _check_floating(input, "hardtanh")
    lo, hi = number_arg(min_val, "hardtanh", "min_val"), number_arg(max_val, "hardtanh", "max_val")
    if lo > hi:
        raise ValueError(f"[hardtanh] min_val {min_val} must not exceed max_val {max_val}")
    return _maybe_inplace(input, input.clamp(lo, hi), inplace, "hardtanh_")


def channel_shuffle(input, groups):
    """(N, C, *) with channels in `groups` blocks of C / groups -> channel c * groups + g takes block g's c-th
    channel (ShuffleNet): a reshape to (N, groups, C / groups, *), a transpose and a reshape back."""
    op = "channel_shuffle"
    check_tensor(input, op)
    positive_int(groups, "groups", op)
    if input.ndim < 3:
        raise ValueError(f"[{op}] expected input of shape (N, C, *) with at least 3 dims, got {tuple(input.shape)}")
    n, c, rest = input.shape[0], input.shape[1], tuple(input.shape[2:])
    if c % groups:
        raise ValueError(f"[{op}] the number of channels {c} must be divisible by groups {groups}")
    return input.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(n, c, *rest)


def _broadcast_pair(x1, x2, op):
    """x1 and x2 expanded to their broadcast shape."""
    try:
        shape = np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    except ValueError:
        raise ValueError(f"[{op}] shapes {tuple(x1.shape)} and {tuple(x2.shape)} do not broadcast") from None
    return x1.expand(*shape), x2.expand(*shape)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p along dim, eps): unit vectors along dim (zero vectors stay zero)."""
    op = "normalize"
    _check_floating(input, op)
    p = _norm_p(p, op)
    dim = wrap_dim(dim, input.ndim, op)
    x = input if input.ndim else input.reshape(1)
    y = x / _vector_norm(x, p, dim, True, number_arg(eps, op, "eps"))
    y = y if input.ndim else y.reshape(())
    if out is None:
        return y
    check_tensor(out, op, "out")
    if tuple(out.shape) != tuple(y.shape):
        raise ValueError(f"[{op}] out has shape {tuple(out.shape)}, the result {tuple(y.shape)}")
    if is_grad_enabled() and (input.requires_grad or out.requires_grad):
        raise RuntimeError(f"[{op}] out= does not support automatic differentiation (as in torch)")
    out.copy_(y)
    return out


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 * x2) / (max(||x1||, eps) * max(||x2||, eps)) along dim, after broadcasting x1 and x2
    (each is divided by its own norm first, as torch does, so the result stays within [-1, 1])."""
    op = "cosine_similarity"
    _check_floating(x1, op, "x1")
    _check_floating(x2, op, "x2")
    x1, x2 = _broadcast_pair(x1, x2, op)
    dim = wrap_dim(dim, x1.ndim, op)
    if x1.ndim == 0:
        x1, x2 = x1.reshape(1), x2.reshape(1)
    eps = number_arg(eps, op, "eps")
    return ((x1 / _vector_norm(x1, 2, dim, True, eps)) * (x2 / _vector_norm(x2, 2, dim, True, eps))).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p along the last dim (after broadcasting): (N, D) and (N, D) -> (N,)."""
    op = "pairwise_distance"
    _check_floating(x1, op, "x1")
    _check_floating(x2, op, "x2")
    p = _norm_p(p, op)
    x1, x2 = _broadcast_pair(x1, x2, op)
    d = x1 - x2 + number_arg(eps, op, "eps")
    scalar = d.ndim == 0
    n = _vector_norm(d.reshape(1) if scalar else d, p, -1, bool_arg(keepdim, "keepdim", op))
    return n.reshape(()) if scalar and not keepdim else n


def _no_legacy_reduction(size_average, reduce, op):
    if size_average is not None or reduce is not None:
        raise NotImplementedError(f"[{op}] size_average and reduce are deprecated; use reduction=")


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where it is -1 (0 elsewhere), with
    cos = x1.x2 / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12)) (torch's formula). input1/input2 (N, D) with target
    (N,), or (D,) with a 0-d target."""
    op = "cosine_embedding_loss"
    _no_legacy_reduction(size_average, reduce, op)
    _check_reduction(reduction, op)
    _check_floating(input1, op, "input1")
    _check_floating(input2, op, "input2")
    check_tensor(target, op, "target")
    margin = number_arg(margin, op, "margin")
    if target.ndim not in (0, 1):
        raise ValueError(f"[{op}] expected a 0-d or 1-d target, got {tuple(target.shape)}")
    want = target.ndim + 1
    if input1.ndim != want or input2.ndim != want or tuple(input1.shape) != tuple(input2.shape):
        raise ValueError(
            f"[{op}] a {target.ndim}-d target expects two {want}-d inputs of the same shape, got "
            f"{tuple(input1.shape)} and {tuple(input2.shape)}"
        )
    if target.ndim == 1 and target.shape[0] != input1.shape[0]:
        raise ValueError(f"[{op}] target {tuple(target.shape)} and input1 {tuple(input1.shape)} differ in batch size")
    d = target.ndim
    dot = (input1 * input2).sum(d)
    cos = dot / (((input1 * input1).sum(d) + 1e-12) * ((input2 * input2).sum(d) + 1e-12)).sqrt()
    loss = _tops.where(target == 1, 1.0 - cos, 0.0) + _tops.where(target == -1, (cos - margin).clamp(min=0.0), 0.0)
    return _reduce(loss, reduction)


def triplet_margin_loss(
    anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None, reduce=None, reduction="mean"
):
    """max(0, margin + d(a, p) - d(a, n)) with d the pairwise_distance (p, eps); swap uses min(d(a, n), d(p, n))
    as the negative distance (Balntas et al. 2016). anchor, positive, negative: (N, D) or (D,)."""
    op = "triplet_margin_loss"
    _no_legacy_reduction(size_average, reduce, op)
    _check_reduction(reduction, op)
    for name, t in (("anchor", anchor), ("positive", positive), ("negative", negative)):
        _check_floating(t, op, name)
    if not number_arg(margin, op, "margin") > 0:
        raise ValueError(f"[{op}] margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ValueError(
            f"[{op}] anchor, positive and negative must have the same number of dims, got anchor "
            f"{tuple(anchor.shape)}, positive {tuple(positive.shape)} and negative {tuple(negative.shape)}"
        )
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if bool_arg(swap, "swap", op):
        d_neg = d_neg.minimum(pairwise_distance(positive, negative, p, eps))
    return _reduce((d_pos - d_neg + float(margin)).clamp(min=0.0), reduction)


# ---- conv3d, unfold, fold (their own modules: nn/_conv3d.py, nn/fold.py) ----
from ._conv3d import conv3d  # noqa: F401  (re-exported: F.conv3d)
from .fold import fold, unfold  # noqa: F401  (re-exported: F.fold, F.unfold)

# ---- spatial transformers (nn/spatial.py) ----
from .spatial import affine_grid, grid_sample  # noqa: F401 (re-exported)
