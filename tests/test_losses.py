"""Loss functions: cross_entropy / nll_loss in full (weights, ignore_index, label smoothing, probability
targets, (N, C, d1, ...) inputs) and the elementwise / margin losses. Each is checked against a plain NumPy
reference, a float64 finite-difference gradcheck (w.r.t. input and, where torch has one, target), torch
for every option combination, and bad input.
"""

import numpy as np
import pytest

import pycnn as pc
import pycnn.nn.functional as F
from pycnn import nn

from helpers import check_device_matches_cpu, check_torch, gradcheck, host, randn

pytestmark = pytest.mark.filterwarnings("ignore:reduction. .mean. divides:UserWarning")  # torch kl_div

REDUCTIONS = ["none", "mean", "sum"]
DTYPES = [np.float32, np.float64]


def tol(dtype):
    return {"atol": 1e-5, "rtol": 1e-4} if dtype == np.float32 else {"atol": 1e-10, "rtol": 1e-9}


def on(value, like):
    """value (an array or a tensor; None stays None) as a tensor on the device of the tensor `like`."""
    if value is None:
        return None
    return value.to(like.device) if isinstance(value, pc.Tensor) else pc.tensor(value, device=like.device)


def reduce_np(per, reduction, denominator=None):
    if reduction == "none":
        return per
    s = per.sum()
    return s / (per.size if denominator is None else denominator) if reduction == "mean" else s


def log_softmax_np(x):
    m = x.max(axis=1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))


def class_targets(shape, C, seed=1, ignore=None):
    t = np.random.default_rng(seed).integers(0, C, shape)
    if ignore is not None:
        t.reshape(-1)[::3] = ignore  # every third element ignored
    return t


# ---- cross_entropy / nll_loss: NumPy references ----
def nll_np(lp, t, w, reduction, ignore_index=-100, smoothing=0.0):
    """lp (N, C, *) log-probs, t (N, *) indices; per element (1-e) w_y (-lp_y) + e/C sum_c w_c (-lp_c)."""
    C = lp.shape[1]
    w = np.ones(C) if w is None else w
    lpm = np.moveaxis(lp, 1, -1).reshape(-1, C)  # (N * S, C)
    tf = t.reshape(-1)
    keep = tf != ignore_index
    ts = np.where(keep, tf, 0)
    per = (1 - smoothing) * w[ts] * -lpm[np.arange(tf.size), ts] + smoothing / C * -(lpm * w).sum(axis=1)
    per = np.where(keep, per, 0.0)
    return reduce_np(per.reshape(t.shape), reduction, (w[ts] * keep).sum())


