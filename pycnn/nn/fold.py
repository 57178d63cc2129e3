"""unfold (im2col) and fold (col2im), torch.nn.functional's, and their layers nn.Unfold / nn.Fold.

unfold: (N, C, H, W) -> (N, C*kH*kW, L), column l the sliding block at output position l (L blocks, as a
convolution with this window visits). fold sums such columns back into (N, C, H, W), so fold(unfold(x)) is
x times the number of blocks covering each pixel. Each is the other's adjoint: one Function's backward is
the other's forward, both core kernels (conv2d's im2col / col2im).
"""

from .. import _C
from .._convert import check_tensor
from ..autograd import Function
from ._arguments import pair
from .module import Module

__all__ = ["Fold", "Unfold", "fold", "unfold"]


class UnfoldFn(Function):
    @staticmethod
    def forward(ctx, x, kernel, dilation, padding, stride):
        ctx.args = (kernel, dilation, padding, stride)
        ctx.size = (x.shape[2], x.shape[3])
        return _C.unfold_forward(x, kernel, dilation, padding, stride)

    @staticmethod
    def backward(ctx, dout):
        return _C.fold_forward(dout, ctx.size, *ctx.args)


class FoldFn(Function):
    @staticmethod
    def forward(ctx, col, output_size, kernel, dilation, padding, stride):
        ctx.args = (kernel, dilation, padding, stride)
        return _C.fold_forward(col, output_size, kernel, dilation, padding, stride)

    @staticmethod
    def backward(ctx, dout):
        return _C.unfold_forward(dout, *ctx.args)


def _window(op, kernel_size, dilation, padding, stride):
    """The four window arguments as (h, w) pairs; the core checks their values (positive, non-negative)."""
    return tuple(pair(v, name, op) for v, name in ((kernel_size, "kernel_size"), (dilation, "dilation"),
                                                    (padding, "padding"), (stride, "stride")))  # fmt: skip


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extracts sliding blocks: input (N, C, H, W) or (C, H, W) -> (N, C*kH*kW, L) or (C*kH*kW, L), with
    L = prod over (H, W) of floor((size + 2*padding - dilation*(k - 1) - 1) / stride + 1). Each argument is
    an int or a pair."""
    check_tensor(input, "unfold")
    args = _window("unfold", kernel_size, dilation, padding, stride)
    if input.ndim not in (3, 4):
        raise ValueError(f"[unfold] expected input of shape (N, C, H, W) or (C, H, W), got {tuple(input.shape)}")
    if input.ndim == 3:
        return UnfoldFn.apply(input.unsqueeze(0), *args).squeeze(0)
    return UnfoldFn.apply(input, *args)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sums sliding blocks into an image, unfold's adjoint: input (N, C*kH*kW, L) or (C*kH*kW, L) ->
    (N, C, *output_size) or (C, *output_size); L must be the number of blocks of that window over
    output_size."""
    check_tensor(input, "fold")
    output_size = pair(output_size, "output_size", "fold")
    args = _window("fold", kernel_size, dilation, padding, stride)
    if input.ndim not in (2, 3):
        raise ValueError(f"[fold] expected input of shape (N, C*kH*kW, L) or (C*kH*kW, L), got {tuple(input.shape)}")
    if input.ndim == 2:
        return FoldFn.apply(input.unsqueeze(0), output_size, *args).squeeze(0)
    return FoldFn.apply(input, output_size, *args)


class Unfold(Module):
    """F.unfold as a layer: Unfold(kernel_size, dilation=1, padding=0, stride=1)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        _window("Unfold", kernel_size, dilation, padding, stride)  # bad types fail here, as early as torch's
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, stride={self.stride}"


class Fold(Module):
    """F.fold as a layer: Fold(output_size, kernel_size, dilation=1, padding=0, stride=1)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        pair(output_size, "output_size", "Fold")
        _window("Fold", kernel_size, dilation, padding, stride)
        self.output_size = output_size
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
            f"padding={self.padding}, stride={self.stride}"
        )
