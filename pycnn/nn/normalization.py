"""Normalisation layers: BatchNorm1d/2d, LayerNorm, GroupNorm, InstanceNorm2d, LocalResponseNorm.

Parameter and buffer names, shapes and defaults follow torch.nn (weight, bias, running_mean, running_var,
num_batches_tracked), so state dicts map one to one. Every forward is one fused C++ kernel
(csrc/ops/cpu/norm.cpp) and so is its backward.
"""

from .._types import int64
from ..creation import full
from . import functional as F
from . import init
from ._arguments import positive_int
from .module import Module
from .parameter import new_parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "GroupNorm", "InstanceNorm2d", "LayerNorm", "LocalResponseNorm"]


def _buffer(shape, value, dtype, device):
    return full(shape, value, dtype=dtype, device="cpu" if device is None else device)


def _affine_parameters(module, shape, affine, dtype, device, bias=True):
    """Register module.weight (ones) and module.bias (zeros) of `shape`; None instead when not affine (the
    bias also when not bias), as torch's norm layers do."""
    if affine:
        module.weight = new_parameter(shape, dtype, device, 1.0)
    else:
        module.register_parameter("weight", None)
    if affine and bias:
        module.bias = new_parameter(shape, dtype, device, 0.0)
    else:
        module.register_parameter("bias", None)


class _NormBase(Module):
    """Shared state of batch and instance norm: affine weight/bias (C,) and the running statistics."""

    def __init__(self, num_features, eps, momentum, affine, track_running_stats, device, dtype):
        super().__init__()
        name = type(self).__name__
        positive_int(num_features, "num_features", name)
        if eps < 0:
            raise ValueError(f"[{name}] eps must be non-negative, got {eps}")
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _affine_parameters(self, (num_features,), affine, dtype, device)
        if track_running_stats:
            self.register_buffer("running_mean", _buffer((num_features,), 0.0, dtype, device))
            self.register_buffer("running_var", _buffer((num_features,), 1.0, dtype, device))
            self.register_buffer("num_batches_tracked", _buffer((), 0, int64, device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.fill_(0.0)
            self.running_var.fill_(1.0)
            self.num_batches_tracked.fill_(0)
            self.__dict__.pop("_nbt_mirror", None)

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def _momentum_for_step(self):
        """torch's exponential_average_factor: counts the batch, and with momentum=None returns
        1 / num_batches_tracked (a cumulative moving average)."""
        if not (self.training and self.track_running_stats):
            return 0.0 if self.momentum is None else self.momentum
        count = self._count_batch()
        if self.momentum is None:
            return 1.0 / float(count)
        return self.momentum

    def _count_batch(self):
        """num_batches_tracked += 1; returns the new count. On a GPU the count is mirrored in Python and
        only written (a fill on the device), so that a training step reads nothing back to the host; the
        mirror is re-read once after the buffer is replaced (to(), load_state_dict)."""
        nbt = self.num_batches_tracked
        if not nbt.is_cuda:
            count = int(nbt.item()) + 1
        else:
            mirror = self.__dict__.get("_nbt_mirror")
            count = (mirror[1] if mirror is not None and mirror[0] is nbt._impl else int(nbt.item())) + 1
            self.__dict__["_nbt_mirror"] = (nbt._impl, count)
        nbt.fill_(count)
        return count

    def __getstate__(self):
        # deepcopy / pickle: the mirror holds a core tensor (not picklable) and would not name the copy's
        # buffer anyway; the copy reads its count once instead
        state = self.__dict__.copy()
        state.pop("_nbt_mirror", None)
        return state

    def _load_own_state(self, *args, **kwargs):
        self.__dict__.pop("_nbt_mirror", None)  # the loaded count replaces the mirrored one
        return super()._load_own_state(*args, **kwargs)

    def extra_repr(self):
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


class _BatchNorm(_NormBase):
    _dims = ()

    def __init__(
        self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None
    ):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, x):
        if x.ndim not in self._dims:
            raise ValueError(
                f"[{type(self).__name__}] expected {' or '.join(f'{d}D' for d in self._dims)} input, "
                f"got {x.ndim}D input of shape {x.shape}"
            )
        factor = self._momentum_for_step()
        # Without running stats, eval still normalises with the batch statistics (as torch does).
        use_batch_stats = self.training or self.running_mean is None
        return F.batch_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias, use_batch_stats, factor, self.eps
        )


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L), per feature C.

    Args:
        num_features (int): C.
        eps (float): added to the variance. Default: 1e-5.
        momentum (float or None): running = (1 - momentum) * running + momentum * batch; None uses the
            cumulative average over num_batches_tracked batches. Default: 0.1.
        affine (bool): learn weight (init 1) and bias (init 0). Default: True.
        track_running_stats (bool): keep running_mean / running_var for eval(). Default: True.
    """

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W), per channel C. Arguments as BatchNorm1d."""

    _dims = (4,)


class InstanceNorm2d(_NormBase):
    """Normalises each (sample, channel) plane of (N, C, H, W) (or (C, H, W)) by its own mean and variance.

    Args:
        num_features (int): C.
        eps (float): Default: 1e-5.
        momentum (float or None): for the running stats, when tracked. Default: 0.1.
        affine (bool): learn per-channel weight and bias. Default: False.
        track_running_stats (bool): keep running stats (averaged over the instances) and use them in
            eval(). Default: False.
    """

    def __init__(
        self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, device=None, dtype=None
    ):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, x):
        if x.ndim not in (3, 4):
            raise ValueError(f"[InstanceNorm2d] expected 3D or 4D input, got {x.ndim}D input of shape {x.shape}")
        if x.ndim == 3:
            return self.forward(x.unsqueeze(0)).squeeze(0)
        if x.shape[1] != self.num_features and self.affine:
            raise ValueError(f"[InstanceNorm2d] expected {self.num_features} channels, got input of shape {x.shape}")
        use_input_stats = self.training or not self.track_running_stats
        factor = self._momentum_for_step() if self.track_running_stats else 0.0
        return F.instance_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias, use_input_stats, factor, self.eps
        )


class LayerNorm(Module):
    """Normalises over the trailing dims given by normalized_shape, per sample.

    Args:
        normalized_shape (int or tuple): the trailing shape to normalise over.
        eps (float): Default: 1e-5.
        elementwise_affine (bool): learn weight (ones) and bias (zeros) of shape normalized_shape.
        bias (bool): learn the bias too (when elementwise_affine). Default: True.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        for s in shape:
            positive_int(s, "normalized_shape", "LayerNorm")
        self.normalized_shape = shape
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _affine_parameters(self, shape, elementwise_affine, dtype, device, bias=bias)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    """Splits the channels of (N, C, *) into num_groups groups and normalises each per sample.

    Args:
        num_groups (int): must divide num_channels.
        num_channels (int): C.
        eps (float): Default: 1e-5.
        affine (bool): learn per-channel weight (ones) and bias (zeros). Default: True.
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None):
        super().__init__()
        positive_int(num_groups, "num_groups", "GroupNorm")
        positive_int(num_channels, "num_channels", "GroupNorm")
        if num_channels % num_groups != 0:
            raise ValueError(
                f"[GroupNorm] num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"
            )
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _affine_parameters(self, (num_channels,), affine, dtype, device)

    def forward(self, x):
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class LocalResponseNorm(Module):
    """AlexNet's normalisation across channels: b_c = a_c / (k + alpha/size * sum_{window} a^2) ** beta,
    the window being the `size` channels around c (size//2 before, (size-1)//2 after), zero padded.
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        positive_int(size, "size", "LocalResponseNorm")
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, x):
        return F.local_response_norm(x, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
