"""The non-local block of Wang et al. 2018, "Non-local Neural Networks" (CVPR), for 2-D feature maps.

    y_i = 1 / C(x) * sum_j f(x_i, x_j) g(x_j)        z = W_z(y) + x

Built from existing differentiable ops (1x1 convolutions, reshape/permute, batched matmul, softmax, cat),
so autograd differentiates it with no extra backward code.
"""

from .._tensor_ops import cat, matmul
from . import functional as F
from . import init
from .conv import Conv2d
from .module import Module
from .normalization import BatchNorm2d
from .pooling import MaxPool2d

__all__ = ["NonLocalBlock2d"]

_MODES = ("embedded_gaussian", "gaussian", "dot_product", "concatenation")


class NonLocalBlock2d(Module):
    """Non-local block over an (B, C, H, W) input; the output has the input's shape.

    Args:
        in_channels (int): C.
        inter_channels (int or None): channels of the theta/phi/g embeddings. Default: in_channels // 2
            (at least 1).
        mode (str): the pairwise function f:
            'embedded_gaussian': softmax_j(theta(x_i)^T phi(x_j));
            'gaussian':          softmax_j(x_i^T x_j) (no theta/phi embeddings);
            'dot_product':       theta(x_i)^T phi(x_j) / N;
            'concatenation':     ReLU(w_f^T [theta(x_i), phi(x_j)]) / N,
            where N is the number of positions j (after sub-sampling).
        sub_sample (bool): max-pool (2x2) the phi and g branches, so j runs over a quarter of the positions.
            Default: False.
        bn_layer (bool): follow W_z by BatchNorm2d whose weight and bias start at zero, so the block starts
            as the identity (the paper's initialisation). Without it, W_z's own weight and bias start at
            zero instead. Default: True.
    Shapes:
        input (B, C, H, W) -> output (B, C, H, W). With sub_sample, H and W must be at least 2.
    """

    def __init__(self, in_channels, inter_channels=None, mode="embedded_gaussian", sub_sample=False, bn_layer=True):
        super().__init__()
        if not isinstance(in_channels, int) or isinstance(in_channels, bool) or in_channels < 1:
            raise ValueError(f"[NonLocalBlock2d] in_channels must be a positive int, got {in_channels!r}")
        if inter_channels is None:
            inter_channels = max(in_channels // 2, 1)
        if not isinstance(inter_channels, int) or isinstance(inter_channels, bool) or inter_channels < 1:
            raise ValueError(f"[NonLocalBlock2d] inter_channels must be a positive int, got {inter_channels!r}")
        if mode not in _MODES:
            raise ValueError(f"[NonLocalBlock2d] mode must be one of {_MODES}, got {mode!r}")
        self.in_channels = in_channels
        self.inter_channels = inter_channels
        self.mode = mode
        self.sub_sample = bool(sub_sample)
        self.bn_layer = bool(bn_layer)

        self.g = Conv2d(in_channels, inter_channels, 1)
        if mode != "gaussian":
            self.theta = Conv2d(in_channels, inter_channels, 1)
            self.phi = Conv2d(in_channels, inter_channels, 1)
        if mode == "concatenation":
            self.w_f = Conv2d(2 * inter_channels, 1, 1, bias=False)
        self.W_z = Conv2d(inter_channels, in_channels, 1)
        if self.bn_layer:
            self.bn = BatchNorm2d(in_channels)
            init.zeros_(self.bn.weight)
            init.zeros_(self.bn.bias)
        else:
            init.zeros_(self.W_z.weight)
            init.zeros_(self.W_z.bias)
        self.pool = MaxPool2d(2) if self.sub_sample else None

    def _pairwise(self, x, b, n):
        """f as a (B, N, Np) tensor, already normalised by C(x)."""
        if self.mode == "gaussian":
            theta = x.reshape(b, self.in_channels, n).permute(0, 2, 1)  # (B, N, C)
            phi = self.pool(x) if self.sub_sample else x
            phi = phi.reshape(b, self.in_channels, -1)  # (B, C, Np)
            return F.softmax(matmul(theta, phi), dim=-1)
        theta = self.theta(x).reshape(b, self.inter_channels, n)  # (B, Ci, N)
        phi = self.phi(x)
        if self.sub_sample:
            phi = self.pool(phi)
        phi = phi.reshape(b, self.inter_channels, -1)  # (B, Ci, Np)
        n_p = phi.shape[2]
        if self.mode == "embedded_gaussian":
            return F.softmax(matmul(theta.permute(0, 2, 1), phi), dim=-1)
        if self.mode == "dot_product":
            return matmul(theta.permute(0, 2, 1), phi) / n_p
        # concatenation: [theta_i, phi_j] for every pair (i, j) as a (B, 2Ci, N, Np) map, then w_f (1x1)
        ci = self.inter_channels
        pairs = cat(
            [theta.reshape(b, ci, n, 1).expand(b, ci, n, n_p), phi.reshape(b, ci, 1, n_p).expand(b, ci, n, n_p)], dim=1
        )
        return F.relu(self.w_f(pairs)).reshape(b, n, n_p) / n_p

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"[NonLocalBlock2d] expected input (B, {self.in_channels}, H, W), got shape {tuple(x.shape)}"
            )
        b, _, h, w = x.shape
        if self.sub_sample and (h < 2 or w < 2):
            raise ValueError(f"[NonLocalBlock2d] sub_sample needs H, W >= 2, got shape {tuple(x.shape)}")
        n = h * w
        f = self._pairwise(x, b, n)  # (B, N, Np)
        g = self.g(x)
        if self.sub_sample:
            g = self.pool(g)
        g = g.reshape(b, self.inter_channels, -1).permute(0, 2, 1)  # (B, Np, Ci)
        y = matmul(f, g).permute(0, 2, 1).reshape(b, self.inter_channels, h, w)  # (B, Ci, H, W)
        wy = self.W_z(y)
        if self.bn_layer:
            wy = self.bn(wy)
        return wy + x

    def extra_repr(self):
        return (
            f"in_channels={self.in_channels}, inter_channels={self.inter_channels}, mode={self.mode!r}, "
            f"sub_sample={self.sub_sample}, bn_layer={self.bn_layer}"
        )
