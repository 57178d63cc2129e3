"""Classification metrics: accuracy, top-k accuracy, confusion matrix, precision / recall / F1, a printable
report, and ConfusionMatrix, a streaming accumulator for evaluation loops. Pure NumPy.

Every function takes `output` (logits (N, C), or class predictions (N,)) and `target` (N,) integer labels,
as pycnn Tensors or NumPy arrays; extra trailing dimensions (N, C, d1, ...) vs (N, d1, ...) are flattened,
as in the losses. Everything goes through one confusion matrix cm[true, predicted] (sklearn's layout), so
the one-shot functions and the accumulator agree by construction.
"""

import numpy as np

from .tensor import Tensor

__all__ = [
    "ConfusionMatrix",
    "accuracy",
    "classification_report",
    "confusion_matrix",
    "f1_score",
    "precision",
    "precision_recall_f1",
    "recall",
    "top_k_accuracy",
]

_AVERAGES = ("macro", "micro", "weighted", None)


# ------------------------------------------------------------------ input handling


def _as_numpy(x, name, what):
    if isinstance(x, Tensor):
        x = x.detach()
        if x.device.type != "cpu":
            x = x.to("cpu")
        return np.asarray(x.numpy())
    if isinstance(x, (np.ndarray, list, tuple, np.generic, int, float)):
        return np.asarray(x)
    raise TypeError(f"[{name}] {what} must be a pycnn Tensor or a NumPy array, got {type(x).__name__}")


def _check_integer(array, name, what):
    if array.dtype.kind not in "iub":
        raise TypeError(
            f"[{name}] {what} must hold integer class indices, got dtype {array.dtype} (shape {array.shape})"
        )


def _targets(target, name):
    target = _as_numpy(target, name, "target")
    _check_integer(target, name, "target")
    if target.ndim == 0:
        raise ValueError(f"[{name}] target must have a batch dimension, got shape {target.shape}")
    return target


def _logits(output, target, name):
    """(N, C, d1, ...) logits and (N, d1, ...) targets -> (M, C) scores and (M,) labels."""
    output = _as_numpy(output, name, "output")
    target = _targets(target, name)
    if output.ndim != target.ndim + 1 or output.shape[:1] + output.shape[2:] != target.shape:
        raise ValueError(
            f"[{name}] expected logits of shape (N, C) for target of shape (N,) (or "
            f"(N, C, d1, ...) for (N, d1, ...)), got output {output.shape} and target "
            f"{target.shape}"
        )
    scores = np.moveaxis(output, 1, -1).reshape(-1, output.shape[1])
    return scores, target.reshape(-1)


def _predictions(output, target, name):
    """Class predictions and labels, both flat (M,): from logits by argmax, or as given."""
    output_np = _as_numpy(output, name, "output")
    target_np = _targets(target, name)
    if output_np.ndim == target_np.ndim + 1:
        scores, labels = _logits(output_np, target_np, name)
        if scores.shape[1] == 0:
            raise ValueError(f"[{name}] output has no classes (shape {output_np.shape})")
        return scores.argmax(axis=1), labels, scores.shape[1]
    if output_np.shape != target_np.shape:
        raise ValueError(
            f"[{name}] output must be logits (N, C) or predictions (N,) matching target "
            f"{target_np.shape}, got output {output_np.shape}"
        )
    _check_integer(output_np, name, "predictions (an output with the target's shape)")
    return output_np.reshape(-1), target_np.reshape(-1), None


