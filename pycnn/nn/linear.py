"""Fully connected and shape-only layers: Linear, Flatten, Identity.

Linear keeps PyTorch's layout (weight is (out_features, in_features), y = x @ weight.T + bias) and its
default initialisation, so weights copied from torch.nn.Linear give the same outputs.
"""

from .._convert import is_int
from . import functional as F
from . import init
from .module import Module
from .parameter import new_parameter

__all__ = ["Flatten", "Identity", "Linear"]


class Linear(Module):
    """Affine map y = x W^T + b.

    Args:
        in_features (int): size of the last input dimension.
        out_features (int): size of the last output dimension.
        bias (bool): learn an additive bias. Default: True.
        device, dtype: where and in which floating dtype to create the parameters (default: CPU, float32).
    Shapes:
        input (*, in_features) -> output (*, out_features); weight (out_features, in_features),
        bias (out_features,).
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not is_int(value):
                raise TypeError(f"[Linear] {name} must be a non-negative int, got {value!r}")
            if value < 0:
                raise ValueError(f"[Linear] {name} must be a non-negative int, got {value!r}")
        self.in_features = in_features
        self.out_features = out_features
        try:
            self.weight = new_parameter((out_features, in_features), dtype, device)
        except (ValueError, MemoryError) as e:  # the core names only its allocation ("[empty] ...")
            raise type(e)(f"[Linear] weight of shape ({out_features}, {in_features}): {e}") from None
        if bias:
            self.bias = new_parameter((out_features,), dtype, device)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.layer_default_(self.weight, self.bias)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Flatten(Module):
    """Flatten dimensions start_dim..end_dim into one.

    Args:
        start_dim (int): first dimension to flatten. Default: 1 (keeps the batch dimension).
        end_dim (int): last dimension to flatten. Default: -1.
    Shapes:
        (N, C, H, W) -> (N, C*H*W) with the defaults.
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        for name, value in (("start_dim", start_dim), ("end_dim", end_dim)):
            if not is_int(value):
                raise TypeError(f"[Flatten] expected {name} to be an int, got {value!r}")
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x):
        return F.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. to remove a layer). Arguments are ignored."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x
