"""Parameter initialisation schemes with PyTorch's names, formulas and defaults.

Every function fills its tensor in place under no_grad using the tensor's own uniform_/normal_, which
draw from pycnn's seeded generator: after pc.manual_seed(s) the same model gets the same weights.
Fan-in/fan-out follow PyTorch: for a weight of shape (out, in, *kernel), fan_in = in * prod(kernel).
"""

import math
import warnings

import numpy as np

from .._convert import check_tensor, number_arg
from ..autograd import no_grad
from ..random import _numpy_generator
from ._arguments import positive_int

__all__ = [
    "calculate_gain",
    "constant_",
    "dirac_",
    "eye_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "layer_default_",
    "lecun_normal_",
    "lecun_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity, param=None):
    """Recommended gain for a nonlinearity (1 for linear/conv/sigmoid, 5/3 tanh, sqrt(2) relu, ...).

    Args:
        nonlinearity (str): name of the function, e.g. "relu", "leaky_relu", "tanh".
        param (float, optional): the negative slope for "leaky_relu" (default 0.01).
    """
    return _gain(nonlinearity, param, "calculate_gain")


def _gain(nonlinearity, param, op):
    """calculate_gain with its errors naming op (the kaiming initialisations that call it)."""
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            slope = param
        else:
            raise ValueError(f"[{op}] negative_slope {param!r} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"[{op}] Unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor, op="calculate_fan_in_and_fan_out"):
    """Return (fan_in, fan_out) of a weight of shape (out, in, *kernel)."""
    check_tensor(tensor, op, "tensor")
    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise ValueError(
            f"[{op}] Fan in and fan out can not be computed for tensor with fewer than 2 dimensions, got shape {shape}"
        )
    receptive_field = math.prod(shape[2:]) if len(shape) > 2 else 1
    return shape[1] * receptive_field, shape[0] * receptive_field


def _calculate_correct_fan(tensor, mode, op):
    if not isinstance(mode, str):
        raise TypeError(f"[{op}] expected mode to be a str, got {type(mode).__name__} {mode!r}")
    if mode.lower() not in ("fan_in", "fan_out"):
        raise ValueError(f"[{op}] Mode {mode!r} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor, op)
    return fan_in if mode.lower() == "fan_in" else fan_out


def _gen_kwargs(generator):
    # Only forward `generator` when given, so tensors whose uniform_/normal_ lack the keyword still work.
    return {} if generator is None else {"generator": generator}


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill `tensor` with values drawn from U(a, b); returns it."""
    check_tensor(tensor, "uniform_", "tensor")
    with no_grad():
        tensor.uniform_(a, b, **_gen_kwargs(generator))
    return tensor


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill `tensor` with values drawn from N(mean, std^2); returns it."""
    check_tensor(tensor, "normal_", "tensor")
    with no_grad():
        tensor.normal_(mean, std, **_gen_kwargs(generator))
    return tensor


def constant_(tensor, val):
    """Fill `tensor` with `val`; returns it."""
    return _fill(tensor, val, "constant_")


def ones_(tensor):
    return _fill(tensor, 1.0, "ones_")


def zeros_(tensor):
    return _fill(tensor, 0.0, "zeros_")


def _fill(tensor, val, op):
    check_tensor(tensor, op, "tensor")
    number_arg(val, op, "val")
    with no_grad():
        tensor.fill_(val)
    return tensor


def _uniform_with_std(tensor, std, generator):
    """Fill with U(-b, b), b = sqrt(3) * std (a uniform on [-b, b] has std b / sqrt(3)); None leaves it as it is."""
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def _xavier_std(tensor, gain, op):
    """gain * sqrt(2 / (fan_in + fan_out)); None for a zero-element tensor (nothing to fill)."""
    gain = number_arg(gain, op, "gain")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor, op)
    if fan_in + fan_out == 0:
        return None
    return gain * math.sqrt(2.0 / float(fan_in + fan_out))


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    return _uniform_with_std(tensor, _xavier_std(tensor, gain, "xavier_uniform_"), generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    std = _xavier_std(tensor, gain, "xavier_normal_")
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor, a, mode, nonlinearity, op):
    """gain / sqrt(fan); None for a zero-element tensor, which torch leaves as it is (with a warning)."""
    check_tensor(tensor, op, "tensor")
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    fan = _calculate_correct_fan(tensor, mode, op)
    return _gain(nonlinearity, a, op) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He uniform: U(-bound, bound) with bound = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a).

    Args:
        tensor: weight of shape (out, in, *kernel).
        a (float): negative slope of the leaky ReLU that follows (PyTorch layers use sqrt(5), which gives
            bound = 1 / sqrt(fan_in)).
        mode (str): "fan_in" preserves the forward variance, "fan_out" the backward one.
        nonlinearity (str): "relu" or "leaky_relu" (the default).
    """
    return _uniform_with_std(tensor, _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_"), generator)


def layer_default_(weight, bias=None, generator=None):
    """torch's default initialisation of Linear and the conv layers: weight ~ kaiming_uniform(a=sqrt(5)),
    i.e. U(+-1/sqrt(fan_in)), and bias ~ U(+-1/sqrt(fan_in)) (zeros when fan_in is 0)."""
    op = "layer_default_"
    check_tensor(weight, op, "weight")
    if bias is not None:
        check_tensor(bias, op, "bias")
    _uniform_with_std(weight, _kaiming_std(weight, math.sqrt(5), "fan_in", "leaky_relu", op), generator)
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight, op)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound, generator)
    return weight


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He normal: N(0, std^2) with std = gain / sqrt(fan)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator)


def _write(tensor, values):
    with no_grad():
        tensor.copy_(np.asarray(values))
    return tensor


def eye_(tensor):
    """Fill a 2-D tensor with the identity (ones on the main diagonal of a rectangular matrix too)."""
    check_tensor(tensor, "eye_", "tensor")
    if tensor.dim() != 2:
        raise ValueError(f"[eye_] Only tensors with 2 dimensions are supported, got shape {tuple(tensor.shape)}")
    return _write(tensor, np.eye(*tuple(tensor.shape)))


def dirac_(tensor, groups=1):
    """Fill a 3-, 4- or 5-D convolution weight (out, in, *kernel) with the Dirac delta: the convolution then
    keeps its input channels (per group: out channel g*out_per_group + d copies in channel d)."""
    check_tensor(tensor, "dirac_", "tensor")
    shape = tuple(tensor.shape)
    if len(shape) not in (3, 4, 5):
        raise ValueError(f"[dirac_] Only tensors with 3, 4, or 5 dimensions are supported, got shape {shape}")
    positive_int(groups, "groups", "dirac_")
    if shape[0] % groups != 0:
        raise ValueError(f"[dirac_] dim 0 must be divisible by groups, got dim 0 = {shape[0]} and groups = {groups}")
    out_per_group = shape[0] // groups
    values = np.zeros(shape)
    centre = tuple(k // 2 for k in shape[2:])
    for g in range(groups):
        for d in range(min(out_per_group, shape[1])):
            values[(g * out_per_group + d, d) + centre] = 1
    return _write(tensor, values)


def lecun_uniform_(tensor, generator=None):
    """LeCun uniform: U(-b, b) with b = sqrt(3 / fan_in), i.e. variance 1 / fan_in."""
    fan_in, _ = _calculate_fan_in_and_fan_out(tensor, "lecun_uniform_")
    if fan_in == 0:  # a zero-element tensor: nothing to fill
        return tensor
    bound = math.sqrt(3.0 / fan_in)
    return uniform_(tensor, -bound, bound, generator)


def lecun_normal_(tensor, generator=None):
    """LeCun normal: N(0, 1 / fan_in) (the initialisation SELU networks assume)."""
    fan_in, _ = _calculate_fan_in_and_fan_out(tensor, "lecun_normal_")
    if fan_in == 0:  # a zero-element tensor: nothing to fill
        return tensor
    return normal_(tensor, 0.0, 1.0 / math.sqrt(fan_in), generator)


def orthogonal_(tensor, gain=1.0, generator=None):
    """A (semi-)orthogonal matrix scaled by gain: the tensor viewed as (size(0), numel / size(0)) gets
    orthonormal rows (or columns, whichever are fewer), from the QR of a standard normal matrix with the
    signs of R's diagonal folded into Q so that the result is uniformly (Haar) distributed."""
    check_tensor(tensor, "orthogonal_", "tensor")
    gain = number_arg(gain, "orthogonal_", "gain")
    if tensor.dim() < 2:
        raise ValueError(
            f"[orthogonal_] Only tensors with 2 or more dimensions are supported, got shape {tuple(tensor.shape)}"
        )
    if tensor.numel() == 0:
        return tensor
    rows = next(iter(tensor.shape))
    cols = tensor.numel() // rows
    flat = _numpy_generator(generator).normal(0.0, 1.0, size=(rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))  # without it Q's column signs are biased by the QR convention
    if rows < cols:
        q = q.T
    return _write(tensor, (gain * q).reshape(tuple(tensor.shape)))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """N(mean, std^2) truncated to [a, b] (absolute bounds, as torch): values outside are redrawn."""
    op = "trunc_normal_"
    check_tensor(tensor, op, "tensor")
    mean, std = number_arg(mean, op, "mean"), number_arg(std, op, "std")
    a, b = number_arg(a, op, "a"), number_arg(b, op, "b")
    if not a < b:
        raise ValueError(f"[{op}] expected a < b, got a={a}, b={b}")
    if not 0 < std < math.inf:  # torch divides by std (a ZeroDivisionError for 0)
        raise ValueError(f"[{op}] expected std to be positive and finite, got {std}")
    rng = _numpy_generator(generator)
    n = tensor.numel()
    values = rng.normal(mean, std, size=n)
    bad = (values < a) | (values > b)
    for _ in range(1000):  # each round keeps the accepted fraction: (1 - P(accept))^1000 is negligible
        if not bad.any():
            break
        values[bad] = rng.normal(mean, std, size=int(bad.sum()))
        bad = (values < a) | (values > b)
    else:
        raise ValueError(f"[{op}] [a, b] = [{a}, {b}] is too far from N({mean}, {std}^2) to sample")
    return _write(tensor, values.reshape(tuple(tensor.shape)))
