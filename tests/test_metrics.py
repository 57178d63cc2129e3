"""Tests for pycnn.metrics: small examples worked out by hand, random data against a plain NumPy reference
written here (and sklearn when it happens to be installed), the streaming ConfusionMatrix against the
one-shot functions, edge cases (classes never predicted or absent, zero_division) and error messages.
"""

import numpy as np
import pytest

import pycnn as pc
from pycnn import metrics

# A worked example with 3 classes and 8 samples.
TARGET = np.array([0, 0, 1, 1, 2, 2, 2, 0])
PRED = np.array([0, 1, 1, 1, 2, 0, 1, 0])
# cm[true, pred]: true 0 -> predicted 0, 1, 0 -> [2, 1, 0]; true 1 -> 1, 1 -> [0, 2, 0];
# true 2 -> 2, 0, 1 -> [1, 1, 1].
CM = [[2, 1, 0], [0, 2, 0], [1, 1, 1]]
# Column sums (predicted per class) [3, 4, 1]; row sums (support) [3, 2, 3]; diagonal (tp) [2, 2, 1].
PRECISION = [2 / 3, 2 / 4, 1 / 1]
RECALL = [2 / 3, 2 / 2, 1 / 3]
F1 = [4 / 6, 4 / 6, 2 / 4]  # 2 tp / (predicted + support)


def _logits_for(pred, num_classes, seed=0):
    """Random logits whose argmax is `pred`."""
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((len(pred), num_classes)).astype(np.float32)
    logits[np.arange(len(pred)), pred] = logits.max(axis=1) + 1.0 + rng.random(len(pred)).astype(np.float32)
    return logits


@pytest.mark.parametrize("form", ["numpy_pred", "tensor_pred", "numpy_logits", "tensor_logits"])
def test_hand_example(form):
    output = PRED if "pred" in form else _logits_for(PRED, 3)
    target = TARGET
    if "tensor" in form:
        output, target = pc.tensor(output), pc.tensor(TARGET)
    cm = metrics.confusion_matrix(output, target)
    assert cm.dtype == np.int64 and cm.tolist() == CM
    assert metrics.accuracy(output, target) == pytest.approx(5 / 8)
    p, r, f = metrics.precision_recall_f1(output, target, average=None)
    np.testing.assert_allclose(p, PRECISION)
    np.testing.assert_allclose(r, RECALL)
    np.testing.assert_allclose(f, F1)
    # macro: plain means. precision (2/3 + 1/2 + 1) / 3 = 13/18, recall (2/3 + 1 + 1/3) / 3 = 2/3,
    # f1 (2/3 + 2/3 + 1/2) / 3 = 11/18.
    assert metrics.precision(output, target) == pytest.approx(13 / 18)
    assert metrics.recall(output, target) == pytest.approx(2 / 3)
    assert metrics.f1_score(output, target) == pytest.approx(11 / 18)
    # weighted by support [3, 2, 3] / 8: precision (2 + 1 + 3) / 8 = 3/4, recall (2 + 2 + 1) / 8 = 5/8,
    # f1 (2 + 4/3 + 3/2) / 8 = 29/48.
    weighted = metrics.precision_recall_f1(output, target, average="weighted")
    assert weighted == pytest.approx((3 / 4, 5 / 8, 29 / 48))
    # micro pools the counts: every ratio is 5 correct out of 8.
    assert metrics.precision_recall_f1(output, target, average="micro") == pytest.approx((5 / 8,) * 3)


def test_top_k_hand_example():
    logits = np.array(
        [
            [0.1, 0.5, 0.3, 0.2],  # target 2: only 0.5 is higher -> rank 1
            [0.9, 0.05, 0.03, 0.02],  # target 3: three classes higher -> rank 3
            [0.2, 0.2, 0.6, 0.0],
        ]
    )  # target 1: 0.6 higher, class 0 ties, lower index -> rank 2
    target = np.array([2, 3, 1])
    # correct when rank < k: k=1 none, k=2 one (sample 0), k=3 two (samples 0, 2), k=4 all.
    expected = {1: 0.0, 2: 1 / 3, 3: 2 / 3, 4: 1.0}
    for k, value in expected.items():
        assert metrics.top_k_accuracy(logits, target, k=k) == pytest.approx(value)
        assert metrics.top_k_accuracy(pc.tensor(logits), pc.tensor(target), k=k) == pytest.approx(value)
    # Ties broken by index, as argmax does, so k=1 is accuracy (argmaxes 1, 0, 2 -> none right).
    assert metrics.accuracy(logits, target) == 0.0


