"""Vision ops with torchvision.ops names and semantics: deform_conv2d and the DeformConv2d layer.

offset = conv_offset(x)                          # (N, 2*offset_groups*kH*kW, OH, OW)
y = pycnn.ops.DeformConv2d(C, OC, 3, padding=1)(x, offset)
"""

from .. import autograd_ops as ag
from .._convert import check_tensor
from ..nn import init
from ..nn._arguments import conv_channels, pair, window
from ..nn.module import Module
from ..nn.parameter import new_parameter

__all__ = ["DeformConv2d", "deform_conv2d"]


def deform_conv2d(input, offset, weight, bias=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), mask=None):
    """Deformable convolution v1 (mask None) and v2, as torchvision.ops.deform_conv2d.

    input (N, C, H, W); offset (N, 2*offset_groups*kH*kW, OH, OW), a (dy, dx) pair per kernel tap, offset
    groups splitting the channels; mask (N, offset_groups*kH*kW, OH, OW) or None; weight
    (OC, C/groups, kH, kW), groups = C / weight.shape[1]; bias (OC,) or None. Samples are bilinear, zero
    outside the image.
    """
    op = "deform_conv2d"
    check_tensor(input, op)
    check_tensor(offset, op, "offset")
    check_tensor(weight, op, "weight")
    if mask is not None:
        check_tensor(mask, op, "mask")
    if bias is not None:
        check_tensor(bias, op, "bias")
    stride = pair(stride, "stride", op)
    padding = pair(padding, "padding", op)
    dilation = pair(dilation, "dilation", op)
    return ag.DeformConv2dFn.apply(input, offset, mask, weight, bias, stride, padding, dilation)


class DeformConv2d(Module):
    """The layer of deform_conv2d, as torchvision.ops.DeformConv2d: forward(input, offset, mask=None).

    weight (out_channels, in_channels // groups, kH, kW) ~ kaiming_uniform(a=sqrt(5)), bias (out_channels,)
    ~ U(+-1/sqrt(fan_in)).
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=True,
        dtype=None,
        device=None,
    ):
        super().__init__()
        op = "DeformConv2d"
        conv_channels(in_channels, out_channels, groups, op)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size, self.stride, self.padding, self.dilation = window(op, kernel_size, stride, padding, dilation)
        self.groups = groups
        self.weight = new_parameter((out_channels, in_channels // groups) + self.kernel_size, dtype, device)
        if bias:
            self.bias = new_parameter((out_channels,), dtype, device)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.layer_default_(self.weight, self.bias)

    def forward(self, input, offset, mask=None):
        return deform_conv2d(
            input,
            offset,
            self.weight,
            self.bias,
            stride=self.stride,
            padding=self.padding,
            dilation=self.dilation,
            mask=mask,
        )

    def extra_repr(self):
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, dilation={self.dilation}"
        )
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s
