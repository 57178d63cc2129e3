"""Spatial transformers (Jaderberg et al., 2015): ``affine_grid`` turns a batch of affine matrices into a
sampling grid, and ``grid_sample`` reads an image at a grid's points, both with torch.nn.functional's names,
arguments and coordinate conventions. Re-exported by pycnn.nn.functional.

A spatial transformer module: a small localisation net predicts theta per image, starting at the identity,
and the image is resampled through it; everything is differentiable, theta included::

    import pycnn as pc
    import pycnn.nn as nn
    import pycnn.nn.functional as F

    class SpatialTransformer(nn.Module):
        def __init__(self, channels, size):
            super().__init__()
            self.loc = nn.Sequential(
                nn.Conv2d(channels, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4), nn.Flatten(),
                nn.Linear(8 * 16, 6),
            )
            nn.init.zeros_(self.loc[-1].weight)  # start at the identity transform
            self.loc[-1].bias.data = pc.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 0.0])

        def forward(self, x):
            theta = self.loc(x).reshape(-1, 2, 3)
            grid = F.affine_grid(theta, x.shape, align_corners=False)  # (N, H, W, 2)
            return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

    y = SpatialTransformer(3, 16)(pc.randn(2, 3, 16, 16))  # (2, 3, 16, 16)
"""

import numpy as np

from .. import _C
from .._convert import bool_arg, check_tensor, int_arg
from .._tensor_ops import matmul
from ..autograd import Function
from ..tensor import Tensor
from ._arguments import one_of

GRID_SAMPLE_MODES = tuple(_C.grid_sample_mode_names())  # "bilinear", "nearest", "bicubic"
GRID_PADDING_MODES = tuple(_C.grid_padding_mode_names())  # "zeros", "border", "reflection"


class GridSampleFn(Function):
    """x (N, C, H, W) read at grid (N, Ho, Wo, 2); gradients to both (the grid's is 0 for nearest)."""

    @staticmethod
    def forward(ctx, x, grid, mode, padding_mode, align_corners):
        ctx.save_for_backward(x, grid)
        ctx.args = (mode, padding_mode, align_corners)
        return _C.grid_sample_forward(x, grid, mode, padding_mode, align_corners)

    @staticmethod
    def backward(ctx, dout):
        x, grid = ctx.saved
        need = ctx.needs_input_grad
        return _C.grid_sample_backward(dout, x, grid, *ctx.args, need[0], need[1])


def _align_corners(align_corners, op):
    # None is torch's default, False (torch also warns that the default changed in 1.3; pycnn does not)
    return False if align_corners is None else bool_arg(align_corners, "align_corners", op)


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Samples input at the points of grid (torch.nn.functional.grid_sample, 4-D input).

    Args:
        input: (N, C, H_in, W_in), float32 or float64.
        grid: (N, H_out, W_out, 2), input's dtype: (x, y) per output point, normalised so that -1 and 1 are the
            left/top and right/bottom of the input (see align_corners).
        mode: "bilinear", "nearest" (ties round to even, as torch) or "bicubic" (Keys, a = -0.75).
        padding_mode: what points outside the input read: "zeros", "border" (the nearest edge pixel) or
            "reflection" (the input mirrored at its edges, repeatedly).
        align_corners: True: -1 and 1 are the centres of the corner pixels; False (the default, also for
            None): their outer edges.

    Returns:
        (N, C, H_out, W_out), differentiable in input and grid.
    """
    op = "grid_sample"
    check_tensor(input, op)
    check_tensor(grid, op, "grid")
    one_of(mode, GRID_SAMPLE_MODES, "mode", op)
    one_of(padding_mode, GRID_PADDING_MODES, "padding_mode", op)
    align = _align_corners(align_corners, op)
    if input.ndim == 5:
        raise ValueError(f"[{op}] 5-D (volumetric) input is not supported; expected (N, C, H, W), got {input.shape}")
    return GridSampleFn.apply(input, grid, mode, padding_mode, align)


def _base_coords(steps, align_corners):
    """torch's normalised pixel coordinates along one axis: the pixel centres in [-1, 1] (align_corners: the
    end ones at -1 and 1; else at -1 + 1/steps and 1 - 1/steps), and 0 for a single pixel."""
    if steps <= 1:
        return np.zeros(max(steps, 0))
    return np.linspace(-1.0, 1.0, steps) * (1.0 if align_corners else (steps - 1) / steps)


def affine_grid(theta, size, align_corners=None):
    """The sampling grid of a batch of affine transforms (torch.nn.functional.affine_grid).

    Args:
        theta: (N, 2, 3) for a 2-D size, (N, 3, 4) for a 3-D one; float32 or float64. Row i maps the output's
            normalised (x, y[, z], 1) to the input coordinate i.
        size: the output size, (N, C, H, W) or (N, C, D, H, W).
        align_corners: as in grid_sample, and the same value should be passed to both; None means False.

    Returns:
        (N, H, W, 2) or (N, D, H, W, 3) in theta's dtype, differentiable in theta: out[n, h, w] =
        theta[n] @ (x_w, y_h, 1), a batched matrix product with a constant base grid.
    """
    op = "affine_grid"
    check_tensor(theta, op, "theta")
    align = _align_corners(align_corners, op)
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"[{op}] expected size to be a sequence of ints, got {type(size).__name__} {size!r}")
    size = [int_arg(s, "each size", op) for s in size]
    if len(size) not in (4, 5):
        raise ValueError(f"[{op}] expected size of length 4 (N, C, H, W) or 5 (N, C, D, H, W), got {size}")
    if not theta.dtype.is_floating_point:
        raise TypeError(f"[{op}] expected theta to be float32 or float64, got {theta.dtype}")
    rows = len(size) - 2  # 2 for images, 3 for volumes
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (rows, rows + 1):
        raise ValueError(
            f"[{op}] expected theta of shape (N, {rows}, {rows + 1}) for size {size}, got {tuple(theta.shape)}"
        )
    if min(size) <= 0:
        raise ValueError(f"[{op}] expected a positive output size, got {size}")
    if theta.shape[0] != size[0]:
        raise ValueError(
            f"[{op}] theta {tuple(theta.shape)} holds {theta.shape[0]} transforms, size {size} asks for {size[0]}"
        )
    spatial = size[2:]
    # base[..., :] = (x, y[, z], 1) at each output point, x varying fastest (the last dim)
    axes = [_base_coords(s, align) for s in reversed(spatial)]
    mesh = np.meshgrid(*reversed(axes), indexing="ij")[::-1]  # x, y[, z], each of shape spatial
    base = np.stack([*mesh, np.ones(spatial)], axis=-1).reshape(1, -1, rows + 1)
    base = Tensor(base, dtype=theta.dtype, device=theta.device)
    return matmul(base, theta.transpose(1, 2)).reshape(size[0], *spatial, rows)