def _reference(pred, target, num_classes, zero_division=0.0):
    """Per-class precision/recall/F1 with plain loops, and macro/weighted averages (classes that occur)."""
    p, r, f, support, present = [], [], [], [], []
    for c in range(num_classes):
        tp = np.sum((pred == c) & (target == c))
        fp = np.sum((pred == c) & (target != c))
        fn = np.sum((pred != c) & (target == c))
        p.append(tp / (tp + fp) if tp + fp else zero_division)
        r.append(tp / (tp + fn) if tp + fn else zero_division)
        f.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else zero_division)
        support.append(tp + fn)
        present.append(tp + fp + fn > 0)
    p, r, f, support, present = map(np.array, (p, r, f, support, present))
    macro = [v[present].mean() for v in (p, r, f)]
    weighted = [np.sum(v * support) / support.sum() for v in (p, r, f)]
    return (p, r, f), macro, weighted


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_against_numpy_reference(seed):
    rng = np.random.default_rng(seed)
    num_classes, n = 7, 300
    target = rng.integers(0, num_classes, n)
    # Predictions: right about 60% of the time, otherwise skewed towards class 3; class 6 never predicted.
    pred = np.where(rng.random(n) < 0.6, target, rng.choice([0, 1, 2, 3, 3, 3, 4, 5], n))
    pred[pred == 6] = 5
    logits = _logits_for(pred, num_classes, seed)
    per_class, macro, weighted = _reference(pred, target, num_classes)
    for output in (logits, pred, pc.tensor(logits)):
        cm = metrics.confusion_matrix(output, target, num_classes=num_classes)
        expected_cm = np.zeros((num_classes, num_classes), dtype=np.int64)
        for t, q in zip(target, pred):
            expected_cm[t, q] += 1
        np.testing.assert_array_equal(cm, expected_cm)
        got = metrics.precision_recall_f1(output, target, average=None, num_classes=num_classes)
        for values, want in zip(got, per_class):
            np.testing.assert_allclose(values, want, rtol=1e-12)
        np.testing.assert_allclose(
            metrics.precision_recall_f1(output, target, num_classes=num_classes), macro, rtol=1e-12
        )
        np.testing.assert_allclose(
            metrics.precision_recall_f1(output, target, average="weighted", num_classes=num_classes),
            weighted,
            rtol=1e-12,
        )
        acc = np.mean(pred == target)
        assert metrics.accuracy(output, target) == pytest.approx(acc)
        # Single-label multi-class: micro precision = micro recall = micro F1 = accuracy; weighted recall too.
        assert metrics.precision_recall_f1(output, target, average="micro") == pytest.approx((acc,) * 3)
        assert metrics.recall(output, target, average="weighted", num_classes=7) == pytest.approx(acc)
    assert per_class[0][6] == 0.0  # class 6 was never predicted -> zero_division


@pytest.mark.parametrize("seed", [0, 1])
def test_top_k_against_numpy_reference(seed):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((200, 10)).astype(np.float32)
    target = rng.integers(0, 10, 200)
    order = np.argsort(-logits, axis=1, kind="stable")  # no ties in random floats
    for k in (1, 3, 5, 10):
        expected = np.mean([target[i] in order[i, :k] for i in range(200)])
        assert metrics.top_k_accuracy(logits, target, k=k) == pytest.approx(expected)
    assert metrics.top_k_accuracy(logits, target, k=1) == metrics.accuracy(logits, target)
    assert metrics.top_k_accuracy(logits, target, k=10) == 1.0


@pytest.mark.parametrize("seed", [0, 1])
def test_against_sklearn(seed):
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    target = rng.integers(0, 5, 150)
    pred = np.where(rng.random(150) < 0.5, target, rng.integers(0, 4, 150))
    np.testing.assert_array_equal(
        metrics.confusion_matrix(pred, target, num_classes=5), sk.confusion_matrix(target, pred, labels=range(5))
    )
    for average in ("macro", "micro", "weighted", None):
        for zero_division in (0.0, 1.0):
            ours = metrics.precision_recall_f1(pred, target, average=average, zero_division=zero_division)
            theirs = sk.precision_recall_fscore_support(target, pred, average=average, zero_division=zero_division)[:3]
            np.testing.assert_allclose(np.array(ours, dtype=float), np.array(theirs, dtype=float), rtol=1e-12)
    names = ["airplane", "car", "bird", "cat", "deer"]
    assert metrics.classification_report(pred, target, class_names=names) == sk.classification_report(
        target, pred, target_names=names, digits=4, zero_division=0
    )


