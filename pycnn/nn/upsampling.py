"""Resampling layers (NCHW) with torch.nn's names and arguments: Upsample (nearest / bilinear),
UpsamplingNearest2d, UpsamplingBilinear2d (align_corners=True, as torch), PixelShuffle and PixelUnshuffle, and
their channel-rearranging relative ChannelShuffle.

All are stateless wrappers around pycnn.nn.functional.interpolate / pixel_shuffle / pixel_unshuffle.
"""

from .._convert import number_arg
from . import functional as F
from ._arguments import INTERP_MODES, one_of, positive_int
from .module import Module

__all__ = [
    "ChannelShuffle",
    "PixelShuffle",
    "PixelUnshuffle",
    "Upsample",
    "UpsamplingBilinear2d",
    "UpsamplingNearest2d",
]


class Upsample(Module):
    """Resamples (N, C, H, W) to `size` or by `scale_factor`.

    Args:
        size (int or (int, int), optional): output (H, W).
        scale_factor (float or (float, float), optional): multiplier of (H, W); the output is floored.
        mode (str): 'nearest' (default), 'nearest-exact' or 'bilinear'.
        align_corners (bool, optional): bilinear only. Default: False.
        recompute_scale_factor (bool, optional): take the coordinate scale from the rounded sizes.
    Shapes:
        (N, C, H, W) -> (N, C, H_out, W_out)
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        op = type(self).__name__
        one_of(mode, INTERP_MODES, "mode", op)
        if (size is None) == (scale_factor is None):
            raise ValueError(f"[{op}] expected exactly one of size and scale_factor, got {size!r} and {scale_factor!r}")
        if size is not None:
            for s in size if isinstance(size, (tuple, list)) else (size,):
                positive_int(s, "size", op)
        else:
            for f in scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor,):
                if not 0 < number_arg(f, op, "scale_factor") < float("inf"):
                    raise ValueError(f"[{op}] scale_factor must be positive and finite, got {scale_factor!r}")
        self.size = size
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, (int, float)) else scale_factor
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, x):
        return F.interpolate(
            x,
            self.size,
            self.scale_factor,
            self.mode,
            self.align_corners,
            recompute_scale_factor=self.recompute_scale_factor,
        )

    def extra_repr(self):
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Upsample with mode='nearest'."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Upsample with mode='bilinear' and align_corners=True (torch's choice for this class)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class PixelShuffle(Module):
    """Sub-pixel rearrangement (*, C*r*r, H, W) -> (*, C, H*r, W*r), r = upscale_factor."""

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = positive_int(upscale_factor, "upscale_factor", "PixelShuffle")

    def forward(self, x):
        return F.pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """The inverse of PixelShuffle: (*, C, H*r, W*r) -> (*, C*r*r, H, W), r = downscale_factor."""

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = positive_int(downscale_factor, "downscale_factor", "PixelUnshuffle")

    def forward(self, x):
        return F.pixel_unshuffle(x, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """Interleaves the channels of `groups` blocks (ShuffleNet): (N, C, *) -> (N, C, *), C divisible by groups."""

    def __init__(self, groups):
        super().__init__()
        self.groups = positive_int(groups, "groups", "ChannelShuffle")

    def forward(self, x):
        return F.channel_shuffle(x, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"
