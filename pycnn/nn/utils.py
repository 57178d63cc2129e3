"""pycnn.nn.utils: gradient clipping and weight penalties.

clip_grad_norm_ / clip_grad_value_ follow torch.nn.utils. l1_penalty / l2_penalty have no torch
counterpart: they return sum |w| and sum w^2 over a model's *weights* as a differentiable scalar, to add
to a loss. By default biases and normalisation parameters are left out (the usual CNN-course weight decay
penalises only the multiplicative weights of conv / linear layers): a parameter counts when its name ends
in "weight", it has 2 or more dims, and it does not belong to a normalisation layer. include_all=True
penalises every parameter.
"""

import math
from collections.abc import Iterable

from .. import _C
from .. import autograd_ops as ag
from .._convert import number_arg
from ..autograd import no_grad
from ..creation import tensor as make_tensor
from ..tensor import Tensor
from .module import Module
from .normalization import GroupNorm, LayerNorm, _NormBase

__all__ = ["clip_grad_norm_", "clip_grad_value_", "l1_penalty", "l2_penalty"]


def _as_list(parameters, op):
    """A Tensor or an iterable of Tensors as a list of Tensors; a TypeError naming op otherwise."""
    if isinstance(parameters, Tensor):
        return [parameters]
    if not isinstance(parameters, Iterable) or isinstance(parameters, (str, bytes)):
        raise TypeError(
            f"[{op}] expected parameters to be a Tensor or an iterable of Tensors, got {type(parameters).__name__}"
        )
    out = list(parameters)
    for p in out:
        if not isinstance(p, Tensor):
            raise TypeError(f"[{op}] expected parameters to hold Tensors, got one of type {type(p).__name__}")
    return out


def _norm_type(norm_type, op):
    """norm_type as a positive float: a number, or a string float() reads ('inf', as torch's float(norm_type))."""
    if isinstance(norm_type, str):
        try:
            norm_type = float(norm_type)
        except ValueError:
            raise ValueError(f"[{op}] expected norm_type to be a number or 'inf', got {norm_type!r}") from None
    norm_type = number_arg(norm_type, op, "norm_type")
    if not norm_type > 0:
        raise ValueError(f"[{op}] norm_type must be positive, got {norm_type}")
    return norm_type


def _non_negative(value, name, op):
    value = number_arg(value, op, name)
    if not value >= 0:  # NaN is out too
        raise ValueError(f"[{op}] {name} must be non-negative, got {value}")
    return value


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scales the gradients of `parameters` in place so that their joint norm is at most max_norm.

    Args:
        parameters: a Tensor or an iterable of Tensors (those without .grad are skipped).
        max_norm (float): the largest allowed total norm.
        norm_type (float): p of the p-norm; float('inf') for the max norm. Default: 2.
        error_if_nonfinite (bool): raise when the total norm is nan or inf. Default: False.
    Returns:
        the total norm of all the gradients (as if concatenated into one vector), a 0-d Tensor.
    """
    op = "clip_grad_norm_"
    parameters = _as_list(parameters, op)
    max_norm = _non_negative(max_norm, "max_norm", op)
    norm_type = _norm_type(norm_type, op)
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return make_tensor(0.0)
    dtype = grads[0].dtype
    if grads[0].is_cuda:
        return _clip_on_device(grads, max_norm, norm_type, error_if_nonfinite)
    if math.isinf(norm_type):
        total = max(_C.lp_sum(g._impl, norm_type) for g in grads)
    else:
        total = sum(_C.lp_sum(g._impl, norm_type) for g in grads) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"[clip_grad_norm_] the total norm of order {norm_type} of the gradients is "
            f"non-finite ({total}), so it cannot be clipped; pass error_if_nonfinite=False to "
            "scale them anyway"
        )
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:  # torch clamps the coefficient to 1: gradients are only ever scaled down
        with no_grad():
            for g in grads:
                scaled = _C.binary("mul", g._impl, _C.full([], coef, g._impl.dtype, g._impl.device))
                _C.copy_(g._impl, scaled)
    return make_tensor(total, dtype=dtype)


def _clip_on_device(grads, max_norm, norm_type, error_if_nonfinite):
    """clip_grad_norm_ for gradients on a GPU: the norm and the coefficient stay device scalars, so nothing
    is read back to the host (unless error_if_nonfinite asks to look at the norm)."""
    with no_grad():
        if math.isinf(norm_type):
            # on the first gradient's device (as torch does): parameters split over GPUs add up there
            parts = [g.detach().abs().max().to(grads[0].device) for g in grads]
            total = parts[0]
            for part in parts[1:]:
                total = total.maximum(part)
        else:
            parts = [_lp_sum_tensor(g.detach(), norm_type).to(grads[0].device) for g in grads]
            total = parts[0]
            for part in parts[1:]:
                total = total + part
            total = total.pow(1.0 / norm_type)
        if error_if_nonfinite and not math.isfinite(total.item()):
            raise RuntimeError(
                f"[clip_grad_norm_] the total norm of order {norm_type} of the gradients is "
                f"non-finite ({total.item()}), so it cannot be clipped; pass error_if_nonfinite=False to "
                "scale them anyway"
            )
        # torch clamps the coefficient to 1: gradients are only ever scaled down (min(1, c) on the device)
        coef = ((total + 1e-6).pow(-1.0) * max_norm).clamp(max=1.0)
        for g in grads:
            _C.copy_(g._impl, _C.binary("mul", g._impl, coef.to(g.device)._impl))  # to(): a no-op on one device
    return total


def _lp_sum_tensor(g, p):
    """sum |g|^p as a 0-d tensor on g's device."""
    if p == 2.0:
        return (g * g).sum()
    if p == 1.0:
        return g.abs().sum()
    return g.abs().pow(p).sum()


def clip_grad_value_(parameters, clip_value):
    """Clamps every gradient of `parameters` to [-clip_value, clip_value] in place."""
    parameters = _as_list(parameters, "clip_grad_value_")
    clip_value = _non_negative(clip_value, "clip_value", "clip_grad_value_")
    for p in parameters:
        if p.grad is None:
            continue
        if not p.grad._impl.is_contiguous():
            p.grad = p.grad.contiguous()
        _C.clamp_(p.grad._impl, -clip_value, clip_value)


def _penalised(model, include_all):
    norm_types = (_NormBase, LayerNorm, GroupNorm)
    for _, module in model.named_modules():
        for name, p in module.named_parameters(recurse=False):
            if p is None:
                continue
            if include_all or (name.endswith("weight") and p.ndim >= 2 and not isinstance(module, norm_types)):
                yield p


def _penalty(model, p, include_all, op):
    if not isinstance(model, Module):
        raise TypeError(f"[{op}] expected model to be a pycnn.nn.Module, got {type(model).__name__}")
    terms = [ag.LpSumFn.apply(w, p) for w in _penalised(model, include_all)]
    if not terms:
        return make_tensor(0.0)
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


def l1_penalty(model, include_all=False):
    """sum |w| over the model's weights (see the module docstring for which), a differentiable scalar."""
    return _penalty(model, 1.0, include_all, "l1_penalty")


def l2_penalty(model, include_all=False):
    """sum w^2 over the model's weights (no 1/2 factor), a differentiable scalar."""
    return _penalty(model, 2.0, include_all, "l2_penalty")