def _matrix(output, target, num_classes, name):
    """The (C, C) int64 confusion matrix of a batch, with C from num_classes, the logits, or the labels."""
    pred, labels, logit_classes = _predictions(output, target, name)
    if num_classes is None:
        if logit_classes is not None:
            num_classes = logit_classes
        elif labels.size == 0:
            raise ValueError(f"[{name}] cannot infer num_classes from empty predictions; pass num_classes")
        else:
            num_classes = int(max(pred.max(), labels.max())) + 1
    elif not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"[{name}] num_classes must be a positive integer, got {num_classes!r}")
    elif logit_classes is not None and logit_classes != num_classes:
        raise ValueError(
            f"[{name}] output has {logit_classes} classes (logits shape "
            f"(N, {logit_classes})) but num_classes={num_classes}"
        )
    for values, what in ((labels, "target"), (pred, "predictions")):
        if values.size and (values.min() < 0 or values.max() >= num_classes):
            bad = values[(values < 0) | (values >= num_classes)]
            raise ValueError(
                f"[{name}] {what} contains labels outside [0, {num_classes}): {np.unique(bad)[:10].tolist()}"
            )
    flat = labels.astype(np.int64) * num_classes + pred.astype(np.int64)
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


# ------------------------------------------------------------------ scores from a confusion matrix


def _check_options(average, zero_division, name):
    if average not in _AVERAGES:
        raise ValueError(f"[{name}] average must be 'macro', 'micro', 'weighted' or None, got {average!r}")
    if not (zero_division in (0, 1) or (isinstance(zero_division, float) and np.isnan(zero_division))):
        raise ValueError(f"[{name}] zero_division must be 0.0, 1.0 or nan, got {zero_division!r}")


def _divide(numerator, denominator, zero_division):
    out = np.full(np.shape(numerator), float(zero_division))
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def _average(values, weights, zero_division):
    """Weighted mean that skips nan entries (zero_division=nan excludes undefined classes, as sklearn)."""
    keep = ~np.isnan(values) & (weights > 0)
    if not keep.any():
        return float(zero_division)
    return float(np.average(values[keep], weights=weights[keep]))


def _scores(cm, average, zero_division, name):
    """(precision, recall, f1) from cm[true, pred]: floats, or per-class float64 arrays when average is None.

    Per class: precision = tp / (tp + fp), recall = tp / (tp + fn), f1 = 2 tp / (2 tp + fp + fn); an empty
    denominator gives zero_division. 'macro' is the plain mean over the classes that occur in the targets or
    the predictions (classes absent from both are left out, as sklearn and torchmetrics do), 'weighted'
    weighs each class by its support, 'micro' pools the counts (= accuracy for single-label data).
    """
    _check_options(average, zero_division, name)
    cm = np.asarray(cm, dtype=np.int64)
    if cm.sum() == 0:
        raise ValueError(f"[{name}] no samples: the confusion matrix is empty")
    tp = np.diag(cm).astype(np.float64)
    predicted = cm.sum(axis=0).astype(np.float64)  # tp + fp
    support = cm.sum(axis=1).astype(np.float64)  # tp + fn
    if average == "micro":
        tp, predicted, support = tp.sum(), predicted.sum(), support.sum()
    p = _divide(tp, predicted, zero_division)
    r = _divide(tp, support, zero_division)
    f1 = _divide(2 * tp, predicted + support, zero_division)
    if average == "micro":
        return float(p), float(r), float(f1)
    if average is None:
        return p, r, f1
    weights = (predicted + support > 0).astype(np.float64) if average == "macro" else support
    return tuple(_average(v, weights, zero_division) for v in (p, r, f1))


# ------------------------------------------------------------------ public functions


def accuracy(output, target):
    """Fraction of samples whose predicted class (argmax of the logits) equals the target.

    Args:
        output: logits (N, C) or predicted classes (N,), Tensor or ndarray.
        target: (N,) integer labels.
    Returns:
        float in [0, 1].
    """
    pred, labels, _ = _predictions(output, target, "accuracy")
    if labels.size == 0:
        raise ValueError("[accuracy] no samples (empty target)")
    return float(np.mean(pred == labels))


