"""Dropout layers: Dropout (elements), Dropout2d (whole channels), AlphaDropout (for SELU networks).

All are the identity in eval(). In training each call draws a 64-bit seed from pycnn's global generator and
the C++ kernel derives the mask from (seed, index), so pc.manual_seed reproduces it and the thread count
does not change it; the backward regenerates the same mask from the seed.
"""

from . import functional as F
from ._arguments import probability
from .module import Module

__all__ = ["AlphaDropout", "Dropout", "Dropout2d"]


class _DropoutNd(Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        probability(p, "dropout", type(self).__name__)
        self.p = p
        self.inplace = inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zeroes each element with probability p and scales the others by 1/(1-p). Any shape."""

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zeroes whole channels of (N, C, H, W) (or (N, C, L)) with probability p, scaling the rest by 1/(1-p)."""

    def forward(self, x):
        return F.dropout2d(x, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Dropout that keeps the zero mean and unit variance of SELU activations: dropped elements are set
    to SELU's negative saturation value, then an affine map a * y + b restores the moments (torch's
    formula)."""

    def forward(self, x):
        return F.alpha_dropout(x, self.p, self.training, self.inplace)
