"""Activation layers: Modules around pycnn.nn.functional, with torch.nn's names, arguments and reprs.
Stateless except PReLU (learnable slopes) and Swish(learnable=True) (a learnable beta).
"""

from .._convert import is_int, number_arg
from . import functional as F
from ._arguments import positive_int
from .module import Module
from .parameter import new_parameter

__all__ = [
    "ELU",
    "GELU",
    "SELU",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "LeakyReLU",
    "LogSoftmax",
    "Maxout",
    "Mish",
    "PReLU",
    "ReLU",
    "ReLU6",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Swish",
    "Tanh",
]


class ReLU(Module):
    """max(x, 0), elementwise; any shape in, same shape out.

    Args:
        inplace (bool): write the result into the input's memory and return the input (as torch); refused
            for a leaf that requires grad, and an error at backward if another op saved the old values.
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x, self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class _Elementwise(Module):
    """A parameter-free elementwise activation: forward = F.<fn>(x, **args); any shape in, same shape out."""

    _fn = None

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace  # the result goes into the input's memory (see ReLU)

    def forward(self, x):
        return type(self)._fn(x, inplace=self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Sigmoid(Module):
    """1 / (1 + exp(-x)), elementwise."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class ReLU6(_Elementwise):
    """min(max(x, 0), 6), elementwise."""

    _fn = staticmethod(F.relu6)


class SELU(_Elementwise):
    """scale * (x if x > 0 else alpha * (exp(x) - 1)), alpha ~ 1.6733, scale ~ 1.0507 (self-normalising)."""

    _fn = staticmethod(F.selu)


class SiLU(_Elementwise):
    """x * sigmoid(x), elementwise."""

    _fn = staticmethod(F.silu)


class Hardswish(_Elementwise):
    """x * relu6(x + 3) / 6, elementwise."""

    _fn = staticmethod(F.hardswish)


class Hardsigmoid(_Elementwise):
    """relu6(x + 3) / 6, elementwise."""

    _fn = staticmethod(F.hardsigmoid)


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x.

    Args:
        negative_slope (float): slope for negative inputs. Default: 0.01.
    """

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = number_arg(negative_slope, "LeakyReLU", "negative_slope")
        self.inplace = inplace

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """x if x > 0 else alpha * (exp(x) - 1).

    Args:
        alpha (float): the saturation value for negative inputs is -alpha. Default: 1.0.
    """

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = number_arg(alpha, "ELU", "alpha")
        self.inplace = inplace

    def forward(self, x):
        return F.elu(x, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """x * Phi(x), Phi the standard normal CDF.

    Args:
        approximate (str): 'none' (erf, exact) or 'tanh' (the tanh approximation). Default: 'none'.
    """

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"[GELU] approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """log(1 + exp(beta * x)) / beta, linear where beta * x > threshold.

    Args:
        beta (float): sharpness. Default: 1.0.
        threshold (float): above it the function is the identity. Default: 20.0.
    """

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        if number_arg(beta, "Softplus", "beta") == 0:
            raise ValueError(f"[Softplus] beta must be nonzero, got {beta!r}")
        self.beta = beta
        self.threshold = number_arg(threshold, "Softplus", "threshold")

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class PReLU(Module):
    """x if x > 0 else a * x with a learnable slope a, one shared or one per channel (dim 1).

    Args:
        num_parameters (int): 1, or the number of channels C of inputs (N, C, *). Default: 1.
        init (float): initial slope. Default: 0.25.
    Shape: any (num_parameters=1) or (N, C, *); the output has the input's shape. weight: (num_parameters,).
    """

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = positive_int(num_parameters, "num_parameters", "PReLU")
        self.init = init
        self.weight = new_parameter((num_parameters,), dtype, device, float(init))

    def forward(self, x):
        return F.prelu(x, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class Swish(Module):
    """x * sigmoid(beta * x) (Ramachandran et al.); beta = 1 is SiLU.

    Args:
        beta (float): initial value of beta. Default: 1.0.
        learnable (bool): make beta a Parameter of shape (1,), trained with the model. Default: False.
    """

    def __init__(self, beta=1.0, learnable=False, device=None, dtype=None):
        super().__init__()
        number_arg(beta, "Swish", "beta")
        self.learnable = learnable
        if learnable:
            self.beta = new_parameter((1,), dtype, device, float(beta))
        else:
            self.beta = float(beta)

    def forward(self, x):
        if not self.learnable and self.beta == 1.0:
            return F.silu(x)
        # a composite of differentiable ops: autograd gives d/dx and, when learnable, d/dbeta
        return x * F.sigmoid(x * self.beta)

    def extra_repr(self):
        beta = self.beta.item() if self.learnable else self.beta
        return f"beta={beta}, learnable={self.learnable}"


def _softmax_dim(ndim):
    # torch's choice when dim is not given (a deprecated implicit dim): 0 for 0-, 1- and 3-d inputs, else 1
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    """exp(x) / sum(exp(x)) along dim.

    Args:
        dim (int): the dim that sums to 1. None picks torch's legacy implicit dim.
    """

    def __init__(self, dim=None):
        super().__init__()
        if dim is not None and not is_int(dim):
            raise TypeError(f"[Softmax] expected dim to be an int or None, got {dim!r}")
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, _softmax_dim(x.ndim) if self.dim is None else self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along dim, computed stably.

    Args:
        dim (int): the dim to normalise over. None picks torch's legacy implicit dim.
    """

    def __init__(self, dim=None):
        super().__init__()
        if dim is not None and not is_int(dim):
            raise TypeError(f"[LogSoftmax] expected dim to be an int or None, got {dim!r}")
        self.dim = dim

    def forward(self, x):
        return F.log_softmax(x, _softmax_dim(x.ndim) if self.dim is None else self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Maxout(Module):
    """Maxout (Goodfellow et al. 2013): the max over each group of `pieces` adjacent channels.

    Args:
        pieces (int): k, the group size.
    Shape: (N, C*k, H, W) -> (N, C, H, W) for conv features, (N, F*k) -> (N, F) for linear features (any
        (N, C*k, *) works). Channel c of the output is the max of input channels c*k .. c*k+k-1.
    """

    def __init__(self, pieces):
        super().__init__()
        if isinstance(pieces, bool) or not isinstance(pieces, int) or pieces < 1:
            raise ValueError(f"[Maxout] pieces must be a positive int, got {pieces!r}")
        self.pieces = pieces

    def forward(self, x):
        return F.maxout(x, self.pieces)

    def extra_repr(self):
        return f"pieces={self.pieces}"


class Mish(_Elementwise):
    """x * tanh(softplus(x)), elementwise."""

    _fn = staticmethod(F.mish)


class Hardtanh(Module):
    """x limited to [min_val, max_val], elementwise.

    Args:
        min_val (float): lower bound. Default: -1.0.
        max_val (float): upper bound (above min_val). Default: 1.0.
        inplace (bool): write the result into the input's memory (see ReLU).
        min_value, max_value: torch's deprecated spellings of min_val and max_val.
    """

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None, max_value=None):
        super().__init__()
        min_val = min_val if min_value is None else min_value
        max_val = max_val if max_value is None else max_value
        lo, hi = number_arg(min_val, "Hardtanh", "min_val"), number_arg(max_val, "Hardtanh", "max_val")
        if not hi > lo:
            raise ValueError(
                f"[Hardtanh] max_val must be greater than min_val, got min_val={min_val}, max_val={max_val}"
            )
        self.min_val, self.max_val = min_val, max_val
        self.inplace = inplace

    def forward(self, x):
        return F.hardtanh(x, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")