def top_k_accuracy(output, target, k=5):
    """Fraction of samples whose target is among the k highest logits.

    Ties are broken by class index (the lower index ranks first), as argmax does, so k=1 equals accuracy().

    Args:
        output: logits (N, C). target: (N,) integer labels. k (int): 1 <= k <= C. Default: 5.
    Returns:
        float in [0, 1].
    """
    scores, labels = _logits(output, target, "top_k_accuracy")
    num_classes = scores.shape[1]
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"[top_k_accuracy] k must be a positive integer, got {k!r}")
    if k > num_classes:
        raise ValueError(
            f"[top_k_accuracy] k={k} is larger than the number of classes C={num_classes} (output shape {scores.shape})"
        )
    if labels.size == 0:
        raise ValueError("[top_k_accuracy] no samples (empty target)")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"[top_k_accuracy] target contains labels outside [0, {num_classes})")
    rows = np.arange(len(labels))
    target_score = scores[rows, labels][:, None]
    classes = np.arange(num_classes)[None, :]
    # The target's rank = classes scoring higher, plus equal-scoring classes with a lower index.
    rank = ((scores > target_score) | ((scores == target_score) & (classes < labels[:, None]))).sum(axis=1)
    return float(np.mean(rank < k))


def confusion_matrix(output, target, num_classes=None):
    """Counts cm[i, j] of samples with true class i predicted as class j (rows true, columns predicted).

    Args:
        output: logits (N, C) or predicted classes (N,). target: (N,) integer labels.
        num_classes (int, optional): C; default: the logits' C, or 1 + the largest label seen.
    Returns:
        int64 ndarray (C, C).
    """
    return _matrix(output, target, num_classes, "confusion_matrix")


def precision_recall_f1(output, target, average="macro", num_classes=None, zero_division=0.0):
    """Precision, recall and F1 together (one confusion matrix).

    Args:
        output: logits (N, C) or predicted classes (N,). target: (N,) integer labels.
        average (str or None): 'macro' (default), 'micro', 'weighted', or None for per-class (C,) arrays.
        num_classes (int, optional): see confusion_matrix.
        zero_division (float): value for an undefined ratio (a class never predicted, or never present):
            0.0 (default), 1.0, or nan (then left out of the averages).
    Returns:
        (precision, recall, f1): floats, or float64 arrays of shape (C,) when average is None.
    """
    cm = _matrix(output, target, num_classes, "precision_recall_f1")
    return _scores(cm, average, zero_division, "precision_recall_f1")


def precision(output, target, average="macro", num_classes=None, zero_division=0.0):
    """tp / (tp + fp) per class, averaged as `average` says. See precision_recall_f1 for the arguments."""
    return _scores(_matrix(output, target, num_classes, "precision"), average, zero_division, "precision")[0]


def recall(output, target, average="macro", num_classes=None, zero_division=0.0):
    """tp / (tp + fn) per class, averaged as `average` says. See precision_recall_f1 for the arguments."""
    return _scores(_matrix(output, target, num_classes, "recall"), average, zero_division, "recall")[1]


def f1_score(output, target, average="macro", num_classes=None, zero_division=0.0):
    """2 tp / (2 tp + fp + fn) per class (the harmonic mean of precision and recall), averaged as `average`
    says. See precision_recall_f1 for the arguments."""
    return _scores(_matrix(output, target, num_classes, "f1_score"), average, zero_division, "f1_score")[2]


