"""SyncBatchNorm: batch norm whose training statistics are those of the whole batch, split over the ranks of
a data-parallel job (pycnn.distributed), as torch.nn.SyncBatchNorm.

Forward: every rank all-gathers each rank's (count, per-channel mean, biased variance) and combines them the
same way (Chan's parallel variance), then normalises with the fused batch norm kernel in its eval mode, fed
the global statistics. Backward: one all-reduce of the per-channel sums of dout and dout * x_hat, which is
all that couples a sample's gradient to the other ranks' samples. In eval mode, or outside a process group
of 2+ ranks, the layer is exactly BatchNorm (the same F.batch_norm call).
"""

import numpy as np

from .. import _C
from .. import distributed as dist
from .._types import LOW_PRECISION
from ..autograd import Function
from ..tensor import Tensor
from . import functional as F
from .normalization import _BatchNorm

__all__ = ["SyncBatchNorm"]

_STATS_DTYPE = "float64"  # the gathered statistics and their combination: counts stay exact, variance accurate


def _scalar(value, like):
    return _C.full([], float(value), like.dtype, like.device)


def _channel_shape(x):
    """(1, C, 1, ...): a per-channel (C,) tensor viewed so that it broadcasts against x."""
    return [1, x.shape[1]] + [1] * (x.dim() - 2)


def _local_stats(x, dims, count):
    """This rank's row (count, mean (C,), biased variance (C,)) in float64."""
    C = x.shape[1]
    row = _C.full([2 * C + 1], 0.0, _STATS_DTYPE, x.device)
    _C.fill_(row.narrow(0, 0, 1), float(count))
    if count > 0:  # a rank with an empty batch adds nothing (its zero count weighs its zeros out)
        _C.copy_(row.narrow(0, 1, C), _C.binary("div", _C.sum(x, dims, False), _scalar(count, x)))
        _C.copy_(row.narrow(0, 1 + C, C), _C.var_forward(x, dims, 0.0, False))
    return row


def _gather_stats(row, C):
    """Every rank's row, stacked (world, 2C+1)."""
    rows = _C.empty([dist.get_world_size(), row.shape[0]], row.dtype, row.device)
    try:
        dist.all_gather_into_tensor(Tensor._make(rows), Tensor._make(row))
    except dist.DistributedError as e:  # the call check names the rank; say what the gathered rows are
        raise dist.DistributedError(
            f"[SyncBatchNorm] gathering the batch statistics of {C} channels (a row of {2 * C + 1} values: count, "
            f"means, variances) failed; every rank's input must have the same channel count: {e}"
        ) from None
    return rows


def _global_stats(rows, C, shape):
    """(total count, mean (C,), biased variance (C,)) of the union of the ranks' batches, from the gathered
    rows (world, 2C+1): each rank's variance plus its mean's spread around the global mean, count-weighted."""
    counts = rows.narrow(1, 0, 1)
    host = counts.contiguous() if counts.device == "cpu" else counts.to_device("cpu")
    total = float(np.asarray(host).sum())
    if total <= 1:
        raise ValueError(
            f"[SyncBatchNorm] expected more than 1 value per channel when training, got {total:g} over all "
            f"{rows.shape[0]} ranks (input of shape {tuple(shape)} on this rank)"
        )
    weights = _C.binary("div", counts, _scalar(total, rows))  # (world, 1)
    means, variances = rows.narrow(1, 1, C), rows.narrow(1, 1 + C, C)
    mean = _C.sum(_C.binary("mul", weights, means), [0], False)
    spread = _C.binary("sub", means, mean)
    within = _C.binary("add", variances, _C.binary("mul", spread, spread))
    return total, mean, _C.sum(_C.binary("mul", weights, within), [0], False)


def _update_running(running, batch_value, momentum):
    """running = (1 - momentum) * running + momentum * batch_value, computed in float64 as the kernel does."""
    old = running.to_dtype(_STATS_DTYPE)
    new = _C.binary(
        "add",
        _C.binary("mul", old, _scalar(1.0 - momentum, old)),
        _C.binary("mul", batch_value, _scalar(momentum, old)),
    )
    _C.copy_(running, new)


