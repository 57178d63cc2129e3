"""Loss layers: CrossEntropyLoss and NLLLoss, Modules around functional.cross_entropy / nll_loss.

Class weights, ignore_index and label smoothing are not implemented yet; asking for them raises
NotImplementedError rather than silently computing something else.
"""
from . import functional as F
from .module import Module

__all__ = ["CrossEntropyLoss", "NLLLoss"]

_REDUCTIONS = ("none", "mean", "sum")


class _Loss(Module):
    def __init__(self, name, weight, size_average, ignore_index, reduce, reduction, label_smoothing=0.0):
        super().__init__()
        if size_average is not None or reduce is not None:
            raise NotImplementedError(f"[{name}] size_average and reduce are deprecated in torch and not "
                                      "supported; use reduction=")
        if reduction not in _REDUCTIONS:
            raise ValueError(f"[{name}] {reduction} is not a valid value for reduction "
                             f"(one of {_REDUCTIONS})")
        if weight is not None:
            raise NotImplementedError(f"[{name}] class weights are not implemented yet")
        if ignore_index != -100:
            raise NotImplementedError(f"[{name}] ignore_index is not implemented yet")
        if label_smoothing != 0.0:
            raise NotImplementedError(f"[{name}] label_smoothing is not implemented yet")
        self.reduction = reduction


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy between logits and class indices: mean_n(-log softmax(input_n)[target_n]).

    Args:
        reduction (str): 'mean' (default), 'sum' or 'none'.
    Shapes:
        input (N, C) float logits, target (N,) int64 class indices in [0, C) -> scalar, or (N,) for 'none'.
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__("CrossEntropyLoss", weight, size_average, ignore_index, reduce, reduction,
                         label_smoothing)

    def forward(self, input, target):
        return F.cross_entropy(input, target, reduction=self.reduction)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities: mean_n(-input[n, target_n]).

    Args:
        reduction (str): 'mean' (default), 'sum' or 'none'.
    Shapes:
        input (N, C) log-probabilities (e.g. from log_softmax), target (N,) int64 -> scalar or (N,).
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__("NLLLoss", weight, size_average, ignore_index, reduce, reduction)

    def forward(self, input, target):
        return F.nll_loss(input, target, reduction=self.reduction)