def _report(cm, class_names, digits, name):
    """sklearn's classification_report layout, character for character."""
    num_classes = cm.shape[0]
    if class_names is None:
        class_names = [str(i) for i in range(num_classes)]
    class_names = [str(c) for c in class_names]
    if len(class_names) != num_classes:
        raise ValueError(f"[{name}] got {len(class_names)} class_names for {num_classes} classes")
    p, r, f1 = _scores(cm, None, 0.0, name)
    support = cm.sum(axis=1)
    total = int(cm.sum())
    width = max(len("weighted avg"), digits, *(len(c) for c in class_names))

    def row(label, values, count):
        cells = "".join(f" {v:>9.{digits}f}" if v is not None else f" {'':>9}" for v in values)
        return f"{label:>{width}} {cells} {count:>9}\n"

    text = f"{'':>{width}} " + "".join(f" {h:>9}" for h in ("precision", "recall", "f1-score", "support"))
    text += "\n\n"
    for i, cname in enumerate(class_names):
        text += row(cname, (p[i], r[i], f1[i]), int(support[i]))
    text += "\n" + row("accuracy", (None, None, np.trace(cm) / total), total)
    for label, avg in (("macro avg", "macro"), ("weighted avg", "weighted")):
        text += row(label, _scores(cm, avg, 0.0, name), total)
    return text


def classification_report(output, target, class_names=None, num_classes=None, digits=4):
    """A printable table of per-class precision, recall, F1 and support, then accuracy and the macro and
    support-weighted averages (sklearn's layout; undefined ratios print as 0).

    Args:
        output: logits (N, C) or predicted classes (N,). target: (N,) integer labels.
        class_names (list of str, optional): row labels; default "0", "1", ...
        num_classes (int, optional): default len(class_names), else as in confusion_matrix.
        digits (int): decimals. Default: 4.
    Returns:
        str.
    """
    if num_classes is None and class_names is not None:
        num_classes = len(class_names)
    cm = _matrix(output, target, num_classes, "classification_report")
    return _report(cm, class_names, digits, "classification_report")


# ------------------------------------------------------------------ streaming accumulator


class ConfusionMatrix:
    """Accumulates a confusion matrix over batches; the metrics are read from the running counts.

        cm = pc.metrics.ConfusionMatrix(10)
        for x, y in loader:
            cm.update(model(x), y)
        print(cm.accuracy, cm.f1)          # floats (macro averages by default)

    Args:
        num_classes (int): C.
        average (str or None): how the precision/recall/f1 properties average: 'macro' (default), 'micro',
            'weighted', or None for per-class (C,) arrays.
        zero_division (float): see precision_recall_f1. Default: 0.0.
    """

    def __init__(self, num_classes, average="macro", zero_division=0.0):
        if not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
            raise ValueError(f"[ConfusionMatrix] num_classes must be a positive integer, got {num_classes!r}")
        _check_options(average, zero_division, "ConfusionMatrix")
        self.num_classes = int(num_classes)
        self.average = average
        self.zero_division = zero_division
        self.reset()

    def reset(self):
        """Forget every sample seen so far."""
        self._matrix = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)

    def update(self, output, target):
        """Add a batch: logits (N, C) or predictions (N,), and (N,) integer labels."""
        self._matrix += _matrix(output, target, self.num_classes, "ConfusionMatrix")

    def compute(self):
        """The accumulated (C, C) int64 matrix (a copy), rows true class, columns predicted."""
        return self._matrix.copy()

    @property
    def num_samples(self):
        return int(self._matrix.sum())

    def _nonempty(self):
        if self._matrix.sum() == 0:
            raise RuntimeError("[ConfusionMatrix] no samples accumulated yet: call update() first")
        return self._matrix

    @property
    def accuracy(self):
        cm = self._nonempty()
        return float(np.trace(cm) / cm.sum())

    @property
    def precision(self):
        return _scores(self._nonempty(), self.average, self.zero_division, "ConfusionMatrix")[0]

    @property
    def recall(self):
        return _scores(self._nonempty(), self.average, self.zero_division, "ConfusionMatrix")[1]

    @property
    def f1(self):
        return _scores(self._nonempty(), self.average, self.zero_division, "ConfusionMatrix")[2]

    def report(self, class_names=None, digits=4):
        """classification_report() of the accumulated counts."""
        return _report(self._nonempty(), class_names, digits, "ConfusionMatrix")

    def __repr__(self):
        return f"ConfusionMatrix(num_classes={self.num_classes}, num_samples={self.num_samples})"
