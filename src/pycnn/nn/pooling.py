"""2-D pooling layers (NCHW): MaxPool2d and AvgPool2d with torch.nn's arguments and repr.

Both are stateless wrappers around functional.max_pool2d / avg_pool2d; stride defaults to kernel_size.
"""
from . import functional as F
from .module import Module

__all__ = ["MaxPool2d", "AvgPool2d"]


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

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


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

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, ceil_mode=self.ceil_mode,
                            count_include_pad=self.count_include_pad, divisor_override=self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
