"""conv3d, torch.nn.functional's 3-D convolution, and its Function (the layer is nn.Conv3d in conv.py).
A module of its own so that functional.py can re-export it: it needs nothing from functional.
"""

from .. import _C
from .. import autograd_ops as ag
from .._convert import check_tensor, int_arg
from ..autograd import Function
from ._arguments import conv_padding, ntuple

__all__ = ["conv3d"]


class Conv3dFn(Function):
    """One call into the core each way: conv3d_forward, and conv3d_backward for (dx, dw, db)."""

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, dilation, groups):
        ctx.save_for_backward(x, w)
        ctx.args = (stride, padding, dilation, groups)
        ctx.has_bias = b is not None
        return _C.conv3d_forward(x, w, b, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, dout):
        x, w = ctx.saved
        need = ctx.needs_input_grad
        return _C.conv3d_backward(dout, x, w, *ctx.args, need[0], need[1], ctx.has_bias and need[2])


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution. input (N, C, D, H, W) or (C, D, H, W), weight (OC, C/groups, kD, kH, kW), bias (OC,).

    padding may be an int, 3 ints, 'valid' (no padding) or 'same' (output size = input size; stride 1).
    """
    check_tensor(input, "conv3d")
    check_tensor(weight, "conv3d", "weight")
    if bias is not None:
        check_tensor(bias, "conv3d", "bias")
    stride = ntuple(stride, 3, "stride", "conv3d")
    dilation = ntuple(dilation, 3, "dilation", "conv3d")
    kernel = tuple(weight.shape[2:]) if weight.ndim == 5 else (1, 1, 1)  # a bad weight: the core names it
    pads = conv_padding(padding, kernel, stride, dilation, "conv3d")
    if any(before != after for before, after in pads):
        # 'same' with an odd total: the kernel pads symmetrically, so pad the extra voxel explicitly first
        input = ag.PadFn.apply(input, [p for lr in reversed(pads) for p in lr], "constant", 0.0)
        pads = [(0, 0)] * 3
    padding = tuple(before for before, _ in pads)
    groups = int_arg(groups, "groups", "conv3d")
    if input.ndim == 4:
        return Conv3dFn.apply(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    return Conv3dFn.apply(input, weight, bias, stride, padding, dilation, groups)