def test_streaming_equals_one_shot():
    rng = np.random.default_rng(4)
    num_classes = 5
    logits = rng.standard_normal((237, num_classes)).astype(np.float32)
    target = rng.integers(0, num_classes, 237)
    acc = metrics.ConfusionMatrix(num_classes)
    for start, stop in [(0, 64), (64, 100), (100, 101), (101, 237)]:  # uneven batches, Tensors and arrays
        out, tgt = logits[start:stop], target[start:stop]
        acc.update(pc.tensor(out) if start % 2 else out, pc.tensor(tgt) if start % 2 else tgt)
    np.testing.assert_array_equal(acc.compute(), metrics.confusion_matrix(logits, target))
    assert acc.num_samples == 237
    assert acc.accuracy == pytest.approx(metrics.accuracy(logits, target))
    assert acc.precision == pytest.approx(metrics.precision(logits, target))
    assert acc.recall == pytest.approx(metrics.recall(logits, target))
    assert acc.f1 == pytest.approx(metrics.f1_score(logits, target))
    assert acc.report() == metrics.classification_report(logits, target)

    per_class = metrics.ConfusionMatrix(num_classes, average=None)
    per_class.update(logits, target)
    np.testing.assert_allclose(per_class.f1, metrics.f1_score(logits, target, average=None))
    micro = metrics.ConfusionMatrix(num_classes, average="micro")
    micro.update(pc.tensor(logits), pc.tensor(target))
    assert micro.f1 == pytest.approx(micro.accuracy)

    acc.reset()
    assert acc.num_samples == 0 and acc.compute().sum() == 0
    with pytest.raises(RuntimeError, match=r"\[ConfusionMatrix\] no samples"):
        _ = acc.accuracy
    acc.update(logits[:10], target[:10])
    np.testing.assert_array_equal(
        acc.compute(), metrics.confusion_matrix(logits[:10], target[:10], num_classes=num_classes)
    )


def test_spatial_outputs_are_flattened():
    """(N, C, H, W) logits with (N, H, W) targets count every pixel, like the flattened (N*H*W, C) case."""
    rng = np.random.default_rng(5)
    logits = rng.standard_normal((2, 4, 3, 5)).astype(np.float32)
    target = rng.integers(0, 4, (2, 3, 5))
    flat_logits = logits.transpose(0, 2, 3, 1).reshape(-1, 4)
    np.testing.assert_array_equal(
        metrics.confusion_matrix(logits, target), metrics.confusion_matrix(flat_logits, target.reshape(-1))
    )
    assert metrics.top_k_accuracy(logits, target, k=2) == metrics.top_k_accuracy(flat_logits, target.ravel(), k=2)


def test_zero_division_and_absent_classes():
    target = np.array([0, 1, 2, 2])
    pred = np.array([0, 1, 1, 1])
    # class 0: tp 1, fp 0, fn 0 -> P = R = F1 = 1.
    # class 1: tp 1, fp 2, fn 0 -> P = 1/3, R = 1, F1 = 2 / (2 + 2) = 1/2.
    # class 2: never predicted -> P undefined (zero_division); R = 0/2 = 0; F1 = 0 / (0 + 0 + 2) = 0.
    # class 3 (num_classes=4): in neither -> everything undefined, and left out of the macro average.
    for zd in (0.0, 1.0):
        p, r, f = metrics.precision_recall_f1(pred, target, average=None, num_classes=4, zero_division=zd)
        np.testing.assert_allclose(p, [1, 1 / 3, zd, zd])
        np.testing.assert_allclose(r, [1, 1, 0, zd])
        np.testing.assert_allclose(f, [1, 1 / 2, 0, zd])
        # macro over classes 0..2: precision (1 + 1/3 + zd) / 3
        macro_precision = metrics.precision(pred, target, num_classes=4, zero_division=zd)
        assert macro_precision == pytest.approx((4 / 3 + zd) / 3)
        assert metrics.f1_score(pred, target, num_classes=4, zero_division=zd) == pytest.approx(1.5 / 3)
    # nan: undefined entries are reported as nan and excluded from the average.
    p = metrics.precision(pred, target, average=None, num_classes=4, zero_division=float("nan"))
    assert np.isnan(p[2]) and np.isnan(p[3])
    assert metrics.precision(pred, target, zero_division=np.nan) == pytest.approx((1 + 1 / 3) / 2)
    # A perfect prediction scores 1 everywhere.
    assert metrics.precision_recall_f1(target, target, average="macro") == pytest.approx((1.0, 1.0, 1.0))


