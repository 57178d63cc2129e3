"""Adadelta, PyTorch's update rule; the arithmetic for a parameter group is one call to the C++
kernel pycnn._C.adadelta_step_multi_ (csrc/ops/optim.cpp).
"""

from .. import _C
from ._utils import check_hyper, impls, init_state, next_step
from .optimizer import Optimizer

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012), PyTorch's rule. For each parameter p with gradient g:

        g = -g if maximize else g
        g = g + weight_decay * p
        v = rho * v + (1 - rho) * g * g
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta

    Args:
        params (iterable): parameters or parameter-group dicts.
        lr (float): coefficient that scales delta before it is applied. Default: 1.0.
        rho (float): decay rate of the running averages. Default: 0.9.
        eps (float): added inside the square roots for stability. Default: 1e-6.
        weight_decay (float): L2 penalty. Default: 0.
        maximize (bool): ascend instead of descend. Default: False.

    State per parameter: 'step' (float), 'square_avg' (v) and 'acc_delta' (u), Tensors shaped like the
    parameter: the keys of torch.optim.Adadelta.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        check_hyper(type(self).__name__, "learning rate", lr)
        check_hyper(type(self).__name__, "rho value", rho, high=1.0)
        check_hyper(type(self).__name__, "epsilon value", eps)
        check_hyper(type(self).__name__, "weight_decay value", weight_decay)
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def _update_group(self, group, params, grads, states):
        for param, state in zip(params, states):
            init_state(state, param, "square_avg", "acc_delta")
            next_step(state)  # Adadelta's rule doesn't use it; kept for torch's state layout
        _C.adadelta_step_multi_(
            impls(params),
            impls(grads),
            [s["square_avg"]._impl for s in states],
            [s["acc_delta"]._impl for s in states],
            float(group["lr"]),
            float(group["rho"]),
            float(group["eps"]),
            float(group["weight_decay"]),
            bool(group["maximize"]),
        )
