"""2-D convolution layer (NCHW), a thin Module around functional.conv2d.

Parameter names, shapes and default initialisation follow torch.nn.Conv2d:
weight (out_channels, in_channels // groups, kH, kW), bias (out_channels,).
"""
import math

from . import functional as F
from . import init
from .linear import _new_param
from .module import Module

__all__ = ["Conv2d"]


def _pair(value, name):
    """Normalise an int or 2-sequence of ints to a 2-tuple."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"[Conv2d] {name} must be an int or a pair of ints, got {value!r}")
        out = tuple(value)
    else:
        out = (value, value)
    for v in out:
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"[Conv2d] {name} must be an int or a pair of ints, got {value!r}")
    return out


class Conv2d(Module):
    """2-D convolution over an (N, C_in, H, W) input.

    Args:
        in_channels (int): C_in.
        out_channels (int): C_out.
        kernel_size (int or (int, int)): kernel height and width.
        stride (int or (int, int)): Default: 1.
        padding (int, (int, int), 'valid' or 'same'): zero padding on each side. 'same' needs stride 1
            and an even total padding dilation * (k - 1) per dimension. Default: 0.
        dilation (int or (int, int)): Default: 1.
        groups (int): in_channels and out_channels must both be divisible by it. Default: 1.
        bias (bool): learn a per-output-channel bias. Default: True.
        padding_mode (str): only 'zeros' is implemented; 'reflect', 'replicate' and 'circular' raise
            NotImplementedError.
        device, dtype: where and in which floating dtype to create the parameters.
    Shapes:
        input (N, C_in, H, W) -> output (N, C_out, H_out, W_out) with
        H_out = floor((H + 2 * padding[0] - dilation[0] * (kH - 1) - 1) / stride[0] + 1), same for W.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"[Conv2d] {name} must be a positive int, got {value!r}")
        if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"[Conv2d] groups must be a positive integer, got {groups!r}")
        if in_channels % groups != 0:
            raise ValueError(f"[Conv2d] in_channels must be divisible by groups (in_channels={in_channels}, "
                             f"groups={groups})")
        if out_channels % groups != 0:
            raise ValueError("[Conv2d] out_channels must be divisible by groups "
                             f"(out_channels={out_channels}, groups={groups})")
        valid_modes = ("zeros", "reflect", "replicate", "circular")
        if padding_mode not in valid_modes:
            raise ValueError(f"[Conv2d] padding_mode must be one of {valid_modes}, but got "
                             f"padding_mode='{padding_mode}'")
        if padding_mode != "zeros":
            raise NotImplementedError(f"[Conv2d] padding_mode='{padding_mode}' is not implemented yet; "
                                      "only 'zeros' is supported")

        kernel_size = _pair(kernel_size, "kernel_size")
        stride = _pair(stride, "stride")
        dilation = _pair(dilation, "dilation")
        if min(kernel_size) <= 0 or min(stride) <= 0 or min(dilation) <= 0:
            raise ValueError(f"[Conv2d] kernel_size, stride and dilation must be positive, got "
                             f"kernel_size={kernel_size}, stride={stride}, dilation={dilation}")
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"[Conv2d] Invalid padding string {padding!r}, should be one of "
                                 "{'valid', 'same'}")
            if padding == "same" and stride != (1, 1):
                raise ValueError("[Conv2d] padding='same' is not supported for strided convolutions")
            self._padding_pair = self._same_padding(kernel_size, dilation) if padding == "same" else (0, 0)
        else:
            self._padding_pair = _pair(padding, "padding")
            if min(self._padding_pair) < 0:
                raise ValueError(f"[Conv2d] padding must be non-negative, got {padding!r}")
            padding = self._padding_pair

        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding  # the user's spelling ('same' stays a string, as in torch)
        self.dilation = dilation
        self.groups = groups
        self.padding_mode = padding_mode
        self.weight = _new_param((out_channels, in_channels // groups) + kernel_size, dtype, device)
        if bias:
            self.bias = _new_param((out_channels,), dtype, device)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    @staticmethod
    def _same_padding(kernel_size, dilation):
        pads = []
        for k, d in zip(kernel_size, dilation):
            total = d * (k - 1)
            # torch pads the odd extra pixel on the bottom/right; our kernel pads symmetrically only.
            if total % 2 != 0:
                raise NotImplementedError("[Conv2d] padding='same' with an even effective kernel size needs "
                                          "asymmetric padding, which is not implemented")
            pads.append(total // 2)
        return tuple(pads)

    def reset_parameters(self):
        """PyTorch's default: weight ~ kaiming_uniform(a=sqrt(5)), bias ~ U(+-1/sqrt(fan_in))."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self._padding_pair,
                        dilation=self.dilation, groups=self.groups)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s
