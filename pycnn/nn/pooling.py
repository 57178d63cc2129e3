"""2-D pooling layers (NCHW): MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d, MaxUnpool2d and
LPPool2d with torch.nn's arguments and repr; 1-D ones (NCL): MaxPool1d, AvgPool1d, AdaptiveAvgPool1d (on the
2-D kernels through an (N, C, 1, L) view).

All are stateless wrappers around pycnn.nn.functional; stride defaults to kernel_size.
"""

from .._convert import number_arg
from . import functional as F
from ._arguments import ntuple, output_size_arg, positive_int, window
from .module import Module

__all__ = [
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "LPPool2d",
    "MaxPool1d",
    "MaxPool2d",
    "MaxUnpool2d",
]


class MaxPool2d(Module):
    """Max over (kH, kW) windows.

    Args:
        kernel_size (int or (int, int)): window size.
        stride (int or (int, int), optional): Default: kernel_size.
        padding (int or (int, int)): implicit -inf padding on each side (at most half the kernel).
        dilation (int or (int, int)): spacing between window elements. Default: 1.
        return_indices (bool): also return the flat (H*W) argmax indices, as torch does.
        ceil_mode (bool): use ceil instead of floor for the output size.
    Shapes:
        (N, C, H, W) -> (N, C, H_out, W_out),
        H_out = floor((H + 2 * padding - dilation * (kH - 1) - 1) / stride + 1) (ceil with ceil_mode).
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        window("MaxPool2d", kernel_size, stride, padding, dilation)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, x):
        return F.max_pool2d(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )

    def extra_repr(self):
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(Module):
    """Mean over (kH, kW) windows.

    Args:
        kernel_size (int or (int, int)): window size.
        stride (int or (int, int), optional): Default: kernel_size.
        padding (int or (int, int)): implicit zero padding on each side.
        ceil_mode (bool): use ceil instead of floor for the output size.
        count_include_pad (bool): count padded zeros in the divisor. Default: True.
        divisor_override (int, optional): divide by this instead of the window size.
    Shapes:
        (N, C, H, W) -> (N, C, H_out, W_out), H_out = floor((H + 2 * padding - kH) / stride + 1).
    """

    def __init__(
        self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None
    ):
        super().__init__()
        window("AvgPool2d", kernel_size, stride, padding)
        if divisor_override is not None:
            positive_int(divisor_override, "divisor_override", "AvgPool2d")
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, x):
        return F.avg_pool2d(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            ceil_mode=self.ceil_mode,
            count_include_pad=self.count_include_pad,
            divisor_override=self.divisor_override,
        )

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Mean over windows chosen so that the output is output_size: cell i covers input rows
    [floor(i * H / OH), ceil((i + 1) * H / OH)).

    Args:
        output_size (int, None or (int or None, int or None)): (OH, OW); None keeps the input's size.
    Shapes:
        (N, C, H, W) or (C, H, W) -> (.., OH, OW)
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size_arg(output_size, "AdaptiveAvgPool2d")

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Max over the same windows as AdaptiveAvgPool2d.

    Args:
        output_size (int, None or (int or None, int or None)): (OH, OW); None keeps the input's size.
        return_indices (bool): also return the flat (H*W) argmax indices (for MaxUnpool2d).
    """

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = output_size_arg(output_size, "AdaptiveMaxPool2d")
        self.return_indices = return_indices

    def forward(self, x):
        return F.adaptive_max_pool2d(x, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class MaxUnpool2d(Module):
    """Partial inverse of MaxPool2d: puts each value back at its max's position, zeros elsewhere.

    Args:
        kernel_size, stride, padding: those of the MaxPool2d being inverted (stride defaults to kernel_size).
    forward(input, indices, output_size=None): indices from MaxPool2d(return_indices=True).
    Shapes:
        (N, C, H, W) -> (N, C, H_out, W_out), H_out = (H - 1) * stride - 2 * padding + kernel_size.
    """

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        window("MaxUnpool2d", kernel_size, stride, padding)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding

    def forward(self, input, indices, output_size=None):
        return F.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class LPPool2d(Module):
    """Power-average pooling: each output is (sum of x^p over the window)^(1/p).

    Args:
        norm_type (float): p; p = 1 is sum pooling, large p approaches max pooling.
        kernel_size (int or (int, int)): window size.
        stride (int or (int, int), optional): Default: kernel_size.
        ceil_mode (bool): use ceil instead of floor for the output size.
    Shapes:
        (N, C, H, W) or (C, H, W) -> (.., H_out, W_out), H_out = floor((H - kH) / stride + 1).
    """

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        if number_arg(norm_type, "LPPool2d", "norm_type") == 0:
            raise ValueError(f"[LPPool2d] norm_type must be a nonzero number, got {norm_type!r}")
        window("LPPool2d", kernel_size, stride)
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def forward(self, x):
        return F.lp_pool2d(x, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self):
        return (
            f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(Module):
    """Max over windows of length kernel_size along L.

    Args:
        kernel_size (int): window length.
        stride (int, optional): Default: kernel_size.
        padding (int): implicit -inf padding on each side (at most half the effective kernel).
        dilation (int): spacing between window elements. Default: 1.
        return_indices (bool): also return the argmax positions along L (for MaxUnpool).
        ceil_mode (bool): use ceil instead of floor for the output length.
    Shapes:
        (N, C, L) or (C, L) -> (.., L_out), L_out = floor((L + 2 * padding - dilation * (k - 1) - 1) / stride + 1).
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        window("MaxPool1d", kernel_size, stride, padding, dilation, n=1)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, x):
        return F.max_pool1d(
            x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode, self.return_indices
        )

    def extra_repr(self):
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool1d(Module):
    """Mean over windows of length kernel_size along L.

    Args:
        kernel_size (int): window length.
        stride (int, optional): Default: kernel_size.
        padding (int): implicit zero padding on each side (at most half the kernel).
        ceil_mode (bool): use ceil instead of floor for the output length.
        count_include_pad (bool): count padded zeros in the divisor. Default: True.
    Shapes:
        (N, C, L) or (C, L) -> (.., L_out), L_out = floor((L + 2 * padding - k) / stride + 1).
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        window("AvgPool1d", kernel_size, stride, padding, n=1)
        # stored as 1-tuples, as torch does (its repr shows kernel_size=(3,))
        self.kernel_size = ntuple(kernel_size, 1, "kernel_size", "AvgPool1d")
        self.stride = ntuple(stride if stride is not None else kernel_size, 1, "stride", "AvgPool1d")
        self.padding = ntuple(padding, 1, "padding", "AvgPool1d")
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, x):
        return F.avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool1d(Module):
    """Mean over windows chosen so that the output has length output_size: cell i covers
    [floor(i * L / n), ceil((i + 1) * L / n)).

    Args:
        output_size (int): n.
    Shapes:
        (N, C, L) or (C, L) -> (.., output_size)
    """

    def __init__(self, output_size):
        super().__init__()
        (size,) = ntuple(output_size, 1, "output_size", "AdaptiveAvgPool1d")
        positive_int(size, "output_size", "AdaptiveAvgPool1d")
        self.output_size = output_size

    def forward(self, x):
        return F.adaptive_avg_pool1d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"
