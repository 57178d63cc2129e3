"""Stochastic gradient descent with momentum, dampening, Nesterov, weight decay and maximize.

The update rule is PyTorch's (see SGD below); the arithmetic for a parameter group is a single call to the
C++ kernel pycnn._C.sgd_step_multi_, which updates the parameters and their momentum buffers in place.
"""

from .. import _C
from ._utils import check_hyper, impls, state_like
from .optimizer import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, PyTorch's rule. For each parameter p with gradient g:

        g = -g if maximize else g
        g = g + weight_decay * p
        if momentum != 0:
            buf = g                                        on the first step
            buf = momentum * buf + (1 - dampening) * g     afterwards
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g

    Args:
        params (iterable): parameters or parameter-group dicts.
        lr (float): learning rate. Default: 1e-3.
        momentum (float): momentum factor. Default: 0.
        dampening (float): dampening of the momentum. Default: 0.
        weight_decay (float): L2 penalty. Default: 0.
        nesterov (bool): Nesterov momentum (needs momentum > 0 and dampening = 0). Default: False.
        maximize (bool): ascend instead of descend. Default: False.

    State per parameter (only when momentum != 0): 'momentum_buffer', a Tensor shaped like the parameter.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        check_hyper(type(self).__name__, "learning rate", lr)
        check_hyper(type(self).__name__, "momentum value", momentum)
        check_hyper(type(self).__name__, "weight_decay value", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"[SGD] Nesterov momentum requires a momentum and zero dampening, got momentum {momentum} and "
                f"dampening {dampening}"
            )
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update_group(self, group, params, grads, states):
        momentum = group["momentum"]
        bufs, first_step = [], [False] * len(params)
        if momentum != 0:
            for i, (param, state) in enumerate(zip(params, states)):
                if state.get("momentum_buffer") is None:
                    # The kernel overwrites it with g on the first step (first_step), as torch does.
                    state["momentum_buffer"] = state_like(param)
                    first_step[i] = True
                bufs.append(state["momentum_buffer"])
        _C.sgd_step_multi_(
            impls(params),
            impls(grads),
            impls(bufs),
            float(group["lr"]),
            float(momentum),
            float(group["dampening"]),
            float(group["weight_decay"]),
            bool(group["nesterov"]),
            bool(group["maximize"]),
            first_step,
        )
