"""Adam and AdamW, PyTorch's update rules; the arithmetic for a parameter group is one call to the C++
kernel pycnn._C.adam_step_multi_ (csrc/ops/optim.cpp), which updates the parameters and their moments in place.

AdamW is Adam with decoupled weight decay (decoupled_weight_decay=True), exactly as in torch.optim.
"""

from .. import _C
from ._utils import check_hyper, impls, init_state, next_step, state_like
from .optimizer import Optimizer

__all__ = ["Adam", "AdamW"]


def _check_adam_args(op, lr, betas, eps, weight_decay):
    check_hyper(op, "learning rate", lr)
    check_hyper(op, "epsilon value", eps)
    if not isinstance(betas, (tuple, list)):
        raise TypeError(f"[{op}] Invalid betas: expected a pair (beta1, beta2), got {betas!r}")
    if len(betas) != 2:
        raise ValueError(f"[{op}] Invalid betas: expected a pair (beta1, beta2), got {betas!r}")
    for i, beta in enumerate(betas):
        check_hyper(op, f"beta parameter at index {i}", beta, high=1.0, high_open=True)
    check_hyper(op, "weight_decay value", weight_decay)


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), PyTorch's rule. For each parameter p with gradient g, at step t = 1, 2, ...:

        g = -g if maximize else g
        p = p * (1 - lr * weight_decay)             if decoupled_weight_decay (AdamW)
        g = g + weight_decay * p                    otherwise (L2 penalty)
        m = beta1 * m + (1 - beta1) * g             (computed as torch.lerp)
        v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v)                       if amsgrad (then v_max replaces v below)
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    Args:
        params (iterable): parameters or parameter-group dicts.
        lr (float): learning rate. Default: 1e-3.
        betas (tuple of 2 floats): decay rates of the running averages of g and g * g. Default: (0.9, 0.999).
        eps (float): added to the denominator for stability. Default: 1e-8.
        weight_decay (float): L2 penalty (decoupled when decoupled_weight_decay). Default: 0.
        amsgrad (bool): use the maximum of past second moments (AMSGrad). Default: False.
        maximize (bool): ascend instead of descend. Default: False.
        decoupled_weight_decay (bool): decay the weights directly, as AdamW. Default: False.

    State per parameter: 'step' (float), 'exp_avg' and 'exp_avg_sq' (and 'max_exp_avg_sq' with amsgrad),
    Tensors shaped like the parameter: the keys of torch.optim.Adam.
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        amsgrad=False,
        *,
        maximize=False,
        decoupled_weight_decay=False,
    ):
        _check_adam_args(type(self).__name__, lr, betas, eps, weight_decay)
        betas = tuple(betas)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _update_group(self, group, params, grads, states):
        amsgrad = bool(group["amsgrad"])
        steps = []
        for param, state in zip(params, states):
            init_state(state, param, "exp_avg", "exp_avg_sq")
            if amsgrad and "max_exp_avg_sq" not in state:
                state["max_exp_avg_sq"] = state_like(param)
            steps.append(next_step(state))
        beta1, beta2 = group["betas"]
        _C.adam_step_multi_(
            impls(params),
            impls(grads),
            [s["exp_avg"]._impl for s in states],
            [s["exp_avg_sq"]._impl for s in states],
            [s["max_exp_avg_sq"]._impl for s in states] if amsgrad else [],
            float(group["lr"]),
            float(beta1),
            float(beta2),
            float(group["eps"]),
            float(group["weight_decay"]),
            amsgrad,
            bool(group["maximize"]),
            bool(group.get("decoupled_weight_decay", False)),
            steps,
        )


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter, 2019): Adam whose weight decay shrinks the weights directly,
    p = p * (1 - lr * weight_decay), instead of adding weight_decay * p to the gradient. PyTorch's rule
    and defaults (note weight_decay=1e-2).

    Args:
        params, lr, betas, eps, amsgrad, maximize: as for Adam.
        weight_decay (float): decoupled weight decay coefficient. Default: 1e-2.

    State per parameter: as for Adam.
    """

    def __init__(
        self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *, maximize=False
    ):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        # As torch.optim.AdamW: whatever the saved groups say, AdamW decays the weights decoupled.
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
