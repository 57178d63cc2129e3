"""Loss layers with torch.nn's names, arguments and defaults; each forward calls one pycnn.nn.functional loss.

Class weights (weight, pos_weight) are buffers, as in torch: in state_dict and moved by .to(), not learnt.
"""

from .._convert import check_tensor, is_int, number_arg
from . import functional as F
from ._arguments import REDUCTIONS, one_of
from .module import Module

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CosineEmbeddingLoss",
    "CrossEntropyLoss",
    "HuberLoss",
    "KLDivLoss",
    "L1Loss",
    "MSELoss",
    "MarginRankingLoss",
    "MultiMarginLoss",
    "NLLLoss",
    "SmoothL1Loss",
    "TripletMarginLoss",
]


class _Loss(Module):
    def __init__(self, name, size_average=None, reduce=None, reduction="mean", extra=()):
        super().__init__()
        if size_average is not None or reduce is not None:
            raise NotImplementedError(
                f"[{name}] size_average and reduce are deprecated in torch and not supported; use reduction="
            )
        one_of(reduction, REDUCTIONS + tuple(extra), "reduction", name)
        self.reduction = reduction

    def _optional_tensor(self, name, value):
        """A weight-like buffer: a Tensor or None."""
        if value is not None:
            check_tensor(value, type(self).__name__, name)
        self.register_buffer(name, value)


def _ignore_index(value, op):
    if not is_int(value):
        raise TypeError(f"[{op}] expected ignore_index to be an int, got {value!r}")
    return value


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy between logits and class indices or class probabilities.

    Args:
        weight (Tensor, optional): (C,) non-negative class weights.
        ignore_index (int): index targets to skip (default -100).
        reduction (str): 'mean' (default), 'sum' or 'none'.
        label_smoothing (float): in [0, 1].
    Shapes:
        input (N, C) / (N, C, d1, ...) / (C,) logits; target int64 (N,) / (N, d1, ...) / () in [0, C), or
        float probabilities of input's shape -> scalar, or target's index shape for 'none'.
    """

    def __init__(
        self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean", label_smoothing=0.0
    ):
        super().__init__("CrossEntropyLoss", size_average, reduce, reduction)
        self._optional_tensor("weight", weight)
        if not 0.0 <= number_arg(label_smoothing, "CrossEntropyLoss", "label_smoothing") <= 1.0:
            raise ValueError(f"[CrossEntropyLoss] label_smoothing must be in [0, 1], got {label_smoothing}")
        self.ignore_index = _ignore_index(ignore_index, "CrossEntropyLoss")
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities: -w[y] input[n, y] per element.

    Args:
        weight (Tensor, optional): (C,) class weights; ignore_index (int): default -100;
        reduction (str): 'mean' (divides by the summed weight of the kept targets), 'sum' or 'none'.
    Shapes:
        input (N, C) / (N, C, d1, ...) log-probabilities, target int64 (N,) / (N, d1, ...).
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__("NLLLoss", size_average, reduce, reduction)
        self._optional_tensor("weight", weight)
        self.ignore_index = _ignore_index(ignore_index, "NLLLoss")

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities input in [0, 1]; weight broadcasts to input's shape."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__("BCELoss", size_average, reduce, reduction)
        self._optional_tensor("weight", weight)

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy in one numerically stable step; pos_weight weighs positives."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__("BCEWithLogitsLoss", size_average, reduce, reduction)
        self._optional_tensor("weight", weight)
        self._optional_tensor("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(
            input, target, weight=self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


class MSELoss(_Loss):
    """Squared error (input - target)^2, reduced."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__("MSELoss", size_average, reduce, reduction)

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Absolute error |input - target|, reduced."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__("L1Loss", size_average, reduce, reduction)

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Quadratic below beta, linear above (0.5 d^2 / beta, |d| - 0.5 beta)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__("SmoothL1Loss", size_average, reduce, reduction)
        if number_arg(beta, "SmoothL1Loss", "beta") < 0:
            raise ValueError(f"[SmoothL1Loss] beta must be >= 0, got {beta}")
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Quadratic below delta, linear above (0.5 d^2, delta (|d| - 0.5 delta))."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__("HuberLoss", None, None, reduction)
        if not number_arg(delta, "HuberLoss", "delta") > 0:
            raise ValueError(f"[HuberLoss] delta must be > 0, got {delta}")
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(_Loss):
    """KL divergence target * (log target - input), input log-probabilities; reduction may be 'batchmean'
    (the mathematically correct KL per sample) besides 'mean' (per element, torch's default)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__("KLDivLoss", size_average, reduce, reduction, extra=("batchmean",))
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class MarginRankingLoss(_Loss):
    """max(0, -y (x1 - x2) + margin) for y = +-1."""

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__("MarginRankingLoss", size_average, reduce, reduction)
        self.margin = number_arg(margin, "MarginRankingLoss", "margin")

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class MultiMarginLoss(_Loss):
    """Multi-class hinge loss; p 1 or 2, margin, optional (C,) class weights."""

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__("MultiMarginLoss", size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError(f"[MultiMarginLoss] only p == 1 and p == 2 are supported, got {p}")
        self.p, self.margin = p, number_arg(margin, "MultiMarginLoss", "margin")
        self._optional_tensor("weight", weight)

    def forward(self, input, target):
        return F.multi_margin_loss(
            input, target, p=self.p, margin=self.margin, weight=self.weight, reduction=self.reduction
        )


class CosineEmbeddingLoss(_Loss):
    """1 - cos(x1, x2) for target 1, max(0, cos(x1, x2) - margin) for target -1.

    Args:
        margin (float): in [-1, 1]; 0 to 0.5 is the usual choice. Default: 0.
        reduction (str): 'mean' (default), 'sum' or 'none'.
    Shapes:
        input1, input2 (N, D) with target (N,), or (D,) with a 0-d target -> scalar, or (N,) / () for 'none'.
    """

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__("CosineEmbeddingLoss", size_average, reduce, reduction)
        self.margin = number_arg(margin, "CosineEmbeddingLoss", "margin")

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)), d the p-norm pairwise distance.

    Args:
        margin (float): positive. Default: 1.0.
        p (float): the norm's order. Default: 2.
        eps (float): added to the differences before the norm. Default: 1e-6.
        swap (bool): use min(d(a, n), d(p, n)) as the negative distance. Default: False.
        reduction (str): 'mean' (default), 'sum' or 'none'.
    Shapes:
        anchor, positive, negative (N, D) or (D,) -> scalar, or (N,) / () for 'none'.
    """

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None, reduce=None, reduction="mean"):
        super().__init__("TripletMarginLoss", size_average, reduce, reduction)
        if not number_arg(margin, "TripletMarginLoss", "margin") > 0:
            raise ValueError(f"[TripletMarginLoss] margin must be greater than 0, got {margin}")
        if not number_arg(p, "TripletMarginLoss", "p") > 0:
            raise ValueError(f"[TripletMarginLoss] p must be positive (or inf), got {p}")
        self.margin, self.p, self.swap = margin, p, swap
        self.eps = number_arg(eps, "TripletMarginLoss", "eps")

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(
            anchor, positive, negative, margin=self.margin, p=self.p, eps=self.eps, swap=self.swap,
            reduction=self.reduction,
        )  # fmt: skip
