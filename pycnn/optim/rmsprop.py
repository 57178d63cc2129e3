"""RMSprop, PyTorch's update rule (centered variant and momentum included); the arithmetic for a
parameter group is one call to the C++ kernel pycnn._C.rmsprop_step_multi_ (csrc/ops/optim.cpp).
"""

from .. import _C
from ._utils import check_hyper, impls, init_state, next_step, state_like
from .optimizer import Optimizer

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's lecture 6e), PyTorch's rule. For each parameter p with gradient g:

        g = -g if maximize else g
        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        if centered: g_avg = alpha * g_avg + (1 - alpha) * g;  avg = sqrt(v - g_avg^2) + eps
        else:        avg = sqrt(v) + eps
        if momentum > 0: buf = momentum * buf + g / avg;  p = p - lr * buf
        else:            p = p - lr * g / avg

    Args:
        params (iterable): parameters or parameter-group dicts.
        lr (float): learning rate. Default: 1e-2.
        alpha (float): smoothing constant of the running average of g * g. Default: 0.99.
        eps (float): added to the denominator for stability. Default: 1e-8.
        weight_decay (float): L2 penalty. Default: 0.
        momentum (float): momentum factor. Default: 0.
        centered (bool): normalise by an estimate of the gradient's variance. Default: False.
        maximize (bool): ascend instead of descend. Default: False.

    State per parameter: 'step' (float), 'square_avg', and 'momentum_buffer' (momentum > 0) and
    'grad_avg' (centered), Tensors shaped like the parameter: the keys of torch.optim.RMSprop.
    """

    def __init__(
        self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *, maximize=False
    ):
        check_hyper(type(self).__name__, "learning rate", lr)
        check_hyper(type(self).__name__, "epsilon value", eps)
        check_hyper(type(self).__name__, "momentum value", momentum)
        check_hyper(type(self).__name__, "weight_decay value", weight_decay)
        check_hyper(type(self).__name__, "alpha value", alpha)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update_group(self, group, params, grads, states):
        momentum, centered = float(group["momentum"]), bool(group["centered"])
        for param, state in zip(params, states):
            init_state(state, param, "square_avg")
            if momentum > 0 and "momentum_buffer" not in state:
                state["momentum_buffer"] = state_like(param)
            if centered and "grad_avg" not in state:
                state["grad_avg"] = state_like(param)
            next_step(state)  # RMSprop's rule doesn't use it; kept for torch's state layout
        _C.rmsprop_step_multi_(
            impls(params),
            impls(grads),
            [s["square_avg"]._impl for s in states],
            [s["grad_avg"]._impl for s in states] if centered else [],
            [s["momentum_buffer"]._impl for s in states] if momentum > 0 else [],
            float(group["lr"]),
            float(group["alpha"]),
            float(group["eps"]),
            float(group["weight_decay"]),
            momentum,
            centered,
            bool(group["maximize"]),
        )
