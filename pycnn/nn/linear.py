"""Fully connected and shape-only layers: Linear, Bilinear, Flatten, Unflatten, Identity.

Linear keeps PyTorch's layout (weight is (out_features, in_features), y = x @ weight.T + bias) and its
default initialisation, so weights copied from torch.nn.Linear give the same outputs.
"""

import math

from .._convert import is_int, wrap_dim
from . import functional as F
from . import init
from .module import Module
from .parameter import new_parameter

__all__ = ["Bilinear", "Flatten", "Identity", "Linear", "Unflatten"]


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


class Bilinear(Module):
    """y = x1^T A x2 + b, one (in1, in2) matrix A per out feature.

    Args:
        in1_features (int), in2_features (int): sizes of the last dims of the two inputs.
        out_features (int): size of the last output dim.
        bias (bool): learn an additive bias. Default: True.
        device, dtype: where and in which floating dtype to create the parameters (default: CPU, float32).
    Shapes:
        input1 (*, in1_features), input2 (*, in2_features) -> (*, out_features); weight
        (out_features, in1_features, in2_features), bias (out_features,); both start U(+-1/sqrt(in1_features)),
        as torch's.
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        sizes = (("in1_features", in1_features), ("in2_features", in2_features), ("out_features", out_features))
        for name, value in sizes:
            if not is_int(value):
                raise TypeError(f"[Bilinear] {name} must be a non-negative int, got {value!r}")
            if value < 0:
                raise ValueError(f"[Bilinear] {name} must be a non-negative int, got {value!r}")
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        self.weight = new_parameter((out_features, in1_features, in2_features), dtype, device)
        if bias:
            self.bias = new_parameter((out_features,), dtype, device)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.in1_features) if self.in1_features > 0 else 0.0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )


class Unflatten(Module):
    """Splits dimension dim into unflattened_size (the inverse of Flatten).

    Args:
        dim (int): the dimension to split (negative counts from the end).
        unflattened_size (tuple or list of ints): its new sizes; one may be -1 (inferred).
    Shapes:
        (*, S, *) -> (*, *unflattened_size, *) where the product of unflattened_size is S.
    """

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if not is_int(dim):
            raise TypeError(f"[Unflatten] expected dim to be an int, got {dim!r}")
        if not isinstance(unflattened_size, (tuple, list)) or not all(is_int(s) for s in unflattened_size):
            raise TypeError(f"[Unflatten] unflattened_size must be a tuple of ints, got {unflattened_size!r}")
        if sum(s == -1 for s in unflattened_size) > 1 or any(s < -1 for s in unflattened_size):
            raise ValueError(
                f"[Unflatten] unflattened_size takes sizes >= 0 and at most one -1, got {unflattened_size!r}"
            )
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, x):
        d = wrap_dim(self.dim, x.ndim, "unflatten")
        size = x.shape[d]
        sizes = list(self.unflattened_size)
        known = math.prod(s for s in sizes if s != -1)
        if -1 in sizes and known != 0 and size % known == 0:
            sizes[sizes.index(-1)] = size // known
        if -1 in sizes or math.prod(sizes) != size:
            raise ValueError(
                f"[unflatten] unflattened_size {tuple(self.unflattened_size)} does not fit dim {self.dim} of size "
                f"{size} (input {tuple(x.shape)})"
            )
        return x.reshape(*x.shape[:d], *sizes, *x.shape[d + 1 :])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