class SyncBatchNormFn(Function):
    """Batch norm in training over the batches of all ranks: x (N, C, *) is this rank's part; w, b (C,) or
    None; the running stats (core tensors or None) are updated in place with the global statistics."""

    @staticmethod
    def forward(ctx, x, w, b, running_mean, running_var, momentum, eps):
        if x.dtype in LOW_PRECISION:
            # before any collective: Function.apply reruns the op in float32 (as for BatchNorm) on every rank
            raise TypeError(f"[SyncBatchNorm] computes in float32 or float64, got {x.dtype}")
        C = x.shape[1]
        dims = [0] + list(range(2, x.dim()))
        rows = _gather_stats(_local_stats(x, dims, x.numel() // C), C)
        total, mean, var = _global_stats(rows, C, x.shape)
        if running_mean is not None:
            _update_running(running_mean, mean, momentum)
            _update_running(running_var, _C.binary("mul", var, _scalar(total / (total - 1), var)), momentum)
        mean, var = mean.to_dtype(x.dtype), var.to_dtype(x.dtype)
        # the kernel's eval mode normalises with the statistics it is given: here the global ones
        y, mean, invstd = _C.batch_norm_forward(x, w, b, mean, var, False, 0.0, eps)
        ctx.save_for_backward(x, w, mean, invstd)
        ctx.total = total
        return y

    @staticmethod
    def backward(ctx, dout):
        x, w, mean, invstd = ctx.saved
        need = ctx.needs_input_grad
        # eval-mode backward: dx = dout * w * invstd, dw = sum(dout * x_hat), db = sum(dout), all local
        dx, dw, db = _C.batch_norm_backward(dout, x, w, mean, invstd, False, need[0], True, True)
        if need[0]:  # every rank's input needs a gradient or none does (the same model): all reduce, or none
            dx = _coupled_input_grad(dx, x, w, mean, invstd, db, dw, ctx.total)
        return dx, dw if w is not None and need[1] else None, db if need[2] else None, None, None


def _coupled_input_grad(dx, x, w, mean, invstd, db, dw, total):
    """Adds the terms that the batch's own statistics contribute to dx:
    dx = w * invstd * (dout - mean(dout) - x_hat * mean(dout * x_hat)), both means over all ranks' samples,
    so the per-channel sums db and dw are summed over the ranks first (one all-reduce of both)."""
    C = x.shape[1]
    sums = _C.cat_forward([db, dw], 0)
    dist.all_reduce(Tensor._make(sums))
    scale = invstd if w is None else _C.binary("mul", w, invstd)
    per_count = _C.binary("div", scale, _scalar(total, scale))
    shift = _C.binary("mul", per_count, sums.narrow(0, 0, C))  # w * invstd * mean(dout)
    slope = _C.binary("mul", _C.binary("mul", per_count, invstd), sums.narrow(0, C, C))
    shape = _channel_shape(x)
    centred = _C.binary("sub", x, mean.view(shape))
    correction = _C.binary("add", shift.view(shape), _C.binary("mul", centred, slope.view(shape)))
    return _C.binary("sub", dx, correction)


class SyncBatchNorm(_BatchNorm):
    """Batch norm over (N, C, *) whose training statistics cover the batches of every rank of the process
    group, so that N samples split over the ranks normalise as one batch of N (torch.nn.SyncBatchNorm).

    Outside training, or without an initialized process group of 2+ ranks, it computes what BatchNorm1d/2d
    compute. The state dict has BatchNorm2d's keys, so checkpoints interchange.

    Args:
        num_features (int): C.
        eps (float): added to the variance. Default: 1e-5.
        momentum (float or None): for the running statistics (None: cumulative average). Default: 0.1.
        affine (bool): learn weight (init 1) and bias (init 0). Default: True.
        track_running_stats (bool): keep running_mean / running_var for eval(). Default: True.
        process_group: must be None (the default group, all ranks): groups are not supported yet.
    """

    def __init__(
        self,
        num_features,
        eps=1e-5,
        momentum=0.1,
        affine=True,
        track_running_stats=True,
        process_group=None,
        device=None,
        dtype=None,
    ):
        _check_group(process_group)
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def forward(self, x):
        if not isinstance(x, Tensor):
            raise TypeError(f"[SyncBatchNorm] expected a pycnn.Tensor input, got {type(x).__name__}")
        if x.ndim < 2 or x.shape[1] != self.num_features:
            raise ValueError(
                f"[SyncBatchNorm] expected input of shape (N, {self.num_features}, *) (rank 2 or more), got shape "
                f"{tuple(x.shape)}"
            )
        factor = self._momentum_for_step()
        if self.training and dist.is_initialized() and dist.get_world_size() > 1:
            return SyncBatchNormFn.apply(x, self.weight, self.bias, *self._running_impls(), factor, float(self.eps))
        use_batch_stats = self.training or self.running_mean is None
        return F.batch_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias, use_batch_stats, factor, self.eps
        )

    def _running_impls(self):
        if self.running_mean is None:
            return None, None
        return self.running_mean._impl, self.running_var._impl

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """Replaces every BatchNorm1d/2d in ``module``'s tree by a SyncBatchNorm that shares its weight, bias,
        running statistics and num_batches_tracked (so requires_grad carries over) and keeps its training
        mode. As torch's, the tree is changed in place and returned; a batch norm layer passed itself
        returns its replacement.

        Args:
            module (Module): a model, or a batch norm layer.
            process_group: must be None (the default group).
        """
        _check_group(process_group)
        converted = module
        if isinstance(module, _BatchNorm):
            converted = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats)
            for name in ("weight", "bias"):
                if module.affine:
                    setattr(converted, name, getattr(module, name))
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                if module.track_running_stats:
                    setattr(converted, name, getattr(module, name))
            converted.training = module.training
        for name, child in module.named_children():
            converted.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return converted


def _check_group(process_group):
    if process_group is not None:
        raise NotImplementedError(
            f"[SyncBatchNorm] process_group must be None (the default group of all ranks), got {process_group!r}"
        )