def prob_ce_np(x, p, w, reduction, smoothing=0.0):
    C = x.shape[1]
    w = np.ones(C) if w is None else w
    wshape = (1, C) + (1,) * (x.ndim - 2)
    q = (1 - smoothing) * p + smoothing / C
    per = -(log_softmax_np(x) * q * w.reshape(wshape)).sum(axis=1)
    return reduce_np(per, reduction, per.size)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(7, 5), (3, 4, 5), (2, 3, 4, 3)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_matches_numpy(dtype, shape, reduction, weighted, smoothing, device):
    x = randn(*shape, dtype=dtype)
    t = class_targets((shape[0],) + shape[2:], shape[1], ignore=-100)
    w = np.random.default_rng(2).random(shape[1]).astype(dtype) + 0.1 if weighted else None
    out = F.cross_entropy(
        pc.tensor(x, device=device),
        pc.tensor(t, device=device),
        weight=None if w is None else pc.tensor(w, device=device),
        reduction=reduction,
        label_smoothing=smoothing,
    )
    ref = nll_np(log_softmax_np(x.astype(np.float64)), t, w, reduction, -100, smoothing)
    assert out.dtype == pc.tensor(x, device=device).dtype
    np.testing.assert_allclose(host(out), ref, **tol(dtype))
    nll = F.nll_loss(
        pc.tensor(x, device=device),
        pc.tensor(t, device=device),
        weight=None if w is None else pc.tensor(w, device=device),
        reduction=reduction,
    )
    np.testing.assert_allclose(host(nll), nll_np(x.astype(np.float64), t, w, reduction), **tol(dtype))
    if dtype == np.float32:  # the gradient too, and a strided input, against the CPU kernels

        def ce(a, tt):
            return F.cross_entropy(a, tt, weight=on(w, a), reduction=reduction, label_smoothing=smoothing)

        check_device_matches_cpu(ce, [x, t], device, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(6, 4), (2, 3, 5)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_cross_entropy_probability_targets_match_numpy(dtype, shape, reduction, smoothing, device):
    x = randn(*shape, dtype=dtype)
    p = np.random.default_rng(3).random(shape)
    p = (p / p.sum(axis=1, keepdims=True)).astype(dtype)
    w = np.random.default_rng(4).random(shape[1]).astype(dtype) + 0.5
    out = F.cross_entropy(
        pc.tensor(x, device=device),
        pc.tensor(p, device=device),
        weight=pc.tensor(w, device=device),
        reduction=reduction,
        label_smoothing=smoothing,
    )
    ref = prob_ce_np(x.astype(np.float64), p.astype(np.float64), w.astype(np.float64), reduction, smoothing)
    np.testing.assert_allclose(host(out), ref, **tol(dtype))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_gradcheck(weighted, smoothing, reduction, device):
    x = randn(3, 4, 2)
    t = class_targets((3, 2), 4, ignore=-1)
    w = pc.tensor(np.linspace(0.5, 2.0, 4)) if weighted else None
    gradcheck(
        lambda a: F.cross_entropy(
            a, on(t, a), weight=on(w, a), ignore_index=-1, reduction=reduction, label_smoothing=smoothing
        ).reshape(-1),
        [x],
        device=device,
    )
    gradcheck(
        lambda a: F.nll_loss(a, on(t, a), weight=on(w, a), ignore_index=-1, reduction=reduction).reshape(-1),
        [x],
        device=device,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probability_gradcheck_input_and_target(reduction, device):
    x, p = randn(3, 4), np.random.default_rng(5).random((3, 4))
    w = pc.tensor(np.linspace(0.5, 2.0, 4))
    gradcheck(
        lambda a, b: F.cross_entropy(a, b, weight=on(w, a), reduction=reduction, label_smoothing=0.1).reshape(-1),
        [x, p],
        device=device,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (2, 3, 2, 2)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, 1])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_and_nll_match_torch(dtype, shape, reduction, weighted, ignore_index, smoothing):
    torch = pytest.importorskip("torch")
    x = randn(*shape, dtype=dtype)
    t = class_targets((shape[0],) + shape[2:], shape[1], ignore=ignore_index)
    w = np.random.default_rng(2).random(shape[1]).astype(dtype) + 0.1 if weighted else None
    pw = None if w is None else pc.tensor(w)
    tw = None if w is None else torch.tensor(w)
    check_torch(
        lambda a, b: F.cross_entropy(
            a, b, weight=pw, ignore_index=ignore_index, reduction=reduction, label_smoothing=smoothing
        ),
        lambda a, b: torch.nn.functional.cross_entropy(
            a, b, weight=tw, ignore_index=ignore_index, reduction=reduction, label_smoothing=smoothing
        ),
        [x, t],
        **tol(dtype),
    )
    check_torch(
        lambda a, b: F.nll_loss(a, b, weight=pw, ignore_index=ignore_index, reduction=reduction),
        lambda a, b: torch.nn.functional.nll_loss(a, b, weight=tw, ignore_index=ignore_index, reduction=reduction),
        [x, t],
        **tol(dtype),
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_probabilities_match_torch(dtype, shape, reduction, weighted, smoothing):
    torch = pytest.importorskip("torch")
    x = randn(*shape, dtype=dtype)
    p = np.random.default_rng(3).random(shape).astype(dtype)
    w = np.random.default_rng(2).random(shape[1]).astype(dtype) + 0.1 if weighted else None
    check_torch(
        lambda a, b: F.cross_entropy(
            a, b, weight=None if w is None else pc.tensor(w), reduction=reduction, label_smoothing=smoothing
        ),
        lambda a, b: torch.nn.functional.cross_entropy(
            a, b, weight=None if w is None else torch.tensor(w), reduction=reduction, label_smoothing=smoothing
        ),
        [x, p],
        **tol(dtype),
    )


def test_cross_entropy_unbatched_and_modules_match_torch():
    torch = pytest.importorskip("torch")
    x, w = randn(5), np.linspace(0.5, 1.5, 5)
    check_torch(
        lambda a: F.cross_entropy(a, pc.tensor(np.int64(2)), reduction="none"),
        lambda a: torch.nn.functional.cross_entropy(a, torch.tensor(2), reduction="none"),
        [x],
    )
    x2, t2 = randn(4, 5), class_targets((4,), 5)
    m = nn.CrossEntropyLoss(weight=pc.tensor(w), ignore_index=3, label_smoothing=0.1)
    tm = torch.nn.CrossEntropyLoss(weight=torch.tensor(w), ignore_index=3, label_smoothing=0.1)
    check_torch(lambda a, b: m(a, b), lambda a, b: tm(a, b), [x2, t2])
    m, tm = nn.NLLLoss(weight=pc.tensor(w), reduction="sum"), torch.nn.NLLLoss(weight=torch.tensor(w), reduction="sum")
    check_torch(lambda a, b: m(a, b), lambda a, b: tm(a, b), [x2, t2])


def test_cross_entropy_all_ignored_mean_is_nan_like_torch(device):
    out = F.cross_entropy(pc.tensor(randn(2, 3), device=device), pc.tensor(np.array([-100, -100]), device=device))
    assert np.isnan(out.item())


def test_cross_entropy_same_for_one_and_two_threads():
    x, t = randn(64, 10, 9, dtype=np.float32), class_targets((64, 9), 10, ignore=-100)
    results = []
    old = pc._C.get_num_threads()
    try:
        for n in (1, 2):
            pc._C.set_num_threads(n)
            a = pc.tensor(x, requires_grad=True)
            F.cross_entropy(a, pc.tensor(t), label_smoothing=0.1).backward()
            results.append((np.asarray(a.grad), np.asarray(F.cross_entropy(pc.tensor(x), pc.tensor(t)))))
    finally:
        pc._C.set_num_threads(old)
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


# ---- elementwise losses: NumPy references ----
def softplus_np(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def pointwise_np(kind, x, y, param=None, w=None, pw=None):
    d = x - y
    if kind == "mse":
        return d * d
    if kind == "l1":
        return np.abs(d)
    if kind == "smooth_l1":
        return np.where(np.abs(d) < param, 0.5 * d * d / param, np.abs(d) - 0.5 * param)
    if kind == "huber":
        return np.where(np.abs(d) < param, 0.5 * d * d, param * (np.abs(d) - 0.5 * param))
    if kind == "bce":
        w = 1.0 if w is None else w
        return -w * (y * np.maximum(np.log(x), -100) + (1 - y) * np.maximum(np.log(1 - x), -100))
    if kind == "bce_logits":
        w = 1.0 if w is None else w
        pw = 1.0 if pw is None else pw
        return w * (pw * y * softplus_np(-x) + (1 - y) * softplus_np(x))
    if kind == "kl":
        return y * (np.log(y) - x)
    if kind == "kl_log":
        return np.exp(y) * (y - x)
    raise AssertionError(kind)


def pointwise_inputs(kind, shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x, y = randn(*shape, dtype=np.float64, seed=seed), randn(*shape, dtype=np.float64, seed=seed + 7)
    if kind in ("l1", "smooth_l1", "huber"):  # keep |x - y| away from the kinks at 0 and beta / delta
        d = np.sign(x - y) * (np.abs(x - y) % 0.8 + 0.1)
        d = np.where(np.abs(np.abs(d) - 0.5) < 0.05, d * 1.2, d)
        x = y + d
    if kind == "bce":
        x, y = rng.uniform(0.05, 0.95, shape), rng.random(shape)
    if kind == "bce_logits":
        y = rng.random(shape)
    if kind == "kl":
        x, y = np.log(rng.uniform(0.05, 1, shape)), rng.uniform(0.05, 1, shape)
    if kind == "kl_log":
        x, y = np.log(rng.uniform(0.05, 1, shape)), np.log(rng.uniform(0.05, 1, shape))
    return x.astype(dtype), y.astype(dtype)


def call_pointwise(F_, kind, a, b, reduction, param):
    if kind == "mse":
        return F_.mse_loss(a, b, reduction=reduction)
    if kind == "l1":
        return F_.l1_loss(a, b, reduction=reduction)
    if kind == "smooth_l1":
        return F_.smooth_l1_loss(a, b, reduction=reduction, beta=param)
    if kind == "huber":
        return F_.huber_loss(a, b, reduction=reduction, delta=param)
    if kind == "bce":
        return F_.binary_cross_entropy(a, b, reduction=reduction)
    if kind == "bce_logits":
        return F_.binary_cross_entropy_with_logits(a, b, reduction=reduction)
    if kind == "kl":
        return F_.kl_div(a, b, reduction=reduction)
    if kind == "kl_log":
        return F_.kl_div(a, b, reduction=reduction, log_target=True)
    raise AssertionError(kind)


POINTWISE = [
    ("mse", None),
    ("l1", None),
    ("smooth_l1", 0.5),
    ("smooth_l1", 1.0),
    ("huber", 0.5),
    ("huber", 1.5),
    ("bce", None),
    ("bce_logits", None),
    ("kl", None),
    ("kl_log", None),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind,param", POINTWISE)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_pointwise_losses_match_numpy(dtype, kind, param, reduction, device):
    x, y = pointwise_inputs(kind, (5, 3, 7), dtype)
    out = call_pointwise(F, kind, pc.tensor(x, device=device), pc.tensor(y, device=device), reduction, param)
    ref = reduce_np(pointwise_np(kind, x.astype(np.float64), y.astype(np.float64), param), reduction)
    assert out.dtype == pc.tensor(x, device=device).dtype
    np.testing.assert_allclose(host(out), ref, **tol(dtype))
    if dtype == np.float32:  # both inputs' gradients too, and strided inputs, against the CPU kernels
        fn = lambda a, b: call_pointwise(F, kind, a, b, reduction, param)
        check_device_matches_cpu(fn, [x, y], device, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind,param", POINTWISE)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_pointwise_losses_gradcheck_input_and_target(kind, param, reduction, device):
    x, y = pointwise_inputs(kind, (3, 4), np.float64, seed=3)
    gradcheck(lambda a, b: call_pointwise(F, kind, a, b, reduction, param).reshape(-1), [x, y], device=device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind,param", POINTWISE)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_pointwise_losses_match_torch(dtype, kind, param, reduction):
    torch = pytest.importorskip("torch")
    x, y = pointwise_inputs(kind, (4, 3, 5), dtype, seed=11)
    check_torch(
        lambda a, b: call_pointwise(F, kind, a, b, reduction, param),
        lambda a, b: call_pointwise(torch.nn.functional, kind, a, b, reduction, param),
        [x, y],
        **tol(dtype),
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_shape", [None, (4, 3), (3,)])
@pytest.mark.parametrize("pos_weight", [False, True])
def test_bce_weights_match_numpy_and_torch(dtype, reduction, weight_shape, pos_weight, device):
    torch = pytest.importorskip("torch")
    x = randn(4, 3, dtype=dtype)
    y = np.random.default_rng(1).random((4, 3)).astype(dtype)
    p = 1 / (1 + np.exp(-x.astype(np.float64)))
    w = None if weight_shape is None else np.random.default_rng(2).random(weight_shape).astype(dtype) + 0.1
    pw = np.array([0.5, 2.0, 3.0], dtype=dtype) if pos_weight else None
    T = lambda a: None if a is None else torch.tensor(a)
    P = lambda a: None if a is None else pc.tensor(a)
    out = F.binary_cross_entropy_with_logits(
        pc.tensor(x), pc.tensor(y), weight=P(w), pos_weight=P(pw), reduction=reduction
    )
    ref = reduce_np(pointwise_np("bce_logits", x.astype(np.float64), y, None, w, pw), reduction)
    np.testing.assert_allclose(np.asarray(out), ref, **tol(dtype))
    if device != "cpu":  # both BCE forms with weights: values and both inputs' gradients against the CPU

        def bce_logits(a, b):
            return F.binary_cross_entropy_with_logits(a, b, weight=on(w, a), pos_weight=on(pw, a), reduction=reduction)

        check_device_matches_cpu(bce_logits, [x, y], device, **tol(dtype))
        pr = (0.05 + 0.9 * p).astype(dtype)

        def bce(a, b):
            return F.binary_cross_entropy(a, b, weight=on(w, a), reduction=reduction)

        check_device_matches_cpu(bce, [pr, y], device, **tol(dtype))
        return
    check_torch(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, weight=P(w), pos_weight=P(pw), reduction=reduction),
        lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(
            a, b, weight=T(w), pos_weight=T(pw), reduction=reduction
        ),
        [x, y],
        **tol(dtype),
    )
    check_torch(
        lambda a, b: F.binary_cross_entropy(a, b, weight=P(w), reduction=reduction),
        lambda a, b: torch.nn.functional.binary_cross_entropy(a, b, weight=T(w), reduction=reduction),
        [p.astype(dtype), y],
        **tol(dtype),
    )
    ref = reduce_np(pointwise_np("bce", p, y.astype(np.float64), None, w), reduction)
    np.testing.assert_allclose(
        np.asarray(F.binary_cross_entropy(pc.tensor(p.astype(dtype)), pc.tensor(y), weight=P(w), reduction=reduction)),
        ref,
        **tol(dtype),
    )


def test_bce_clamps_log_at_minus_100_and_logits_are_stable(device):
    out = F.binary_cross_entropy(
        pc.tensor(np.array([0.0, 1.0]), device=device), pc.tensor(np.array([1.0, 0.0]), device=device), reduction="none"
    )
    np.testing.assert_allclose(host(out), [100.0, 100.0])
    big = F.binary_cross_entropy_with_logits(
        pc.tensor(np.array([1e4, -1e4]), device=device),
        pc.tensor(np.array([0.0, 1.0]), device=device),
        reduction="none",
    )
    np.testing.assert_allclose(host(big), [1e4, 1e4])


@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_kl_div_batchmean_matches_torch(log_target, dtype):
    torch = pytest.importorskip("torch")
    x, y = pointwise_inputs("kl_log" if log_target else "kl", (4, 6), dtype)
    check_torch(
        lambda a, b: F.kl_div(a, b, reduction="batchmean", log_target=log_target),
        lambda a, b: torch.nn.functional.kl_div(a, b, reduction="batchmean", log_target=log_target),
        [x, y],
        **tol(dtype),
    )
    ref = pointwise_np("kl_log" if log_target else "kl", x.astype(np.float64), y.astype(np.float64)).sum() / 4
    np.testing.assert_allclose(
        nn.KLDivLoss(reduction="batchmean", log_target=log_target)(pc.tensor(x), pc.tensor(y)).item(), ref, **tol(dtype)
    )


def test_kl_div_zero_target_contributes_nothing(device):
    out = F.kl_div(
        pc.tensor(np.array([-1.0, -2.0]), device=device),
        pc.tensor(np.array([0.0, 0.5]), device=device),
        reduction="none",
    )
    np.testing.assert_allclose(host(out), [0.0, 0.5 * (np.log(0.5) + 2.0)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.7])
def test_margin_ranking_loss(dtype, reduction, margin, device):
    torch = pytest.importorskip("torch")
    x1, x2 = randn(9, dtype=dtype, seed=1), randn(9, dtype=dtype, seed=2)
    y = np.where(np.random.default_rng(3).random(9) < 0.5, -1.0, 1.0).astype(dtype)
    ref = reduce_np(np.maximum(0, -y * (x1.astype(np.float64) - x2) + margin), reduction)
    out = nn.MarginRankingLoss(margin=margin, reduction=reduction)(pc.tensor(x1), pc.tensor(x2), pc.tensor(y))
    np.testing.assert_allclose(np.asarray(out), ref, **tol(dtype))
    check_torch(
        lambda a, b, c: F.margin_ranking_loss(a, b, c, margin=margin, reduction=reduction),
        lambda a, b, c: torch.nn.functional.margin_ranking_loss(a, b, c, margin=margin, reduction=reduction),
        [x1, x2, y],
        **tol(dtype),
    )
    gradcheck(
        lambda a, b: F.margin_ranking_loss(
            a, b, on(y.astype(np.float64), a), margin=margin, reduction=reduction
        ).reshape(-1),
        [x1, x2],
        device=device,
    )
    if dtype == np.float32:  # all three inputs' gradients, and strided inputs, against the CPU kernels
        fn = lambda a, b, c: F.margin_ranking_loss(a, b, c, margin=margin, reduction=reduction)
        check_device_matches_cpu(fn, [x1, x2, y], device, rtol=1e-5, atol=1e-6)


def multi_margin_np(x, t, p, margin, w, reduction):
    N, C = x.shape
    w = np.ones(C) if w is None else w
    z = np.maximum(0, margin - x[np.arange(N), t][:, None] + x) ** p
    z[np.arange(N), t] = 0
    return reduce_np(w[t] * z.sum(axis=1) / C, reduction)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("margin", [1.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
def test_multi_margin_loss(dtype, reduction, p, margin, weighted, device):
    torch = pytest.importorskip("torch")
    x, t = randn(6, 5, dtype=dtype), class_targets((6,), 5)
    w = np.linspace(0.5, 2.0, 5).astype(dtype) if weighted else None
    ref = multi_margin_np(x.astype(np.float64), t, p, margin, w, reduction)
    m = nn.MultiMarginLoss(p=p, margin=margin, weight=None if w is None else pc.tensor(w), reduction=reduction)
    np.testing.assert_allclose(np.asarray(m(pc.tensor(x), pc.tensor(t))), ref, **tol(dtype))
    if dtype == np.float32:  # the gradient too, and a strided input, against the CPU kernels

        def mm(a, b):
            return F.multi_margin_loss(a, b, p=p, margin=margin, weight=on(w, a), reduction=reduction)

        check_device_matches_cpu(mm, [x, t], device, rtol=1e-5, atol=1e-6)
    tw = None if w is None else torch.tensor(w)
    check_torch(
        lambda a, b: m(a, b),
        lambda a, b: torch.nn.functional.multi_margin_loss(a, b, p=p, margin=margin, weight=tw, reduction=reduction),
        [x, t],
        **tol(dtype),
    )
    xg = np.random.default_rng(4).permutation(30).reshape(6, 5) * 0.13 + 0.05  # hinge kinks well away
    gradcheck(
        lambda a: F.multi_margin_loss(
            a,
            on(t, a),
            p=p,
            margin=margin,
            reduction=reduction,
            weight=None if w is None else on(w.astype(np.float64), a),
        ).reshape(-1),
        [xg],
        device=device,
    )


def test_loss_modules_match_functional():
    x, y = pointwise_inputs("mse", (3, 4), np.float64)
    a, b = pc.tensor(x), pc.tensor(y)
    for m, f in [
        (nn.MSELoss(reduction="sum"), F.mse_loss(a, b, reduction="sum")),
        (nn.L1Loss(), F.l1_loss(a, b)),
        (nn.SmoothL1Loss(beta=0.5), F.smooth_l1_loss(a, b, beta=0.5)),
        (nn.HuberLoss(delta=2.0), F.huber_loss(a, b, delta=2.0)),
        (nn.BCEWithLogitsLoss(), F.binary_cross_entropy_with_logits(a, pc.tensor(np.abs(y) % 1))),
    ]:
        target = pc.tensor(np.abs(y) % 1) if isinstance(m, nn.BCEWithLogitsLoss) else b
        np.testing.assert_allclose(np.asarray(m(a, target)), np.asarray(f))
    p = pc.tensor(np.clip(np.abs(x) % 1, 0.05, 0.95))
    q = pc.tensor(np.abs(y) % 1)
    np.testing.assert_allclose(nn.BCELoss()(p, q).item(), F.binary_cross_entropy(p, q).item())


# ---- bad input: a clear exception, no crash ----
def bad(exc, match, f):
    with pytest.raises(exc, match=match):
        f()


def test_class_losses_reject_bad_input():
    x, t = pc.tensor(randn(3, 4)), pc.tensor(np.array([0, 1, 2]))
    bad(ValueError, "target", lambda: F.cross_entropy(x, pc.tensor(np.array([0, 1]))))
    bad(ValueError, "out of range", lambda: F.cross_entropy(x, pc.tensor(np.array([0, 4, 1]))))
    bad(ValueError, "out of range", lambda: F.cross_entropy(x, pc.tensor(np.array([0, -1, 1]))))
    bad(ValueError, "out of range", lambda: F.nll_loss(x, pc.tensor(np.array([0, 7, 1]))))
    bad(TypeError, "probabilities of input.s shape", lambda: F.cross_entropy(x, pc.tensor(randn(3, 5))))
    bad(
        ValueError,
        "probability target",
        lambda: pc._C.cross_entropy_forward(x._impl, pc.tensor(randn(3, 5))._impl, None, "mean", -100, 0.0),
    )
    bad(TypeError, "float64", lambda: F.cross_entropy(x, pc.tensor(randn(3, 4, dtype=np.float32))))
    bad(ValueError, "non-negative", lambda: F.cross_entropy(x, t, weight=pc.tensor(np.array([1.0, -1, 1, 1]))))
    bad(ValueError, "weight", lambda: F.cross_entropy(x, t, weight=pc.tensor(np.ones(3))))
    bad(ValueError, "weight", lambda: F.nll_loss(x, t, weight=pc.tensor(np.ones((2, 2)))))
    bad(ValueError, "label_smoothing", lambda: F.cross_entropy(x, t, label_smoothing=1.5))
    bad(ValueError, "reduction", lambda: F.cross_entropy(x, t, reduction="avg"))
    bad(ValueError, "input", lambda: F.cross_entropy(pc.tensor(np.float64(1.0)), t))
    bad(TypeError, "int64", lambda: F.nll_loss(x, pc.tensor(randn(3, 4))))
    bad(TypeError, "Tensor", lambda: F.cross_entropy(np.zeros((3, 4)), t))
    bad(ValueError, "target", lambda: F.cross_entropy(pc.tensor(randn(2, 3, 4)), pc.tensor(np.zeros((2, 3), np.int64))))
    bad(ValueError, "reduction", lambda: nn.CrossEntropyLoss(reduction="batchmean"))


def test_pointwise_losses_reject_bad_input():
    a, b = pc.tensor(randn(3, 4)), pc.tensor(randn(3, 4))
    bad(ValueError, "same shape", lambda: F.mse_loss(a, pc.tensor(randn(4, 3))))
    bad(ValueError, "same shape", lambda: F.l1_loss(a, pc.tensor(randn(3, 1))))
    bad(TypeError, "float32", lambda: F.mse_loss(a, pc.tensor(randn(3, 4, dtype=np.float32))))
    bad(ValueError, "between 0 and 1", lambda: F.binary_cross_entropy(a, b))
    bad(ValueError, "broadcast", lambda: F.binary_cross_entropy_with_logits(a, b, pos_weight=pc.tensor(np.ones(5))))
    bad(ValueError, "broadcast", lambda: F.binary_cross_entropy_with_logits(a, b, weight=pc.tensor(np.ones((2, 3, 4)))))
    bad(ValueError, "delta", lambda: F.huber_loss(a, b, delta=0.0))
    bad(ValueError, "beta", lambda: F.smooth_l1_loss(a, b, beta=-1.0))
    bad(ValueError, "reduction", lambda: F.mse_loss(a, b, reduction="batchmean"))
    bad(ValueError, "reduction", lambda: nn.L1Loss(reduction="batchmean"))
    bad(ValueError, "same shape", lambda: F.margin_ranking_loss(a, pc.tensor(randn(4, 3)), b))
    t = pc.tensor(np.array([0, 1, 2]))
    bad(ValueError, "p ==", lambda: F.multi_margin_loss(a, t, p=3))
    bad(ValueError, "out of range", lambda: F.multi_margin_loss(a, pc.tensor(np.array([0, 4, 1]))))
    bad(ValueError, "target", lambda: F.multi_margin_loss(a, pc.tensor(np.array([0, 1]))))
    bad(ValueError, "weight", lambda: F.multi_margin_loss(a, t, weight=pc.tensor(np.ones(3))))


def test_grad_output_mismatch_is_rejected_by_the_core():
    lp, t = pc.tensor(randn(3, 4))._impl, pc.tensor(np.array([0, 1, 2]))._impl
    bad(
        ValueError,
        "grad_output",
        lambda: pc._C.cross_entropy_backward(pc.tensor(randn(2))._impl, lp, t, None, "none", -100, 0.0, False),
    )
    bad(
        ValueError,
        "grad_output",
        lambda: pc._C.pointwise_loss_backward(
            "mse", pc.tensor(randn(2))._impl, lp, lp, None, None, "none", 0.0, True, True
        ),
    )
    bad(ValueError, "unknown loss", lambda: pc._C.pointwise_loss_forward("foo", lp, lp, None, None, "mean", 0.0))


def test_loss_weights_are_buffers_in_state_dict():
    w = pc.tensor(np.linspace(0.5, 1.5, 4))
    m = nn.BCEWithLogitsLoss(weight=w, pos_weight=w)
    assert set(m.state_dict()) == {"weight", "pos_weight"}
    assert list(m.parameters()) == []
    assert set(nn.CrossEntropyLoss(weight=w).state_dict()) == {"weight"}
    assert set(nn.MSELoss().state_dict()) == set()


def test_unbatched_probabilities_and_empty_batch():
    torch = pytest.importorskip("torch")
    x, p = randn(5), np.random.default_rng(6).random(5)
    check_torch(
        lambda a, b: F.cross_entropy(a, b, reduction="none", label_smoothing=0.1),
        lambda a, b: torch.nn.functional.cross_entropy(a, b, reduction="none", label_smoothing=0.1),
        [x, p],
    )
    empty = F.cross_entropy(pc.tensor(np.zeros((0, 3))), pc.tensor(np.zeros(0, np.int64)), reduction="sum")
    assert empty.item() == 0.0
    assert np.asarray(F.mse_loss(pc.tensor(np.zeros((0, 2))), pc.tensor(np.zeros((0, 2))), reduction="none")).shape == (
        0,
        2,
    )
