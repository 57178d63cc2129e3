"""Adagrad, PyTorch's update rule (dense gradients); the arithmetic for a parameter group is one call to
the C++ kernel pycnn._C.adagrad_step_multi_ (csrc/ops/optim.cpp).
"""

from .. import _C
from ._utils import check_hyper, impls, next_step, state_like
from .optimizer import Optimizer

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011), PyTorch's rule. For each parameter p with gradient g, at step t = 1, 2, ...:

        g = -g if maximize else g
        g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        sum = sum + g * g                        (sum starts at initial_accumulator_value)
        p = p - clr * g / (sqrt(sum) + eps)

    Args:
        params (iterable): parameters or parameter-group dicts.
        lr (float): learning rate. Default: 1e-2.
        lr_decay (float): learning-rate decay per step. Default: 0.
        weight_decay (float): L2 penalty. Default: 0.
        initial_accumulator_value (float): starting value of the sum of squared gradients. Default: 0.
        eps (float): added to the denominator for stability. Default: 1e-10.
        maximize (bool): ascend instead of descend. Default: False.

    State per parameter: 'step' (float) and 'sum' (a Tensor shaped like the parameter), created at
    construction for every parameter as torch.optim.Adagrad does.
    """

    def __init__(
        self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *, maximize=False
    ):
        check_hyper(type(self).__name__, "learning rate", lr)
        check_hyper(type(self).__name__, "lr_decay value", lr_decay)
        check_hyper(type(self).__name__, "weight_decay value", weight_decay)
        check_hyper(type(self).__name__, "initial_accumulator_value value", initial_accumulator_value)
        check_hyper(type(self).__name__, "epsilon value", eps)
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "maximize": maximize,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(self.state[p], p, group)

    @staticmethod
    def _init_state(state, param, group):
        state["step"] = 0.0
        state["sum"] = state_like(param, group["initial_accumulator_value"])

    def _update_group(self, group, params, grads, states):
        steps = []
        for param, state in zip(params, states):
            if "sum" not in state:  # a parameter added by add_param_group after construction
                self._init_state(state, param, group)
            steps.append(next_step(state))
        _C.adagrad_step_multi_(
            impls(params),
            impls(grads),
            [s["sum"]._impl for s in states],
            float(group["lr"]),
            float(group["lr_decay"]),
            float(group["weight_decay"]),
            float(group["eps"]),
            bool(group["maximize"]),
            steps,
        )