def test_classification_report():
    names = ["cat", "dog", "bird"]
    text = metrics.classification_report(PRED, TARGET, class_names=names)
    rows = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.strip()}
    for i, name in enumerate(names):
        p, r, f, support = rows[name]
        assert float(p) == pytest.approx(PRECISION[i], abs=5e-5)
        assert float(r) == pytest.approx(RECALL[i], abs=5e-5)
        assert float(f) == pytest.approx(F1[i], abs=5e-5)
        assert int(support) == [3, 2, 3][i]
    assert rows["accuracy"] == ["0.6250", "8"]
    assert [float(v) for v in rows["macro"][1:4]] == pytest.approx([13 / 18, 2 / 3, 11 / 18], abs=5e-5)
    assert [float(v) for v in rows["weighted"][1:4]] == pytest.approx([3 / 4, 5 / 8, 29 / 48], abs=5e-5)
    assert "precision" in text.splitlines()[0] and "support" in text.splitlines()[0]
    default = metrics.classification_report(pc.tensor(_logits_for(PRED, 3)), pc.tensor(TARGET), digits=2)
    assert default.splitlines()[2].split() == ["0", "0.67", "0.67", "0.67", "3"]


def test_errors():
    logits = np.zeros((4, 3), dtype=np.float32) + np.arange(3, dtype=np.float32)
    target = np.array([0, 1, 2, 1])
    with pytest.raises(ValueError, match=r"^\[confusion_matrix\] .*\(4, 3\).*\(5,\)"):
        metrics.confusion_matrix(logits, np.array([0, 1, 2, 1, 0]))
    with pytest.raises(
        ValueError,
        match=r"^\[confusion_matrix\] target contains labels outside "
        r"\[0, 3\): \[3\]",
    ):
        metrics.confusion_matrix(logits, np.array([0, 1, 3, 1]))
    with pytest.raises(ValueError, match=r"^\[confusion_matrix\] target contains labels outside"):
        metrics.confusion_matrix(np.array([0, 1, 1, 1]), np.array([0, -1, 2, 1]), num_classes=3)
    with pytest.raises(ValueError, match=r"^\[confusion_matrix\] predictions contains labels outside"):
        metrics.confusion_matrix(np.array([0, 4, 1, 1]), target, num_classes=3)
    with pytest.raises(ValueError, match=r"^\[confusion_matrix\] output has 3 classes"):
        metrics.confusion_matrix(logits, target, num_classes=5)
    with pytest.raises(ValueError, match=r"^\[top_k_accuracy\] k=5 is larger than the number of classes C=3"):
        metrics.top_k_accuracy(logits, target)
    with pytest.raises(ValueError, match=r"^\[top_k_accuracy\] expected logits"):
        metrics.top_k_accuracy(np.array([0, 1, 2, 1]), target, k=1)
    with pytest.raises(ValueError, match=r"^\[top_k_accuracy\] k must be"):
        metrics.top_k_accuracy(logits, target, k=0)
    with pytest.raises(TypeError, match=r"^\[accuracy\] target must hold integer class indices"):
        metrics.accuracy(logits, target.astype(np.float32))
    with pytest.raises(TypeError, match=r"^\[accuracy\] predictions"):
        metrics.accuracy(np.array([0.0, 1.0, 2.0, 1.0]), target)
    with pytest.raises(ValueError, match=r"^\[accuracy\] no samples"):
        metrics.accuracy(np.zeros((0, 3)), np.zeros(0, dtype=np.int64))
    with pytest.raises(ValueError, match=r"^\[precision\] average must be"):
        metrics.precision(logits, target, average="samples")
    with pytest.raises(ValueError, match=r"^\[recall\] zero_division"):
        metrics.recall(logits, target, zero_division="warn")
    with pytest.raises(ValueError, match=r"^\[classification_report\] got 2 class_names for 3 classes"):
        metrics.classification_report(logits, target, class_names=["a", "b"], num_classes=3)
    with pytest.raises(ValueError, match=r"^\[ConfusionMatrix\] num_classes"):
        metrics.ConfusionMatrix(0)
    with pytest.raises(ValueError, match=r"^\[ConfusionMatrix\] output has 3 classes"):
        metrics.ConfusionMatrix(4).update(logits, target)
    with pytest.raises(TypeError, match=r"^\[accuracy\] output must be"):
        metrics.accuracy("abc", target)
